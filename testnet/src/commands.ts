/**
 * `torus testnet up [--detach] | status | rotate | down`, for scripts. `up` runs the launcher (main.ts); with
 * `--detach` it starts it in the background (own process group, output in DIR/testnet.log) and returns once
 * the network is up. `down` stops a detached launcher, which stops every process cleanly.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { REPO_ROOT } from '../../core/comet/binary.js';
import { z } from 'zod';
import { localDashboardUrl } from '../../dashboard/src/local-network.js';
import { finishRotation, prepareRotation, readDescription, TestnetArgs, testnetStatus, upMarker, waitForHandover } from './contract-testnet.js';

export interface TestnetCommandIo {
  readonly print: (lines: string[]) => void;
  readonly printJson: (value: unknown) => void;
  readonly json: (command: Command) => boolean;
}

const LAUNCHER = path.join(REPO_ROOT, 'dist/testnet/src/main.js');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function launcherPid(dir: string): number | undefined {
  const marker = upMarker(dir);
  if (!existsSync(marker)) return undefined;
  const pid = Number(readFileSync(marker, 'utf8').trim());
  return Number.isSafeInteger(pid) && alive(pid) ? pid : undefined;
}

export function registerTestnetCommands(program: Command, io: TestnetCommandIo): void {
  const testnet = program.command('testnet').description('a local network on this machine (anvil, the contract, n nodes, a development issuer)');
  const dirOption = (command: Command) => command.option('--dir <dir>', 'state directory', path.join(REPO_ROOT, '.testnet'));

  dirOption(testnet.command('up').description('start (or resume) the local network'))
    .option('--nodes <n>', 'nodes in epoch 1', '5')
    .option('--keys <n>', 'key buffer target', '100')
    .option('--base-port <port>', 'first port', '26600')
    .option('--fresh', 'wipe the state directory first')
    .option('--detach', 'run in the background and return once the network is up')
    .action(async (options: { dir: string; nodes: string; keys: string; basePort: string; fresh?: boolean; detach?: boolean }) => {
      const args = TestnetArgs.parse({ dir: options.dir, nodes: options.nodes, keys: options.keys, 'base-port': options.basePort, fresh: options.fresh ?? false });
      const dir = path.resolve(args.dir);
      const running = launcherPid(dir);
      if (running !== undefined) throw new Error(`the network in ${dir} is already up (launcher pid ${running}); torus testnet down --dir ${dir} stops it`);
      // Wiped here, not by the launcher, so that the log file opened below is not deleted under it.
      if (args.fresh) rmSync(dir, { recursive: true, force: true });
      const argv = [LAUNCHER, '--dir', dir, '--nodes', String(args.nodes), '--keys', String(args.keys), '--base-port', String(args['base-port'])];
      if (options.detach !== true) {
        const child = spawn(process.execPath, argv, { stdio: 'inherit' });
        await new Promise<void>((resolve) => child.once('exit', () => resolve()));
        return;
      }
      mkdirSync(dir, { recursive: true });
      const log = openSync(path.join(dir, 'testnet.log'), 'a');
      const child = spawn(process.execPath, argv, { stdio: ['ignore', log, log], detached: true });
      child.unref();
      const deadline = Date.now() + 600_000;
      while (launcherPid(dir) === undefined) {
        if (child.exitCode !== null) throw new Error(`the launcher exited with code ${child.exitCode}; see ${path.join(dir, 'testnet.log')}`);
        if (Date.now() > deadline) throw new Error(`the network is not up after 600 s; see ${path.join(dir, 'testnet.log')}`);
        await sleep(500);
      }
      const d = readDescription(dir);
      io.print([
        `the network in ${dir} is up (launcher pid ${child.pid}); ${d.n} nodes; description in ${path.join(dir, 'testnet.json')}`,
        `dashboard: ${localDashboardUrl(d)}`,
      ]);
    });

  dirOption(testnet.command('status').description('epoch, block heights, key buffer and process health'))
    .action(async (options: { dir: string }, command: Command) => {
      const dir = path.resolve(options.dir);
      const state = await testnetStatus(dir);
      const launcher = launcherPid(dir);
      // The launcher serves the dashboard (main.ts), so there is one only while it runs.
      const dashboard = launcher === undefined ? null : localDashboardUrl(readDescription(dir));
      if (io.json(command)) {
        io.printJson({ ...state, launcher_pid: launcher ?? null, dashboard });
        return;
      }
      io.print([
        `launcher: ${launcher === undefined ? 'not running' : `pid ${launcher}; dashboard ${dashboard}`}; epoch ${state.epoch}`,
        ...state.nodes.map((n) => `node ${n.index}: height ${n.height ?? 'down'}, JSON-RPC ${n.jsonrpc_healthy ? 'healthy' : 'down'}`),
        state.buffer === null ? 'key buffer: unknown (no node answers)' : `key buffer: ${state.buffer.ready}/${state.buffer.target} ready, ${state.buffer.generating} generating, ${state.buffer.assigned} assigned`,
      ]);
    });

  dirOption(testnet.command('rotate').description('hand every key over to a new epoch of new nodes, then make it current'))
    .option('--nodes <n>', 'nodes in the new epoch', '5')
    .action(async (options: { dir: string; nodes: string }) => {
      const dir = path.resolve(options.dir);
      const nodes = z.coerce.number().int().min(1).max(32).parse(options.nodes);
      const pid = launcherPid(dir);
      if (pid === undefined) throw new Error(`no running network in ${dir}; start it with torus testnet up --detach --dir ${dir}`);
      const say = (line: string) => io.print([line]);
      const d = await prepareRotation(dir, { nodes, say });
      // The running launcher starts the new nodes' launchers (and supervises them from then on).
      process.kill(pid, 'SIGHUP');
      say(`starting the ${d.handover?.n} nodes of epoch ${d.handover?.epoch}; they take the mapping and the keys over from epoch ${d.epoch}`);
      await waitForHandover(dir, say);
      await finishRotation(dir, say);
    });

  dirOption(testnet.command('down').description('stop a network started with --detach'))
    .action(async (options: { dir: string }) => {
      const dir = path.resolve(options.dir);
      const pid = launcherPid(dir);
      if (pid === undefined) {
        io.print([`no running network in ${dir}`]);
        return;
      }
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + 90_000;
      while (alive(pid)) {
        if (Date.now() > deadline) {
          process.kill(-pid, 'SIGKILL');
          throw new Error(`the launcher did not stop within 90 s; killed its process group`);
        }
        await sleep(250);
      }
      io.print([`stopped the network in ${dir}; torus testnet up --dir ${dir} resumes it`]);
    });
}
