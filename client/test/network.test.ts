import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadNetwork, NetworkFileError, parseNetwork } from '../src/network.js';
import { makeNetwork } from './fixtures.js';

const ENDPOINTS = [1, 2, 3, 4, 5].map((i) => `http://127.0.0.1:${7000 + i}/jrpc`);

function valid(): Record<string, unknown> {
  return JSON.parse(JSON.stringify(makeNetwork(ENDPOINTS, { dev_issuer: 'http://127.0.0.1:7080' }))) as Record<string, unknown>;
}

function nodesOf(json: Record<string, unknown>): Array<Record<string, unknown>> {
  return json['nodes'] as Array<Record<string, unknown>>;
}

describe('network description', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'torus-client-network-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a valid file', () => {
    const file = path.join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify(valid()));
    const network = loadNetwork(file);
    assert.equal(network.n, 5);
    assert.equal(network.k, 3);
    assert.equal(network.nodes[2]?.endpoint, ENDPOINTS[2]);
    assert.equal(network.dev_issuer, 'http://127.0.0.1:7080');
  });

  it('dev_issuer is optional', () => {
    const json = valid();
    delete json['dev_issuer'];
    assert.equal(parseNetwork(json).dev_issuer, undefined);
  });

  it('says when the file is missing or not JSON', () => {
    assert.throws(() => loadNetwork(path.join(dir, 'absent.json')), (err: unknown) => err instanceof NetworkFileError && /cannot read network file .*absent\.json: no such file/.test(err.message));
    const file = path.join(dir, 'broken.json');
    writeFileSync(file, '{"n": 5,');
    assert.throws(() => loadNetwork(file), /network file .*broken\.json is not JSON/);
  });

  const cases: Array<[string, (json: Record<string, unknown>) => void, RegExp]> = [
    ['k other than floor(n/2)+1', (j) => { j['k'] = 2; }, /k[\s\S]*must be floor\(n\/2\)\+1 = 3 for n = 5, got 2/],
    ['fewer nodes than n', (j) => { nodesOf(j).pop(); }, /lists 4 nodes but n = 5/],
    ['a duplicate index', (j) => { (nodesOf(j)[3] as Record<string, unknown>)['index'] = 1; }, /nodes\[3\]\.index[\s\S]*duplicates nodes\[0\]\.index/],
    ['a duplicate endpoint', (j) => { (nodesOf(j)[1] as Record<string, unknown>)['endpoint'] = ENDPOINTS[0]; }, /duplicates nodes\[0\]\.endpoint/],
    ['a zero index', (j) => { (nodesOf(j)[0] as Record<string, unknown>)['index'] = 0; }, /nodes\[0\]\.index/],
    ['a non-http endpoint', (j) => { (nodesOf(j)[0] as Record<string, unknown>)['endpoint'] = 'ftp://127.0.0.1/jrpc'; }, /nodes\[0\]\.endpoint[\s\S]*http/],
    ['a compressed public key', (j) => { (nodesOf(j)[0] as Record<string, unknown>)['public_key'] = `02${'11'.repeat(32)}`; }, /public_key[\s\S]*04/],
    ['a public key off the curve', (j) => { (nodesOf(j)[0] as Record<string, unknown>)['public_key'] = `04${'00'.repeat(31)}07${'00'.repeat(32)}`; }, /nodes\[0\]\.public_key[\s\S]*not a point on secp256k1/],
    ['an unknown field', (j) => { j['endpoints'] = []; }, /Unrecognized key[\s\S]*endpoints/],
    ['a missing chain_id', (j) => { delete j['chain_id']; }, /chain_id/],
    ['a string epoch', (j) => { j['epoch'] = '1'; }, /epoch/],
  ];
  for (const [name, mutate, expected] of cases) {
    it(`refuses ${name}, naming the field`, () => {
      const json = valid();
      mutate(json);
      assert.throws(() => parseNetwork(json, 'test file'), (err: unknown) => {
        assert.ok(err instanceof NetworkFileError);
        assert.match(err.message, /^invalid test file:/);
        assert.match(err.message, expected);
        return true;
      });
    });
  }

  it("recognises the testnet's CometBFT layout file", () => {
    assert.throws(() => parseNetwork({ chainId: 'x', app: 'torus', nodes: [] }), /testnet's CometBFT layout/);
  });
});
