/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), for tests and tools that scrape
 * the processes' /metrics: every sample must belong to a family announced by a TYPE line, label sets must be
 * well-formed, and values must be numbers. It reads what prom-client writes; it is not a general scraper.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  /** The sample's own name: the family's, or with _bucket/_sum/_count for histograms and summaries. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface MetricFamily {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly samples: Sample[];
}

export class ExpositionError extends Error {
  override name = 'ExpositionError';
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES: ReadonlySet<string> = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES: Readonly<Record<MetricType, readonly string[]>> = {
  counter: [''], gauge: [''], untyped: [''], histogram: ['_bucket', '_sum', '_count'], summary: ['', '_sum', '_count'],
};

/** Numbers as Go's ParseFloat reads them: NaN and Inf in any case (prom-client writes `Nan`). */
function parseValue(text: string, line: number): number {
  const special = text.toLowerCase();
  if (special === '+inf' || special === 'inf') return Infinity;
  if (special === '-inf') return -Infinity;
  if (special === 'nan') return NaN;
  const value = Number(text);
  if (text.length === 0 || Number.isNaN(value)) throw new ExpositionError(`line ${line}: ${JSON.stringify(text)} is not a sample value`);
  return value;
}

/** Reads `{a="x",b="y"}` starting at `text[start] === '{'`; returns the labels and the index after `}`. */
function parseLabels(text: string, start: number, line: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  const fail = (why: string): never => {
    throw new ExpositionError(`line ${line}: ${why} in ${JSON.stringify(text)}`);
  };
  while (text[i] !== '}') {
    const eq = text.indexOf('=', i);
    if (eq < 0) fail('a label without a value');
    const name = text.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) fail(`bad label name ${JSON.stringify(name)}`);
    if (name in labels) fail(`label ${name} twice`);
    if (text[eq + 1] !== '"') fail(`label ${name} has an unquoted value`);
    let value = '';
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] !== '\\') {
        value += text[j];
        continue;
      }
      const escaped = text[++j];
      if (escaped === 'n') value += '\n';
      else if (escaped === '\\' || escaped === '"') value += escaped;
      else fail(`bad escape \\${escaped ?? ''}`);
    }
    if (j >= text.length) fail(`label ${name} has an unterminated value`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail('labels not separated by commas');
  }
  return { labels, end: i + 1 };
}

/** The families of an exposition, by name, in the order they appear. */
export function parseExposition(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const help = new Map<string, string>();
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = i + 1;
    const content = raw.trim();
    if (content.length === 0) continue;
    if (content.startsWith('#')) {
      const [, keyword, name, ...rest] = content.split(/\s+/);
      if (keyword !== 'HELP' && keyword !== 'TYPE') continue;
      if (name === undefined || !METRIC_NAME.test(name)) throw new ExpositionError(`line ${line}: bad metric name in ${JSON.stringify(content)}`);
      const argument = content.slice(content.indexOf(name) + name.length).trim();
      if (keyword === 'HELP') {
        help.set(name, argument);
        continue;
      }
      if (!TYPES.has(argument) || rest.length !== 1) throw new ExpositionError(`line ${line}: bad type ${JSON.stringify(argument)} for ${name}`);
      if (families.has(name)) throw new ExpositionError(`line ${line}: a second TYPE line for ${name}`);
      families.set(name, { name, type: argument as MetricType, help: '', samples: [] });
      continue;
    }
    const brace = content.indexOf('{');
    const space = content.search(/\s/);
    const nameEnd = brace >= 0 && (space < 0 || brace < space) ? brace : space;
    if (nameEnd <= 0) throw new ExpositionError(`line ${line}: a sample without a value: ${JSON.stringify(content)}`);
    const name = content.slice(0, nameEnd);
    if (!METRIC_NAME.test(name)) throw new ExpositionError(`line ${line}: bad metric name ${JSON.stringify(name)}`);
    let labels: Record<string, string> = {};
    let rest = content.slice(nameEnd);
    if (content[nameEnd] === '{') {
      const parsed = parseLabels(content, nameEnd, line);
      labels = parsed.labels;
      rest = content.slice(parsed.end);
    }
    const [valueText, timestamp, extra] = rest.trim().split(/\s+/);
    if (extra !== undefined || (timestamp !== undefined && !/^-?\d+$/.test(timestamp))) throw new ExpositionError(`line ${line}: trailing text in ${JSON.stringify(content)}`);
    const family = familyOf(families, name);
    if (family === undefined) throw new ExpositionError(`line ${line}: sample ${name} has no TYPE line before it`);
    family.samples.push({ name, labels, value: parseValue(valueText ?? '', line) });
  }
  for (const [name, text] of help) {
    const family = families.get(name);
    if (family !== undefined) families.set(name, { ...family, help: text });
  }
  return families;
}

function familyOf(families: Map<string, MetricFamily>, sampleName: string): MetricFamily | undefined {
  for (const family of families.values()) {
    if (SUFFIXES[family.type].some((suffix) => family.name + suffix === sampleName)) return family;
  }
  return undefined;
}

/**
 * The sum of the samples named `sampleName` whose labels include `labels` (every sample of that name when
 * none are given); 0 when there is none, as for a counter that has not counted yet.
 */
export function sumSamples(families: Map<string, MetricFamily>, sampleName: string, labels: Readonly<Record<string, string>> = {}): number {
  const family = familyOf(families, sampleName);
  if (family === undefined) return 0;
  return family.samples
    .filter((s) => s.name === sampleName && Object.entries(labels).every(([key, value]) => s.labels[key] === value))
    .reduce((total, s) => total + s.value, 0);
}
