/**
 * The node:http transport (the default in Node): one JSON POST with kept-alive connections, a whole-call
 * deadline, cancellation and a body size cap. What an answer must look like, and the `NodeCallError` kinds of
 * every failure, are decided in transport.ts for every transport alike; browsers use rpc-fetch.ts instead.
 *
 * `callNode` and `postForJson` are this transport's; the errors are re-exported for existing importers.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import {
  createTransport, describeTransportFailure, type CheckedCallOptions, type Fail, type HttpAnswer, type NodeCallError, type NodeTransport,
} from './transport.js';

export { NodeCallError, NodeRpcError, type CallOptions, type NodeCallFailure } from './transport.js';

// Kept-alive connections to the nodes: a login makes two rounds of calls to every node, and node:http costs
// about half a millisecond of CPU less per call than fetch (measured with bench:login's call pattern).
const agents = { 'http:': new HttpAgent({ keepAlive: true }), 'https:': new HttpsAgent({ keepAlive: true }) } as const;

/**
 * POSTs a JSON body and reads the whole answer within the deadline. Failures before a complete HTTP answer
 * become NodeCallError 'transport', 'timeout', 'aborted' or 'bad-response' (oversized body), made by `fail`.
 */
async function postJson(target: URL, body: unknown, options: CheckedCallOptions, fail: Fail): Promise<HttpAnswer> {
  const limit = options.maxBodyBytes;
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  return new Promise<HttpAnswer>((resolve, reject) => {
    let finished = false;
    const finish = (error: NodeCallError | undefined, answer?: HttpAnswer) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (error !== undefined) {
        req.destroy();
        reject(error);
      } else resolve(answer as HttpAnswer);
    };
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, {
      method: 'POST',
      agent: target.protocol === 'https:' ? agents['https:'] : agents['http:'],
      headers: { 'content-type': 'application/json; charset=utf-8', accept: 'application/json', 'content-length': payload.length },
    }, (res) => {
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > limit) {
        finish(fail('bad-response', `answer larger than ${limit} bytes`));
        return;
      }
      const chunks: Buffer[] = [];
      let total = 0;
      res.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > limit) finish(fail('bad-response', `answer larger than ${limit} bytes`));
        else chunks.push(chunk);
      });
      res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (cause) => finish(fail('transport', `answer broken off: ${describeTransportFailure(cause)}`, { cause })));
    });
    // Which event came first decides the kind: a cancelled call is the caller's doing, a timeout is the node's.
    const timer = setTimeout(() => finish(fail('timeout', `no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    const onAbort = () => finish(fail('aborted', 'cancelled', { cause: options.signal?.reason }));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (cause) => finish(fail('transport', describeTransportFailure(cause), { cause })));
    req.end(payload);
  });
}

/** Every call of the SDK in Node goes through this transport unless TorusClient is given another. */
export const nodeHttpTransport: NodeTransport = createTransport(postJson);

/** `nodeHttpTransport.callNode`: one JSON-RPC call to one node. */
export const callNode: NodeTransport['callNode'] = (endpoint, method, params, options) => nodeHttpTransport.callNode(endpoint, method, params, options);

/** `nodeHttpTransport.postForJson`: a plain JSON POST (the development token issuer). */
export const postForJson: NodeTransport['postForJson'] = (url, body, schema, what, options) => nodeHttpTransport.postForJson(url, body, schema, what, options);
