/**
 * A local Ethereum chain for tests and local networks: anvil (Foundry), whose binary comes from npm
 * (@foundry-rs/anvil-<os>-<arch>), so no Foundry install is needed. It starts in well under a second.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { HDNodeWallet } from 'ethers';
import { freePorts, portFree } from '../../core/ports.js';
import { ManagedProcess } from '../../core/process.js';

/** Foundry's (and Hardhat's) development mnemonic; its accounts are public knowledge, for local chains only. */
export const DEV_MNEMONIC = 'test test test test test test test test test test test junk';
const DEV_ACCOUNT_COUNT = 10;

export interface AnvilOptions {
  /** TCP port on 127.0.0.1; 0 or absent picks a free one. */
  readonly port?: number;
  readonly chainId?: number;
  /** Seconds between blocks; absent: a block per transaction (automine). */
  readonly blockTime?: number;
  /** Where anvil's output goes (appended); absent: discarded. */
  readonly logFile?: string;
  /** The anvil binary; default: $ANVIL_BIN, else the one from @foundry-rs/anvil-<os>-<arch>. */
  readonly binary?: string;
  /** How long to wait for eth_chainId to answer. */
  readonly readyTimeoutMs?: number;
  /**
   * Keep the chain in this file: loaded at start when it exists, written every 2 s and on exit, so a
   * stopped local network starts again with its contract and registrations.
   */
  readonly stateFile?: string;
}

export interface AnvilAccount {
  /** EIP-55 address. */
  readonly address: string;
  /** 0x-prefixed 32-byte hex. */
  readonly secretKey: string;
}

export interface Anvil {
  readonly rpcUrl: string;
  readonly chainId: number;
  readonly port: number;
  readonly pid: number;
  /** The 10 funded development accounts (10 000 ETH each), in anvil's order. */
  readonly accounts: readonly AnvilAccount[];
  /** Stops anvil (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
  stop(): Promise<void>;
}

export class AnvilError extends Error {
  override name = 'AnvilError';
}

function platformPackage(): string {
  const os = process.platform; // linux, darwin, win32: the names the packages use
  const arch = process.arch === 'x64' ? 'amd64' : process.arch; // x64 → amd64, arm64 stays
  return `@foundry-rs/anvil-${os}-${arch}`;
}

/** The path of the anvil binary, with an error that says what to do when it is missing. */
export function anvilBinary(explicit?: string): string {
  const fromEnv = process.env['ANVIL_BIN'];
  const chosen = explicit ?? (fromEnv === undefined || fromEnv === '' ? undefined : fromEnv);
  if (chosen !== undefined) {
    if (!existsSync(chosen)) throw new AnvilError(`anvil binary not found at ${chosen}`);
    return chosen;
  }
  const pkg = platformPackage();
  let packageJson: string;
  try {
    packageJson = createRequire(import.meta.url).resolve(`${pkg}/package.json`);
  } catch (cause) {
    throw new AnvilError(`anvil is not installed: ${pkg} (from @foundry-rs/anvil) is missing; run \`npm ci\``, { cause });
  }
  const binary = join(dirname(packageJson), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
  if (!existsSync(binary)) throw new AnvilError(`anvil binary missing at ${binary}; run \`npm ci\``);
  return binary;
}

/** Anvil's funded accounts for DEV_MNEMONIC: m/44'/60'/0'/0/i, i = 0 … count-1. */
export function devAccounts(count = DEV_ACCOUNT_COUNT): AnvilAccount[] {
  const accounts: AnvilAccount[] = [];
  for (let i = 0; i < count; i++) {
    const wallet = HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`);
    accounts.push({ address: wallet.address, secretKey: wallet.privateKey });
  }
  return accounts;
}

/** eth_chainId, or undefined while the node does not answer. */
async function chainIdAt(rpcUrl: string): Promise<number | undefined> {
  try {
    const response = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      signal: AbortSignal.timeout(1000),
    });
    const body: unknown = await response.json();
    if (typeof body === 'object' && body !== null && 'result' in body && typeof body.result === 'string') return Number(BigInt(body.result));
    return undefined;
  } catch {
    return undefined;
  }
}

async function launch(binary: string, port: number, chainId: number, options: AnvilOptions): Promise<Anvil> {
  const args = ['--host', '127.0.0.1', '--port', String(port), '--chain-id', String(chainId), '--accounts', String(DEV_ACCOUNT_COUNT), '--mnemonic', DEV_MNEMONIC];
  if (options.blockTime !== undefined) args.push('--block-time', String(options.blockTime));
  if (options.stateFile !== undefined) args.push('--state', options.stateFile, '--state-interval', '2');
  const child = new ManagedProcess('anvil', binary, args, options.logFile ?? '/dev/null');
  child.start();
  let exitCode: number | null | undefined;
  const exited = child.exited().then((code) => {
    exitCode = code;
  });

  const rpcUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 15_000);
  const logHint = options.logFile === undefined ? '' : `; see ${options.logFile}`;
  const exitedEarly = () => new AnvilError(`anvil exited during startup with code ${String(exitCode)} (port ${port} in use?)${logHint}`);
  for (;;) {
    const answer = await Promise.race([exited.then(() => 'exited' as const), chainIdAt(rpcUrl)]);
    if (answer === 'exited' || !child.running) throw exitedEarly();
    if (answer !== undefined) {
      if (answer !== chainId) {
        await child.stop('SIGKILL');
        throw new AnvilError(`the node at ${rpcUrl} answers chain id ${answer}, not ${chainId}: another chain owns the port`);
      }
      break;
    }
    if (Date.now() > deadline) {
      await child.stop('SIGKILL');
      throw new AnvilError(`anvil did not answer on ${rpcUrl} within ${options.readyTimeoutMs ?? 15_000} ms${logHint}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const pid = child.pid;
  if (pid === undefined) throw new AnvilError('anvil has no pid');
  return { rpcUrl, chainId, port, pid, accounts: devAccounts(), stop: () => child.stop('SIGTERM', 5000) };
}

/**
 * Starts anvil on 127.0.0.1 and resolves once eth_chainId answers. With port 0 (the default) a free port is
 * picked; if another process takes it before anvil binds, anvil is started again on a new one.
 */
export async function startAnvil(options: AnvilOptions = {}): Promise<Anvil> {
  const binary = anvilBinary(options.binary);
  const chainId = options.chainId ?? 31337;
  const fixedPort = options.port !== undefined && options.port !== 0 ? options.port : undefined;
  if (fixedPort !== undefined) {
    // Checked first: while anvil fails to bind, the chain that holds the port would answer our readiness probe.
    if (!(await portFree(fixedPort))) throw new AnvilError(`port ${fixedPort} on 127.0.0.1 is in use`);
    return launch(binary, fixedPort, chainId, options);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(binary, (await freePorts(1))[0] as number, chainId, options);
    } catch (error) {
      // Only a lost port race is worth retrying; it shows as anvil exiting during startup.
      if (attempt >= 3 || !(error instanceof AnvilError) || !error.message.startsWith('anvil exited during startup')) throw error;
    }
  }
}
