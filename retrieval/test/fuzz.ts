/**
 * A seeded request fuzzer for a retrieval endpoint: raw garbage, broken JSON, and structured mutations of
 * valid seed requests (values replaced by values of other types, strings flipped, truncated or grown, keys
 * dropped or added, arrays emptied or duplicated, batches). Every answer must be HTTP 200 with a valid
 * JSON-RPC body — or 204 for a request made only of notifications — and the server must stay up.
 */
import { Prng } from '../../dkg/test/harness.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface FuzzStats {
  sent: number;
  results: number;
  errors: number;
  /** Every answer that was not acceptable, with the request that caused it (first 20). */
  problems: string[];
}

const INTERESTING: Json[] = [null, true, false, 0, -1, 1e308, -0.5, 2 ** 53 + 1, '', ' ', '0x', 'ff'.repeat(40), '\u0000', '\u001c', '💥', 'mug00', [], {}, [null], JSON.parse('{"__proto__":1}') as Json, { constructor: 'x' }];

function mutate(value: Json, rng: Prng, depth = 0): Json {
  const pick = rng.below(12);
  if (pick === 0 || depth > 6) return INTERESTING[rng.below(INTERESTING.length)] as Json;
  if (typeof value === 'string') {
    switch (rng.below(5)) {
      case 0: return value.slice(0, rng.below(value.length + 1));
      case 1: return value + value.repeat(rng.below(4));
      case 2: {
        if (value.length === 0) return 'x';
        const i = rng.below(value.length);
        return value.slice(0, i) + String.fromCharCode(rng.below(0x10000)) + value.slice(i + 1);
      }
      case 3: return value.toUpperCase();
      default: return ` ${value}\t`;
    }
  }
  if (typeof value === 'number') return [value + 1, -value, value * 1e9, Number.MAX_SAFE_INTEGER, 0.1][rng.below(5)] as number;
  if (Array.isArray(value)) {
    const copy = value.map((v) => (rng.below(3) === 0 ? mutate(v, rng, depth + 1) : v));
    switch (rng.below(4)) {
      case 0: return [];
      case 1: return copy.concat(copy);
      case 2: return copy.slice(0, rng.below(copy.length + 1));
      default: return copy;
    }
  }
  if (value !== null && typeof value === 'object') {
    const copy: { [key: string]: Json } = { ...value };
    const keys = Object.keys(copy);
    const key = keys[rng.below(Math.max(keys.length, 1))];
    switch (rng.below(4)) {
      case 0: if (key !== undefined) delete copy[key]; break;
      case 1: copy[`extra${rng.below(100)}`] = INTERESTING[rng.below(INTERESTING.length)] as Json; break;
      default: if (key !== undefined) copy[key] = mutate(copy[key] as Json, rng, depth + 1);
    }
    return copy;
  }
  return INTERESTING[rng.below(INTERESTING.length)] as Json;
}

function rawBody(rng: Prng, seeds: readonly Json[]): { body: string; contentType: string } {
  const seedText = JSON.stringify(seeds[rng.below(seeds.length)]);
  switch (rng.below(10)) {
    case 0: return { body: Buffer.from(rng.bytes(rng.below(200))).toString('latin1'), contentType: 'application/json' };
    case 1: return { body: seedText.slice(0, rng.below(seedText.length)), contentType: 'application/json' };
    case 2: return { body: seedText, contentType: ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1'][rng.below(3)] as string };
    case 3: return { body: JSON.stringify(Array.from({ length: 1 + rng.below(4) }, () => mutate(seeds[rng.below(seeds.length)] as Json, rng))), contentType: 'application/json' };
    default: return { body: JSON.stringify(mutate(seeds[rng.below(seeds.length)] as Json, rng)), contentType: 'application/json' };
  }
}

function validResponse(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  if (r['jsonrpc'] !== '2.0' || !('id' in r)) return false;
  if ('result' in r === 'error' in r) return false;
  if ('error' in r) {
    const e = r['error'] as Record<string, unknown> | null;
    return e !== null && typeof e === 'object' && Number.isInteger(e['code']) && typeof e['message'] === 'string';
  }
  return true;
}

export async function fuzzRequests(endpoint: string, count: number, options: { seeds: readonly Json[]; seed: number; concurrency?: number }): Promise<FuzzStats> {
  const rng = new Prng(options.seed);
  const stats: FuzzStats = { sent: 0, results: 0, errors: 0, problems: [] };
  const bodies = Array.from({ length: count }, () => rawBody(rng, options.seeds));
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const { body, contentType } = bodies[next++] as { body: string; contentType: string };
      stats.sent++;
      const problem = (why: string) => { if (stats.problems.length < 20) stats.problems.push(`${why} for ${body.slice(0, 200)}`); };
      let res: Response;
      try {
        res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': contentType }, body });
      } catch (err) {
        problem(`transport failure ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      const text = await res.text();
      if (res.status === 204 && text === '') continue;
      if (res.status !== 200) { problem(`HTTP ${res.status}`); continue; }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        problem('non-JSON answer');
        continue;
      }
      const answers = Array.isArray(json) ? json : [json];
      if (answers.length === 0 || !answers.every(validResponse)) { problem(`invalid JSON-RPC ${text.slice(0, 200)}`); continue; }
      for (const a of answers as Array<Record<string, unknown>>) {
        if ('error' in a) stats.errors++;
        else stats.results++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  return stats;
}
