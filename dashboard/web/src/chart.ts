/**
 * The key buffer over time as a small SVG line chart: ready keys (the buffer level), keys being generated, and
 * the buffer target as a dashed line. Drawn from scratch on every refresh (at most 900 samples).
 */
import type { BufferSample } from '../../src/api.js';
import { svg } from './dom.js';

const WIDTH = 600;
const HEIGHT = 190;
const MARGIN = { left: 34, right: 10, top: 10, bottom: 22 } as const;
/** The time axis spans at least this much, so the first samples do not fill the whole width. */
const MIN_SPAN_MS = 60_000;

/** 1, 2, 5, 10, 20, 50…: the smallest such number at least `value`. */
function niceCeiling(value: number): number {
  if (value <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function minutesLabel(ms: number): string {
  const minutes = ms / 60_000;
  return minutes >= 1 ? `−${Math.round(minutes)} min` : `−${Math.round(ms / 1000)} s`;
}

export function renderBufferChart(target: SVGSVGElement, samples: readonly BufferSample[], now: number): void {
  target.replaceChildren();
  target.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
  target.setAttribute('role', 'img');
  target.setAttribute('aria-label', 'key buffer over time');
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const first = samples[0];
  const end = Math.max(now, samples.at(-1)?.t ?? now);
  const start = Math.min(first?.t ?? end, end - MIN_SPAN_MS);
  const top = niceCeiling(Math.max(1, ...samples.map((s) => Math.max(s.ready, s.generating, s.target))) * 1.05);
  const x = (t: number) => MARGIN.left + ((t - start) / (end - start)) * plotWidth;
  const y = (value: number) => MARGIN.top + plotHeight - (value / top) * plotHeight;

  for (const value of [0, top / 2, top]) {
    target.append(svg('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(value), y2: y(value), class: 'grid' }));
    const label = svg('text', { x: MARGIN.left - 6, y: y(value) + 4, class: 'axis', 'text-anchor': 'end' });
    label.textContent = Number.isInteger(value) ? String(value) : value.toFixed(1);
    target.append(label);
  }
  for (const [t, text, anchor] of [[start, minutesLabel(end - start), 'start'], [end, 'now', 'end']] as const) {
    const label = svg('text', { x: x(t), y: HEIGHT - 6, class: 'axis', 'text-anchor': anchor });
    label.textContent = text;
    target.append(label);
  }
  if (samples.length === 0) {
    const empty = svg('text', { x: MARGIN.left + plotWidth / 2, y: MARGIN.top + plotHeight / 2, class: 'axis', 'text-anchor': 'middle' });
    empty.textContent = 'no samples yet';
    target.append(empty);
    return;
  }
  const line = (value: (s: BufferSample) => number, className: string) => {
    const points = samples.map((s) => `${x(s.t).toFixed(1)},${y(value(s)).toFixed(1)}`).join(' ');
    // A single sample is a dot, not an invisible line.
    target.append(samples.length === 1
      ? svg('circle', { cx: x((samples[0] as BufferSample).t), cy: y(value(samples[0] as BufferSample)), r: 3, class: className })
      : svg('polyline', { points, class: className }));
  };
  line((s) => s.target, 'series target');
  line((s) => s.generating, 'series generating');
  line((s) => s.ready, 'series ready');
}
