// sender.ts: the Sender with QEMU's XBZRLE semantics (docs/FORMAT.md §3): what it
// does with each dirty page, and its statistics. It runs in the backend of
// its cache (a SenderBackend: native code, sendPages a whole batch in one
// call, or the TypeScript twin). Every argument and option is read and
// checked here, before the backend runs, so both backends see the same
// checked inputs and raise the same errors.
//
// Threads: a sender belongs to the JavaScript thread that created it.
import type { XbzrleCacheStats } from '../qmp/types';
import { CACHE_IMPL, PageCache } from './cache';
import {
  MAX_PAGE_SIZE,
  checkAddress,
  checkBlockName,
  checkBytes,
  checkFlag,
  checkLength,
  checkOptions,
  checkWhole,
  describe,
  overlaps,
  toAddressArray,
  type Address,
  type AddressArray,
} from '../util/checks';
import { ClosedError } from '../util/errors';
import type { SenderBackend } from '../backend/cache-backend';
import * as abi from '../backend/abi';
import { FLAG_CONTINUED, FLAG_DETECT_ZERO, FLAG_LAST_STAGE, FLAG_MEMORY, SENDER_STATS_LENGTH } from '../backend/abi';

/** What the sender does with a page. 'zero' only with `detectZero`. */
export type SendKind = 'skip' | 'raw' | 'xbzrle' | 'zero';

/** The kinds of sendPages' `kinds` table, by code: 0 skip, 1 raw, 2 xbzrle, 3 zero. */
export const SEND_KINDS: readonly SendKind[] = (() => {
  const k: SendKind[] = [];
  k[abi.KIND_SKIP] = 'skip';
  k[abi.KIND_RAW] = 'raw';
  k[abi.KIND_XBZRLE] = 'xbzrle';
  k[abi.KIND_ZERO] = 'zero';
  return k;
})();

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
export type SenderStatsQmp = XbzrleCacheStats;

const statsBuf = new Float64Array(SENDER_STATS_LENGTH);

/** A batch's options, read once. */
interface BatchOptions {
  flags: number;
  block: Buffer;
  out: Uint8Array | undefined;
}

/** Bytes sendPages may write for n pages of pageSize with a block name of blockBytes. */
export function sendPagesCapacity(n: number, pageSize = 4096, blockBytes = 6): number {
  return n * (8 + 3 + pageSize) + 1 + blockBytes;
}

export class Sender {
  readonly cache: PageCache;
  readonly pageSize: number;
  readonly limit: number;
  #impl: SenderBackend;
  readonly #native: boolean;
  #body: Buffer;
  #blocks = new Map<string, Buffer>();

  constructor(options: SenderOptions) {
    checkOptions(options);
    if (options === undefined) throw new TypeError('The "options" argument must be an object, received undefined');
    const cache = options.cache;
    if (!(cache instanceof PageCache)) throw new TypeError(`The "cache" option must be a PageCache, received ${describe(cache)}`);
    if (cache.closed) throw new RangeError('The "cache" option is a closed PageCache');
    const pageSize = options.pageSize ?? cache.pageSize;
    checkWhole(pageSize, 'pageSize', 1, MAX_PAGE_SIZE, 'option');
    if (pageSize !== cache.pageSize) {
      throw new RangeError(`The "pageSize" option (${pageSize}) must equal the cache's page size (${cache.pageSize})`);
    }
    const limit = options.limit ?? pageSize;
    checkWhole(limit, 'limit', 0, pageSize, 'option');
    // A getter above may have closed the cache.
    if (cache.closed) throw new RangeError('The "cache" option is a closed PageCache');
    this.cache = cache;
    this.pageSize = pageSize;
    this.limit = limit;
    const c = cache[CACHE_IMPL];
    this.#impl = c.sender(limit);
    this.#native = c.native;
    this.#body = Buffer.allocUnsafe(pageSize + 3);
  }

  /** True when the sender runs in native code (its cache is native). */
  get native(): boolean {
    return this.#native;
  }

  // Called after the options are read: a getter may close the cache.
  #live(): void {
    if (this.cache.closed) throw new ClosedError("The sender's page cache is closed");
  }

  /**
   * QEMU's steps for one dirty page: the first pass (before the first
   * nextGeneration()) sends it raw without caching; later a miss sends it raw
   * and caches it (unless lastStage), a hit sends the XBZRLE record of the
   * snapshot against the cached copy, nothing when unchanged, or the snapshot
   * raw on overflow; the cache is updated to what was sent (unless lastStage).
   */
  sendPage(addr: Address, page: Uint8Array, options?: SendPageOptions): SendResult {
    const flags = this.#flags(options);
    this.#live();
    checkAddress(addr);
    checkLength(page, 'page', this.pageSize);
    const body = this.#body;
    const r = this.#impl.sendPage(addr, page, body, flags);
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
    const read = this.#batchOptions(options);
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
        checkLength(p, `pages[${i}]`, P, 'element');
      }
    } else {
      checkBytes(pages, 'pages');
      if (pages.length !== n * P) {
        throw new RangeError(`The "pages" argument must be ${n} x ${P} = ${n * P} bytes long, received ${pages.length} bytes`);
      }
    }
    return this.#batch(a, pages as Uint8Array | Uint8Array[], read);
  }

  /**
   * sendPages for pages that lie in `memory`, an image of the RAM block
   * (offset 0 is address 0): the page of address a is memory[a, a + P). No
   * page list to build or check, which saves a Node-API call per page.
   */
  sendPagesFrom(memory: Uint8Array, addrs: readonly Address[] | Float64Array | BigUint64Array, options?: SendPagesOptions): SendPagesResult {
    const read = this.#batchOptions(options);
    read.flags |= FLAG_MEMORY;
    this.#live();
    checkBytes(memory, 'memory');
    return this.#batch(toAddressArray(addrs), memory, read);
  }

  /** Reads every option of a batch once (getters run here, before any check of memory). */
  #batchOptions(options: SendPagesOptions | undefined): BatchOptions {
    let flags = this.#flags(options);
    const continued = options?.continued;
    checkFlag(continued, 'continued');
    if (continued) flags |= FLAG_CONTINUED;
    const block = this.#block(options?.block ?? 'pc.ram');
    const out = options?.out;
    return { flags, block, out };
  }

  #batch(a: AddressArray, pages: Uint8Array | Uint8Array[], read: BatchOptions): SendPagesResult {
    const n = a.length;
    const P = this.pageSize;
    const { flags, block } = read;
    const need = sendPagesCapacity(n, P, block.length);
    if (need > 0xffff_ffff) throw new RangeError(`The batch is too large: ${n} pages need ${need} bytes (at most 2^32 - 1)`);
    let out = read.out;
    if (out === undefined) out = Buffer.allocUnsafe(need);
    else {
      checkBytes(out, 'out', 'option');
      if (out.length < need) {
        throw new RangeError(`The "out" option must hold at least ${need} bytes for ${n} pages, received ${out.length} bytes`);
      }
      // The loop reads the pages while it writes out: they must be apart.
      const o = out;
      if (Array.isArray(pages) ? pages.some((p) => overlaps(p, o)) : overlaps(pages, o)) {
        throw new RangeError(`The "out" option must not share memory with the ${flags & FLAG_MEMORY ? 'memory' : 'pages'}`);
      }
    }
    // One allocation for the three tables.
    const tables = new ArrayBuffer(9 * n);
    const offsets = new Uint32Array(tables, 0, n);
    const lengths = new Uint32Array(tables, 4 * n, n);
    const kinds = new Uint8Array(tables, 8 * n, n);
    const written = this.#impl.sendPages(a, pages, out, kinds, offsets, lengths, flags, block);
    if (written < 0) {
      const i = -written - 1;
      const where = flags & FLAG_MEMORY ? ` whose page lies inside the ${(pages as Uint8Array).length}-byte memory` : '';
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
    this.#impl.zeroPage(addr);
  }

  /**
   * Ends a period (a dirty-bitmap sync, one per pre-copy pass): the rates of
   * the period are computed, the generation advances, and the first call
   * ends the first (raw) pass.
   */
  nextGeneration(): void {
    this.#impl.nextGeneration();
  }

  #stats(): Float64Array {
    this.#impl.stats(statsBuf);
    return statsBuf;
  }

  get stats(): SenderStats {
    const s = this.#stats();
    return {
      cacheSize: s[abi.SENDER_STAT_CACHE_SIZE],
      bytes: s[abi.SENDER_STAT_BYTES],
      pages: s[abi.SENDER_STAT_PAGES],
      cacheMiss: s[abi.SENDER_STAT_CACHE_MISS],
      cacheMissRate: s[abi.SENDER_STAT_CACHE_MISS_RATE],
      encodingRate: s[abi.SENDER_STAT_ENCODING_RATE],
      overflow: s[abi.SENDER_STAT_OVERFLOW],
      generation: s[abi.SENDER_STAT_GENERATION],
      rawPages: s[abi.SENDER_STAT_RAW],
      xbzrlePages: s[abi.SENDER_STAT_RECORDS],
      skippedPages: s[abi.SENDER_STAT_SKIPPED],
      zeroPages: s[abi.SENDER_STAT_ZERO],
    };
  }

  statsQmp(): SenderStatsQmp {
    const s = this.#stats();
    return {
      'cache-size': s[abi.SENDER_STAT_CACHE_SIZE],
      bytes: s[abi.SENDER_STAT_BYTES],
      pages: s[abi.SENDER_STAT_PAGES],
      'cache-miss': s[abi.SENDER_STAT_CACHE_MISS],
      'cache-miss-rate': s[abi.SENDER_STAT_CACHE_MISS_RATE],
      'encoding-rate': s[abi.SENDER_STAT_ENCODING_RATE],
      overflow: s[abi.SENDER_STAT_OVERFLOW],
    };
  }

  #flags(options: SendPageOptions | undefined): number {
    checkOptions(options);
    checkFlag(options?.lastStage, 'lastStage');
    checkFlag(options?.detectZero, 'detectZero');
    return (options?.lastStage ? FLAG_LAST_STAGE : 0) | (options?.detectZero ? FLAG_DETECT_ZERO : 0);
  }

  #block(name: unknown): Buffer {
    let b = this.#blocks.get(name as string);
    if (!b) {
      b = checkBlockName(name, 'block', 'option');
      this.#blocks.set(name as string, b);
    }
    return b;
  }
}
