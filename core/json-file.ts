/** Reading a JSON configuration or key file, with one clear error for a missing, unreadable or malformed file. */
import { readFileSync } from 'node:fs';

export function readJsonFile(file: string, error: (message: string, cause: unknown) => Error): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw error(`cannot read ${file}: ${cause instanceof Error ? cause.message : String(cause)}`, cause);
  }
}
