/**
 * Replaces client/src/rpc.ts (the node:http transport) in the browser bundle. TorusClient imports it only for
 * its default transport; the page passes `fetchTransport` (client/src/rpc-fetch.ts). A client built without it
 * gets the SDK's usual 'transport' failure for every node, saying what to do, instead of a bundle that cannot
 * load node:http.
 */
import { createTransport, type NodeTransport } from '../../client/src/transport.js';

export const nodeHttpTransport: NodeTransport = createTransport((_url, _body, _options, fail) =>
  Promise.reject(fail('transport', 'node:http is not available in a browser; pass { transport: fetchTransport } (client/src/rpc-fetch.ts) to TorusClient')),
);
