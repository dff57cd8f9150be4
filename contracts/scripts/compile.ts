/**
 * `npm run contracts:build`: compiles contracts/NodeList.sol and writes contracts/artifacts/NodeList.json.
 * Run from the build output: `node dist/contracts/scripts/compile.js`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARTIFACT_URL, formatArtifact } from '../src/artifact.js';
import { CompileError, compileNodeList } from '../src/compiler.js';

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function main(): void {
  const started = performance.now();
  const { artifact, warnings } = compileNodeList();
  for (const warning of warnings) console.warn(warning);
  const path = fileURLToPath(ARTIFACT_URL);
  const text = formatArtifact(artifact);
  const unchanged = readIfExists(path) === text;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  const shown = relative(process.cwd(), path) || path;
  const ms = Math.round(performance.now() - started);
  console.log(
    `${unchanged ? 'unchanged' : 'wrote'} ${shown}: ${artifact.contractName}, solc ${artifact.compiler.version}, ` +
      `evm ${artifact.compiler.evmVersion}, optimizer ${artifact.compiler.optimizer.runs} runs, ` +
      `${(artifact.bytecode.length - 2) / 2} bytes creation / ${(artifact.deployedBytecode.length - 2) / 2} bytes runtime code, ` +
      `${artifact.abi.length} ABI entries, source sha256 ${artifact.sourceSha256.slice(0, 16)}… (${ms} ms)`,
  );
}

try {
  main();
} catch (error) {
  // Compiler errors are already formatted by solc (file:line, caret); print them without a stack trace.
  if (error instanceof CompileError) {
    console.error(`contracts:build failed: ${error.message}`);
  } else {
    console.error('contracts:build failed:', error);
  }
  process.exitCode = 1;
}
