/**
 * Reads this node's shares from its key-generation process over the local Unix socket
 * (core/keygen/share-api.ts). One kept-alive connection pool; every answer is validated before use.
 */
import { Agent, request } from 'node:http';
import {
  HANDED_OVER_STATUS, HEALTH_PATH, ShareAnswer, ShareError, ShareHandedOver, handedOverMessage, sharePath,
} from '../../core/keygen/share-api.js';

export class ShareUnavailableError extends Error {
  override name = 'ShareUnavailableError';
}

/** The epoch's keys were handed over to `nextEpoch`: this node deleted its shares; the new nodes serve the key. */
export class ShareHandedOverError extends ShareUnavailableError {
  override name = 'ShareHandedOverError';
  constructor(readonly epoch: number, readonly nextEpoch: number) {
    super(handedOverMessage(epoch, nextEpoch));
  }
}

export interface ShareSource {
  /**
   * This node's share of the key, or a ShareUnavailableError saying why not (a ShareHandedOverError when the
   * epoch's keys went to the next committee).
   */
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
    if (status === HANDED_OVER_STATUS) {
      const gone = ShareHandedOver.safeParse(body);
      if (gone.success && gone.data.handed_over_to > epoch) throw new ShareHandedOverError(epoch, gone.data.handed_over_to);
      throw new ShareUnavailableError('the key-generation process sent a malformed hand-over answer');
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
