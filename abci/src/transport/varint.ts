/**
 * Unsigned LEB128 varints, as CometBFT >= 0.37 writes ABCI frame lengths (`binary.PutUvarint`).
 * Tendermint <= 0.34 used signed zigzag varints; those are not accepted here.
 */

export const MAX_VARINT_BYTES = 10;

export function encodeUvarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`cannot encode ${value} as uvarint`);
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

export type UvarintRead =
  | { readonly kind: 'value'; readonly value: number; readonly length: number }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'overflow' };

/** Reads a uvarint at `offset`; values above 2^53-1 are reported as overflow (no frame is that large). */
export function readUvarint(buf: Uint8Array, offset: number): UvarintRead {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    const pos = offset + i;
    if (pos >= buf.length) return { kind: 'incomplete' };
    const byte = buf[pos] as number;
    value += (byte & 0x7f) * scale;
    if (value > Number.MAX_SAFE_INTEGER) return { kind: 'overflow' };
    if ((byte & 0x80) === 0) return { kind: 'value', value, length: i + 1 };
    scale *= 0x80;
  }
  return { kind: 'overflow' };
}
