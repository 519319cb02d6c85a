import { isUtf8 } from 'node:buffer';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * Stands in for bytes that are not UTF-8. U+FFFF is a noncharacter that no feed carries, unlike
 * U+FFFD, which real catalogs contain as text; a record holding it is rejected, not sent garbled.
 */
export const NOT_UTF8_MARK = '\uffff';
const MARK_BYTES = Buffer.from(NOT_UTF8_MARK, 'utf8');
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/**
 * Passes UTF-8 through unchanged, drops a byte order mark at the start, and replaces each
 * byte that does not begin a valid sequence with U+FFFF. A sequence split across chunks is
 * held back until the next one.
 */
export class Utf8Guard extends Transform {
  private tail: Buffer = Buffer.alloc(0);
  private atStart = true;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let bytes = this.tail.length ? Buffer.concat([this.tail, chunk]) : chunk;
    if (this.atStart) {
      // A byte order mark says "UTF-8" and is no part of the first record.
      if (bytes.length < 3 && BOM.subarray(0, bytes.length).equals(bytes)) {
        this.tail = Buffer.from(bytes);
        return done();
      }
      this.atStart = false;
      if (bytes.subarray(0, 3).equals(BOM)) bytes = bytes.subarray(3);
    }
    const end = completeLength(bytes);
    this.tail = Buffer.from(bytes.subarray(end));
    const body = bytes.subarray(0, end);
    done(null, isUtf8(body) ? body : repair(body));
  }

  override _flush(done: TransformCallback): void {
    done(null, this.tail.length ? repair(this.tail) : undefined);
  }
}

/** Length up to the last character that may still continue in the next chunk. */
function completeLength(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back]!;
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: look further back
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}

/** The bytes with every invalid sequence replaced, byte by byte, by the mark. */
function repair(bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  let i = 0;
  while (i < bytes.length) {
    const size = validSequenceAt(bytes, i);
    if (size > 0) {
      i += size;
      continue;
    }
    parts.push(bytes.subarray(start, i), MARK_BYTES);
    i += 1;
    start = i;
  }
  parts.push(bytes.subarray(start));
  return Buffer.concat(parts);
}

/** Length of the valid UTF-8 sequence starting at `i`, or 0 (no overlongs, no surrogates). */
function validSequenceAt(b: Buffer, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => {
    const x = b[i + k];
    return x !== undefined && x >= lo && x <= hi;
  };
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}
