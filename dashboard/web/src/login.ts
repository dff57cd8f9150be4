/**
 * The login demo: the same TorusClient the `torus` command uses, run in this page with the fetch transport
 * against the nodes' JSON-RPC endpoints (retrieval servers send CORS headers). The id token comes from the
 * network's development issuer through the dashboard server, which sends no CORS headers of its own.
 *
 * The private key stays in this module's closure and reaches the page only when the user asks for it.
 */
import { bytesToHex } from '../../../core/encoding/bytes.js';
import { parseNetwork } from '../../../client/src/network.js';
import { fetchTransport } from '../../../client/src/rpc-fetch.js';
import { TorusClient, type LoginResult } from '../../../client/src/sdk.js';
import { ClientNetworkAnswer, DevTokenAnswer } from '../../src/api.js';
import { getJson, postJson } from './api-client.js';
import { byId, el } from './dom.js';

type StepState = 'running' | 'done' | 'skipped' | 'failed';

interface Step {
  finish(state: Exclude<StepState, 'running'>, detail?: string): void;
}

/** Node calls from a browser wait at most this long each (the SDK's deadline per call). */
const NODE_TIMEOUT_MS = 10_000;

function startStep(list: HTMLOListElement, text: string): Step {
  const started = performance.now();
  const detail = el('span', { class: 'detail' });
  const item = el('li', { 'data-state': 'running' }, el('span', { class: 'text' }, text), detail);
  list.append(item);
  return {
    finish(state, extra) {
      item.dataset['state'] = state;
      const ms = Math.round(performance.now() - started);
      detail.textContent = `${extra === undefined ? '' : `${extra} · `}${ms} ms`;
    },
  };
}

function nodeList(indexes: readonly number[]): string {
  return indexes.length === 0 ? 'none' : indexes.map((i) => `node ${i}`).join(', ');
}

function showResult(result: LoginResult): void {
  byId('login-address', HTMLElement).textContent = result.address;
  byId('login-key-index', HTMLElement).textContent = `#${result.keyIndex.toString()}`;
  byId('login-used-nodes', HTMLElement).textContent = nodeList(result.usedNodes);
  byId('login-good-nodes', HTMLElement).textContent = nodeList(result.goodNodes)
    + (result.badNodes.length === 0 ? '' : `; bad shares from ${result.badNodes.map((b) => `node ${b.index} (${b.reason})`).join(', ')}`);
  byId('login-failed-nodes', HTMLElement).textContent = result.failedNodes.length === 0
    ? 'none'
    : result.failedNodes.map((f) => `node ${f.index} (${f.stage}: ${f.reason})`).join('; ');
  const secret = byId('private-key', HTMLDivElement);
  const button = byId('show-private-key', HTMLButtonElement);
  secret.hidden = true;
  secret.textContent = '';
  button.textContent = 'Show private key';
  button.onclick = () => {
    const showing = !secret.hidden;
    // Written into the page only on request, and removed again when hidden.
    secret.textContent = showing ? '' : `0x${bytesToHex(result.privateKey)}`;
    secret.hidden = showing;
    button.textContent = showing ? 'Show private key' : 'Hide private key';
  };
  byId('login-result', HTMLDivElement).hidden = false;
}

async function runLogin(email: string, steps: HTMLOListElement): Promise<void> {
  const setup = await getJson('api/client-network', ClientNetworkAnswer);
  if (setup.problem !== null || setup.network === null || setup.verifier === null) throw new Error(`the login demo cannot run: ${setup.problem ?? 'no network'}`);
  const verifier = setup.verifier;
  const network = parseNetwork(setup.network, 'network description from the dashboard server');
  const client = new TorusClient(network, { transport: fetchTransport, timeoutMs: NODE_TIMEOUT_MS });

  let step = startStep(steps, 'id token from the development issuer (through the dashboard server)');
  const { id_token: token } = await postJson('api/dev-token', { email }, DevTokenAnswer);
  step.finish('done');

  step = startStep(steps, `lookup at ${network.n} nodes (a majority must agree)`);
  const existing = await client.lookup(verifier, email);
  step.finish('done', existing === undefined ? 'no key yet' : `key #${existing.keyIndex.toString()}`);

  step = startStep(steps, 'assign a key (KeyAssign, a BFT transaction), then wait until a majority shows it');
  if (existing === undefined) {
    const assigned = await client.assign(verifier, email);
    step.finish('done', `key #${assigned.keyIndex.toString()}`);
  } else {
    step.finish('skipped', 'the user has a key');
  }

  step = startStep(steps, `commit, reveal, decrypt and verify shares, interpolate ${network.k} of them`);
  const result = await client.login(verifier, token);
  step.finish('done', `${result.goodNodes.length} verified shares`);
  showResult(result);
}

export function setUpLoginDemo(): void {
  const form = byId('login-form', HTMLFormElement);
  const input = byId('login-email', HTMLInputElement);
  const button = byId('login-button', HTMLButtonElement);
  const steps = byId('login-steps', HTMLOListElement);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const email = input.value.trim();
    if (email === '') return;
    button.disabled = true;
    steps.replaceChildren();
    byId('login-result', HTMLDivElement).hidden = true;
    byId('private-key', HTMLDivElement).textContent = '';
    form.dataset['state'] = 'running';
    runLogin(email, steps).then(
      () => {
        form.dataset['state'] = 'done';
      },
      (err: unknown) => {
        const running = steps.querySelector('li[data-state="running"]');
        const failure = err instanceof Error ? err.message : String(err);
        if (running instanceof HTMLLIElement) {
          running.dataset['state'] = 'failed';
          running.append(el('pre', { class: 'error' }, failure));
        } else {
          steps.append(el('li', { 'data-state': 'failed' }, el('pre', { class: 'error' }, failure)));
        }
        form.dataset['state'] = 'failed';
      },
    ).finally(() => {
      button.disabled = false;
    });
  });
}
