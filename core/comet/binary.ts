/** Where the pinned CometBFT binary is: $COMETBFT_BIN, else .tools/bin/cometbft in this repository. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const COMETBFT_VERSION = '0.38.25';

/** The repository root (this file is compiled to dist/core/comet/). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function cometbftBinary(): string {
  const candidate = process.env['COMETBFT_BIN'] ?? path.join(REPO_ROOT, '.tools/bin/cometbft');
  if (!existsSync(candidate)) {
    throw new Error(`CometBFT binary not found at ${candidate}; install it with: bash scripts/install-cometbft.sh`);
  }
  return candidate;
}

/** abci-cli of the same CometBFT release (`bash scripts/install-cometbft.sh abci-cli`); benchmarks only. */
export function abciCliBinary(): string {
  const candidate = process.env['ABCI_CLI_BIN'] ?? path.join(REPO_ROOT, '.tools/bin/abci-cli');
  if (!existsSync(candidate)) {
    throw new Error(`abci-cli not found at ${candidate}; install it with: bash scripts/install-cometbft.sh abci-cli`);
  }
  return candidate;
}
