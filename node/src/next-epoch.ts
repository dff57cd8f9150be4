/**
 * The launcher's part of handing an epoch over to the next one. The hand-over itself (freeze, mapping
 * transfer, resharing) is done by the torus-dkg processes of both epochs; each needs to know the other
 * committee. The new epoch learns its `source` when it is planned (network-plan.ts); the old epoch learns its
 * `target` here, once the contract names a next epoch (nextEpoch) and all of that epoch's nodes are listed:
 * the launcher writes `target` into dkg.json and restarts torus-dkg, which reads its settings only at start.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { KeygenConfigSchema, type Committee } from '../../dkg/src/config.js';
import { readJsonFile } from '../../core/json-file.js';
import type { Logger } from '../../core/log.js';
import { committeeOf, NetworkPlanError, plannedMembers } from './network-plan.js';
import { readRegistrations, type EpochOnChain, type NodeRegistry } from './registry.js';

/** Where the epoch's next epoch stands on chain, for a hand-over. */
export type NextEpochState =
  /** The epoch names no next epoch. */
  | { readonly kind: 'none' }
  /** The next epoch is not created or not full yet. */
  | { readonly kind: 'waiting'; readonly line: string }
  /** The next epoch is full but no hand-over can go to it (the line says why). */
  | { readonly kind: 'unusable'; readonly line: string }
  | { readonly kind: 'ready'; readonly next: number; readonly target: Committee };

/** A full epoch's committee, or why it cannot take a hand-over. */
type FullEpochPlan = { readonly target: Committee } | { readonly problem: NetworkPlanError };

/**
 * Plans of full epochs by id, for a caller that asks again and again (NextEpochWatcher). A full epoch's
 * registrations are final on chain (its node list is complete, details cannot change), so its plan is too;
 * its links are not, and are read every time.
 */
export type FullEpochPlans = Map<number, FullEpochPlan>;

/**
 * Reads `epoch`'s next epoch from the contract and, when it is full and usable, its committee (planned once
 * per full epoch in `plans`).
 */
export async function nextEpochState(registry: NodeRegistry, epoch: number, ethChainId: bigint, plans: FullEpochPlans = new Map()): Promise<NextEpochState> {
  const info = await registry.epoch(epoch);
  if (info === undefined) throw new Error(`epoch ${epoch} is not in the contract ${registry.address}`);
  if (info.nextEpoch === 0) return { kind: 'none' };
  const nextId = info.nextEpoch;
  const next = await registry.epoch(nextId);
  if (next === undefined) return { kind: 'waiting', line: `epoch ${epoch} names epoch ${nextId} as its next epoch, which is not created yet` };
  if (next.nodeList.length < next.n) {
    return { kind: 'waiting', line: `next epoch ${nextId}: ${next.nodeList.length} of ${next.n} nodes listed; epoch ${epoch}'s keys are handed over once all are` };
  }
  // torus-abci freezes an epoch only for a later one, and the next chain takes over only from the epoch its
  // genesis names (its prevEpoch): a target failing either would never receive anything.
  if (nextId <= epoch) return { kind: 'unusable', line: `epoch ${epoch} names epoch ${nextId} as its next epoch, but keys are handed over only to a later epoch` };
  if (next.prevEpoch !== epoch) {
    return { kind: 'unusable', line: `epoch ${nextId} names ${next.prevEpoch === 0 ? 'no previous epoch' : `epoch ${next.prevEpoch} as its previous epoch`}, not epoch ${epoch}: it would not take this epoch's keys` };
  }
  let plan = plans.get(nextId);
  if (plan === undefined) {
    plan = await planFullEpoch(registry, next, ethChainId);
    plans.set(nextId, plan);
  }
  if ('problem' in plan) return { kind: 'unusable', line: `next epoch ${nextId} cannot take epoch ${epoch}'s keys: ${plan.problem.message}` };
  return { kind: 'ready', next: nextId, target: plan.target };
}

/** A full epoch's committee from its registrations, or the NetworkPlanError that refuses them. */
async function planFullEpoch(registry: NodeRegistry, epoch: EpochOnChain, ethChainId: bigint): Promise<FullEpochPlan> {
  const { details } = await readRegistrations(registry, epoch);
  try {
    return { target: committeeOf(ethChainId, registry.address, epoch, plannedMembers(epoch, details)) };
  } catch (error) {
    if (error instanceof NetworkPlanError) return { problem: error };
    throw error;
  }
}

/** dkg.json as written (parsing would add defaults, which the launcher leaves to torus-dkg), once validated. */
function readDkgSettings(file: string): { readonly json: Record<string, unknown>; readonly target: Committee | undefined } {
  const json = readJsonFile(file, (message, cause) => new Error(message, { cause }));
  const parsed = KeygenConfigSchema.safeParse(json);
  if (!parsed.success) throw new Error(`invalid key-generation settings in ${file}:\n${z.prettifyError(parsed.error)}`);
  // The schema is an object schema, so the file's JSON is an object.
  return { json: json as Record<string, unknown>, target: parsed.data.target };
}

/** The `target` a dkg.json holds (undefined when none); the whole file is validated, so a broken one is named. */
export function dkgTarget(file: string): Committee | undefined {
  return readDkgSettings(file).target;
}

/**
 * Writes `target` into dkg.json, keeping the rest of the file as it is. Written aside and renamed, so torus-dkg
 * (restarted by its supervisor at any moment) never reads half a file.
 */
export function writeDkgTarget(file: string, target: Committee): void {
  const temporary = `${file}.new`;
  writeFileSync(temporary, `${JSON.stringify({ ...readDkgSettings(file).json, target }, null, 2)}\n`);
  renameSync(temporary, file);
}

export interface NextEpochWatcherOptions {
  readonly registry: NodeRegistry;
  /** This node's epoch. */
  readonly epoch: number;
  readonly ethChainId: bigint;
  /** The generated dkg.json of this node. */
  readonly dkgFile: string;
  /** Restarts torus-dkg, which reads dkg.json only when it starts. */
  readonly restartKeygen: () => Promise<void>;
  /** Progress lines for the operator. */
  readonly say: (line: string) => void;
  readonly log: Logger;
}

/** What one poll did. */
export type NextEpochPoll = 'none' | 'waiting' | 'unusable' | 'unchanged' | 'handed-over';

/**
 * Watches the contract for the epoch's next epoch; when it is full, puts its committee into dkg.json as
 * `target` and restarts torus-dkg, once per change (a dkg.json that already holds that target is left alone,
 * so polls, and a launcher that wrote it at start, restart nothing).
 */
export class NextEpochWatcher {
  readonly #options: NextEpochWatcherOptions;
  /** Full next epochs are planned once: polls then read only the two epochs' records (links can change). */
  readonly #plans: FullEpochPlans = new Map();
  #said = '';
  /** dkg.json changed but torus-dkg was not restarted yet (the restart failed): the next poll restarts it. */
  #restartOwed = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: NextEpochWatcherOptions) {
    this.#options = options;
  }

  /**
   * At start-up, before dkg.json is written: the target to write into it when the next epoch is already full,
   * so that a launcher started again keeps handing over (and torus-dkg starts with it, without a restart).
   */
  async targetAtStart(): Promise<Committee | undefined> {
    const state = await nextEpochState(this.#options.registry, this.#options.epoch, this.#options.ethChainId, this.#plans);
    if (state.kind === 'none') return undefined;
    this.#sayOnce(state.kind === 'ready' ? handOverLine(this.#options.epoch, state.next) : state.line);
    return state.kind === 'ready' ? state.target : undefined;
  }

  async poll(): Promise<NextEpochPoll> {
    const { registry, epoch, ethChainId, dkgFile } = this.#options;
    const state = await nextEpochState(registry, epoch, ethChainId, this.#plans);
    if (state.kind === 'none') return 'none';
    if (state.kind !== 'ready') {
      this.#sayOnce(state.line);
      return state.kind;
    }
    if (isDeepStrictEqual(dkgTarget(dkgFile), state.target) && !this.#restartOwed) return 'unchanged';
    writeDkgTarget(dkgFile, state.target);
    this.#sayOnce(handOverLine(epoch, state.next));
    this.#restartOwed = true;
    await this.#options.restartKeygen();
    this.#restartOwed = false;
    return 'handed-over';
  }

  /** Polls every `everyMs` until stopped; a poll starts only after the previous one ended (a restart takes a while). */
  start(everyMs: number): void {
    const schedule = () => {
      if (this.#stopped) return;
      this.#timer = setTimeout(() => {
        void this.poll()
          .catch((err: unknown) => this.#options.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'watching the next epoch failed; trying again'))
          .finally(schedule);
      }, everyMs);
      this.#timer.unref();
    };
    schedule();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  #sayOnce(line: string): void {
    if (line === this.#said) return;
    this.#said = line;
    this.#options.say(line);
    this.#options.log.info({ epoch: this.#options.epoch }, line);
  }
}

function handOverLine(epoch: number, next: number): string {
  return `epoch ${next} is full: handing epoch ${epoch}'s keys over to it`;
}
