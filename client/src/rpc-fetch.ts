/**
 * The fetch transport, for browsers (the dashboard's login demo) and any runtime without node:http. It keeps
 * the node:http transport's contract (transport.ts): a whole-call deadline that covers reading the body, the
 * caller's cancellation told apart from a timeout, and a body size cap enforced while reading, so a hostile node
 * cannot make the client buffer without bound. A request the browser blocks (CORS, mixed content) is a
 * 'transport' failure: fetch gives no more detail than "Failed to fetch" there.
 */
import { createTransport, describeTransportFailure, type CheckedCallOptions, type Fail, type HttpAnswer, type NodeTransport } from './transport.js';

/** Why the call's own AbortController fired; the first one wins. */
type StopReason = { readonly kind: 'timeout' } | { readonly kind: 'aborted'; readonly cause: unknown } | { readonly kind: 'too-large' };

/** Reads the body as UTF-8, stopping with 'too-large' as soon as more than `limit` bytes arrived. */
async function readCapped(response: Response, limit: number, stop: (reason: StopReason) => void): Promise<string | undefined> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  // Decoded as the reads come: a node may send hundreds of thousands of tiny reads, too many to pass to
  // concatBytes as arguments. Not core's fromUtf8: bad UTF-8 is replaced, as in the node:http transport.
  const decoder = new TextDecoder('utf-8');
  let text = '';
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      stop({ kind: 'too-large' });
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
}

async function postJsonWithFetch(target: URL, body: unknown, options: CheckedCallOptions, fail: Fail): Promise<HttpAnswer> {
  const limit = options.maxBodyBytes;
  // One controller stops fetch and the body read; the reason recorded first decides the failure's kind.
  const controller = new AbortController();
  let stopped: StopReason | undefined;
  const stop = (reason: StopReason): void => {
    if (stopped !== undefined) return;
    stopped = reason;
    controller.abort();
  };
  const timer = setTimeout(() => stop({ kind: 'timeout' }), options.timeoutMs);
  const onAbort = (): void => stop({ kind: 'aborted', cause: options.signal?.reason });
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const failure = (cause: unknown): ReturnType<Fail> => {
    switch (stopped?.kind) {
      case 'timeout':
        return fail('timeout', `no answer within ${options.timeoutMs} ms`);
      case 'aborted':
        return fail('aborted', 'cancelled', { cause: stopped.cause });
      case 'too-large':
        return fail('bad-response', `answer larger than ${limit} bytes`);
      default:
        return fail('transport', describeTransportFailure(cause), { cause });
    }
  };
  try {
    let response: Response;
    try {
      response = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', accept: 'application/json' },
        body: JSON.stringify(body),
        signal: controller.signal,
        // A login must not send the page's cookies to any node.
        credentials: 'omit',
      });
    } catch (cause) {
      throw failure(cause);
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (Number.isFinite(declared) && declared > limit) {
      stop({ kind: 'too-large' });
      throw failure(undefined);
    }
    let text: string | undefined;
    try {
      text = await readCapped(response, limit, stop);
    } catch (cause) {
      throw failure(stopped === undefined ? new Error(`answer broken off: ${describeTransportFailure(cause)}`, { cause }) : cause);
    }
    if (text === undefined) throw failure(undefined);
    return { status: response.status, statusText: response.statusText, text };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** The fetch transport: pass it as `new TorusClient(network, { transport: fetchTransport })`. */
export const fetchTransport: NodeTransport = createTransport(postJsonWithFetch);
