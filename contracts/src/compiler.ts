/**
 * Compiles NodeList.sol with solc-js (standard JSON) into the artifact. Used by the build script and by the
 * test that checks the committed artifact is current; nothing else needs a compiler.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { SOURCE_URL, abiEntry, type Artifact } from './artifact.js';

export const CONTRACT_NAME = 'NodeList';
// The source's name inside the compiler input. It is hashed into the bytecode's metadata, so it is a fixed
// name rather than a path that would differ between checkouts.
const SOURCE_NAME = 'NodeList.sol';
// cancun is what anvil (and Ethereum mainnet since 2024) runs; solc 0.8.28 defaults to it too, but the
// artifact must not change if the compiler's default does.
export const EVM_VERSION = 'cancun';
export const OPTIMIZER = { enabled: true, runs: 200 } as const;

export class CompileError extends Error {
  override name = 'CompileError';
}

/** The part of solc-js this module uses (the package ships no type declarations). */
interface SolcJs {
  version(): string;
  compile(input: string): string;
}

const diagnosticSchema = z.looseObject({
  severity: z.string(),
  formattedMessage: z.string().optional(),
  message: z.string(),
});

const outputSchema = z.looseObject({
  errors: z.array(diagnosticSchema).optional(),
  contracts: z
    .record(
      z.string(),
      z.record(
        z.string(),
        z.looseObject({
          abi: z.array(abiEntry),
          evm: z.looseObject({
            bytecode: z.looseObject({ object: z.string() }),
            deployedBytecode: z.looseObject({ object: z.string() }),
          }),
        }),
      ),
    )
    .optional(),
});

function loadSolc(): SolcJs {
  const require = createRequire(import.meta.url);
  try {
    return require('solc') as SolcJs;
  } catch (cause) {
    throw new CompileError('solc-js is not installed (a devDependency); run `npm ci`', { cause });
  }
}

/** The exact version in `pragma solidity X.Y.Z;`; a range would let another compiler build a different artifact. */
export function pragmaVersion(source: string): string {
  const match = /^\s*pragma\s+solidity\s+([^;]+);/m.exec(source);
  const version = match?.[1]?.trim();
  if (version === undefined || !/^\d+\.\d+\.\d+$/.test(version)) {
    throw new CompileError(`${SOURCE_NAME} must pin an exact compiler version (pragma solidity X.Y.Z;), found ${JSON.stringify(version ?? null)}`);
  }
  return version;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function readSource(): string {
  return readFileSync(fileURLToPath(SOURCE_URL), 'utf8');
}

function hex(object: string, what: string): string {
  if (!/^([0-9a-f]{2})+$/.test(object)) throw new CompileError(`solc returned no ${what} for ${CONTRACT_NAME} (is it abstract?)`);
  return `0x${object}`;
}

export interface Compiled {
  readonly artifact: Artifact;
  /** solc's warnings and infos, formatted, for the build script to print. */
  readonly warnings: readonly string[];
}

/** Compiles the given source (default: contracts/NodeList.sol) in memory. */
export function compileNodeList(source: string = readSource()): Compiled {
  const solc = loadSolc();
  const wanted = pragmaVersion(source);
  const version = solc.version();
  // "0.8.28+commit…": compare up to the '+' so that 0.8.2 does not accept 0.8.28.
  if (!version.startsWith(`${wanted}+`)) {
    throw new CompileError(`${SOURCE_NAME} needs solc ${wanted} but solc-js is ${version}; install solc@${wanted}`);
  }
  const input = {
    language: 'Solidity',
    sources: { [SOURCE_NAME]: { content: source } },
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: { enabled: OPTIMIZER.enabled, runs: OPTIMIZER.runs },
      outputSelection: { [SOURCE_NAME]: { [CONTRACT_NAME]: ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  };
  const raw = solc.compile(JSON.stringify(input));
  let output: z.infer<typeof outputSchema>;
  try {
    output = outputSchema.parse(JSON.parse(raw));
  } catch (cause) {
    throw new CompileError(`solc returned unexpected output: ${raw.slice(0, 500)}`, { cause });
  }
  const diagnostics = output.errors ?? [];
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    const text = errors.map((d) => (d.formattedMessage ?? d.message).trimEnd()).join('\n\n');
    throw new CompileError(`${SOURCE_NAME} does not compile (${errors.length} error${errors.length === 1 ? '' : 's'}):\n\n${text}`);
  }
  const contract = output.contracts?.[SOURCE_NAME]?.[CONTRACT_NAME];
  if (contract === undefined) throw new CompileError(`solc output has no contract ${CONTRACT_NAME} in ${SOURCE_NAME}`);
  const artifact: Artifact = {
    contractName: CONTRACT_NAME,
    abi: contract.abi,
    bytecode: hex(contract.evm.bytecode.object, 'bytecode'),
    deployedBytecode: hex(contract.evm.deployedBytecode.object, 'deployed bytecode'),
    compiler: { version, evmVersion: EVM_VERSION, optimizer: { enabled: OPTIMIZER.enabled, runs: OPTIMIZER.runs } },
    sourceSha256: sha256Hex(source),
  };
  const warnings = diagnostics.filter((d) => d.severity !== 'error').map((d) => (d.formattedMessage ?? d.message).trimEnd());
  return { artifact, warnings };
}
