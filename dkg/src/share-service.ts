/**
 * Serves this node's shares to its own retrieval process over a Unix socket (see core/keygen/share-api.ts).
 * The socket file is created with mode 0600 inside the store's 0700 directory: reaching it needs the same
 * operating-system rights as reading the LevelDB files themselves, so it adds no new way in.
 */
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import {
  HANDED_OVER_STATUS, HEALTH_PATH, SHARE_PATH, handedOverMessage, type ShareAnswer, type ShareHandedOver,
} from '../../core/keygen/share-api.js';
import type { Logger } from '../../core/log.js';
import type { StoredShare } from './protocol/store.js';

export interface ShareReader {
  share(epoch: bigint, keyIndex: bigint): StoredShare | undefined;
  /** The epoch that `epoch`'s keys were handed over to (its shares are deleted), or undefined. */
  handedOverTo(epoch: bigint): bigint | undefined;
}

export class ShareService {
  readonly #server: Server;
  readonly socketPath: string;

  private constructor(server: Server, socketPath: string) {
    this.#server = server;
    this.socketPath = socketPath;
  }

  static async start(socketPath: string, shares: ShareReader, log: Logger): Promise<ShareService> {
    const server = createServer((req, res) => {
      const reply = (status: number, body: object) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method === 'GET' && req.url === HEALTH_PATH) {
        reply(200, { ok: true });
        return;
      }
      const match = req.method === 'GET' ? SHARE_PATH.exec(req.url ?? '') : null;
      if (match === null) {
        reply(404, { error: 'unknown request; the only one is GET /v1/share/<epoch>/<key_index>' });
        return;
      }
      const epoch = Number(match[1]);
      const keyIndex = Number(match[2]);
      // Checked first: after a hand-over "no share" would read like a fault of this node, while the key is
      // alive and served by the next committee. The caller learns where to go instead.
      const nextEpoch = epoch > 0 ? shares.handedOverTo(BigInt(epoch)) : undefined;
      if (nextEpoch !== undefined) {
        const gone: ShareHandedOver = { error: handedOverMessage(epoch, nextEpoch), handed_over_to: Number(nextEpoch) };
        reply(HANDED_OVER_STATUS, gone);
        return;
      }
      const stored = epoch > 0 ? shares.share(BigInt(epoch), BigInt(keyIndex)) : undefined;
      if (stored === undefined) {
        reply(404, { error: `this node has no share of key ${keyIndex} in epoch ${epoch}` });
        return;
      }
      const answer: ShareAnswer = { epoch, key_index: keyIndex, share: stored.s.toString(16).padStart(64, '0') };
      reply(200, answer);
    });
    server.keepAliveTimeout = 60_000;
    // A socket file left by a crashed run would make listen fail with EADDRINUSE.
    rmSync(socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(socketPath, 0o600);
    log.info({ socket: socketPath }, 'serving shares to the local retrieval process');
    return new ShareService(server, socketPath);
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    rmSync(this.socketPath, { force: true });
  }
}
