/** The page's calls to the dashboard server; every answer passes its schema (dashboard/src/api.ts) first. */
import { z } from 'zod';
import { ApiError } from '../../src/api.js';

export class ApiCallError extends Error {
  override name = 'ApiCallError';
}

async function answerOf<T>(response: Response, schema: z.ZodType<T>, what: string): Promise<T> {
  let json: unknown;
  try {
    json = await response.json();
  } catch (cause) {
    throw new ApiCallError(`${what}: the dashboard server answered HTTP ${response.status} without JSON`, { cause });
  }
  if (!response.ok) {
    const error = ApiError.safeParse(json);
    throw new ApiCallError(`${what}: ${error.success ? error.data.error : `HTTP ${response.status}`}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new ApiCallError(`${what}: unexpected answer: ${z.prettifyError(parsed.error)}`, { cause: parsed.error });
  return parsed.data;
}

/** One call to the dashboard server; a GET is never answered from the browser's cache, a POST sends `body` as JSON. */
async function call<T>(method: 'GET' | 'POST', path: string, body: unknown, schema: z.ZodType<T>, timeoutMs: number): Promise<T> {
  let response: Response;
  try {
    const init: RequestInit = method === 'GET'
      ? { cache: 'no-store' }
      : { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
    response = await fetch(path, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (cause) {
    throw new ApiCallError(`${method} ${path}: the dashboard server does not answer`, { cause });
  }
  return answerOf(response, schema, `${method} ${path}`);
}

export function getJson<T>(path: string, schema: z.ZodType<T>, timeoutMs = 5000): Promise<T> {
  return call('GET', path, undefined, schema, timeoutMs);
}

export function postJson<T>(path: string, body: unknown, schema: z.ZodType<T>, timeoutMs = 10_000): Promise<T> {
  return call('POST', path, body, schema, timeoutMs);
}
