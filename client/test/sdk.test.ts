/**
 * TorusClient against five fake nodes over real HTTP on loopback (see fake-nodes.ts): rpc.ts, the majority and
 * threshold choreography, timeouts and fault reporting. The end-to-end test against real nodes lives elsewhere.
 */
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { bytesToHex } from '../../core/encoding/bytes.js';
import { keccak256 } from '../../core/crypto/hash.js';
import { utf8 } from '../../core/encoding/bytes.js';
import { LookupError, VerifierNotSupportedError } from '../src/lookup.js';
import { fetchTransport } from '../src/rpc-fetch.js';
import { AssignError, LoginError, NotAssignedError, TorusClient, verifierIdFromToken } from '../src/sdk.js';
import { FakeCluster, VERIFIER, type FakeNodeBehaviour } from './fake-nodes.js';
import { fakeIdToken } from './fixtures.js';

let cluster: FakeCluster | undefined;

async function start(behaviours: Record<number, FakeNodeBehaviour> = {}, options: { devIssuer?: boolean } = {}): Promise<FakeCluster> {
  cluster = await FakeCluster.start(5, behaviours, options);
  return cluster;
}

afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

describe('TorusClient.lookup', () => {
  it('returns undefined for an unassigned user and the key for an assigned one', async () => {
    const c = await start();
    const client = new TorusClient(c.network);
    assert.equal(await client.lookup(VERIFIER, 'nobody@example.com'), undefined);
    const key = c.preassign('alice@example.com');
    const found = await client.lookup(VERIFIER, 'alice@example.com');
    assert.equal(found?.keyIndex, key.keyIndex);
    assert.equal(found?.address, key.address);
    assert.equal(bytesToHex(found?.publicKey ?? new Uint8Array()), bytesToHex(key.publicKey));
  });

  it('decides with two nodes down, and does not wait for a hanging one', async () => {
    const c = await start({ 1: { down: true }, 2: { hang: ['VerifierLookupRequest'] } });
    c.preassign('alice@example.com');
    const started = Date.now();
    // Bounds are loose (a loaded test machine is slow), but far below the 20 s deadline of the hanging call.
    assert.ok(await new TorusClient(c.network, { timeoutMs: 20_000 }).lookup(VERIFIER, 'alice@example.com'));
    assert.ok(Date.now() - started < 10_000, 'a majority was reached without the hanging node');
    // The call to the hanging node is cancelled rather than left running until its deadline.
    for (let i = 0; i < 100 && !c.cancelled.includes('2:VerifierLookupRequest'); i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(c.cancelled, ['2:VerifierLookupRequest']);
  });

  it('names the nodes when no majority is possible', async () => {
    const c = await start({ 1: { down: true }, 2: { httpStatus: { VerifierLookupRequest: 500 } }, 3: { hang: ['VerifierLookupRequest'] } });
    await assert.rejects(new TorusClient(c.network, { timeoutMs: 300 }).lookup(VERIFIER, 'bob@example.com'), (err: unknown) => {
      assert.ok(err instanceof LookupError);
      assert.match(err.message, /node 1: unreachable: connect ECONNREFUSED/);
      assert.match(err.message, /node 2: HTTP 500/);
      assert.match(err.message, /node 3: unreachable: no answer within 300 ms/);
      assert.match(err.message, /node 4: not assigned/);
      return true;
    });
  });

  it('an unknown verifier is a clear error', async () => {
    const c = await start();
    await assert.rejects(new TorusClient(c.network).lookup('google', 'alice@example.com'), VerifierNotSupportedError);
  });
});

describe('TorusClient.assign', () => {
  it('assigns through the next node when the first is down or fails, then waits for a majority to show the key', async () => {
    // random 0 picks node 1 first; node 2 answers HTTP 502; node 3 accepts. Two nodes see the key only after 600 ms.
    const c = await start({ 1: { down: true }, 2: { httpStatus: { KeyAssign: 502 } }, 4: { assignmentLagMs: 600 }, 5: { assignmentLagMs: 600 } });
    const client = new TorusClient(c.network, { random: () => 0 });
    const started = Date.now();
    const key = await client.assign(VERIFIER, 'carol@example.com');
    assert.ok(Date.now() - started >= 500, 'it waited for the lagging nodes');
    assert.deepEqual(c.methods('KeyAssign'), [2, 3]);
    assert.equal(key.address, c.assignment('carol@example.com')?.address);
    // A second assign is a lookup only.
    await client.assign(VERIFIER, 'carol@example.com');
    assert.deepEqual(c.methods('KeyAssign'), [2, 3]);
  });

  it('gives up with the reason when the key does not show up at a majority in time', async () => {
    const lag = { assignmentLagMs: 60_000 };
    const c = await start({ 2: lag, 3: lag, 4: lag });
    await assert.rejects(new TorusClient(c.network, { assignWaitMs: 400 }).assign(VERIFIER, 'dave@example.com'), (err: unknown) => {
      assert.ok(err instanceof AssignError);
      assert.match(err.message, /accepted KeyAssign, but no majority of nodes showed the key within 400 ms/);
      return true;
    });
  });

  it('fails naming every node when none accepts KeyAssign', async () => {
    const behaviour = { httpStatus: { KeyAssign: 502 } };
    const c = await start({ 1: behaviour, 2: behaviour, 3: behaviour, 4: behaviour, 5: behaviour });
    await assert.rejects(new TorusClient(c.network).assign(VERIFIER, 'erin@example.com'), /no node accepted KeyAssign:\n {2}node \d: HTTP 502/);
  });
});

describe('TorusClient.login', () => {
  it('one node down and one sending a wrong share: the key, with both nodes named', async () => {
    const c = await start({ 5: { down: true }, 4: { corruptShare: true } });
    const key = c.preassign('alice@example.com');
    const token = fakeIdToken({ email: 'alice@example.com' });
    const result = await new TorusClient(c.network, { timeoutMs: 2000 }).login(VERIFIER, token);

    assert.equal(bytesToHex(result.privateKey), bytesToHex(key.privateKey));
    assert.equal(result.address, key.address);
    assert.equal(result.keyIndex, key.keyIndex);
    assert.deepEqual(result.goodNodes, [1, 2, 3]);
    assert.deepEqual(result.badNodes.map((b) => b.index), [4]);
    assert.match(result.badNodes[0]?.reason ?? '', /does not match its commitment/);
    assert.deepEqual(result.failedNodes.map((f) => [f.index, f.stage]), [[5, 'commitment']]);

    // What the nodes received: the commitment to this token, and four signatures in the ShareRequest.
    const commitment = c.requests.find((r) => r.method === 'CommitmentRequest');
    assert.equal(commitment?.params['tokencommitment'], bytesToHex(keccak256(utf8(token))));
    assert.equal(commitment?.params['verifieridentifier'], VERIFIER);
    const share = c.requests.find((r) => r.method === 'ShareRequest');
    const item = (share?.params['item'] as Array<Record<string, unknown>>)[0];
    assert.equal(item?.['verifier_id'], 'alice@example.com');
    assert.equal(item?.['idtoken'], token);
    assert.equal((item?.['nodesignatures'] as unknown[]).length, 4);
    assert.deepEqual(c.methods('ShareRequest').sort(), [1, 2, 3, 4]);
  });

  it('the private key stays out of JSON and inspect output', async () => {
    const c = await start();
    const key = c.preassign('alice@example.com');
    const result = await new TorusClient(c.network).login(VERIFIER, fakeIdToken({ email: 'alice@example.com' }));
    const secretHex = bytesToHex(key.privateKey);
    const json = JSON.stringify(result);
    assert.ok(!json.includes(secretHex));
    assert.ok(!json.includes('privateKey'));
    assert.equal(JSON.parse(json).address, key.address);
    assert.ok(!inspect(result, { depth: 10, showHidden: true }).includes(secretHex));
    assert.match(inspect(result), /^LoginResult \{[^]*privateKey: '\[hidden\]'/);
    assert.ok(!Object.keys(result).includes('privateKey'));
    assert.equal(bytesToHex(result.privateKey), secretHex);
  });

  it('two nodes that never answer CommitmentRequest: proceeds after the timeout with the remaining k', async () => {
    const hang = { hang: ['CommitmentRequest'] };
    const c = await start({ 2: hang, 5: hang });
    const key = c.preassign('alice@example.com');
    const started = Date.now();
    const result = await new TorusClient(c.network, { timeoutMs: 400 }).login(VERIFIER, fakeIdToken({ email: 'alice@example.com' }));
    const elapsed = Date.now() - started;
    assert.equal(bytesToHex(result.privateKey), bytesToHex(key.privateKey));
    assert.deepEqual(result.goodNodes, [1, 3, 4]);
    assert.deepEqual(result.failedNodes.map((f) => f.index), [2, 5]);
    assert.match(result.failedNodes[0]?.reason ?? '', /no answer within 400 ms/);
    assert.ok(elapsed >= 350 && elapsed < 10_000, `took ${elapsed} ms`);
  });

  it('does not wait for a slow node once floor(3n/4)+1 commitments are in', async () => {
    const c = await start({ 3: { hang: ['CommitmentRequest'] } });
    c.preassign('alice@example.com');
    const started = Date.now();
    const result = await new TorusClient(c.network, { timeoutMs: 20_000 }).login(VERIFIER, fakeIdToken({ email: 'alice@example.com' }));
    assert.ok(Date.now() - started < 10_000, 'did not wait for the 20 s deadline of the slow node');
    assert.deepEqual(result.goodNodes, [1, 2, 4, 5]);
    assert.deepEqual(c.methods('ShareRequest').sort(), [1, 2, 4, 5]);
    assert.deepEqual(result.failedNodes, [{ index: 3, stage: 'commitment', reason: 'no answer to CommitmentRequest before the shares were in' }]);
    for (let i = 0; i < 100 && !c.cancelled.includes('3:CommitmentRequest'); i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(c.cancelled, ['3:CommitmentRequest']);
  });

  it('a failed ShareRequest is reported as a share-stage failure', async () => {
    const c = await start({ 1: { httpStatus: { ShareRequest: 503 } } });
    const key = c.preassign('alice@example.com');
    const result = await new TorusClient(c.network).login(VERIFIER, fakeIdToken({ email: 'alice@example.com' }));
    assert.equal(bytesToHex(result.privateKey), bytesToHex(key.privateKey));
    assert.deepEqual(result.failedNodes.map((f) => [f.index, f.stage]), [[1, 'share']]);
    assert.match(result.failedNodes[0]?.reason ?? '', /HTTP 503/);
  });

  it('a node answering with the wrong NodeIndex is a bad node', async () => {
    const c = await start({ 2: { wrongNodeIndex: true } });
    const key = c.preassign('alice@example.com');
    const result = await new TorusClient(c.network).login(VERIFIER, fakeIdToken({ email: 'alice@example.com' }));
    assert.equal(bytesToHex(result.privateKey), bytesToHex(key.privateKey));
    assert.deepEqual(result.badNodes, [{ index: 2, reason: 'answered with NodeIndex 3, but it is node 2 in the network file' }]);
  });

  it('a commitment that arrives while the shares are collected still gets a ShareRequest, and its share counts', async () => {
    // Node 5 commits 150 ms late; the shares take 500 ms. Nodes 1 and 2 fail at the share stage, so the key
    // needs node 5's share.
    const slowShares = { ShareRequest: 500 };
    const c = await start({
      1: { httpStatus: { ShareRequest: 502 } },
      2: { wrongNodeIndex: true, delayMs: slowShares },
      3: { delayMs: slowShares },
      4: { delayMs: slowShares },
      5: { delayMs: { CommitmentRequest: 150, ShareRequest: 10 } },
    });
    const key = c.preassign('alice@example.com');
    const result = await new TorusClient(c.network).login(VERIFIER, fakeIdToken({ email: 'alice@example.com' }));
    assert.equal(bytesToHex(result.privateKey), bytesToHex(key.privateKey));
    assert.deepEqual(result.goodNodes, [3, 4, 5]);
    assert.deepEqual(result.badNodes.map((b) => b.index), [2]);
    assert.deepEqual(result.failedNodes.map((f) => [f.index, f.stage]), [[1, 'share']]);
    // Node 5 got the signatures fixed at the threshold: the four of nodes 1 to 4.
    const late = c.requests.find((r) => r.method === 'ShareRequest' && r.node === 5);
    assert.equal(((late?.params['item'] as Array<Record<string, unknown>>)[0]?.['nodesignatures'] as unknown[]).length, 4);
  });

  it('three nodes unavailable: fails listing each node', async () => {
    const c = await start({ 1: { down: true }, 2: { httpStatus: { CommitmentRequest: 502 } }, 3: { hang: ['CommitmentRequest'] } });
    c.preassign('alice@example.com');
    await assert.rejects(new TorusClient(c.network, { timeoutMs: 300 }).login(VERIFIER, fakeIdToken({ email: 'alice@example.com' })), (err: unknown) => {
      assert.ok(err instanceof LoginError);
      assert.match(err.message, /only 2 of 5 nodes answered CommitmentRequest, at least 3 needed/);
      assert.deepEqual(err.failedNodes.map((f) => f.index), [1, 2, 3]);
      assert.match(err.message, /node 3 \(commitment\): no answer within 300 ms/);
      return true;
    });
    assert.deepEqual(c.methods('ShareRequest'), []);
  });

  it('one down and two bad shares: fewer than k verified shares is an error naming the bad nodes', async () => {
    const c = await start({ 1: { down: true }, 2: { corruptShare: true }, 3: { corruptShare: true } });
    c.preassign('alice@example.com');
    await assert.rejects(new TorusClient(c.network).login(VERIFIER, fakeIdToken({ email: 'alice@example.com' })), (err: unknown) => {
      assert.ok(err instanceof LoginError);
      assert.match(err.message, /only 2 verified share\(s\), 3 needed/);
      assert.deepEqual(err.badNodes.map((b) => b.index), [2, 3]);
      assert.deepEqual(err.failedNodes.map((f) => f.index), [1]);
      return true;
    });
  });

  it('an unassigned user is told to run assign; the verifier id falls back to sub or an explicit one', async () => {
    const c = await start();
    const client = new TorusClient(c.network);
    await assert.rejects(client.login(VERIFIER, fakeIdToken({ email: 'new@example.com' })), (err: unknown) => {
      assert.ok(err instanceof NotAssignedError);
      assert.match(err.message, /run `torus assign test-verifier new@example.com` first/);
      return true;
    });
    const key = c.preassign('user-42');
    const viaSub = await client.login(VERIFIER, fakeIdToken({ sub: 'user-42' }));
    assert.equal(viaSub.address, key.address);
    const explicit = await client.login(VERIFIER, fakeIdToken({ sub: 'user-42', email: 'other@example.com' }), { verifierId: 'user-42' });
    assert.equal(explicit.address, key.address);
  });

  it('verifierIdFromToken refuses what is not a JWT or names nobody', () => {
    assert.equal(verifierIdFromToken(fakeIdToken({ email: 'a@b', sub: 's' })), 'a@b');
    assert.throws(() => verifierIdFromToken('blublu'), /not a JWT/);
    assert.throws(() => verifierIdFromToken(fakeIdToken({})), /neither an email nor a sub/);
  });
});

describe('TorusClient.devToken', () => {
  it('gets a token from the development issuer, and logs in with it', async () => {
    const c = await start({}, { devIssuer: true });
    const key = c.preassign('dev@example.com');
    const client = new TorusClient(c.network);
    const token = await client.devToken('dev@example.com');
    assert.equal(verifierIdFromToken(token), 'dev@example.com');
    assert.equal((await client.login(VERIFIER, token)).address, key.address);
  });

  it('the same over the fetch transport (what a browser uses): token, assignment, login', async () => {
    const c = await start({ 5: { down: true }, 4: { corruptShare: true } }, { devIssuer: true });
    const client = new TorusClient(c.network, { transport: fetchTransport, timeoutMs: 2000 });
    const token = await client.devToken('fetch@example.com');
    const assigned = await client.assign(VERIFIER, 'fetch@example.com');
    const result = await client.login(VERIFIER, token);
    assert.equal(result.address, assigned.address);
    assert.deepEqual(result.badNodes.map((b) => b.index), [4]);
    assert.deepEqual(result.failedNodes.map((f) => [f.index, f.stage]), [[5, 'commitment']]);
  });

  it('is an error on a network without dev_issuer', async () => {
    const c = await start();
    await assert.rejects(new TorusClient(c.network).devToken('a@b'), /no dev_issuer/);
  });
});
