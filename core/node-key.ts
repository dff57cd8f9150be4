/**
 * The node key file, {"secret_key": "<64 hex>"} with mode 0600: the node's secp256k1 (Ethereum) identity.
 * One key signs the node's transactions, commitments and contract registration, is its libp2p identity and
 * its CometBFT validator key, as in the original Go node.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { readJsonFile } from './json-file.js';
import path from 'node:path';
import { bytesToHex } from './encoding/bytes.js';
import { parseSecretKey, randomSecretKey } from './crypto/keys.js';

export class NodeKeyError extends Error {
  override name = 'NodeKeyError';
}

export function readNodeKey(file: string): Uint8Array {
  const json = readJsonFile(file, (message, cause) => new NodeKeyError(`node key: ${message}`, { cause }));
  const secret = typeof json === 'object' && json !== null ? (json as { secret_key?: unknown }).secret_key : undefined;
  if (typeof secret !== 'string') throw new NodeKeyError(`${file} has no "secret_key"`);
  try {
    return parseSecretKey(secret);
  } catch (cause) {
    throw new NodeKeyError(`${file}: "secret_key" is not a valid secp256k1 secret key`, { cause });
  }
}

/** Reads the key, or creates a new one (mode 0600) when the file does not exist. */
export function loadOrCreateNodeKey(file: string): { secretKey: Uint8Array; created: boolean } {
  if (existsSync(file)) return { secretKey: readNodeKey(file), created: false };
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const secretKey = randomSecretKey();
  writeFileSync(file, `${JSON.stringify({ secret_key: bytesToHex(secretKey) })}\n`, { mode: 0o600, flag: 'wx' });
  return { secretKey, created: true };
}
