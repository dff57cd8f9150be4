/**
 * Keeps a node's processes running: each is a separate OS process (core/process.ts) with its own log file; one
 * that exits while the node is not stopping is logged and started again after a back-off (1 s, doubling up to
 * 30 s; reset once it has stayed up for a minute). Stopping goes in reverse start order.
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
  readonly #timers = new Set<NodeJS.Timeout>();
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

  #run(process: ManagedProcess): void {
    const started = Date.now();
    process.start();
    void process.exited().then((code) => {
      if (this.#stopping) return;
      const upMs = Date.now() - started;
      const attempt = upMs >= HEALTHY_AFTER_MS ? 0 : this.restarts(process.name);
      const delay = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** attempt);
      this.#restarts.set(process.name, attempt + 1);
      this.#log.warn({ process: process.name, code, up_ms: upMs, restart_in_ms: delay }, 'a node process exited; restarting it');
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        if (!this.#stopping) this.#run(process);
      }, delay);
      this.#timers.add(timer);
    });
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    for (const timer of this.#timers) clearTimeout(timer);
    for (const process of [...this.#processes].reverse()) await process.stop('SIGTERM');
  }
}
