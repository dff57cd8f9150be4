/**
 * The browser build. The client and core code the page bundles is built with the browser substitutes and run
 * in Node: the native binding is absent and core falls back to @noble/curves, ECIES works in both directions with
 * Node's own implementation, and a whole login (fake nodes, real cryptography) succeeds over the fetch
 * transport. The page's bundle from `npm run build` keeps nothing that needs Node.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { REPO_ROOT } from '../../core/comet/binary.js';
import { bytesToHex } from '../../core/encoding/bytes.js';
import * as nodeEcies from '../../core/crypto/ecies.js';
import { sha256 } from '../../core/crypto/hash.js';
import { publicKeyOf, randomSecretKey } from '../../core/crypto/keys.js';
import { signatureBackend } from '../../core/crypto/native.js';
import { encodePoint, G } from '../../core/crypto/point.js';
import { FakeCluster, VERIFIER } from '../../client/test/fake-nodes.js';
import { fakeIdToken } from '../../client/test/fixtures.js';
import { browserBuildOptions } from '../scripts/bundle.js';

type BrowserClientModule = typeof import('./fixtures/browser-client.js');

/** A require or import of a Node built-in, or esbuild's `__require("…")` of a module it could not bundle. */
const NODE_ONLY = /require\(\s*["'](?:node:)?[a-z_]+["']\s*\)|(?:from|import)\s*\(?\s*["']node:|__require\(\s*["']/;

describe('the client built for browsers, run in Node', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'torus-browser-bundle-'));
  let browser: BrowserClientModule;
  let bundleText = '';
  before(async () => {
    const outfile = path.join(dir, 'browser-client.js');
    await build({ ...browserBuildOptions(path.join(REPO_ROOT, 'dashboard/test/fixtures/browser-client.ts'), outfile), minify: false });
    bundleText = readFileSync(outfile, 'utf8');
    browser = (await import(pathToFileURL(outfile).href)) as BrowserClientModule;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps no import of Node built-ins', () => {
    assert.doesNotMatch(bundleText, NODE_ONLY);
  });

  it('has no native binding, so core uses @noble/curves', () => {
    assert.equal(browser.signatureBackend(), 'javascript');
    assert.equal(browser.libsecp256k1, undefined);
    // In Node itself this machine has the binding: the bundle's answer is the substitute's doing.
    assert.equal(signatureBackend(), 'libsecp256k1');
  });

  it('hashes, decompresses points and does ECIES like Node, both ways', () => {
    const data = new TextEncoder().encode('torus');
    assert.equal(bytesToHex(browser.sha256(data)), bytesToHex(sha256(data)));
    const compressed = encodePoint(G.multiply(12345n));
    assert.equal(bytesToHex(browser.encodePoint(browser.parsePoint(compressed))), bytesToHex(compressed));
    const secretKey = randomSecretKey();
    const publicKey = publicKeyOf(secretKey);
    for (const length of [0, 1, 15, 16, 17, 32, 64, 100]) {
      const plaintext = crypto.getRandomValues(new Uint8Array(length));
      assert.equal(bytesToHex(browser.decrypt(secretKey, nodeEcies.encrypt(publicKey, plaintext))), bytesToHex(plaintext), `Node → browser, ${length} bytes`);
      assert.equal(bytesToHex(nodeEcies.decrypt(secretKey, browser.encrypt(publicKey, plaintext))), bytesToHex(plaintext), `browser → Node, ${length} bytes`);
    }
    const sealed = nodeEcies.encrypt(publicKey, data);
    assert.throws(() => browser.decrypt(randomSecretKey(), sealed), /MAC mismatch/);
  });

  it('logs in over the fetch transport against five fake nodes, naming a node that sends a bad share', async () => {
    const cluster = await FakeCluster.start(5, { 4: { corruptShare: true } }, { devIssuer: true });
    try {
      const key = cluster.preassign('browser@example.com');
      const client = new browser.TorusClient(cluster.network, { transport: browser.fetchTransport, timeoutMs: 5000 });
      const result = await client.login(VERIFIER, fakeIdToken({ email: 'browser@example.com' }));
      assert.equal(result.address, key.address);
      assert.equal(bytesToHex(result.privateKey), bytesToHex(key.privateKey));
      assert.deepEqual(result.badNodes.map((b) => b.index), [4]);
      // Without a transport the bundle's TorusClient says what to pass, through the usual failure reports.
      await assert.rejects(new browser.TorusClient(cluster.network, { timeoutMs: 1000 }).lookup(VERIFIER, 'browser@example.com'), /pass \{ transport: fetchTransport \}/);
    } finally {
      await cluster.close();
    }
  });
});

describe('the page built by npm run build', () => {
  const web = path.join(REPO_ROOT, 'dist/dashboard/web');
  it('is a bundle with its page and styles, and nothing in it needs Node', () => {
    for (const file of ['index.html', 'style.css', 'app.js', 'app.js.map']) assert.ok(existsSync(path.join(web, file)), `dist/dashboard/web/${file} (run npm run build)`);
    const bundle = readFileSync(path.join(web, 'app.js'), 'utf8');
    assert.doesNotMatch(bundle, NODE_ONLY);
    assert.match(readFileSync(path.join(web, 'index.html'), 'utf8'), /<script type="module" src="app.js"><\/script>/);
  });
});
