/** A child process whose output goes to a log file, which can be stopped gracefully or killed (crash tests); used by the node supervisor and the local test networks. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

// Children must not outlive the test, benchmark or launcher that started them, however it ends.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class ManagedProcess {
  readonly name: string;
  readonly #command: string;
  readonly #args: readonly string[];
  readonly #logFile: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #ownGroup: boolean;
  #child: ChildProcess | undefined;
  #exited: Promise<number | null> = Promise.resolve(null);

  /**
   * `ownGroup`: start it in a process group of its own, with everything it starts in turn, so that `crash`
   * can take them all down and a terminal's Ctrl-C reaches only the parent, which then stops it in order.
   */
  constructor(name: string, command: string, args: readonly string[], logFile: string, options: { env?: NodeJS.ProcessEnv; ownGroup?: boolean } = {}) {
    this.name = name;
    this.#command = command;
    this.#args = args;
    this.#logFile = logFile;
    this.#env = options.env ?? process.env;
    this.#ownGroup = options.ownGroup ?? false;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    const fd = openSync(this.#logFile, 'a');
    const child = spawn(this.#command, this.#args, { stdio: ['ignore', fd, fd], env: this.#env, detached: this.#ownGroup });
    closeSync(fd);
    this.#child = child;
    live.add(child);
    this.#exited = new Promise((resolve) => child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    }));
  }

  /**
   * Kills the process and everything it started, at once (SIGKILL to its process group, as a power cut would):
   * for tests of crashed nodes. Its children must not have moved to process groups of their own.
   */
  async crash(): Promise<void> {
    const pid = this.#child?.pid;
    if (pid === undefined || !this.running) return;
    if (!this.#ownGroup) throw new Error(`${this.name} was not started in its own process group`);
    process.kill(-pid, 'SIGKILL');
    await this.#exited;
  }

  /** Sends a signal and waits for the process to exit (SIGKILL after `graceMs` if it does not). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    const child = this.#child;
    if (child === undefined || !this.running) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  /** CPU seconds (user + system) the process has used, from /proc (Linux); 0 where unavailable. */
  cpuSeconds(): number {
    const pid = this.#child?.pid;
    if (pid === undefined) return 0;
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return 0;
    }
  }

  /** Resolves with the exit code when the process ends. */
  exited(): Promise<number | null> {
    return this.#exited;
  }
}
