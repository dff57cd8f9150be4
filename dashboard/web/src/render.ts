/** Renders the dashboard server's answers into the page's panels (index.html). */
import type { AssignmentsAnswer, NodeStatus, StatusAnswer } from '../../src/api.js';
import { ago, byId, el, shortHex } from './dom.js';

function badge(text: string, tone: 'good' | 'bad' | 'warn' | 'none', title: string | null): HTMLSpanElement {
  const span = el('span', { class: `badge ${tone}` }, text);
  if (title !== null) span.title = title;
  return span;
}

function livenessBadge(node: NodeStatus): HTMLSpanElement {
  if (node.liveness === 'alive') return badge('alive', 'good', null);
  if (node.liveness === 'failing') return badge('failing', 'warn', node.liveness_detail);
  return badge('down', 'bad', node.liveness_detail);
}

function readinessBadge(node: NodeStatus): HTMLSpanElement {
  if (node.readiness === 'ready') return badge('ready', 'good', null);
  if (node.readiness === 'not-ready') return badge('not ready', 'warn', node.readiness_detail);
  return badge('unknown', 'none', node.readiness_detail);
}

function nodeRow(node: NodeStatus, now: number): HTMLTableRowElement {
  const label = node.index > 0 ? `node ${node.index}` : 'unregistered';
  const height = node.height === null
    ? el('span', { class: 'muted', title: node.comet_detail ?? 'no CometBFT RPC known' }, '—')
    : el('span', {}, String(node.height), node.catching_up === true ? el('span', { class: 'muted' }, ' catching up') : null);
  return el('tr', { 'data-index': String(node.index), 'data-liveness': node.liveness },
    el('td', {}, el('strong', {}, label), node.name === null ? null : el('span', { class: 'muted' }, ` ${node.name}`)),
    el('td', {}, livenessBadge(node)),
    el('td', {}, readinessBadge(node)),
    el('td', { class: 'num height' }, height),
    el('td', { class: 'muted' }, ago(node.block_time, now)),
    el('td', { class: 'mono small' }, node.jsonrpc),
    el('td', { class: 'mono small' }, node.comet_rpc ?? '—'),
  );
}

export function renderStatus(status: StatusAnswer, now: number): void {
  const source = status.network.kind === 'local-network' ? 'local network' : 'network file';
  byId('network-name', HTMLSpanElement).textContent = `${source} ${status.network.source}`;
  byId('updated', HTMLSpanElement).textContent = status.updated_at === null ? 'waiting for the first refresh…' : `updated ${ago(status.updated_at, now)}`;

  const epoch = status.epoch;
  byId('epoch', HTMLDivElement).textContent = epoch === null ? 'unknown' : `epoch ${epoch.id}`;
  const details = byId('epoch-details', HTMLDListElement);
  details.replaceChildren();
  if (epoch !== null) {
    for (const [term, value, meaning] of [
      ['n', epoch.n, 'nodes'], ['k', epoch.k, 'shares to reconstruct a key'], ['t', epoch.t, 'faulty nodes tolerated'],
    ] as const) {
      details.append(el('dt', {}, term), el('dd', { 'data-term': term }, String(value), el('span', { class: 'muted' }, ` ${meaning}`)));
    }
  }

  const summary = byId('network-summary', HTMLDListElement);
  const alive = status.nodes.filter((n) => n.liveness === 'alive').length;
  const heights = status.nodes.flatMap((n) => (n.height === null ? [] : [n.height]));
  summary.replaceChildren(
    el('dt', {}, 'alive'), el('dd', { id: 'alive-count' }, `${alive} of ${status.nodes.length} nodes`),
    el('dt', {}, 'height'), el('dd', {}, heights.length === 0 ? '—' : String(Math.max(...heights))),
    el('dt', {}, 'chain'), el('dd', { class: 'mono small' }, status.network.chain_id ?? '—'),
  );

  const buffer = status.buffer;
  byId('buffer-ready', HTMLSpanElement).textContent = buffer === null ? '—' : `${buffer.ready}/${buffer.target}`;
  byId('buffer-counts', HTMLDivElement).textContent = buffer === null ? 'no CometBFT RPC answers' : `${buffer.generating} generating · ${buffer.assigned} assigned`;
  const rate = status.keygen_rate;
  const rateElement = byId('keygen-rate', HTMLSpanElement);
  rateElement.textContent = rate === null ? '—' : (rate.keys_per_second * 60).toFixed(rate.keys_per_second * 60 >= 10 ? 0 : 1);
  rateElement.title = rate === null ? 'needs two samples' : `${rate.keys_per_second.toFixed(2)} keys/s over the last ${rate.window_seconds} s`;

  const tbody = byId('nodes', HTMLTableElement).tBodies[0] as HTMLTableSectionElement;
  tbody.replaceChildren(...status.nodes.map((node) => nodeRow(node, now)));

  showBanner(status.network.problem);
}

export function renderAssignments(answer: AssignmentsAnswer, now: number): void {
  const note = byId('assignments-note', HTMLDivElement);
  note.textContent = answer.available ? (answer.items.length === 0 ? 'no key assigned yet' : '') : `not available: ${answer.reason ?? 'unknown reason'}`;
  const tbody = byId('assignments', HTMLTableElement).tBodies[0] as HTMLTableSectionElement;
  tbody.replaceChildren(...answer.items.map((item) => el('tr', { 'data-key-index': String(item.key_index) },
    el('td', { class: 'num' }, `#${item.key_index}`),
    el('td', {}, item.verifier),
    el('td', { class: 'user' }, item.verifier_id ?? '—'),
    el('td', { class: 'mono', title: item.address ?? '' }, item.address === null ? '—' : shortHex(item.address, 8)),
    el('td', { class: 'num' }, String(item.height)),
    el('td', { class: 'muted' }, ago(item.time, now)),
  )));
}

export function showBanner(message: string | null): void {
  const banner = byId('banner', HTMLDivElement);
  banner.hidden = message === null;
  banner.textContent = message ?? '';
}
