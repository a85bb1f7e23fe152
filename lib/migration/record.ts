// record.ts: RAM records as QEMU's migration stream frames them (docs/FORMAT.md §2):
// the page header (be64 offset | flags, then u8 length + block name unless
// CONTINUE), the bodies (ZERO: one fill byte; PAGE: the page; XBZRLE: u8 0x01,
// be16 length, delta; EOS: nothing), a writer and an incremental reader.
import { MAX_PAGE_SIZE, checkAddress, checkBlockName, checkBytes, checkWhole, type Address } from '../util/checks';
import { RecordError, type RecordErrorReason } from '../util/errors';
import * as abi from '../backend/abi';

/** RAM_SAVE_FLAG_* bits, ORed into the low bits of the header's offset word. */
export const RecordFlag = {
  ZERO: abi.RECORD_ZERO,
  MEM_SIZE: abi.RECORD_MEM_SIZE,
  PAGE: abi.RECORD_PAGE,
  EOS: abi.RECORD_EOS,
  CONTINUE: abi.RECORD_CONTINUE,
  XBZRLE: abi.RECORD_XBZRLE,
} as const;

/** The XBZRLE body's encoding flag (ENCODING_FLAG_XBZRLE). */
export const ENCODING_XBZRLE = abi.RECORD_ENCODING_XBZRLE;

/**
 * Offsets are multiples of 1 KiB (QEMU's smallest target page), so the low
 * ten bits of the offset word hold the flags.
 */
export const FLAG_MASK = abi.RECORD_FLAG_MASK;

/**
 * The most blocks a MEM_SIZE record may list (QEMU machines have a few
 * dozen): a reader keeps the list, so this bounds its memory.
 */
export const MAX_RAM_BLOCKS = 65536;

const KINDS = RecordFlag.ZERO | RecordFlag.MEM_SIZE | RecordFlag.PAGE | RecordFlag.EOS | RecordFlag.XBZRLE;
const TWO32 = 4294967296;

export { RecordError, type RecordErrorReason };

declare module '../util/errors' {
  interface RecordError {
    /** For a reader: the complete records that came before the bad one in the same push. */
    records?: RamRecord[];
  }
}

/** The XBZRLE record body for a delta: 0x01, be16 length, delta. */
export function xbzrleBody(delta: Uint8Array): Buffer {
  checkBytes(delta, 'delta');
  if (delta.length > MAX_PAGE_SIZE) {
    throw new RangeError(`The "delta" argument must be at most ${MAX_PAGE_SIZE} bytes, received ${delta.length}`);
  }
  const b = Buffer.allocUnsafe(3 + delta.length);
  b[0] = ENCODING_XBZRLE;
  b.writeUInt16BE(delta.length, 1);
  b.set(delta, 3);
  return b;
}

/**
 * Checks an XBZRLE body's envelope for a page of `pageSize` bytes and returns
 * the delta length; RecordError (offset in the body) otherwise.
 */
export function checkXbzrleBody(body: Uint8Array, pageSize: number): number {
  if (body.length < 1) throw new RecordError('body-short', 0, 'no encoding flag');
  checkXbzrleEncoding(body[0]);
  if (body.length < 3) throw new RecordError('body-short', body.length, 'no length field');
  const len = checkXbzrleLength((body[1] << 8) | body[2], pageSize);
  if (body.length - 3 < len) throw new RecordError('body-short', body.length, `${body.length - 3} of ${len} bytes`);
  if (body.length - 3 > len) throw new RecordError('body-long', 3 + len, `${body.length - 3} bytes for ${len}`);
  return len;
}

function hex(v: number): string {
  return v.toString(16).padStart(2, '0');
}

// The pieces of a RAM record that RecordReader and the migration stream
// reader (lib/stream) share, so that both give one verdict per defect. Each
// throws a RecordError whose offset is relative: in the body for the XBZRLE
// checks, 0 (the record's first byte) for the header word; `at` is added
// (the caller's offset of the body or record).

/** The XBZRLE body's first byte (offset 0 of the body). */
export function checkXbzrleEncoding(encoding: number, at = 0): void {
  if (encoding !== ENCODING_XBZRLE) throw new RecordError('bad-encoding-flag', at, `0x${hex(encoding)}`);
}

/** The XBZRLE body's be16 delta length (offset 1 of the body); returns it. */
export function checkXbzrleLength(len: number, pageSize: number, at = 0): number {
  if (len > pageSize) throw new RecordError('length-over-page', at + 1, `${len} > ${pageSize}`);
  return len;
}

/** A header word's halves as flags (the low ten bits) and the page's offset. */
export function recordWord(hi: number, lo: number): { flags: number; offset: Address } {
  const flags = lo & FLAG_MASK;
  return { flags, offset: joinAddress(hi, (lo - flags) >>> 0) };
}

/**
 * The kind bit of a header's flags (CONTINUE aside); `kinds` are the kinds
 * and `extra` the other bits the reader knows. RecordError('unknown-flags')
 * for no kind, two kinds or an unknown bit; 'bad-eos' for an end-of-section
 * word with anything else in it (QEMU writes it bare).
 */
export function recordKind(flags: number, offset: Address, kinds: number = KINDS, at = 0): number {
  const kind = flags & ~RecordFlag.CONTINUE;
  if (flags & ~(kinds | RecordFlag.CONTINUE) || kind === 0 || kind & (kind - 1)) {
    throw new RecordError('unknown-flags', at, `flags 0x${flags.toString(16)}`);
  }
  if (kind === RecordFlag.EOS && (flags !== RecordFlag.EOS || (typeof offset === 'bigint' ? offset !== 0n : offset !== 0))) {
    throw new RecordError('bad-eos', at);
  }
  if (kind === RecordFlag.MEM_SIZE && flags & RecordFlag.CONTINUE) {
    throw new RecordError('unknown-flags', at, 'MEM_SIZE with CONTINUE');
  }
  return kind;
}

/**
 * RecordError('unaligned-offset') unless a page's offset is a multiple of the
 * page size; as from Receiver, the error's offset is the page offset, and the
 * message names `at`, the record's stream offset.
 */
export function checkPageOffset(offset: Address, pageSize: number, at = 0): void {
  const rest = typeof offset === 'bigint' ? Number(offset % BigInt(pageSize)) : offset % pageSize;
  if (rest !== 0) {
    throw new RecordError(
      'unaligned-offset',
      Number(offset),
      `record at byte ${at}: offset 0x${offset.toString(16)} with ${pageSize}-byte pages`,
    );
  }
}

/** The offset word's halves; RangeError unless the offset is a multiple of 1 KiB. */
function split(offset: Address, name: string): [number, number] {
  checkAddress(offset, name);
  const hi = typeof offset === 'number' ? Math.floor(offset / TWO32) : Number(offset >> 32n);
  const lo = typeof offset === 'number' ? offset >>> 0 : Number(offset & 0xffff_ffffn);
  if (lo & FLAG_MASK) {
    throw new RangeError(`The "${name}" argument must be a multiple of 1024 (the flags use the low bits), received ${offset}`);
  }
  return [hi, lo];
}

function joinAddress(hi: number, lo: number): Address {
  return hi < 0x200000 ? hi * TWO32 + lo : (BigInt(hi) << 32n) | BigInt(lo);
}

function checkBlock(block: unknown): Buffer {
  return checkBlockName(block);
}

/**
 * The page header of a record: be64 (offset | flags), then, unless flags has
 * CONTINUE, u8 length and the block name.
 */
export function pageHeader(offset: Address, flags: number, block?: string): Buffer {
  checkWhole(flags, 'flags', 0, FLAG_MASK);
  const [hi, lo] = split(offset, 'offset');
  const name = flags & RecordFlag.CONTINUE ? null : checkBlock(block);
  const h = Buffer.allocUnsafe(name ? 9 + name.length : 8);
  h.writeUInt32BE(hi, 0);
  h.writeUInt32BE((lo | flags) >>> 0, 4);
  if (name) {
    h[8] = name.length;
    name.copy(h, 9);
  }
  return h;
}

export interface RecordWriterOptions {
  /** Default 4096; PAGE bodies must be this long, XBZRLE lengths at most this. */
  pageSize?: number;
}

/**
 * Appends records to one growing buffer, naming a block only when it differs
 * from the previous record's (CONTINUE otherwise), as QEMU does.
 */
export class RecordWriter {
  readonly pageSize: number;
  #buf: Buffer = Buffer.allocUnsafe(1 << 16);
  #len = 0;
  #last: string | null = null;

  constructor(options: RecordWriterOptions = {}) {
    const pageSize = options.pageSize ?? 4096;
    checkWhole(pageSize, 'pageSize', 1, MAX_PAGE_SIZE, 'option');
    this.pageSize = pageSize;
  }

  /** The block the last page record named or continued, or null. */
  get lastBlock(): string | null {
    return this.#last;
  }

  /** Whether a record for `block` written next would use CONTINUE. */
  continues(block: string): boolean {
    return this.#last === block;
  }

  /** Bytes written since the last take(). */
  get length(): number {
    return this.#len;
  }

  // Reserves n bytes and returns where they start; read this.#buf after
  // calling it, since it may move the buffer.
  #room(n: number): number {
    if (this.#len + n > this.#buf.length) {
      let cap = this.#buf.length * 2;
      while (cap < this.#len + n) cap *= 2;
      const b = Buffer.allocUnsafe(cap);
      this.#buf.copy(b, 0, 0, this.#len);
      this.#buf = b;
    }
    const at = this.#len;
    this.#len += n;
    return at;
  }

  #header(offset: Address, kind: number, block: string): void {
    checkAddress(offset, 'offset');
    const rest = typeof offset === 'bigint' ? Number(offset % BigInt(this.pageSize)) : offset % this.pageSize;
    if (rest !== 0) {
      throw new RangeError(`The "offset" argument must be a multiple of the page size (${this.pageSize}), received ${offset}`);
    }
    const cont = this.#last === block;
    const h = pageHeader(offset, kind | (cont ? RecordFlag.CONTINUE : 0), cont ? undefined : block);
    const at = this.#room(h.length);
    h.copy(this.#buf, at);
    this.#last = block;
  }

  /** A ZERO record: the page is all `fill` bytes (QEMU sends 0). */
  zero(offset: Address, block: string, fill = 0): this {
    checkWhole(fill, 'fill', 0, 255);
    checkBlock(block);
    this.#header(offset, RecordFlag.ZERO, block);
    const at = this.#room(1);
    this.#buf[at] = fill;
    return this;
  }

  /** A PAGE record: the page's bytes. */
  page(offset: Address, block: string, data: Uint8Array): this {
    checkBytes(data, 'data');
    if (data.length !== this.pageSize) {
      throw new RangeError(`The "data" argument must be ${this.pageSize} bytes long, received ${data.length} bytes`);
    }
    checkBlock(block);
    this.#header(offset, RecordFlag.PAGE, block);
    const at = this.#room(data.length);
    this.#buf.set(data, at);
    return this;
  }

  /** An XBZRLE record from its body (0x01, be16 length, delta), as Sender.sendPage returns it. */
  xbzrle(offset: Address, block: string, body: Uint8Array): this {
    checkBytes(body, 'body');
    checkXbzrleBody(body, this.pageSize);
    checkBlock(block);
    this.#header(offset, RecordFlag.XBZRLE, block);
    const at = this.#room(body.length);
    this.#buf.set(body, at);
    return this;
  }

  /** The end-of-section word. */
  eos(): this {
    const at = this.#room(8);
    this.#buf.writeUInt32BE(0, at);
    this.#buf.writeUInt32BE(RecordFlag.EOS, at + 4);
    return this;
  }

  /**
   * The RAM section's opening record: be64 (total bytes | MEM_SIZE), then per
   * block u8 length, name, be64 length (the basic form, without the extras
   * that some migration capabilities add).
   */
  memSize(blocks: { name: string; length: Address }[]): this {
    if (!Array.isArray(blocks)) throw new TypeError('The "blocks" argument must be an array');
    let total = 0n;
    const names = blocks.map((b, i) => {
      checkAddress(b?.length, `blocks[${i}].length`);
      total += BigInt(b.length);
      return checkBlock(b.name);
    });
    if (total > 0xffff_ffff_ffff_ffffn) throw new RangeError('The blocks add up past 2^64 bytes');
    const [hi, lo] = split(total <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(total) : total, 'total');
    let at = this.#room(8);
    this.#buf.writeUInt32BE(hi, at);
    this.#buf.writeUInt32BE((lo | RecordFlag.MEM_SIZE) >>> 0, at + 4);
    blocks.forEach((b, i) => {
      at = this.#room(1 + names[i].length + 8);
      this.#buf[at] = names[i].length;
      names[i].copy(this.#buf, at + 1);
      this.#buf.writeBigUInt64BE(BigInt(b.length), at + 1 + names[i].length);
    });
    return this;
  }

  /**
   * Records already framed for `block` (Sender.sendPages output, made with
   * `continued: writer.continues(block)`).
   */
  framed(bytes: Uint8Array, block: string): this {
    checkBytes(bytes, 'bytes');
    checkBlock(block);
    if (bytes.length === 0) return this;
    const at = this.#room(bytes.length);
    this.#buf.set(bytes, at);
    this.#last = block;
    return this;
  }

  /** Everything written since the last take(); the writer starts empty again. */
  take(): Buffer {
    const out = this.#buf.subarray(0, this.#len);
    this.#buf = Buffer.allocUnsafe(1 << 16);
    this.#len = 0;
    return out;
  }
}

export type RecordType = 'zero' | 'page' | 'xbzrle' | 'eos' | 'mem-size';

export interface RamRecord {
  type: RecordType;
  /** The flag bits of the header word. */
  flags: number;
  /** The page's offset in its block (for 'mem-size': the total RAM bytes). */
  offset: Address;
  /** The block: named in this record, or the one it continues. */
  block?: string;
  /** ZERO: 1 byte; PAGE: the page; XBZRLE: 0x01, be16 length, delta. */
  body?: Buffer;
  /** ZERO: the fill byte. */
  fill?: number;
  /** XBZRLE: the delta (a view into body). */
  delta?: Buffer;
  /** MEM_SIZE: the RAM blocks. */
  blocks?: { name: string; length: Address }[];
  /** Stream offset of the record's first byte. */
  at: number;
  /** Bytes of the whole record, header included. */
  length: number;
}

export interface RecordReaderOptions {
  /** Default 4096: the length of PAGE bodies and the bound on XBZRLE lengths. */
  pageSize?: number;
}

const NEED_MORE = -1;

/** A MEM_SIZE record being read: the entries parsed so far are consumed. */
interface MemSizeState {
  at: number; // stream offset of the record
  flags: number;
  offset: Address;
  total: bigint;
  sum: bigint;
  blocks: { name: string; length: Address }[];
  length: number; // bytes of the record consumed so far
}

/**
 * Reads records from a stream pushed in chunks of any size. push() returns
 * the records completed by the chunk and keeps the bytes of an incomplete one
 * (a copy) for the next push; it never reads past what it was given. A body
 * that lies inside one pushed chunk is a view of that chunk (no copy): copy it
 * before reusing the chunk's memory. Garbage throws a RecordError with the
 * stream offset; the reader then stays failed.
 *
 * The work and memory of a push follow the bytes pushed: the bytes held are
 * at most one record (a page record, or one entry of a MEM_SIZE list, whose
 * parsed entries are kept as blocks, at most MAX_RAM_BLOCKS of them).
 */
export class RecordReader {
  readonly pageSize: number;
  #parts: Buffer[] = [];
  #held = 0; // bytes in #parts
  #need = 8; // bytes the next element needs at least
  #base = 0; // stream offset of the first held byte
  #last: string | null = null;
  #failed: RecordError | null = null;
  #mem: MemSizeState | null = null;
  // Scratch for one parse: the bytes a partial element still needs.
  #short = 0;

  constructor(options: RecordReaderOptions = {}) {
    const pageSize = options.pageSize ?? 4096;
    checkWhole(pageSize, 'pageSize', 1, MAX_PAGE_SIZE, 'option');
    this.pageSize = pageSize;
  }

  /** Stream bytes consumed by complete records. */
  get offset(): number {
    return this.#base - (this.#mem ? this.#mem.length : 0);
  }

  /** Bytes read of an incomplete record. */
  get pending(): number {
    return this.#held + (this.#mem ? this.#mem.length : 0);
  }

  push(chunk: Uint8Array): RamRecord[] {
    if (this.#failed) throw this.#failed;
    checkBytes(chunk, 'chunk');
    if (chunk.length === 0) return [];
    this.#parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    this.#held += chunk.length;
    if (this.#held < this.#need) return [];
    const buf = this.#parts.length === 1 ? this.#parts[0] : Buffer.concat(this.#parts, this.#held);
    const out: RamRecord[] = [];
    let pos = 0;
    let short = false;
    try {
      while (pos < buf.length || this.#mem) {
        if (this.#mem) {
          const { used, record } = this.#memEntries(buf, pos);
          pos += used;
          if (!record) {
            short = true;
            break;
          }
          out.push(record);
          continue;
        }
        const r = this.#parse(buf, pos);
        if (r === NEED_MORE) {
          short = true;
          break;
        }
        if (r === null) {
          pos += 8; // a MEM_SIZE header: #memEntries reads its entries
          continue;
        }
        out.push(r);
        pos += r.length;
      }
    } catch (e) {
      if (e instanceof RecordError) {
        e.records = out;
        this.#failed = e;
      }
      throw e;
    }
    this.#need = short ? this.#short : 8;
    this.#base += pos;
    this.#held = buf.length - pos;
    this.#parts = this.#held ? [Buffer.from(buf.subarray(pos))] : [];
    return out;
  }

  /** Throws RecordError('truncated') when the stream ended inside a record. */
  end(): void {
    if (this.#failed) throw this.#failed;
    if (this.pending) {
      this.#failed = new RecordError('truncated', this.offset, `${this.pending} bytes of an incomplete record`);
      throw this.#failed;
    }
  }

  #fail(reason: RecordErrorReason, at: number, detail?: string): never {
    throw new RecordError(reason, this.#base + at, detail);
  }

  /**
   * Reads the entries of the MEM_SIZE record in #mem at pos, keeping them and
   * consuming their bytes; returns the record once its blocks add up to the
   * total, else null with #short set to what the next entry needs.
   */
  #memEntries(buf: Buffer, pos: number): { used: number; record: RamRecord | null } {
    const m = this.#mem!;
    let p = pos;
    while (m.sum < m.total) {
      const avail = buf.length - p;
      if (avail < 1) {
        this.#short = 1;
        return { used: p - pos, record: null };
      }
      const n = buf[p];
      if (n === 0) this.#fail('empty-block-name', p);
      if (avail < 1 + n + 8) {
        this.#short = 1 + n + 8;
        return { used: p - pos, record: null };
      }
      if (m.blocks.length >= MAX_RAM_BLOCKS) this.#fail('too-many-blocks', p, `block ${m.blocks.length + 1}`);
      const name = buf.toString('utf8', p + 1, p + 1 + n);
      const len = buf.readBigUInt64BE(p + 1 + n);
      m.sum += len;
      if (m.sum > m.total) this.#fail('mem-size-overrun', p, `block ${name}`);
      m.blocks.push({ name, length: len <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(len) : len });
      p += 1 + n + 8;
      m.length += 1 + n + 8;
    }
    this.#mem = null;
    return { used: p - pos, record: { type: 'mem-size', flags: m.flags, offset: m.offset, blocks: m.blocks, at: m.at, length: m.length } };
  }

  /**
   * One record at pos; NEED_MORE with #short set to the bytes it needs from
   * pos; or null after a MEM_SIZE header, whose entries #memEntries reads.
   */
  #parse(buf: Buffer, pos: number): RamRecord | typeof NEED_MORE | null {
    const avail = buf.length - pos;
    const more = (n: number): typeof NEED_MORE => {
      this.#short = n;
      return NEED_MORE;
    };
    if (avail < 8) return more(8);
    const { flags, offset } = recordWord(buf.readUInt32BE(pos), buf.readUInt32BE(pos + 4));
    const at = this.#base + pos;
    const kind = recordKind(flags, offset, KINDS, at);
    if (kind === RecordFlag.EOS) return { type: 'eos', flags, offset: 0, at, length: 8 };
    if (kind === RecordFlag.MEM_SIZE) {
      this.#mem = { at, flags, offset, total: BigInt(offset), sum: 0n, blocks: [], length: 8 };
      return null;
    }
    checkPageOffset(offset, this.pageSize, at);
    let p = 8;
    let block: string;
    if (flags & RecordFlag.CONTINUE) {
      if (this.#last === null) this.#fail('no-block', pos);
      block = this.#last;
    } else {
      if (avail < 9) return more(9);
      const n = buf[pos + 8];
      if (n === 0) this.#fail('empty-block-name', pos + 8);
      if (avail < 9 + n) return more(9 + n);
      block = buf.toString('utf8', pos + 9, pos + 9 + n);
      p = 9 + n;
    }
    let rec: RamRecord;
    if (kind === RecordFlag.ZERO) {
      if (avail < p + 1) return more(p + 1);
      const body = buf.subarray(pos + p, pos + p + 1);
      rec = { type: 'zero', flags, offset, block, body, fill: body[0], at, length: p + 1 };
    } else if (kind === RecordFlag.PAGE) {
      const P = this.pageSize;
      if (avail < p + P) return more(p + P);
      rec = { type: 'page', flags, offset, block, body: buf.subarray(pos + p, pos + p + P), at, length: p + P };
    } else {
      if (avail < p + 1) return more(p + 1);
      checkXbzrleEncoding(buf[pos + p], at + p);
      if (avail < p + 3) return more(p + 3);
      const len = checkXbzrleLength(buf.readUInt16BE(pos + p + 1), this.pageSize, at + p);
      if (avail < p + 3 + len) return more(p + 3 + len);
      const body = buf.subarray(pos + p, pos + p + 3 + len);
      rec = { type: 'xbzrle', flags, offset, block, body, delta: body.subarray(3), at, length: p + 3 + len };
    }
    this.#last = block;
    return rec;
  }
}
