import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex, hexToBytes } from '../../core/encoding/bytes.js';
import { encrypt } from '../../core/crypto/ecies.js';
import { publicKeyOf, randomSecretKey } from '../../core/crypto/keys.js';
import { encodePoint, G, mulSecret, parsePoint, type Point } from '../../core/crypto/point.js';
import { Fn } from '../../core/crypto/scalar.js';
import { commitmentsProblem, decryptShare, reconstructKey, ReconstructionError, selectShareKey, type NodeShareAnswer } from '../src/reconstruct.js';
import { makeKey, shareKey, shareResult, type ShareAnswerOptions, type TestKey } from './fixtures.js';

const N = 5;
const K = 3;
const MEMBERS = [1, 2, 3, 4, 5];

function setup(): { key: TestKey; tempSecretKey: Uint8Array; tempPublicKey: Uint8Array } {
  const tempSecretKey = randomSecretKey();
  return { key: makeKey(N, K), tempSecretKey, tempPublicKey: publicKeyOf(tempSecretKey) };
}

function answers(key: TestKey, tempPublicKey: Uint8Array, nodes: readonly number[], tweak: Record<number, ShareAnswerOptions> = {}): NodeShareAnswer[] {
  return nodes.map((index) => ({ index, result: shareResult(key, index, tempPublicKey, tweak[index] ?? {}) }));
}

function run(key: TestKey, tempSecretKey: Uint8Array, list: NodeShareAnswer[]): ReturnType<typeof reconstructKey> {
  return reconstructKey({ answers: list, tempSecretKey, expected: { keyIndex: key.keyIndex, publicKey: key.publicKey }, k: K, memberIndexes: MEMBERS });
}

/** g^{s} with one entry replaced by another point: still a valid-looking commitments map, but off the polynomial. */
function withCommitment(key: TestKey, index: number, point: Point): Record<string, string> {
  return { ...key.commitments, [String(index)]: bytesToHex(encodePoint(point)) };
}

describe('reconstructKey', () => {
  it('honest answers from all five nodes: the original key, every node good', () => {
    const { key, tempSecretKey, tempPublicKey } = setup();
    const r = run(key, tempSecretKey, answers(key, tempPublicKey, MEMBERS));
    assert.equal(bytesToHex(r.privateKey), bytesToHex(key.privateKey));
    assert.equal(bytesToHex(r.publicKey), bytesToHex(key.publicKey));
    assert.equal(r.keyIndex, key.keyIndex);
    assert.deepEqual(r.goodNodes, [1, 2, 3, 4, 5]);
    assert.deepEqual(r.usedNodes, [1, 2, 3]);
    assert.deepEqual(r.badNodes, []);
  });

  it('exactly k honest answers (two nodes missing) are enough', () => {
    const { key, tempSecretKey, tempPublicKey } = setup();
    const r = run(key, tempSecretKey, answers(key, tempPublicKey, [2, 4, 5]));
    assert.equal(bytesToHex(r.privateKey), bytesToHex(key.privateKey));
    assert.deepEqual(r.usedNodes, [2, 4, 5]);
  });

  it('a wrong share is named and the key still reconstructs from the others', () => {
    const { key, tempSecretKey, tempPublicKey } = setup();
    // Node 1 is the first one interpolation would use: a wrong share that slipped through would change the key.
    const wrong = Fn.add(key.shares.get(1) as bigint, 1n);
    const r = run(key, tempSecretKey, answers(key, tempPublicKey, MEMBERS, { 1: { shareValue: wrong } }));
    assert.equal(bytesToHex(r.privateKey), bytesToHex(key.privateKey));
    assert.deepEqual(r.badNodes.map((b) => b.index), [1]);
    assert.match(r.badNodes[0]?.reason ?? '', /does not match its commitment/);
    assert.deepEqual(r.goodNodes, [2, 3, 4, 5]);
  });

  it('a share encrypted to another key or with a tampered MAC is named as undecryptable', () => {
    const { key, tempSecretKey, tempPublicKey } = setup();
    const list = answers(key, tempPublicKey, MEMBERS);
    list[1] = { index: 2, result: shareResult(key, 2, publicKeyOf(randomSecretKey())) };
    const tampered = shareKey(key, 3, tempPublicKey);
    const mac = hexToBytes(tampered.Metadata.mac);
    mac[0] = (mac[0] as number) ^ 1;
    list[2] = { index: 3, result: { keys: [{ ...tampered, Metadata: { ...tampered.Metadata, mac: bytesToHex(mac) } }] } };
    const r = run(key, tempSecretKey, list);
    assert.equal(bytesToHex(r.privateKey), bytesToHex(key.privateKey));
    assert.deepEqual(r.badNodes.map((b) => b.index), [2, 3]);
    for (const bad of r.badNodes) assert.match(bad.reason, /cannot decrypt the share: .*MAC mismatch/);
  });

  it('a node whose ShareCommitments differ from the agreed ones is named, even with a correct share', () => {
    const { key, tempSecretKey, tempPublicKey } = setup();
    const forged = withCommitment(key, 4, mulSecret(G, 12345n));
    // Node 1 answers first: the agreed values must come from the count, not from whoever is first.
    const r = run(key, tempSecretKey, answers(key, tempPublicKey, MEMBERS, { 1: { commitments: forged } }));
    assert.equal(bytesToHex(r.privateKey), bytesToHex(key.privateKey));
    assert.deepEqual(r.badNodes.map((b) => b.index), [1]);
    assert.match(r.badNodes[0]?.reason ?? '', /share commitments that differ .*nodes 4\)/);
  });

  it('a node answering with another NodeIndex is named', () => {
    const { key, tempSecretKey, tempPublicKey } = setup();
    const r = run(key, tempSecretKey, answers(key, tempPublicKey, MEMBERS, { 5: { nodeIndex: 4 } }));
    assert.equal(bytesToHex(r.privateKey), bytesToHex(key.privateKey));
    assert.deepEqual(r.badNodes, [{ index: 5, reason: 'answered with NodeIndex 4, but it is node 5 in the network file' }]);
  });

  it('a share sent by a node under another index is refused even if it is a valid share of the key', () => {
    const { key, tempSecretKey, tempPublicKey } = setup();
    // Node 5 replays node 4's share (and claims NodeIndex 5): s_4 is not on g^{s_5}.
    const list = answers(key, tempPublicKey, MEMBERS, { 5: { shareValue: key.shares.get(4) as bigint } });
    const r = run(key, tempSecretKey, list);
    assert.deepEqual(r.badNodes.map((b) => b.index), [5]);
    assert.equal(bytesToHex(r.privateKey), bytesToHex(key.privateKey));
  });

  it('three kinds of corruption at once leave 2 good shares: a clear error naming all three nodes', () => {
    const { key, tempSecretKey, tempPublicKey } = setup();
    const list = answers(key, tempPublicKey, MEMBERS, {
      1: { shareValue: 7n },
      3: { nodeIndex: 2 },
      5: { commitments: withCommitment(key, 1, mulSecret(G, 7n)) },
    });
    assert.throws(
      () => run(key, tempSecretKey, list),
      (err: unknown) => {
        assert.ok(err instanceof ReconstructionError);
        assert.match(err.message, /only 2 verified share\(s\), 3 needed/);
        assert.deepEqual(err.badNodes.map((b) => b.index), [1, 3, 5]);
        assert.match(err.message, /node 1: share does not match/);
        return true;
      },
    );
  });

  it('fewer than k answers: an error, not a guess', () => {
    const { key, tempSecretKey, tempPublicKey } = setup();
    assert.throws(() => run(key, tempSecretKey, answers(key, tempPublicKey, [1, 2])), /fewer than 3 nodes sent identical public key and share commitments/);
  });

  it('a majority agreeing on a different public key than the lookup is fatal', () => {
    const { key, tempSecretKey, tempPublicKey } = setup();
    const other = makeKey(N, K, key.keyIndex);
    assert.throws(
      () => reconstructKey({ answers: answers(key, tempPublicKey, MEMBERS), tempSecretKey, expected: { keyIndex: key.keyIndex, publicKey: other.publicKey }, k: K, memberIndexes: MEMBERS }),
      /not the looked-up key/,
    );
    assert.throws(
      () => reconstructKey({ answers: answers(key, tempPublicKey, MEMBERS), tempSecretKey, expected: { keyIndex: 0x20n, publicKey: key.publicKey }, k: K, memberIndexes: MEMBERS }),
      /key index 1f, but the lookup returned 20/,
    );
  });

  it('agreed commitments off the polynomial are fatal even when every node sends them', () => {
    const { key, tempSecretKey, tempPublicKey } = setup();
    // Node 5's commitment moved, and node 5's share moved with it: everything is consistent except the degree.
    const s5 = Fn.add(key.shares.get(5) as bigint, 1n);
    const bent = withCommitment(key, 5, mulSecret(G, s5));
    const list = MEMBERS.map((index) => ({ index, result: shareResult(key, index, tempPublicKey, { commitments: bent, ...(index === 5 ? { shareValue: s5 } : {}) }) }));
    assert.throws(() => run(key, tempSecretKey, list), /inconsistent: share commitment of node 5 is not on the degree-2 polynomial through nodes 1, 2, 3/);
  });

  it('the first key by Index is used, whatever the order in the answer', () => {
    const { key, tempPublicKey } = setup();
    const high = { ...shareKey(key, 1, tempPublicKey), Index: 'a0' };
    const low = { ...shareKey(key, 1, tempPublicKey), Index: '0F' };
    assert.equal(selectShareKey({ keys: [high, low] }).Index, '0F');
  });
});

describe('decryptShare', () => {
  it('reads short (minimal big-endian) plaintexts', () => {
    const tempSecretKey = randomSecretKey();
    const key = makeKey(N, K);
    const entry = shareKey(key, 1, publicKeyOf(tempSecretKey), { shareValue: 0x1234n });
    assert.equal(decryptShare(tempSecretKey, entry), 0x1234n);
  });

  it('refuses plaintexts longer than 32 bytes and Share values that are not base64 of hex', () => {
    const tempSecretKey = randomSecretKey();
    const key = makeKey(N, K);
    const entry = shareKey(key, 1, publicKeyOf(tempSecretKey));
    const payload = encrypt(publicKeyOf(tempSecretKey), new Uint8Array(33).fill(1));
    const long = { ...entry, Share: Buffer.from(bytesToHex(payload.ciphertext)).toString('base64'), Metadata: { iv: bytesToHex(payload.iv), ephemPublicKey: bytesToHex(payload.ephemPublicKey), mac: bytesToHex(payload.mac) } };
    assert.throws(() => decryptShare(tempSecretKey, long), /33 bytes, expected 1 to 32/);
    assert.throws(() => decryptShare(tempSecretKey, { ...entry, Share: Buffer.from('not hex!').toString('base64') }), /not base64 of a hex string/);
  });
});

describe('commitmentsProblem', () => {
  const key = makeKey(N, K);
  const points = (map: Record<string, string>): Map<number, Point> => new Map(Object.entries(map).map(([i, hex]) => [Number(i), parsePoint(hex)]));
  const publicKey = parsePoint(key.publicKey);

  it('accepts honest commitments', () => {
    assert.equal(commitmentsProblem(points(key.commitments), publicKey, K, MEMBERS), undefined);
  });

  it('refuses a missing or extra member, a wrong public key, and a point off the polynomial', () => {
    const { 5: _dropped, ...four } = key.commitments;
    assert.match(commitmentsProblem(points(four), publicKey, K, MEMBERS) ?? '', /for nodes \[1, 2, 3, 4\]/);
    assert.match(commitmentsProblem(points({ ...key.commitments, 6: key.commitments['1'] as string }), publicKey, K, MEMBERS) ?? '', /members are/);
    assert.match(commitmentsProblem(points(key.commitments), mulSecret(G, 5n), K, MEMBERS) ?? '', /different public key/);
    assert.match(commitmentsProblem(points(withCommitment(key, 4, G)), publicKey, K, MEMBERS) ?? '', /node 4 is not on/);
    // A change among the first k moves the polynomial: it shows up at the later indexes.
    assert.match(commitmentsProblem(points(withCommitment(key, 2, G)), publicKey, K, MEMBERS) ?? '', /node 4 is not on/);
  });
});
