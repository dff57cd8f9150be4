/**
 * ABCI socket server for CometBFT v0.38 (ABCI 2.0).
 *
 * CometBFT opens four connections (query, snapshot, mempool, consensus), pipelines requests on each and
 * expects the answers on each connection in request order; it sends Flush to make us write. Like the Go
 * server, we handle ONE request at a time across all connections, so the application never sees two at
 * once. Unlike it, we do not take them strictly in arrival order: each connection keeps its own FIFO, and
 * the next request is the oldest head among consensus requests first, then queries, then the rest. Under
 * load the mempool connection queues hundreds of CheckTx; without priority, every PrepareProposal and
 * FinalizeBlock waited behind them and stretched the block time. ABCI requires order per connection only,
 * and CometBFT flushes the mempool connection before Commit, so no CheckTx is overtaken by the Commit of a
 * block it preceded.
 *
 * Protocol violations (bad frame length, oversized frame, undecodable or empty request) close only the
 * offending connection: they can come from a stray client, and the application must keep serving
 * CometBFT. `exception` is sent only when the application itself fails, which is fatal by design.
 */
import net from 'node:net';
import { Request, Response } from 'cosmjs-types/tendermint/abci/types';
import type { AbciApplication } from './application.js';
import { FrameDecoder } from './frame-decoder.js';
import { encodeUvarint } from './varint.js';

export interface AbciLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface AbciServerOptions {
  /** Largest accepted frame; a FinalizeBlock frame carries a whole block, so keep it above block.max_bytes. */
  readonly maxFrameBytes: number;
  readonly logger: AbciLogger;
  /** Stop reading from a connection while this many of its requests wait in the queue. */
  readonly maxQueuedPerConnection?: number;
}

export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024;

interface Queued {
  readonly request: Request;
  readonly kind: RequestKind;
  readonly seq: number;
}

interface Connection {
  readonly id: number;
  readonly socket: net.Socket;
  readonly decoder: FrameDecoder;
  readonly out: Uint8Array[];
  readonly queue: Queued[];
  paused: boolean;
  closed: boolean;
}

/** Lower runs first. Consensus requests gate block production; CheckTx can wait. */
function priority(kind: RequestKind): number {
  switch (kind) {
    case 'checkTx':
      return 2;
    case 'query':
    case 'echo':
    case 'info':
      return 1;
    default:
      return 0;
  }
}

export class AbciServer {
  readonly #app: AbciApplication;
  readonly #options: Required<AbciServerOptions>;
  readonly #server: net.Server;
  readonly #connections = new Set<Connection>();
  #draining: Promise<void> | undefined;
  #nextId = 1;
  #nextSeq = 0;
  #fatal = false;

  constructor(app: AbciApplication, options: AbciServerOptions) {
    this.#app = app;
    this.#options = { maxQueuedPerConnection: 10_000, ...options };
    this.#server = net.createServer((socket) => this.#accept(socket));
  }

  /** Listens on `tcp://host:port` or `unix:///path`. */
  async listen(address: string): Promise<void> {
    const target = parseListenAddress(address);
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      if (target.kind === 'unix') this.#server.listen(target.path, resolve);
      else this.#server.listen(target.port, target.host, resolve);
    });
    this.#options.logger.info({ address }, 'ABCI server listening');
  }

  /** Open connections (CometBFT keeps four); part of torus-abci's readiness. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** The bound address (useful with port 0). */
  address(): net.AddressInfo | string | null {
    return this.#server.address();
  }

  async close(): Promise<void> {
    for (const conn of this.#connections) {
      conn.closed = true;
      conn.socket.destroy();
    }
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await this.#draining;
  }

  #accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    const conn: Connection = {
      id: this.#nextId++,
      socket,
      decoder: new FrameDecoder(this.#options.maxFrameBytes),
      out: [],
      queue: [],
      paused: false,
      closed: false,
    };
    this.#connections.add(conn);
    this.#options.logger.info({ conn: conn.id }, 'ABCI connection opened');
    socket.on('data', (chunk: Buffer) => this.#onData(conn, chunk));
    socket.on('error', (err) => this.#options.logger.warn({ conn: conn.id, err: err.message }, 'ABCI connection error'));
    socket.on('close', () => {
      conn.closed = true;
      this.#connections.delete(conn);
      this.#options.logger.info({ conn: conn.id }, 'ABCI connection closed');
    });
  }

  #onData(conn: Connection, chunk: Buffer): void {
    if (conn.closed) return;
    let frames: Uint8Array[];
    try {
      frames = conn.decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    } catch (err) {
      this.#dropConnection(conn, 'bad frame', err);
      return;
    }
    for (const frame of frames) {
      let request: Request;
      try {
        request = Request.decode(frame);
      } catch (err) {
        this.#dropConnection(conn, 'undecodable request', err);
        return;
      }
      const kind = requestKind(request);
      if (kind === undefined) {
        this.#dropConnection(conn, 'request with no known method', undefined);
        return;
      }
      this.#enqueue(conn, request, kind);
    }
  }

  #dropConnection(conn: Connection, reason: string, err: unknown): void {
    this.#options.logger.warn(
      { conn: conn.id, reason, err: err instanceof Error ? err.message : undefined },
      'closing ABCI connection after a protocol violation',
    );
    conn.closed = true;
    conn.socket.destroy();
  }

  #enqueue(conn: Connection, request: Request, kind: RequestKind): void {
    conn.queue.push({ request, kind, seq: this.#nextSeq++ });
    if (!conn.paused && conn.queue.length >= this.#options.maxQueuedPerConnection) {
      conn.paused = true;
      conn.socket.pause();
    }
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = undefined;
    });
  }

  /** The connection whose head request runs next: highest priority, then oldest. */
  #nextConnection(): Connection | undefined {
    let best: Connection | undefined;
    let bestKey = Infinity;
    for (const conn of this.#connections) {
      const head = conn.queue[0];
      if (head === undefined) continue;
      const key = priority(head.kind) * 2 ** 40 + head.seq;
      if (key < bestKey) {
        best = conn;
        bestKey = key;
      }
    }
    return best;
  }

  async #drain(): Promise<void> {
    for (let conn = this.#nextConnection(); conn !== undefined; conn = this.#nextConnection()) {
      const item = conn.queue.shift() as Queued;
      if (conn.paused && conn.queue.length < this.#options.maxQueuedPerConnection / 2) {
        conn.paused = false;
        conn.socket.resume();
      }
      await this.#process(conn, item.request, item.kind);
    }
  }

  async #process(conn: Connection, request: Request, kind: RequestKind): Promise<void> {
    if (this.#fatal) return;
    let response: Response;
    try {
      const answer = this.#dispatch(request, kind);
      response = answer instanceof Promise ? await answer : answer;
    } catch (err) {
      // The application failed on its own terms (for example a disk error in Commit): that is fatal,
      // and CometBFT must stop rather than continue with an application in an unknown state.
      this.#fatal = true;
      this.#options.logger.error({ conn: conn.id, method: kind, err: err instanceof Error ? err.stack : String(err) }, 'application failed');
      response = Response.fromPartial({ exception: { error: `${kind} failed: ${err instanceof Error ? err.message : String(err)}` } });
    }
    if (conn.closed) return;
    const body = Response.encode(response).finish();
    conn.out.push(encodeUvarint(body.length), body);
    if (kind === 'flush' || this.#fatal) {
      const chunks = conn.out.splice(0, conn.out.length);
      conn.socket.write(Buffer.concat(chunks));
    }
  }

  /** Calls the application; returns synchronously when the application does, to skip a microtask per request. */
  #dispatch(request: Request, kind: RequestKind): Response | Promise<Response> {
    const app = this.#app;
    const wrap = <K extends keyof Response>(key: K, value: unknown): Response | Promise<Response> =>
      value instanceof Promise
        ? value.then((v: unknown) => Response.fromPartial({ [key]: v } as Partial<Response>))
        : Response.fromPartial({ [key]: value } as Partial<Response>);
    switch (kind) {
      case 'echo':
        return Response.fromPartial({ echo: { message: request.echo?.message ?? '' } });
      case 'flush':
        return Response.fromPartial({ flush: {} });
      case 'info':
        return wrap('info', app.info(request.info!));
      case 'initChain':
        return wrap('initChain', app.initChain(request.initChain!));
      case 'query':
        return wrap('query', app.query(request.query!));
      case 'checkTx':
        return wrap('checkTx', app.checkTx(request.checkTx!));
      case 'prepareProposal':
        return wrap('prepareProposal', app.prepareProposal(request.prepareProposal!));
      case 'processProposal':
        return wrap('processProposal', app.processProposal(request.processProposal!));
      case 'finalizeBlock':
        return wrap('finalizeBlock', app.finalizeBlock(request.finalizeBlock!));
      case 'commit':
        return wrap('commit', app.commit());
      case 'extendVote':
        return wrap('extendVote', app.extendVote(request.extendVote!));
      case 'verifyVoteExtension':
        return wrap('verifyVoteExtension', app.verifyVoteExtension(request.verifyVoteExtension!));
      case 'listSnapshots':
        return wrap('listSnapshots', app.listSnapshots());
      case 'offerSnapshot':
        return wrap('offerSnapshot', app.offerSnapshot(request.offerSnapshot!));
      case 'loadSnapshotChunk':
        return wrap('loadSnapshotChunk', app.loadSnapshotChunk(request.loadSnapshotChunk!));
      case 'applySnapshotChunk':
        return wrap('applySnapshotChunk', app.applySnapshotChunk(request.applySnapshotChunk!));
    }
  }
}

const REQUEST_KINDS = [
  'echo', 'flush', 'info', 'initChain', 'query', 'checkTx', 'prepareProposal', 'processProposal', 'finalizeBlock',
  'commit', 'extendVote', 'verifyVoteExtension', 'listSnapshots', 'offerSnapshot', 'loadSnapshotChunk', 'applySnapshotChunk',
] as const;
type RequestKind = (typeof REQUEST_KINDS)[number];

/** The one method a request carries, or undefined for an empty (or only-unknown-fields) request. */
export function requestKind(request: Request): RequestKind | undefined {
  for (const kind of REQUEST_KINDS) if (request[kind] !== undefined) return kind;
  return undefined;
}

export type ListenAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

export function parseListenAddress(address: string): ListenAddress {
  if (address.startsWith('unix://')) {
    const path = address.slice('unix://'.length);
    if (path.length === 0) throw new Error(`empty unix socket path in ${JSON.stringify(address)}`);
    return { kind: 'unix', path };
  }
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})$/.exec(address);
  if (m === null) throw new Error(`listen address must be tcp://host:port or unix:///path, got ${JSON.stringify(address)}`);
  const port = Number(m[2]);
  if (port > 65535) throw new Error(`port out of range in ${JSON.stringify(address)}`);
  return { kind: 'tcp', host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
}
