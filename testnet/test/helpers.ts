/** What the network tests share: running the `torus` command in-process, and waiting for a condition. */
import assert from 'node:assert/strict';
import { main as torus } from '../../client/src/cli.js';

/** Runs `torus ARGS` in-process; fails the test unless it exits with 0; returns its standard output. */
export async function runTorus(args: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): Promise<string> {
  let stdout = '';
  let stderr = '';
  const code = await torus(args, { env, stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) });
  assert.equal(code, 0, `torus ${args.join(' ')} failed: ${stderr}`);
  return stdout;
}

const sleep = (ms: number) => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms));

/**
 * Polls `probe` until it gives a value. Each probe is raced against a timer: a fetch to a port that accepts and
 * then says nothing (docker-proxy before its container listens) holds nothing that keeps the process alive.
 */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await Promise.race([probe().catch(() => undefined), sleep(10_000)]);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(300);
  }
}
