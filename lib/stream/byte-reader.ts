// byte-reader.ts: pulls exact byte counts out of a chunked input, keeping only
// the bytes not yet consumed, and counts the offset of every byte it hands out.
import { StreamError } from './errors';
import { chunkBuffer, describeThrown } from './input';

/**
 * The most bytes one element (a section body, the VM description, a page)
 * may take: the reader holds an element whole, so this bounds its memory.
 * QEMU's largest elements are the VM description JSON (some KiB to a few MiB)
 * and pages (at most 16 KiB here).
 */
export const MAX_ELEMENT_BYTES = 16 << 20;

export class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Absolute offset of buf[0]. */
  private base = 0;
  private ended = false;

  constructor(private readonly it: AsyncIterator<Uint8Array>) {}

  /** Offset of the next byte to be read. */
  get offset(): number {
    return this.base + this.pos;
  }

  /** Bytes buffered and not yet read. */
  get available(): number {
    return this.buf.length - this.pos;
  }

  /** The next chunk, or null at the end; what the input throws or yields wrongly is a StreamError. */
  private async next(): Promise<Buffer | null> {
    const at = this.base + this.buf.length;
    let r: IteratorResult<Uint8Array>;
    try {
      r = await this.it.next();
    } catch (err) {
      if (err instanceof StreamError) throw err;
      throw new StreamError('bad-input', at, `reading the input failed: ${describeThrown(err)}`);
    }
    if (r.done) return null;
    try {
      return chunkBuffer(r.value);
    } catch (err) {
      throw new StreamError('bad-input', at, (err as Error).message);
    }
  }

  /**
   * Buffers at least n bytes if the input has them; false at the end of input.
   * The chunks that arrive are joined once, when enough are there, so
   * buffering an element costs time linear in its size.
   */
  async fill(n: number): Promise<boolean> {
    let rest = this.buf.length - this.pos;
    if (rest >= n || this.ended) return rest >= n;
    const parts: Buffer[] = rest ? [this.buf.subarray(this.pos)] : [];
    while (rest < n) {
      const chunk = await this.next();
      if (chunk === null) {
        this.ended = true;
        break;
      }
      if (chunk.length === 0) continue;
      parts.push(chunk);
      rest += chunk.length;
    }
    this.base += this.pos;
    this.pos = 0;
    this.buf = parts.length === 1 ? parts[0] : Buffer.concat(parts, rest);
    return rest >= n;
  }

  /**
   * Like fill, but a short input is a truncation error naming what was being
   * read, and an element over MAX_ELEMENT_BYTES is refused before any of it
   * is buffered.
   */
  async need(n: number, what: string, startOffset = this.offset): Promise<void> {
    if (this.buf.length - this.pos >= n) return;
    if (n > MAX_ELEMENT_BYTES) {
      throw new StreamError(
        'too-large',
        startOffset,
        `${what} that starts at byte ${startOffset} needs ${n} bytes, more than the ${MAX_ELEMENT_BYTES >> 20} MiB this reader holds at once`,
      );
    }
    if (!(await this.fill(n))) {
      throw new StreamError(
        'truncated',
        this.base + this.buf.length,
        `stream ends inside ${what} that starts at byte ${startOffset}: ${n} more bytes needed, ${this.available} left`,
      );
    }
  }

  /** True when every byte has been read. */
  async atEnd(): Promise<boolean> {
    return !(await this.fill(1));
  }

  u8(): number {
    return this.buf[this.pos++];
  }

  peek8(): number {
    return this.buf[this.pos];
  }

  be16(): number {
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  be32(): number {
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** A big-endian u64 as [high 32 bits, low 32 bits]. */
  be64(): [number, number] {
    const hi = this.buf.readUInt32BE(this.pos);
    const lo = this.buf.readUInt32BE(this.pos + 4);
    this.pos += 8;
    return [hi, lo];
  }

  /** n bytes as a view; valid until the consumer's next await on this reader. */
  bytes(n: number): Buffer {
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** Reads a length-prefixed (u8) string. */
  str8(): string {
    const n = this.u8();
    return this.bytes(n).toString('latin1');
  }

  /** Discards n bytes without buffering them all. */
  async skip(n: number, what: string): Promise<void> {
    const start = this.offset;
    let left = n;
    while (left > 0) {
      if (this.available === 0 && !(await this.fill(1))) {
        throw new StreamError('truncated', this.offset, `stream ends inside ${what} that starts at byte ${start}: ${left} more bytes needed, 0 left`);
      }
      const k = Math.min(left, this.available);
      this.pos += k;
      left -= k;
    }
  }

  /** Stops reading the input (closes a file or stream early); best effort. */
  async close(): Promise<void> {
    this.buf = Buffer.alloc(0);
    this.pos = 0;
    try {
      await this.it.return?.();
    } catch {
      // The bytes read stand; an input that fails to close changes none of them.
    }
  }
}
