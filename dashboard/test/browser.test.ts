/**
 * The dashboard in a real browser against the local network: Debian's Chromium, headless, driven by
 * playwright-core. The page shows the five nodes alive with their heights and the epoch; the login demo, run in
 * the page with our TorusClient over fetch, gives a new user a key and logs in; the address it shows is the one
 * the account resolver returns to the client in Node; the private key is on the page only after the button is
 * clicked, and is that address's key. A screenshot goes to the test's temp directory, and with
 * TORUS_UPDATE_SCREENSHOTS=1 also to docs/dashboard.png (the README's).
 *
 * Needs Chromium (`apt-get install chromium`): `.ci/run` installs it and sets TORUS_REQUIRE_BROWSER=1, which
 * makes this test required; elsewhere it is skipped, saying why, when there is no Chromium.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from '../../core/comet/binary.js';
import { hexToBytes } from '../../core/encoding/bytes.js';
import { checksumAddress, ethereumAddress, publicKeyOf } from '../../core/crypto/keys.js';
import { freePortRange } from '../../core/ports.js';
import { loadNetwork } from '../../client/src/network.js';
import { TorusClient } from '../../client/src/sdk.js';
import { ContractTestnet, testnetStatus } from '../../testnet/src/contract-testnet.js';
import { waitFor } from '../../testnet/test/helpers.js';
import { startDashboard, type RunningDashboard } from '../src/server.js';

const N = 5;
const KEYS = 4;
const CHROMIUM = process.env['TORUS_CHROMIUM'] ?? '/usr/bin/chromium';
const VIEWPORT = { width: 1280, height: 900 };

function browserProblem(): string | undefined {
  if (!existsSync(CHROMIUM)) return `there is no Chromium at ${CHROMIUM} (apt-get install chromium, or set TORUS_CHROMIUM)`;
  try {
    execFileSync(CHROMIUM, ['--version'], { stdio: 'ignore', timeout: 30_000 });
  } catch {
    return `${CHROMIUM} --version fails`;
  }
  return undefined;
}

const problem = browserProblem();
if (problem !== undefined && process.env['TORUS_REQUIRE_BROWSER'] === '1') throw new Error(`the browser test is required here, but ${problem}`);

describe('the dashboard in a browser', { timeout: 900_000, skip: problem }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'torus-dashboard-browser-'));
  let network: ContractTestnet | undefined;
  let dashboard: RunningDashboard | undefined;
  let browser: Browser | undefined;
  after(async () => {
    await browser?.close();
    await dashboard?.close();
    await network?.stop();
  });

  it('shows the nodes and the epoch, and its login demo reconstructs the key the network assigned', async (t) => {
    const started = Date.now();
    const basePort = await freePortRange(10 * N + 2);
    network = await ContractTestnet.up({ dir, nodes: N, keys: KEYS, basePort, say: () => undefined });
    // Started as the local network starts it, before the nodes are up, so the chart shows the buffer filling.
    dashboard = await startDashboard({ networkFile: path.join(dir, 'testnet.json'), port: 0 });
    await network.waitUntilUp(() => undefined);
    const d = network.description;
    await waitFor('the key buffer', 300_000, async () => {
      const buffer = (await testnetStatus(dir)).buffer;
      return buffer !== null && buffer.ready >= KEYS && buffer.generating === 0 ? true : undefined;
    });
    t.diagnostic(`network up and buffer full after ${Math.round((Date.now() - started) / 1000)} s`);
    const client = new TorusClient(loadNetwork(d.client_network));
    // Two users the account resolver gave keys before, for the list of recent assignments.
    for (const other of ['alice@example.com', 'carol@example.com']) await client.assign(d.verifier, other);

    // Chromium refuses to run as root with its sandbox (CI runs as root).
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
    const page: Page = await browser.newPage({ viewport: VIEWPORT });
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    await page.goto(dashboard.url);

    // Nodes and epoch.
    await page.locator('#nodes tbody tr[data-liveness="alive"]').nth(N - 1).waitFor({ timeout: 30_000 });
    const heights = await page.locator('#nodes tbody td.height').allTextContents();
    assert.equal(heights.length, N);
    assert.ok(heights.every((h) => /^\d+/.test(h) && Number.parseInt(h, 10) >= 1), `heights: ${heights.join(', ')}`);
    assert.equal(await page.textContent('#epoch'), `epoch ${d.epoch}`);
    for (const [term, value] of [['n', d.n], ['k', d.k], ['t', d.t]] as const) {
      assert.match((await page.textContent(`#epoch-details dd[data-term="${term}"]`)) ?? '', new RegExp(`^${value} `));
    }
    assert.match((await page.textContent('#buffer-ready')) ?? '', new RegExp(`^\\d+/${KEYS}$`));

    // The login demo, for a user who has no key yet.
    const email = 'bea@example.com';
    assert.equal(await client.lookup(d.verifier, email), undefined);
    const loginStarted = Date.now();
    await page.fill('#login-email', email);
    await page.click('#login-button');
    await page.waitForSelector('#login-form[data-state="done"], #login-form[data-state="failed"]', { timeout: 120_000 });
    const steps = (await page.locator('#login-steps li').allTextContents()).join('\n');
    assert.equal(await page.getAttribute('#login-form', 'data-state'), 'done', `the login demo failed:\n${steps}`);
    t.diagnostic(`login demo (token, lookup, assign, login) took ${Date.now() - loginStarted} ms in the browser`);
    const shown = (await page.textContent('#login-address'))?.trim();
    const resolved = await client.lookup(d.verifier, email);
    assert.ok(resolved !== undefined, 'the account resolver knows the user now');
    assert.equal(shown, resolved.address, 'the page shows the address the account resolver returns');
    assert.match((await page.textContent('#login-used-nodes')) ?? '', /^node \d, node \d, node \d$/);
    assert.match(steps, /no key yet/);

    // The private key only on request.
    const before = await page.content();
    assert.equal(await page.isHidden('#private-key'), true);
    assert.equal(((await page.textContent('#private-key')) ?? '').trim(), '');
    await page.click('#show-private-key');
    const privateKey = ((await page.textContent('#private-key')) ?? '').trim();
    assert.match(privateKey, /^0x[0-9a-f]{64}$/);
    assert.ok(!before.includes(privateKey.slice(2)), 'the private key was not in the page before the click');
    assert.equal(checksumAddress(ethereumAddress(publicKeyOf(hexToBytes(privateKey)))), resolved.address, 'the shown key is the address\'s key');
    await page.click('#show-private-key');
    assert.equal(await page.isHidden('#private-key'), true);
    assert.ok(!(await page.content()).includes(privateKey.slice(2)), 'hidden again, the key is gone from the page');

    // The assignment appears among the recent ones, masked.
    const row = `#assignments tr[data-key-index="${resolved.keyIndex.toString()}"]`;
    await page.waitForSelector(row, { timeout: 30_000 });
    assert.equal((await page.textContent(`${row} td.user`))?.trim(), 'b***@example.com');
    assert.ok(!(await page.content()).includes(email), 'the whole email is not on the page outside the input');
    assert.equal(await page.locator('#assignments tbody tr').count(), 3);

    // Let the chart gather a few more samples, then take the pictures.
    await page.waitForTimeout(4000);
    await page.screenshot({ path: path.join(dir, 'dashboard.png') });
    // The README's screenshot is refreshed only when asked, so a test run leaves the working tree clean.
    if (process.env['TORUS_UPDATE_SCREENSHOTS'] === '1') await page.screenshot({ path: path.join(REPO_ROOT, 'docs/dashboard.png') });
    t.diagnostic(`screenshot: ${path.join(dir, 'dashboard.png')} (TORUS_UPDATE_SCREENSHOTS=1 also writes docs/dashboard.png); whole test ${Math.round((Date.now() - started) / 1000)} s`);
    assert.deepEqual(problems, []);
  });
});
