/**
 * The compiled NodeList contract as committed in `contracts/artifacts/NodeList.json`. The artifact is checked
 * in so that nodes, the launcher and tests never need a Solidity compiler at runtime; a test checks that it
 * matches `contracts/NodeList.sol`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

// Resolved from the compiled module's location, dist/contracts/src/artifact.js → <repo>/contracts/…, so it
// does not depend on the working directory.
export const SOURCE_URL = new URL('../../../contracts/NodeList.sol', import.meta.url);
export const ARTIFACT_URL = new URL('../../../contracts/artifacts/NodeList.json', import.meta.url);

const hexBytes = z.string().regex(/^0x([0-9a-f]{2})+$/, 'expected 0x-prefixed lowercase hex bytes');

// The ABI is only checked to be a list of objects with a type here; ethers' Interface validates each entry.
// A record (not an object schema) keeps solc's key order, so the formatted file reads as solc wrote it.
export const abiEntry = z.record(z.string(), z.unknown()).refine((entry) => typeof entry['type'] === 'string', 'ABI entry without a type');

export const artifactSchema = z.strictObject({
  contractName: z.string().min(1),
  abi: z.array(abiEntry).min(1),
  bytecode: hexBytes,
  deployedBytecode: hexBytes,
  compiler: z.strictObject({
    version: z.string().min(1),
    evmVersion: z.string().min(1),
    optimizer: z.strictObject({ enabled: z.boolean(), runs: z.number().int().positive() }),
  }),
  sourceSha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export type Artifact = z.infer<typeof artifactSchema>;
export type AbiEntry = z.infer<typeof abiEntry>;

export class ArtifactError extends Error {
  override name = 'ArtifactError';
}

/** The artifact's canonical file text: 2-space JSON with a final newline, so rebuilding gives identical bytes. */
export function formatArtifact(artifact: Artifact): string {
  return `${JSON.stringify(artifactSchema.parse(artifact), null, 2)}\n`;
}

export function parseArtifact(text: string, origin: string): Artifact {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ArtifactError(`${origin} is not JSON`, { cause });
  }
  const parsed = artifactSchema.safeParse(json);
  if (!parsed.success) {
    throw new ArtifactError(`${origin} is not a NodeList artifact: ${z.prettifyError(parsed.error)}`, { cause: parsed.error });
  }
  return parsed.data;
}

let cached: Artifact | undefined;

/** Reads and validates the committed artifact (once per process). */
export function loadArtifact(): Artifact {
  if (cached !== undefined) return cached;
  const path = fileURLToPath(ARTIFACT_URL);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ArtifactError(`cannot read ${path}; build it with \`npm run contracts:build\``, { cause });
  }
  cached = parseArtifact(text, path);
  return cached;
}
