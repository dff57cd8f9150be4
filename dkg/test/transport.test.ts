import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { createLogger } from '../../core/log.js';
import { publicKeyOf } from '../../core/crypto/keys.js';
import { KeygenTransport, type TransportPeer } from '../src/transport.js';
import { freePorts } from '../../core/ports.js';

const log = createLogger('test', 'silent');
const PROTOCOL = '/torus/keygen/test-chain/1/1';

async function cluster(count: number, outsiders = 0, maxFrameBytes = 64 * 1024, maxBytesPerSecond = 10 * 1024 * 1024) {
  const total = count + outsiders;
  const ports = await freePorts(total);
  const keys = Array.from({ length: total }, () => secp256k1.utils.randomSecretKey());
  // Outsiders know the members, but the members do not list them.
  const members: TransportPeer[] = keys.slice(0, count).map((key, i) => ({ index: i + 1, publicKey: publicKeyOf(key), address: `/ip4/127.0.0.1/tcp/${ports[i]}` }));
  const outsiderPeers: TransportPeer[] = keys.map((key, i) => ({ index: i + 1, publicKey: publicKeyOf(key), address: `/ip4/127.0.0.1/tcp/${ports[i]}` }));
  const received: Array<Array<{ from: number; text: string }>> = keys.map(() => []);
  const nodes = await Promise.all(keys.map((key, i) => KeygenTransport.start({
    secretKey: key, listen: `/ip4/127.0.0.1/tcp/${ports[i]}`, protocol: PROTOCOL,
    peers: i < count ? members : outsiderPeers, maxFrameBytes, maxBytesPerSecond, logger: log,
    onFrame: (from, frame) => received[i]!.push({ from, text: Buffer.from(frame).toString() }),
  })));
  return { nodes, received };
}

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('members exchange frames, identified by their epoch keys', async () => {
  const { nodes, received } = await cluster(3);
  try {
    await nodes[0]!.send(2, new TextEncoder().encode('hello from 1'));
    await nodes[2]!.send(2, new TextEncoder().encode('hello from 3'));
    await until(() => received[1]!.length === 2);
    assert.deepEqual(received[1]!.map((r) => `${r.from}:${r.text}`).sort(), ['1:hello from 1', '3:hello from 3']);
    await assert.rejects(nodes[0]!.send(9, new Uint8Array(1)), /not a member/);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});

test('frames from outside the epoch, oversized frames and floods are refused', async () => {
  const { nodes, received } = await cluster(2, 1, 1024, 4096);
  try {
    // Node 3 is not a member of nodes 1 and 2's epoch.
    await nodes[2]!.send(1, new TextEncoder().encode('let me in')).catch(() => undefined);
    await nodes[1]!.send(1, new Uint8Array(2048)).catch(() => undefined);
    const started = Date.now();
    for (let i = 0; i < 10; i++) await nodes[1]!.send(1, new Uint8Array(1000).fill(65)).catch(() => undefined);
    // The limit counts bytes per wall-clock second: a loop slowed down by a busy machine spans more seconds.
    const seconds = Math.floor(Date.now() / 1000) - Math.floor(started / 1000) + 1;
    await nodes[1]!.send(1, new TextEncoder().encode('ok')).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(received[0]!.some((r) => r.from === 3 || r.text === 'let me in'), false, 'outsider refused');
    assert.equal(received[0]!.some((r) => r.text.length === 2048), false, 'oversized frame dropped');
    const flood = received[0]!.filter((r) => r.text.length === 1000).length;
    assert.ok(flood >= 1 && flood <= 4 * seconds, `1 to 4 KiB per second accepted, got ${flood} KiB in ${seconds} s`);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});
