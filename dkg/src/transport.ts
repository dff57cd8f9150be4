/**
 * The key-generation transport: libp2p (TCP, noise, yamux) with the node's secp256k1 key as its peer
 * identity, so a peer is authenticated by the epoch's public keys and nothing else. Each frame is one
 * length-prefixed message on a short stream (yamux streams on a kept-alive connection are cheap), which
 * lets a dead peer cost nothing but a failed dial. Inbound frames are limited in size and, per peer, in
 * bytes per second; frames from peers outside the epoch are never read.
 */
import '../../core/runtime.js';
import { createLibp2p, type Libp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { privateKeyFromRaw, publicKeyFromRaw } from '@libp2p/crypto/keys';
import { peerIdFromPublicKey } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import type { PeerId } from '@libp2p/interface';
import * as lp from 'it-length-prefixed';
import { compressPublicKey } from '../../core/crypto/keys.js';
import type { Logger } from '../../core/log.js';

export interface TransportPeer {
  readonly index: number;
  /** The member's secp256k1 public key (33 or 65 bytes): its libp2p identity. */
  readonly publicKey: Uint8Array;
  /** Where it listens, without the /p2p suffix, e.g. /ip4/127.0.0.1/tcp/7001. */
  readonly address: string;
}

export interface TransportOptions {
  readonly secretKey: Uint8Array;
  readonly listen: string;
  /** The protocol id; binds the chain and epoch so nodes of different epochs never mix frames. */
  readonly protocol: string;
  readonly peers: readonly TransportPeer[];
  readonly maxFrameBytes: number;
  /** Inbound bytes per second per peer before frames are dropped. */
  readonly maxBytesPerSecond: number;
  readonly logger: Logger;
  readonly onFrame: (from: number, frame: Uint8Array) => void;
}

/** The libp2p peer id of a secp256k1 public key. */
export function peerIdOf(publicKey: Uint8Array): PeerId {
  return peerIdFromPublicKey(publicKeyFromRaw(compressPublicKey(publicKey)));
}

class RateLimit {
  #window = 0;
  #bytes = 0;

  constructor(readonly bytesPerSecond: number) {}

  allow(bytes: number, nowMs: number): boolean {
    const window = Math.floor(nowMs / 1000);
    if (window !== this.#window) {
      this.#window = window;
      this.#bytes = 0;
    }
    this.#bytes += bytes;
    return this.#bytes <= this.bytesPerSecond;
  }
}

/**
 * Frames of one protocol with one set of peers: the epoch's own members, or, during a hand-over, the
 * other committee (the old nodes deal to the new ones on `/torus/reshare/...`). A peer of one channel
 * cannot send on another: each channel reads frames only from its own peers.
 */
export interface ChannelOptions {
  readonly protocol: string;
  readonly peers: readonly TransportPeer[];
  /** Absent for a channel this node only sends on. */
  readonly onFrame?: (from: number, frame: Uint8Array) => void;
}

export interface ChannelHandle {
  send(to: number, frame: Uint8Array): Promise<void>;
  /** Called when a connection to one of the channel's peers opens. */
  onPeerConnected(callback: (index: number) => void): void;
}

class Channel {
  readonly peerIds = new Map<number, PeerId>();
  readonly indexOf = new Map<string, number>();
  readonly limits = new Map<number, RateLimit>();

  constructor(readonly options: ChannelOptions, maxBytesPerSecond: number) {
    for (const peer of options.peers) {
      const id = peerIdOf(peer.publicKey);
      this.peerIds.set(peer.index, id);
      this.indexOf.set(id.toString(), peer.index);
      this.limits.set(peer.index, new RateLimit(maxBytesPerSecond));
    }
  }
}

export class KeygenTransport {
  readonly #node: Libp2p;
  readonly #options: TransportOptions;
  readonly #members: Channel;

  private constructor(node: Libp2p, options: TransportOptions) {
    this.#node = node;
    this.#options = options;
    this.#members = new Channel({ protocol: options.protocol, peers: options.peers, onFrame: options.onFrame }, options.maxBytesPerSecond);
  }

  static async start(options: TransportOptions): Promise<KeygenTransport> {
    const node = await createLibp2p({
      privateKey: privateKeyFromRaw(options.secretKey),
      addresses: { listen: [options.listen] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
    });
    const transport = new KeygenTransport(node, options);
    await transport.#open(transport.#members);
    options.logger.info({ peerId: node.peerId.toString(), addresses: node.getMultiaddrs().map(String), protocol: options.protocol }, 'key-generation transport listening');
    return transport;
  }

  /** Adds a channel to another committee (see ChannelOptions); returns how to send on it. */
  async addChannel(options: ChannelOptions): Promise<ChannelHandle> {
    const channel = new Channel(options, this.#options.maxBytesPerSecond);
    await this.#open(channel);
    this.#options.logger.info({ protocol: options.protocol, peers: options.peers.length, receiving: options.onFrame !== undefined }, 'key-generation channel open');
    return { send: (to, frame) => this.#send(channel, to, frame), onPeerConnected: (callback) => this.#onConnect(channel, callback) };
  }

  async #open(channel: Channel): Promise<void> {
    for (const peer of channel.options.peers) {
      const id = channel.peerIds.get(peer.index) as PeerId;
      if (!id.equals(this.#node.peerId)) await this.#node.peerStore.merge(id, { multiaddrs: [multiaddr(peer.address)] });
    }
    if (channel.options.onFrame === undefined) return;
    await this.#node.handle(channel.options.protocol, ({ stream, connection }) => void this.#receive(channel, connection.remotePeer, stream), {
      maxInboundStreams: 256,
    });
  }

  get peerId(): string {
    return this.#node.peerId.toString();
  }

  /** Called when a connection to a member opens (first contact or reconnection). */
  onPeerConnected(callback: (index: number) => void): void {
    this.#onConnect(this.#members, callback);
  }

  #onConnect(channel: Channel, callback: (index: number) => void): void {
    this.#node.addEventListener('peer:connect', (event) => {
      const index = channel.indexOf.get(event.detail.toString());
      if (index !== undefined) callback(index);
    });
  }

  /**
   * The members (by index) this node has an open connection to; with `dialMissing`, it first tries for up to
   * `dialTimeoutMs` to connect to the others. Connections otherwise open with the first frame sent either
   * way and stay open, so an idle node that just started would count none (torus-dkg's readiness dials).
   */
  async connectedMembers(options: { dialMissing?: boolean; dialTimeoutMs?: number } = {}): Promise<number[]> {
    const members = [...this.#members.peerIds].filter(([, id]) => !id.equals(this.#node.peerId));
    const connected = await Promise.all(members.map(async ([index, id]) => {
      if (this.#node.getConnections(id).length > 0) return index;
      if (options.dialMissing !== true) return undefined;
      return this.#node.dial(id, { signal: AbortSignal.timeout(options.dialTimeoutMs ?? 2000) }).then(() => index, () => undefined);
    }));
    return connected.filter((index): index is number => index !== undefined).sort((a, b) => a - b);
  }

  /** Sends one frame to a member. Throws when the peer cannot be reached; the caller retries later. */
  async send(to: number, frame: Uint8Array): Promise<void> {
    return this.#send(this.#members, to, frame);
  }

  async #send(channel: Channel, to: number, frame: Uint8Array): Promise<void> {
    const id = channel.peerIds.get(to);
    if (id === undefined) throw new Error(`node ${to} is not a member of the committee on ${channel.options.protocol}`);
    const stream = await this.#node.dialProtocol(id, channel.options.protocol, { signal: AbortSignal.timeout(5000) });
    try {
      await stream.sink(lp.encode([frame]));
    } finally {
      await stream.close().catch(() => undefined);
    }
  }

  async #receive(channel: Channel, remote: PeerId, stream: Parameters<Parameters<Libp2p['handle']>[1]>[0]['stream']): Promise<void> {
    const from = channel.indexOf.get(remote.toString());
    const onFrame = channel.options.onFrame;
    if (from === undefined || onFrame === undefined) {
      this.#options.logger.warn({ peer: remote.toString(), protocol: channel.options.protocol }, 'frame from a peer outside the channel refused');
      stream.abort(new Error('not a peer of this channel'));
      return;
    }
    try {
      for await (const chunk of lp.decode(stream.source, { maxDataLength: this.#options.maxFrameBytes })) {
        const frame = chunk.subarray();
        if (!(channel.limits.get(from) as RateLimit).allow(frame.length, Date.now())) {
          this.#options.logger.warn({ from, bytes: frame.length, protocol: channel.options.protocol }, 'peer over its rate limit; frame dropped');
          continue;
        }
        onFrame(from, frame);
      }
    } catch (err) {
      this.#options.logger.warn({ from, protocol: channel.options.protocol, err: err instanceof Error ? err.message : String(err) }, 'bad frame from peer; stream closed');
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    }
  }

  async stop(): Promise<void> {
    await this.#node.stop();
  }
}
