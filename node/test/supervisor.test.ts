/** Supervisor.restart: a process restarted on purpose is started again at once, logged, and not counted as a failure. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { ManagedProcess } from '../../core/process.js';
import { Supervisor } from '../src/supervisor.js';

test('restart stops and starts one process by name, logs it, and counts no failure', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const dir = mkdtempSync(path.join(tmpdir(), 'torus-supervisor-'));
  const sleeper = new ManagedProcess('sleeper', process.execPath, ['-e', 'setInterval(() => {}, 1000)'], path.join(dir, 'sleeper.log'));
  const supervisor = new Supervisor(log);
  supervisor.add(sleeper);
  try {
    const before = sleeper.pid;
    await supervisor.restart('sleeper', 'new settings');
    assert.ok(sleeper.running);
    assert.notEqual(sleeper.pid, before, 'a new process');
    assert.equal(supervisor.restarts('sleeper'), 0, 'a restart on purpose is not a crash to back off from');
    assert.ok(lines.some((l) => l['msg'] === 'restarting a node process' && l['process'] === 'sleeper' && l['reason'] === 'new settings'), 'the restart is logged with its reason');
    await assert.rejects(supervisor.restart('nope', 'x'), /runs no process named "nope" \(it runs sleeper\)/);
    // Had the exit been taken for a crash, a back-off restart would start a second copy after 1 s.
    await new Promise((resolve) => setTimeout(resolve, 1300));
    assert.equal(supervisor.restarts('sleeper'), 0);
    assert.ok(sleeper.running);
  } finally {
    await supervisor.stop();
  }
  assert.equal(sleeper.running, false);
});
