// migration.ts: Sender and Receiver with QEMU's XBZRLE semantics (FORMAT.md
// 3): what the sender does with each dirty page, its statistics, and the
// cache-less receiver. The sender runs in native code when its cache does
// (sendPages: a whole batch in one call), else in the TypeScript twin.
//
// Threads: a sender belongs to the JavaScript thread that created it.
import { CACHE_IMPL, PageCache } from './cache';
import { checkAddress, checkFlag, checkWhole, toAddressArray, type Address, type AddressArray } from '../util/checks';
import { MAX_PAGE_SIZE, checkBytes, checkOptions, checkPage } from '../util/errors';
import { decodeInto } from '../codec/page';
import { TwinSender, badAddress } from '../twin/sender';
import {
  FLAG_CONTINUED,
  FLAG_DETECT_ZERO,
  FLAG_LAST_STAGE,
  FLAG_MEMORY,
  SENDER_STATS_LENGTH,
  cacheAddon,
  type Handle,
} from '../backend/native-cache';
import { RecordError, checkXbzrleBody, type RamRecord } from './record';

/** What the sender does with a page. 'zero' only with `detectZero`. */
export type SendKind = 'skip' | 'raw' | 'xbzrle' | 'zero';

/** The kinds of sendPages' `kinds` table, by code: 0 skip, 1 raw, 2 xbzrle, 3 zero. */
export const SEND_KINDS: readonly SendKind[] = ['skip', 'raw', 'xbzrle', 'zero'];

export interface SenderOptions {
  cache: PageCache;
  /** Must equal the cache's page size (its default). */
  pageSize?: number;
  /** Longest delta sent as XBZRLE (0 to pageSize); default: the page size, as QEMU. */
  limit?: number;
}

export interface SendPageOptions {
  /** The last stage (guest stopped): the cache is no longer filled or updated. */
  lastStage?: boolean;
  /** Send an all-zero page as a ZERO record (kind 'zero') and cache it as zeros. */
  detectZero?: boolean;
}

export interface SendResult {
  kind: SendKind;
  /**
   * 'xbzrle': the record body (0x01, be16 length, delta); 'raw': the page
   * bytes to send, from the snapshot; 'zero': one byte, 0x00; 'skip': none.
   */
  body?: Buffer;
}

export interface SendPagesOptions extends SendPageOptions {
  /** The RAM block name the records carry (1 to 255 bytes); default 'pc.ram'. */
  block?: string;
  /** The stream's previous record was of this block: the first record uses CONTINUE too. */
  continued?: boolean;
  /** Output buffer to reuse; it must hold sendPagesCapacity(n) bytes. */
  out?: Uint8Array;
}

export interface SendPagesResult {
  /** The records, ready to send: a view of `out` (or of a new buffer). */
  data: Buffer;
  /** Per page: 0 skip, 1 raw, 2 xbzrle, 3 zero (SEND_KINDS). */
  kinds: Uint8Array;
  /** Per page: where its record starts in data (for a skip: where it would have). */
  offsets: Uint32Array;
  /** Per page: its record's length, header included (0 for a skip). */
  lengths: Uint32Array;
}

export interface SenderStats {
  /** QEMU's xbzrle-cache figures. */
  cacheSize: number;
  bytes: number;
  pages: number;
  cacheMiss: number;
  cacheMissRate: number;
  encodingRate: number;
  overflow: number;
  /** Periods ended so far (nextGeneration calls): the cache's current generation. */
  generation: number;
  /** Pages produced by kind, all passes. */
  rawPages: number;
  xbzrlePages: number;
  skippedPages: number;
  zeroPages: number;
}

/** The same figures under the names QEMU's query-migrate uses for xbzrle-cache. */
export interface SenderStatsQmp {
  'cache-size': number;
  bytes: number;
  pages: number;
  'cache-miss': number;
  'cache-miss-rate': number;
  'encoding-rate': number;
  overflow: number;
}

type SenderImpl = { native: true; handle: Handle } | { native: false; twin: TwinSender };

const statsBuf = new Float64Array(SENDER_STATS_LENGTH);

/** Bytes sendPages may write for n pages of pageSize with a block name of blockBytes. */
export function sendPagesCapacity(n: number, pageSize = 4096, blockBytes = 6): number {
  return n * (8 + 3 + pageSize) + 1 + blockBytes;
}

export class Sender {
  readonly cache: PageCache;
  readonly pageSize: number;
  readonly limit: number;
  #impl: SenderImpl;
  #body: Buffer;
  #blocks = new Map<string, Buffer>();

  constructor(options: SenderOptions) {
    checkOptions(options);
    if (options === undefined) throw new TypeError('The "options" argument must be an object, received undefined');
    const cache = options.cache;
    if (!(cache instanceof PageCache)) throw new TypeError('The "cache" option must be a PageCache');
    if (cache.closed) throw new RangeError('The "cache" option is a closed PageCache');
    const pageSize = options.pageSize ?? cache.pageSize;
    checkWhole(pageSize, 'pageSize', 1, MAX_PAGE_SIZE, 'option');
    if (pageSize !== cache.pageSize) {
      throw new RangeError(`The "pageSize" option (${pageSize}) must equal the cache's page size (${cache.pageSize})`);
    }
    const limit = options.limit ?? pageSize;
    checkWhole(limit, 'limit', 0, pageSize, 'option');
    this.cache = cache;
    this.pageSize = pageSize;
    this.limit = limit;
    const c = cache[CACHE_IMPL];
    this.#impl = c.native
      ? { native: true, handle: cacheAddon!.senderNew(c.handle, limit) }
      : { native: false, twin: new TwinSender(c.twin, limit) };
    this.#body = Buffer.allocUnsafe(pageSize + 3);
  }

  /** True when the sender runs in native code (its cache is native). */
  get native(): boolean {
    return this.#impl.native;
  }

  #live(): void {
    if (this.cache.closed) {
      const e = new Error("The sender's page cache is closed") as Error & { code: string };
      e.code = 'ERR_XBZRLE_CLOSED';
      throw e;
    }
  }

  /**
   * QEMU's steps for one dirty page: the first pass (before the first
   * nextGeneration()) sends it raw without caching; later a miss sends it raw
   * and caches it (unless lastStage), a hit sends the XBZRLE record of the
   * snapshot against the cached copy, nothing when unchanged, or the snapshot
   * raw on overflow; the cache is updated to what was sent (unless lastStage).
   */
  sendPage(addr: Address, page: Uint8Array, options?: SendPageOptions): SendResult {
    this.#live();
    checkAddress(addr);
    checkBytes(page, 'page');
    if (page.length !== this.pageSize) {
      throw new RangeError(`The "page" argument must be ${this.pageSize} bytes long, received ${page.length} bytes`);
    }
    const flags = this.#flags(options);
    const impl = this.#impl;
    const body = this.#body;
    const r = impl.native
      ? cacheAddon!.senderSendPage(impl.handle, addr, page, body, flags)
      : impl.twin.sendPage(addr, page, flags, body);
    const kind = SEND_KINDS[r & 3];
    if (kind === 'skip') return { kind };
    return { kind, body: Buffer.from(body.subarray(0, (r - (r & 3)) / 4)) };
  }

  /**
   * The same steps for a batch, in one native call: each page's record
   * (page header + body) is written to one buffer, ready to send. Pages are
   * one Uint8Array of addrs.length pages or an array of pages; addresses must
   * be multiples of 1024 (the header's flag bits lie below them).
   */
  sendPages(
    addrs: readonly Address[] | Float64Array | BigUint64Array,
    pages: Uint8Array | readonly Uint8Array[],
    options?: SendPagesOptions,
  ): SendPagesResult {
    this.#live();
    const a = toAddressArray(addrs);
    const n = a.length;
    const P = this.pageSize;
    if (Array.isArray(pages)) {
      if (pages.length !== n) {
        throw new RangeError(`The "pages" argument must hold ${n} pages (one per address), received ${pages.length}`);
      }
      for (let i = 0; i < n; i++) {
        const p: unknown = pages[i];
        // The fast test first: no name string is built for a good page (a
        // detached view has length 0, so it fails the length test too).
        if (p instanceof Uint8Array && p.length === P) continue;
        checkBytes(p, `pages[${i}]`);
        if (p.length !== P) throw new RangeError(`The "pages[${i}]" element must be ${P} bytes long, received ${p.length}`);
      }
    } else {
      checkBytes(pages, 'pages');
      if (pages.length !== n * P) {
        throw new RangeError(`The "pages" argument must be ${n} x ${P} = ${n * P} bytes long, received ${pages.length}`);
      }
    }
    return this.#batch(a, pages as Uint8Array | Uint8Array[], 0, options);
  }

  /**
   * sendPages for pages that lie in `memory`, an image of the RAM block
   * (offset 0 is address 0): the page of address a is memory[a, a + P). No
   * page list to build or check, which saves a Node-API call per page.
   */
  sendPagesFrom(memory: Uint8Array, addrs: readonly Address[] | Float64Array | BigUint64Array, options?: SendPagesOptions): SendPagesResult {
    this.#live();
    checkBytes(memory, 'memory');
    return this.#batch(toAddressArray(addrs), memory, FLAG_MEMORY, options);
  }

  #batch(a: AddressArray, pages: Uint8Array | Uint8Array[], mode: number, options?: SendPagesOptions): SendPagesResult {
    const n = a.length;
    const P = this.pageSize;
    let flags = this.#flags(options) | mode;
    checkFlag(options?.continued, 'continued');
    if (options?.continued) flags |= FLAG_CONTINUED;
    const block = this.#block(options?.block ?? 'pc.ram');
    const need = sendPagesCapacity(n, P, block.length);
    if (need > 0xffff_ffff) throw new RangeError(`The batch is too large: ${n} pages need ${need} bytes (at most 2^32 - 1)`);
    let out = options?.out;
    if (out === undefined) out = Buffer.allocUnsafe(need);
    else {
      checkBytes(out, 'out');
      if (out.length < need) {
        throw new RangeError(`The "out" option must hold at least ${need} bytes for ${n} pages, received ${out.length}`);
      }
    }
    // One allocation for the three tables.
    const tables = new ArrayBuffer(9 * n);
    const offsets = new Uint32Array(tables, 0, n);
    const lengths = new Uint32Array(tables, 4 * n, n);
    const kinds = new Uint8Array(tables, 8 * n, n);
    const impl = this.#impl;
    let written: number;
    if (impl.native) {
      written = cacheAddon!.senderSendPages(impl.handle, a, pages, out, kinds, offsets, lengths, flags, block);
    } else {
      const bad = badAddress(a, mode ? P : 0, mode ? (pages as Uint8Array).length : 0);
      written = bad >= 0 ? -bad - 1 : impl.twin.sendPages(a, pages, out, kinds, offsets, lengths, flags, block);
    }
    if (written < 0) {
      const i = -written - 1;
      const where = mode ? ` whose page lies inside the ${(pages as Uint8Array).length}-byte memory` : '';
      throw new RangeError(
        `The "addrs[${i}]" element must be a multiple of 1024 from 0 to 2^53 - 1 (or a bigint below 2^64)${where}, received ${String(a[i])}`,
      );
    }
    const data = Buffer.isBuffer(out) ? out.subarray(0, written) : Buffer.from(out.buffer, out.byteOffset, written);
    return { data, kinds, offsets, lengths };
  }

  /** Tells the sender addr was sent as a zero page: it is cached as zeros (not in the first pass). */
  zeroPage(addr: Address): void {
    this.#live();
    checkAddress(addr);
    const impl = this.#impl;
    if (impl.native) cacheAddon!.senderZeroPage(impl.handle, addr);
    else impl.twin.zeroPage(addr);
  }

  /**
   * Ends a period (a dirty-bitmap sync, one per pre-copy pass): the rates of
   * the period are computed, the generation advances, and the first call
   * ends the first (raw) pass.
   */
  nextGeneration(): void {
    const impl = this.#impl;
    if (impl.native) cacheAddon!.senderNextGeneration(impl.handle);
    else impl.twin.nextGeneration();
  }

  #stats(): Float64Array {
    const impl = this.#impl;
    if (impl.native) cacheAddon!.senderStats(impl.handle, statsBuf);
    else impl.twin.stats(statsBuf);
    return statsBuf;
  }

  get stats(): SenderStats {
    const s = this.#stats();
    return {
      cacheSize: s[0],
      bytes: s[1],
      pages: s[2],
      cacheMiss: s[3],
      cacheMissRate: s[4],
      encodingRate: s[5],
      overflow: s[6],
      generation: s[7],
      rawPages: s[8],
      xbzrlePages: s[9],
      skippedPages: s[10],
      zeroPages: s[11],
    };
  }

  statsQmp(): SenderStatsQmp {
    const s = this.#stats();
    return {
      'cache-size': s[0],
      bytes: s[1],
      pages: s[2],
      'cache-miss': s[3],
      'cache-miss-rate': s[4],
      'encoding-rate': s[5],
      overflow: s[6],
    };
  }

  #flags(options: SendPageOptions | undefined): number {
    checkOptions(options);
    checkFlag(options?.lastStage, 'lastStage');
    checkFlag(options?.detectZero, 'detectZero');
    return (options?.lastStage ? FLAG_LAST_STAGE : 0) | (options?.detectZero ? FLAG_DETECT_ZERO : 0);
  }

  #block(name: unknown): Buffer {
    if (typeof name !== 'string') throw new TypeError(`The "block" option must be a string, received ${typeof name}`);
    let b = this.#blocks.get(name);
    if (!b) {
      b = Buffer.from(name, 'utf8');
      if (b.length < 1 || b.length > 255) {
        throw new RangeError(`The "block" option must be 1 to 255 bytes of UTF-8, received ${b.length} bytes`);
      }
      this.#blocks.set(name, b);
    }
    return b;
  }
}

export interface ReceiverOptions {
  /** Default 4096. */
  pageSize?: number;
}

/**
 * The destination side. It needs no cache: each XBZRLE record is decoded onto
 * the destination's own copy of the page.
 */
export class Receiver {
  readonly pageSize: number;

  constructor(options: ReceiverOptions = {}) {
    checkOptions(options);
    const pageSize = options.pageSize ?? 4096;
    checkWhole(pageSize, 'pageSize', 1, MAX_PAGE_SIZE, 'option');
    this.pageSize = pageSize;
  }

  /**
   * Applies an XBZRLE record body (0x01, be16 length, delta) to `page` in
   * place and returns the bytes the delta covers. A wrong encoding flag, a
   * length over the page size, or a body shorter or longer than its length
   * throws a RecordError (offset in the body); a malformed delta an
   * XbzrleError (offset in the delta). The page is untouched on any error.
   */
  applyRecord(page: Uint8Array, body: Uint8Array): number {
    checkPage(page, 'page');
    if (page.length !== this.pageSize) {
      throw new RangeError(`The "page" argument must be ${this.pageSize} bytes long, received ${page.length} bytes`);
    }
    checkBytes(body, 'body');
    checkXbzrleBody(body, this.pageSize);
    return decodeInto(body.subarray(3), page);
  }

  /**
   * Applies a record from RecordReader to `memory`, the destination's image
   * of the record's block (ZERO fills the page, PAGE copies it, XBZRLE
   * decodes onto it; EOS and MEM_SIZE change nothing). Returns true when the
   * record changed or could have changed memory.
   */
  receive(memory: Uint8Array, record: RamRecord): boolean {
    checkBytes(memory, 'memory');
    if (record === null || typeof record !== 'object') throw new TypeError('The "record" argument must be a record');
    if (record.type === 'eos' || record.type === 'mem-size') return false;
    const P = this.pageSize;
    const off = typeof record.offset === 'bigint' ? Number(record.offset) : record.offset;
    if (!(off >= 0) || off + P > memory.length) {
      throw new RangeError(`The record's offset ${String(record.offset)} is outside the ${memory.length}-byte memory`);
    }
    const page = memory.subarray(off, off + P);
    const body = record.body;
    if (!body) throw new RecordError('body-short', 0, 'the record has no body');
    if (record.type === 'zero') page.fill(body[0]);
    else if (record.type === 'page') {
      if (body.length !== P) throw new RangeError(`A page record's body must be ${P} bytes, received ${body.length}`);
      page.set(body);
    }
    else if (record.type === 'xbzrle') this.applyRecord(page, body);
    else throw new TypeError(`The record's type ${String(record.type)} is unknown`);
    return true;
  }
}
