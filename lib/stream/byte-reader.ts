// byte-reader.ts: pulls exact byte counts out of a chunked input, keeping only
// the bytes not yet consumed, and counts the offset of every byte it hands out.
import { StreamError } from './errors';

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

  /** Buffers at least n bytes if the input has them; false at the end of input. */
  async fill(n: number): Promise<boolean> {
    while (this.buf.length - this.pos < n && !this.ended) {
      let r: IteratorResult<Uint8Array>;
      try {
        r = await this.it.next();
      } catch (err) {
        throw new StreamError('bad-input', this.base + this.buf.length, `reading the input failed: ${(err as Error).message}`);
      }
      if (r.done) {
        this.ended = true;
        break;
      }
      const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
      if (chunk.length === 0) continue;
      const rest = this.buf.length - this.pos;
      // Copy only the unread tail; a fully read buffer is simply dropped.
      this.buf = rest === 0 ? chunk : Buffer.concat([this.buf.subarray(this.pos), chunk]);
      this.base += this.pos;
      this.pos = 0;
    }
    return this.buf.length - this.pos >= n;
  }

  /** Like fill, but a short input is a truncation error naming what was being read. */
  async need(n: number, what: string, startOffset = this.offset): Promise<void> {
    if (this.buf.length - this.pos >= n) return;
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

  /** Stops reading the input (closes a file or stream early). */
  async close(): Promise<void> {
    this.buf = Buffer.alloc(0);
    this.pos = 0;
    await this.it.return?.();
  }
}
