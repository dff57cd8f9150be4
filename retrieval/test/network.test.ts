/**
 * End to end on a real 5-node network on loopback: CometBFT, torus-abci, torus-dkg, torus-retrieval and the
 * development issuer, all as separate processes. Our client and the unmodified @toruslabs/torus.js 6.4.1
 * log the same users in; every kind of bad request gets a clear error and changes nothing; 5,000 random
 * and mutated requests break nothing; a node that sends a corrupt share is named; 2 of 5 nodes down is fine.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { bytesToHex, utf8 } from '../../core/encoding/bytes.js';
import { keccak256 } from '../../core/crypto/hash.js';
import { checksumAddress, ethereumAddress, publicKeyOf, randomSecretKey } from '../../core/crypto/keys.js';
import { encrypt } from '../../core/crypto/ecies.js';
import { randomScalar, scalarToBytes } from '../../core/crypto/scalar.js';
import { NodeSigner } from '../../core/crypto/signature.js';
import { DEV_VERIFIER } from '../../testnet/src/mapping-network.js';
import { loadNetwork } from '../../client/src/network.js';
import { TorusClient } from '../../client/src/sdk.js';
import { DevIssuer } from '../src/verifiers/dev-issuer.js';
import { commitmentData } from '../src/methods/commit-reveal.js';
import { commitToken, mintToken, rpc, startLoginNetwork, startTorusJsStubs, type LoginNetwork, type RpcAnswer } from './support.js';
import { fuzzRequests } from './fuzz.js';

interface TorusJs {
  getPublicAddress(endpoints: string[], pubs: Array<{ X: string; Y: string }>, args: { verifier: string; verifierId: string }, extended: boolean): Promise<{ address: string; X: string; Y: string }>;
  retrieveShares(endpoints: string[], indexes: number[], verifier: string, params: { verifier_id: string }, idToken: string): Promise<{ ethAddress: string; privKey: string }>;
}
type TorusJsClass = new (options: Record<string, unknown>) => TorusJs;
const TorusJs = (createRequire(import.meta.url)('@toruslabs/torus.js') as { default: TorusJsClass }).default;

let env: LoginNetwork;
let stubs: { url: string; close: () => Promise<void> };
let client: TorusClient;
let emailCounter = 0;
const newEmail = () => `user${++emailCounter}-${Date.now()}@example.com`;

function torusJs(): { torus: TorusJs; endpoints: string[]; pubs: Array<{ X: string; Y: string }>; indexes: number[] } {
  const torus = new TorusJs({ metadataHost: `${stubs.url}/metadata`, allowHost: `${stubs.url}/api/allow`, signerHost: `${stubs.url}/api/sign`, network: 'mainnet', enableOneKey: false });
  const nodes = env.net.nodes;
  return {
    torus,
    endpoints: nodes.map((n) => n.endpoint),
    pubs: nodes.map((n) => ({ X: n.layout.publicKey.slice(2, 66), Y: n.layout.publicKey.slice(66) })),
    indexes: nodes.map((n) => n.index),
  };
}

const addressOf = (privateKey: Uint8Array) => checksumAddress(ethereumAddress(publicKeyOf(privateKey)));

const commit = (token: string, nodes?: number[], verifier?: string) => commitToken(env.net, token, nodes, verifier);

function shareRequest(node: number, item: Record<string, unknown>): Promise<RpcAnswer> {
  return rpc(env.net.node(node).endpoint, 'ShareRequest', { encrypted: 'yes', item: [item] });
}

function expectError(answer: RpcAnswer, pattern: RegExp, what: string): void {
  assert.equal(answer.result, undefined, `${what}: expected an error, got a result`);
  assert.ok(answer.error, what);
  assert.match(`${answer.error.message} ${answer.error.data ?? ''}`, pattern, `${what}: ${JSON.stringify(answer.error)}`);
}

describe('login on a 5-node network', { timeout: 600_000 }, () => {
  before(async () => {
    env = await startLoginNetwork({ readyKeys: 6 });
    stubs = await startTorusJsStubs();
    client = new TorusClient(loadNetwork(env.clientFile));
  });
  after(async () => {
    await stubs?.close();
    await env?.net.stop();
  });

  it('a new user is assigned a key, logs in with our client, and torus.js 6.4.1 gets the same key', async () => {
    const email = newEmail();
    assert.equal(await client.lookup(DEV_VERIFIER, email), undefined, 'a new user has no key');
    const assigned = await client.assign(DEV_VERIFIER, email);
    const again = await client.assign(DEV_VERIFIER, email);
    assert.equal(again.address, assigned.address, 'assignment is idempotent');
    const login = await client.login(DEV_VERIFIER, await mintToken(env.issuer, email));
    assert.equal(login.address, assigned.address);
    assert.equal(addressOf(login.privateKey), assigned.address, 'the private key belongs to the looked-up address');
    assert.deepEqual(login.badNodes, []);
    assert.doesNotMatch(JSON.stringify(login), new RegExp(bytesToHex(login.privateKey)), 'the key is not in the JSON form');

    const [x, y] = [bytesToHex(login.publicKey.subarray(1, 33)), bytesToHex(login.publicKey.subarray(33))];
    const byKey = await rpc(env.net.node(2).endpoint, 'KeyLookupRequest', { pub_key_X: x.replace(/^0+/, ''), pub_key_Y: y });
    assert.deepEqual((byKey.result as { Verifiers: unknown }).Verifiers, { [DEV_VERIFIER]: [email] }, 'KeyLookupRequest names the owner');

    const { torus, endpoints, pubs, indexes } = torusJs();
    const legacyAddress = await torus.getPublicAddress(endpoints, pubs, { verifier: DEV_VERIFIER, verifierId: email }, true);
    assert.equal(legacyAddress.address, assigned.address);
    const legacy = await torus.retrieveShares(endpoints, indexes, DEV_VERIFIER, { verifier_id: email }, await mintToken(env.issuer, email));
    assert.equal(legacy.ethAddress, assigned.address);
    assert.equal(legacy.privKey, bytesToHex(login.privateKey), 'torus.js reconstructs the same private key');
  });

  it('torus.js assigns a new user through KeyAssign, and our client logs in to the same key', async () => {
    const email = newEmail();
    const { torus, endpoints, pubs } = torusJs();
    const { address } = await torus.getPublicAddress(endpoints, pubs, { verifier: DEV_VERIFIER, verifierId: email }, true);
    assert.equal((await client.lookup(DEV_VERIFIER, email))?.address, address);
    const login = await client.login(DEV_VERIFIER, await mintToken(env.issuer, email));
    assert.equal(addressOf(login.privateKey), address);
  });

  it('a reveal that reaches a node before the user\'s assignment is committed there waits for it', async () => {
    const email = newEmail();
    const token = await mintToken(env.issuer, email);
    const { signatures } = await commit(token, [1, 2, 3, 4, 5]);
    // KeyAssign at node 1 is still in flight (its block is not committed anywhere yet) when node 2 gets the reveal.
    const assigning = rpc(env.net.node(1).endpoint, 'KeyAssign', { verifier: DEV_VERIFIER, verifier_id: email });
    const revealed = await shareRequest(2, { verifier_id: email, idtoken: token, nodesignatures: signatures, verifieridentifier: DEV_VERIFIER });
    const assigned = await assigning;
    assert.ok(assigned.result, JSON.stringify(assigned.error));
    assert.ok(revealed.result, `the reveal waited for the assignment: ${JSON.stringify(revealed.error)}`);
    const keys = (revealed.result as { keys: Array<{ PublicKey: { X: string } }> }).keys;
    assert.equal(keys.length, 1);
    assert.equal(keys[0]?.PublicKey.X, (assigned.result as { keys: Array<{ pub_key_X: string }> }).keys[0]?.pub_key_X);
  });

  it('each bad request gets a clear JSON-RPC error and changes nothing', async () => {
    const email = newEmail();
    await client.assign(DEV_VERIFIER, email);
    const token = await mintToken(env.issuer, email);
    const { signatures, params } = await commit(token);
    const good = { verifier_id: email, idtoken: token, nodesignatures: signatures, verifieridentifier: DEV_VERIFIER };
    const { k } = env.net.layout;
    const now = Math.floor(Date.now() / 1000);
    const member = (i: number) => env.net.node(i).signer();
    const signAs = (signer: NodeSigner, data: string) => {
      const pub = signer.publicKey;
      return { signature: bytesToHex(signer.signLegacy(utf8(data))), data, nodepubx: bytesToHex(pub.subarray(1, 33)), nodepuby: bytesToHex(pub.subarray(33)) };
    };
    const dataAt = (time: number) => commitmentData(params.tokencommitment, params.temppubx, params.temppuby, DEV_VERIFIER, time);

    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['unknown verifier', { ...good, verifieridentifier: 'nope' }, /Verifier not supported/],
      ['fewer than k signatures', { ...good, nodesignatures: signatures.slice(0, k - 1) }, new RegExp(`need ${k} .* found ${k - 1}`)],
      ['one node\'s signature repeated', { ...good, nodesignatures: Array(k).fill(signatures[0]) }, /found 1/],
      ['signatures from non-members', { ...good, nodesignatures: [1, 2, 3].map(() => signAs(new NodeSigner(randomSecretKey()), dataAt(now))) }, /found 0 .*3 non-member/],
      ['tampered signatures', { ...good, nodesignatures: signatures.map((s) => ({ ...s, data: s.data.replace(/\d$/, (d) => String((Number(d) + 1) % 10)) })) }, /found 0 .*invalid/],
      ['expired signatures', { ...good, nodesignatures: [1, 2, 3].map((i) => signAs(member(i), dataAt(now - 3600))) }, /found 0 .*3 expired/],
      ['signatures dated in the future', { ...good, nodesignatures: [1, 2, 3].map((i) => signAs(member(i), dataAt(now + 3600))) }, /found 0 .*3 future/],
      ['malformed signature hex', { ...good, nodesignatures: [{ ...signatures[0], signature: 'zz'.repeat(65) }] }, /Invalid params/],
      ['malformed node key hex', { ...good, nodesignatures: [{ ...signatures[0], nodepubx: '0x12' }] }, /Invalid params/],
      ['wrong types', { ...good, nodesignatures: 'all of them' }, /Invalid params/],
      ['missing token', { ...good, idtoken: undefined }, /Invalid params/],
      ['a verifier id the token does not name', { ...good, verifier_id: newEmail() }, /Could not verify params.*verifier id/],
    ];
    for (const [what, item, pattern] of cases) expectError(await shareRequest(1, item), pattern, what);

    // A different, valid token revealed against this token's signatures.
    const otherToken = await mintToken(env.issuer, email, { nonce: 'other' });
    expectError(await shareRequest(1, { ...good, idtoken: otherToken }), /Token commitment and token are not compatible/, 'commitment of another token');

    // Tokens that fail verification, each properly committed (the commitment matches the token).
    const [header, payload] = token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const stranger = await DevIssuer.create({ issuer: env.net.devIssuerUrl });
    const badTokens: Array<[string, string, RegExp]> = [
      ['wrong audience', await mintToken(env.issuer, email, { aud: 'someone-else' }), /another audience/],
      ['expired', await mintToken(env.issuer, email, {}, { iat: now - 7200, exp: now - 3600 }), /expired/],
      ['issued in the future', await mintToken(env.issuer, email, {}, { iat: now + 3600, exp: now + 7200 }), /future/],
      ['signed by another key', await stranger.sign({ email, aud: 'torus-dev' }), /signature|no key of the issuer/],
      ['payload changed after signing', `${header}.${Buffer.from(JSON.stringify({ ...claims, email: 'mallory@example.com' })).toString('base64url')}.${token.split('.')[2]}`, /signature does not verify/],
      ['alg none', `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`, /alg "none"/],
    ];
    for (const [what, badToken, pattern] of badTokens) {
      const committed = await commit(badToken);
      const item = { ...good, idtoken: badToken, nodesignatures: committed.signatures };
      expectError(await shareRequest(1, item), pattern, what);
      expectError(await shareRequest(1, item), pattern, `${what}, asked again: the failure consumed nothing`);
      assert.doesNotMatch(JSON.stringify(await shareRequest(2, item)), new RegExp(badToken.split('.')[1] as string), 'errors never echo the token');
    }

    // CommitmentRequest's own checks.
    const commitCases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['wrong prefix', { ...params, messageprefix: 'mug01' }, /Incorrect message prefix/],
      ['not a point', { ...params, temppuby: '1'.repeat(64) }, /not a point/],
      ['commitment not hex', { ...params, tokencommitment: 'g'.repeat(64) }, /Invalid params/],
      ['unknown verifier', { ...params, tokencommitment: 'ab'.repeat(32), verifieridentifier: 'nope' }, /Verifier not supported/],
      ['the same commitment again', params, /Duplicate token found/],
    ];
    for (const [what, p, pattern] of commitCases) expectError(await rpc(env.net.node(1).endpoint, 'CommitmentRequest', p), pattern, what);

    const big = await fetch(env.net.node(1).endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ShareRequest', params: { item: [{ ...good, idtoken: 'x'.repeat(100_000) }] } }) });
    assert.equal(big.status, 200);
    expectError(await big.json() as RpcAnswer, /exceeds 65536 bytes/, 'oversized body');

    // After all of that, the good request still works: nothing above consumed the token.
    const answer = await shareRequest(1, good);
    assert.ok(answer.result, JSON.stringify(answer.error));
  });

  it('hand-off methods on a chain that is neither frozen nor taking over an epoch say so', async () => {
    const { k, t } = env.net.layout;
    const endpoint = env.net.node(3).endpoint;
    expectError(await rpc(endpoint, 'HandoffMappingChunk', { chunk: 0 }), new RegExp(`epoch 1 is not frozen yet: FreezeVotes by k\\+t = ${k + t} members .*\\(0 recorded\\)`), 'before any freeze');
    expectError(await rpc(endpoint, 'HandoffMappingChunk', { chunk: -1 }), /Invalid params/, 'a negative chunk');
    expectError(await rpc(endpoint, 'HandoffStatus', {}), /epoch 1 takes over from no previous epoch/, 'a chain without a previous epoch');
  });

  it('a token is single-use: replays, added whitespace and a node restart do not help', async () => {
    const email = newEmail();
    await client.assign(DEV_VERIFIER, email);
    const token = await mintToken(env.issuer, email);
    const { signatures } = await commit(token);
    const item = { verifier_id: email, idtoken: token, nodesignatures: signatures, verifieridentifier: DEV_VERIFIER };
    assert.ok((await shareRequest(1, item)).result);
    expectError(await shareRequest(1, item), /Duplicate token found/, 'replay');
    expectError(await shareRequest(1, { ...item, idtoken: ` ${token}\n` }), /Duplicate token found/, 'replay with whitespace');
    const node1 = env.net.node(1);
    await node1.retrieval?.stop('SIGKILL');
    node1.retrieval?.start();
    await env.net.waitForRetrieval(60_000, [node1]);
    expectError(await shareRequest(1, item), /Duplicate token found/, 'replay after a crash and restart');
    const otherTemp = publicKeyOf(randomSecretKey());
    const recommit = await rpc(node1.endpoint, 'CommitmentRequest', {
      messageprefix: 'mug00', tokencommitment: bytesToHex(keccak256(utf8(token))),
      temppubx: bytesToHex(otherTemp.subarray(1, 33)), temppuby: bytesToHex(otherTemp.subarray(33)), verifieridentifier: DEV_VERIFIER,
    });
    expectError(recommit, /Duplicate token found/, 'committing a used token again');
    // The other nodes never saw the reveal: the token still works there, which is what the threshold is for.
    assert.ok((await shareRequest(2, item)).result);
  });

  it('5,000 random and mutated requests: no crash, no 5xx, every answer valid JSON-RPC', async () => {
    const email = newEmail();
    await client.assign(DEV_VERIFIER, email);
    const token = await mintToken(env.issuer, email);
    const { signatures, params } = await commit(token);
    const stats = await fuzzRequests(env.net.node(1).endpoint, 5000, {
      seeds: [
        { jsonrpc: '2.0', id: 10, method: 'CommitmentRequest', params },
        { jsonrpc: '2.0', id: 10, method: 'ShareRequest', params: { encrypted: 'yes', item: [{ verifier_id: email, idtoken: token, nodesignatures: signatures, verifieridentifier: DEV_VERIFIER }] } },
        { jsonrpc: '2.0', id: 10, method: 'VerifierLookupRequest', params: { verifier: DEV_VERIFIER, verifier_id: email } },
        { jsonrpc: '2.0', id: 10, method: 'KeyLookupRequest', params: { pub_key_X: 'ab', pub_key_Y: 'cd' } },
      ],
      seed: 0x70_72_75_73,
    });
    assert.equal(stats.sent, 5000);
    assert.deepEqual(stats.problems, [], 'every answer is valid JSON-RPC at HTTP 200 (or 204 for notifications)');
    assert.ok(stats.errors > 4000, `most mutated requests are refused (${JSON.stringify(stats)})`);
    const health = await fetch(env.net.node(1).endpoint.replace('/jrpc', '/healthz'));
    assert.equal(health.status, 200, 'the node is still up');
    assert.equal((await client.lookup(DEV_VERIFIER, email))?.address !== undefined, true, 'the node still resolves accounts');
  });

  it('a node that sends a corrupt share is named, and the key is still reconstructed', async () => {
    const email = newEmail();
    const assigned = await client.assign(DEV_VERIFIER, email);
    const proxy = await corruptingProxy(new URL(env.net.node(3).endpoint));
    try {
      // Node 5 unreachable as well: the client then needs node 3's commitment too, so node 3 always gets the
      // reveal and its bad share must be caught (with all five up, node 3 could be the one left out).
      const raw = JSON.parse(readFileSync(env.clientFile, 'utf8')) as { nodes: Array<{ index: number; endpoint: string }> };
      for (const node of raw.nodes) {
        if (node.index === 3) node.endpoint = proxy.endpoint;
        if (node.index === 5) node.endpoint = 'http://127.0.0.1:9/jrpc';
      }
      const file = path.join(path.dirname(env.clientFile), 'client-with-faults.json');
      writeFileSync(file, JSON.stringify(raw));
      const login = await new TorusClient(loadNetwork(file)).login(DEV_VERIFIER, await mintToken(env.issuer, email));
      assert.equal(addressOf(login.privateKey), assigned.address);
      assert.deepEqual(login.badNodes.map((b) => b.index), [3], JSON.stringify(login));
      assert.deepEqual([...new Set(login.failedNodes.map((f) => f.index))], [5]);
      assert.deepEqual([...login.usedNodes].sort(), [1, 2, 4]);
      assert.ok(proxy.corrupted() >= 1, 'the proxy did corrupt a share');
    } finally {
      await proxy.close();
    }
  });

  it('with 2 of 5 nodes down, logins still work', async () => {
    const email = newEmail();
    const assigned = await client.assign(DEV_VERIFIER, email);
    for (const i of [4, 5]) {
      const node = env.net.node(i);
      await node.retrieval?.stop('SIGKILL');
      await node.keygen?.stop('SIGKILL');
      await node.comet.stop('SIGKILL');
      await node.abci?.stop('SIGKILL');
    }
    const login = await client.login(DEV_VERIFIER, await mintToken(env.issuer, email));
    assert.equal(addressOf(login.privateKey), assigned.address);
    assert.deepEqual([...new Set(login.failedNodes.map((f) => f.index))].sort(), [4, 5]);
  });
});

/** Forwards to a node, replacing each share in ShareRequest answers by a random one encrypted to the same temporary key. */
async function corruptingProxy(target: URL): Promise<{ endpoint: string; corrupted: () => number; close: () => Promise<void> }> {
  let corrupted = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      void fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(async (answer) => {
        const json = await answer.json() as { result?: { keys?: Array<Record<string, unknown>> } };
        const request = JSON.parse(body) as { method: string; params: { item?: Array<{ nodesignatures: Array<{ data: string } | null> }> } };
        if (request.method === 'ShareRequest' && json.result?.keys) {
          const data = request.params.item?.[0]?.nodesignatures.find((s) => s !== null)?.data.split('\x1c') ?? [];
          const recipient = `04${(data[2] ?? '').padStart(64, '0')}${(data[3] ?? '').padStart(64, '0')}`;
          for (const key of json.result.keys) {
            const payload = encrypt(recipient, scalarToBytes(randomScalar()));
            key['Share'] = Buffer.from(bytesToHex(payload.ciphertext)).toString('base64');
            key['Metadata'] = { iv: bytesToHex(payload.iv), ephemPublicKey: bytesToHex(payload.ephemPublicKey), mac: bytesToHex(payload.mac), mode: 'AES256' };
            corrupted++;
          }
        }
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(json));
      }, () => {
        res.statusCode = 502;
        res.end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}/jrpc`,
    corrupted: () => corrupted,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
