/**
 * Keeps a node's processes running: each is a separate OS process (core/process.ts) with its own log file; one
 * that exits while the node is not stopping is logged and started again after a back-off (1 s, doubling up to
 * 30 s; reset once it has stayed up for a minute). `restart` stops and starts one on purpose (new settings), with
 * no back-off and without counting it as a failure. Stopping goes in reverse start order.
 */
import type { Logger } from '../../core/log.js';
import type { ManagedProcess } from '../../core/process.js';

const MIN_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30_000;
const HEALTHY_AFTER_MS = 60_000;

export class Supervisor {
  readonly #processes: ManagedProcess[] = [];
  readonly #log: Logger;
  readonly #restarts = new Map<string, number>();
  /** Pending back-off restarts, by process name. */
  readonly #timers = new Map<string, NodeJS.Timeout>();
  /** Processes being restarted on purpose: their exit is not a failure to back off from. */
  readonly #restarting = new Set<string>();
  #stopping = false;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Starts `process` and watches it. */
  add(process: ManagedProcess): void {
    this.#processes.push(process);
    this.#run(process);
  }

  restarts(name: string): number {
    return this.#restarts.get(name) ?? 0;
  }

  /**
   * Stops the process named `name` (SIGTERM, as `stop` does) and starts it again at once, e.g. to make it read
   * changed settings; `reason` goes into the log. A process waiting for a back-off restart is started now.
   */
  async restart(name: string, reason: string): Promise<void> {
    const process = this.#processes.find((p) => p.name === name);
    if (process === undefined) throw new Error(`the supervisor runs no process named ${JSON.stringify(name)} (it runs ${this.#processes.map((p) => p.name).join(', ') || 'none'})`);
    if (this.#stopping) throw new Error(`cannot restart ${name}: the node is stopping`);
    if (this.#restarting.has(name)) throw new Error(`${name} is already being restarted`);
    this.#log.info({ process: name, reason, pid: process.pid }, 'restarting a node process');
    const pending = this.#timers.get(name);
    if (pending !== undefined) clearTimeout(pending);
    this.#timers.delete(name);
    this.#restarting.add(name);
    try {
      await process.stop('SIGTERM');
    } finally {
      this.#restarting.delete(name);
    }
    if (this.#stopping) return;
    this.#run(process);
    this.#log.info({ process: name, pid: process.pid }, 'node process restarted');
  }

  #run(process: ManagedProcess): void {
    const started = Date.now();
    process.start();
    void process.exited().then((code) => {
      if (this.#stopping || this.#restarting.has(process.name)) return;
      const upMs = Date.now() - started;
      const attempt = upMs >= HEALTHY_AFTER_MS ? 0 : this.restarts(process.name);
      const delay = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** attempt);
      this.#restarts.set(process.name, attempt + 1);
      this.#log.warn({ process: process.name, code, up_ms: upMs, restart_in_ms: delay }, 'a node process exited; restarting it');
      const timer = setTimeout(() => {
        this.#timers.delete(process.name);
        if (!this.#stopping) this.#run(process);
      }, delay);
      this.#timers.set(process.name, timer);
    });
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    for (const process of [...this.#processes].reverse()) await process.stop('SIGTERM');
  }
}
