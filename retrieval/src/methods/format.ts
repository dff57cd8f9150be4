/** The legacy node's JSON encodings (torus-node.md §0): big integers as lowercase hex without 0x or padding. */
import { parsePoint } from '../../../core/crypto/point.js';

export const bigHex = (value: bigint | number): string => value.toString(16);

/** A compressed or uncompressed public key as the legacy {X, Y} pair. */
export function legacyPoint(publicKeyHex: string): { X: string; Y: string } {
  const { x, y } = parsePoint(publicKeyHex).toAffine();
  return { X: bigHex(x), Y: bigHex(y) };
}
