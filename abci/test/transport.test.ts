import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Request, Response } from 'cosmjs-types/tendermint/abci/types';
import { encodeUvarint, readUvarint } from '../src/transport/varint.js';
import { FrameDecoder, FrameError } from '../src/transport/frame-decoder.js';
import { AbciServer } from '../src/transport/server.js';
import { MappingApp } from '../src/app.js';
import { createLogger } from '../../core/log.js';
import { TxCode } from '../src/state/codes.js';
import { assignTx, genesisBytes, testEpoch, CHAIN_ID } from './fixtures.js';

test('uvarint encodes and decodes, matching Go binary.PutUvarint vectors', () => {
  const vectors: Array<[number, string]> = [[0, '00'], [1, '01'], [127, '7f'], [128, '8001'], [300, 'ac02'], [16384, '808001'], [2 ** 32, '8080808010']];
  for (const [value, hex] of vectors) {
    assert.equal(Buffer.from(encodeUvarint(value)).toString('hex'), hex);
    assert.deepEqual(readUvarint(Buffer.from(hex, 'hex'), 0), { kind: 'value', value, length: hex.length / 2 });
  }
  assert.deepEqual(readUvarint(Buffer.from('80', 'hex'), 0), { kind: 'incomplete' });
  assert.equal(readUvarint(Buffer.from('ffffffffffffffffff7f', 'hex'), 0).kind, 'overflow');
  assert.throws(() => encodeUvarint(-1));
});

test('frame decoder handles split, joined and oversized frames', () => {
  const frame = (body: string) => Buffer.concat([Buffer.from(encodeUvarint(body.length)), Buffer.from(body)]);
  const stream = Buffer.concat([frame('hello'), frame(''), frame('x'.repeat(300))]);
  // Byte by byte.
  const one = new FrameDecoder(1024);
  const got: string[] = [];
  for (const byte of stream) for (const f of one.push(Uint8Array.of(byte))) got.push(Buffer.from(f).toString());
  assert.deepEqual(got, ['hello', '', 'x'.repeat(300)]);
  assert.equal(one.pendingBytes, 0);
  // All at once.
  assert.equal(new FrameDecoder(1024).push(stream).length, 3);
  // A length over the limit is refused as soon as the header is read, before any body arrives.
  const small = new FrameDecoder(100);
  assert.throws(() => small.push(encodeUvarint(10 * 1024 * 1024)), (err: unknown) => err instanceof FrameError && /exceeds the limit/.test(err.message));
  assert.throws(() => new FrameDecoder(100).push(Buffer.from('ffffffffffffffffffff01', 'hex')), FrameError);
});

/** A raw ABCI client: writes frames, reads response frames. */
class RawClient {
  readonly socket: net.Socket;
  readonly #decoder = new FrameDecoder(64 * 1024 * 1024);
  readonly #responses: Response[] = [];
  #waiters: Array<() => void> = [];
  closed: Promise<void>;

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.on('data', (chunk) => {
      for (const frame of this.#decoder.push(chunk)) this.#responses.push(Response.decode(frame));
      for (const w of this.#waiters.splice(0)) w();
    });
    this.socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => this.socket.on('close', () => resolve()));
  }

  static frame(request: Request): Buffer {
    const body = Request.encode(request).finish();
    return Buffer.concat([Buffer.from(encodeUvarint(body.length)), Buffer.from(body)]);
  }

  async responses(count: number, timeoutMs = 5000): Promise<Response[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.#responses.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${this.#responses.length} of ${count} responses`);
      await new Promise<void>((resolve) => { this.#waiters.push(resolve); setTimeout(resolve, 50); });
    }
    return this.#responses.splice(0, count);
  }
}

async function withServer(fn: (port: number, server: AbciServer) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'torus-abci-'));
  const app = await MappingApp.open(path.join(dir, 'state'), createLogger('test', 'silent'));
  const server = new AbciServer(app, { maxFrameBytes: 1024 * 1024, logger: createLogger('test', 'silent') });
  await server.listen('tcp://127.0.0.1:0');
  const port = (server.address() as net.AddressInfo).port;
  try {
    await fn(port as number, server);
  } finally {
    await server.close();
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('server answers pipelined requests in order, only on Flush, across split writes', async () => {
  await withServer(async (port) => {
    const client = new RawClient(port);
    const e = testEpoch();
    const requests = [
      Request.fromPartial({ echo: { message: 'one' } }),
      Request.fromPartial({ info: {} }),
      Request.fromPartial({ initChain: { chainId: CHAIN_ID, appStateBytes: genesisBytes(e), initialHeight: 1n } }),
      Request.fromPartial({ checkTx: { tx: assignTx(e, 'alice@example.com') } }),
      Request.fromPartial({ checkTx: { tx: new Uint8Array([1, 2, 3]) } }),
      Request.fromPartial({ echo: { message: 'two' } }),
    ];
    const bytes = Buffer.concat(requests.map(RawClient.frame));
    // Written in 7-byte pieces, so frames are split across TCP chunks and several share one.
    for (let i = 0; i < bytes.length; i += 7) client.socket.write(bytes.subarray(i, i + 7));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await assert.rejects(client.responses(1, 300), /only 0/, 'nothing is written before Flush');
    client.socket.write(RawClient.frame(Request.fromPartial({ flush: {} })));
    const [echo1, info, init, good, bad, echo2, flush] = await client.responses(7);
    assert.equal(echo1?.echo?.message, 'one');
    assert.equal(info?.info?.data, 'torus-abci');
    assert.equal(info?.info?.lastBlockHeight, 0n);
    assert.equal(init?.initChain?.appHash.length, 32);
    assert.equal(good?.checkTx?.code, TxCode.OK);
    assert.equal(bad?.checkTx?.code, TxCode.MALFORMED, 'a bad transaction gets a code, not an exception');
    assert.equal(bad?.checkTx?.codespace, 'torus');
    assert.equal(echo2?.echo?.message, 'two');
    assert.ok(flush?.flush);
    client.socket.destroy();
  });
});

test('garbage, empty, truncated and oversized frames close only their connection', async () => {
  await withServer(async (port) => {
    const healthy = new RawClient(port);
    const attacks: Array<[string, Buffer]> = [
      ['garbage protobuf', Buffer.concat([Buffer.from(encodeUvarint(6)), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])])],
      ['empty request', Buffer.from(encodeUvarint(0))],
      ['10 MB frame', Buffer.concat([Buffer.from(encodeUvarint(10 * 1024 * 1024)), Buffer.alloc(64 * 1024)])],
      ['overflowing length', Buffer.from('ffffffffffffffffffff01', 'hex')],
    ];
    for (const [name, bytes] of attacks) {
      const attacker = new RawClient(port);
      attacker.socket.write(bytes);
      await Promise.race([attacker.closed, new Promise((_, reject) => setTimeout(() => reject(new Error(`${name}: connection left open`)), 3000))]);
    }
    // A frame cut off by the client going away.
    const truncated = new RawClient(port);
    truncated.socket.end(RawClient.frame(Request.fromPartial({ echo: { message: 'x'.repeat(100) } })).subarray(0, 50));
    await truncated.closed;
    healthy.socket.write(Buffer.concat([RawClient.frame(Request.fromPartial({ echo: { message: 'still here' } })), RawClient.frame(Request.fromPartial({ flush: {} }))]));
    const [echo] = await healthy.responses(2);
    assert.equal(echo?.echo?.message, 'still here');
    healthy.socket.destroy();
  });
});
