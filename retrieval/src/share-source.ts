/**
 * Reads this node's shares from its key-generation process over the local Unix socket
 * (core/keygen/share-api.ts). One kept-alive connection pool; every answer is validated before use.
 */
import { Agent, request } from 'node:http';
import { ShareAnswer, ShareError, sharePath } from '../../core/keygen/share-api.js';

export class ShareUnavailableError extends Error {
  override name = 'ShareUnavailableError';
}

export interface ShareSource {
  /** This node's share of the key, or a ShareUnavailableError saying why not. */
  share(epoch: number, keyIndex: number): Promise<bigint>;
}

export class SocketShareSource implements ShareSource {
  readonly #socketPath: string;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 16 });
  readonly #timeoutMs: number;

  constructor(socketPath: string, timeoutMs = 5000) {
    this.#socketPath = socketPath;
    this.#timeoutMs = timeoutMs;
  }

  share(epoch: number, keyIndex: number): Promise<bigint> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.#socketPath, path: sharePath(epoch, keyIndex), agent: this.#agent, timeout: this.#timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          let body: unknown;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch (cause) {
            reject(new ShareUnavailableError('the key-generation process sent an unreadable answer', { cause }));
            return;
          }
          if (res.statusCode === 200) {
            const parsed = ShareAnswer.safeParse(body);
            if (parsed.success && parsed.data.epoch === epoch && parsed.data.key_index === keyIndex) resolve(BigInt(`0x${parsed.data.share}`));
            else reject(new ShareUnavailableError('the key-generation process sent a malformed share answer'));
            return;
          }
          const error = ShareError.safeParse(body);
          reject(new ShareUnavailableError(error.success ? error.data.error : `the key-generation process answered HTTP ${res.statusCode}`));
        });
        res.on('error', (cause) => reject(new ShareUnavailableError('reading from the key-generation process failed', { cause })));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)));
      req.on('error', (cause) => reject(new ShareUnavailableError(`the key-generation process is unreachable at ${this.#socketPath}: ${cause.message}`, { cause })));
      req.end();
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
