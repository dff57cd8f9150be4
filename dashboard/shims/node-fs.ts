/**
 * `node:fs` for the browser bundle: client/src/network.ts reads network files with it (`loadNetwork`); the page
 * gets its network description from the dashboard server and validates it with `parseNetwork` instead.
 */
export function readFileSync(file: string): never {
  throw new Error(`cannot read ${file}: node:fs is not available in a browser`);
}
