/**
 * Splits a TCP byte stream into ABCI frames (`uvarint(len) ‖ message`). A frame may arrive split across
 * chunks, and one chunk may carry several frames. A frame larger than the limit is a protocol error:
 * the decoder throws before buffering its body, so a hostile length cannot make us allocate it.
 */
import { readUvarint } from './varint.js';

export class FrameError extends Error {
  override name = 'FrameError';
}

export class FrameDecoder {
  readonly maxFrameBytes: number;
  #buffer: Uint8Array = new Uint8Array(0);

  constructor(maxFrameBytes: number) {
    if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes <= 0) throw new RangeError('maxFrameBytes must be a positive integer');
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes received but not yet part of a complete frame. */
  get pendingBytes(): number {
    return this.#buffer.length;
  }

  push(chunk: Uint8Array): Uint8Array[] {
    const buf = this.#buffer.length === 0 ? chunk : concat(this.#buffer, chunk);
    const frames: Uint8Array[] = [];
    let offset = 0;
    for (;;) {
      const header = readUvarint(buf, offset);
      if (header.kind === 'incomplete') break;
      if (header.kind === 'overflow') throw new FrameError('frame length varint overflows');
      if (header.value > this.maxFrameBytes) {
        throw new FrameError(`frame of ${header.value} bytes exceeds the limit of ${this.maxFrameBytes} bytes`);
      }
      const start = offset + header.length;
      const end = start + header.value;
      if (end > buf.length) break;
      frames.push(buf.subarray(start, end));
      offset = end;
    }
    // Copy the remainder so the (possibly large) chunk it came from can be collected.
    this.#buffer = offset === buf.length ? new Uint8Array(0) : buf.slice(offset);
    return frames;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
