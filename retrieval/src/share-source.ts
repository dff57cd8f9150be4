/**
 * Reads this node's shares from its key-generation process over the local Unix socket
 * (core/keygen/share-api.ts). One kept-alive connection pool; every answer is validated before use.
 */
import { Agent, request } from 'node:http';
import { HEALTH_PATH, ShareAnswer, ShareError, sharePath } from '../../core/keygen/share-api.js';

export class ShareUnavailableError extends Error {
  override name = 'ShareUnavailableError';
}

export interface ShareSource {
  /** This node's share of the key, or a ShareUnavailableError saying why not. */
  share(epoch: number, keyIndex: number): Promise<bigint>;
}

interface RawAnswer {
  readonly status: number;
  readonly body: unknown;
}

export class SocketShareSource implements ShareSource {
  readonly #socketPath: string;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 16 });
  readonly #timeoutMs: number;

  constructor(socketPath: string, timeoutMs = 5000) {
    this.#socketPath = socketPath;
    this.#timeoutMs = timeoutMs;
  }

  async share(epoch: number, keyIndex: number): Promise<bigint> {
    const { status, body } = await this.#get(sharePath(epoch, keyIndex));
    if (status === 200) {
      const parsed = ShareAnswer.safeParse(body);
      if (parsed.success && parsed.data.epoch === epoch && parsed.data.key_index === keyIndex) return BigInt(`0x${parsed.data.share}`);
      throw new ShareUnavailableError('the key-generation process sent a malformed share answer');
    }
    const error = ShareError.safeParse(body);
    throw new ShareUnavailableError(error.success ? error.data.error : `the key-generation process answered HTTP ${status}`);
  }

  /** Whether the key-generation process answers (part of the retrieval server's health). */
  async healthy(): Promise<boolean> {
    return this.#get(HEALTH_PATH).then((answer) => answer.status === 200, () => false);
  }

  #get(path: string): Promise<RawAnswer> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.#socketPath, path, agent: this.#agent, timeout: this.#timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
          } catch (cause) {
            reject(new ShareUnavailableError('the key-generation process sent an unreadable answer', { cause }));
          }
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
