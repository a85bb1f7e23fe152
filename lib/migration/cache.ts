// cache.ts: PageCache, the sender's cache of the pages it last sent
// (docs/FORMAT.md §3), in native memory when the addon serves, else in the
// TypeScript twin: one CacheBackend (lib/backend/cache-backend.ts) either
// way. Page memory comes from one arena per cache, allocated on first insert
// and never more than the cache's size; a MemoryBudget can cap several
// caches together.
//
// Threads: a cache belongs to the JavaScript thread that created it.
import { BUDGET, MemoryBudget } from './budget';
import { MAX_PAGE_SIZE, checkAddress, checkGeneration, checkLength, checkWhole, describe, type Address } from '../util/checks';
import { ClosedError, NoMemoryError } from '../util/errors';
import type { CacheBackend } from '../backend/cache-backend';
import { openCache } from '../backend/open-cache';
import * as abi from '../backend/abi';
import { metadataBytes } from '../twin/cache';

/**
 * 'qemu': QEMU's direct-mapped cache, exactly: slot = (addr / P) & (N - 1).
 * 'associative': N/W sets of W ways (set = (addr / P) & (N/W - 1)); an insert
 * replaces the oldest way that QEMU's lifetime rule lets go.
 */
export type CachePolicy = 'qemu' | 'associative';

export interface PageCacheOptions {
  /** Bytes of page data the cache may hold: a power-of-two number of pages. */
  size: number;
  /** Default 4096; 1 to 16384. */
  pageSize?: number;
  /** Default 'qemu'. */
  policy?: CachePolicy;
  /** Ways per set for 'associative': a power of two from 1 to 64; default 8. */
  ways?: number;
  /** Page memory is drawn from this budget, shared with other caches. */
  budget?: MemoryBudget;
}

export interface PageCacheStats {
  size: number;
  pageSize: number;
  policy: CachePolicy;
  /** Slots (N = size / pageSize) and ways per set (1 for 'qemu'). */
  slots: number;
  ways: number;
  /** Pages held now. */
  pages: number;
  lookups: number;
  hits: number;
  misses: number;
  /** Pages stored (new, replacing another, or overwriting the same address). */
  inserts: number;
  /** Inserts refused by QEMU's lifetime rule (the slot's page is too young). */
  refused: number;
  /** Inserts refused because the budget could not fund a new page. */
  refusedBudget: number;
  /** Inserts refused because the allocator failed. */
  refusedMemory: number;
  /** Inserts that replaced another address. */
  evictions: number;
  closed: boolean;
}

export interface CacheMemoryUsage {
  /** Page memory allocated (never more than the size). */
  pages: number;
  /** Slot table and chunk tables. */
  metadata: number;
  total: number;
}

/** The backend behind a PageCache (native or twin); internal. */
export const CACHE_IMPL = Symbol('xbzrle.cache');

const POLICIES: readonly CachePolicy[] = ['qemu', 'associative'];
const statsBuf = new Float64Array(abi.CACHE_STATS_LENGTH);

/** RangeError unless size is a power-of-two number (<= 2^31) of pages. */
function checkCacheSize(size: unknown, pageSize: number, kind: 'argument' | 'option'): asserts size is number {
  checkWhole(size, 'size', 1, Number.MAX_SAFE_INTEGER, kind);
  const n = size / pageSize;
  if (!Number.isInteger(n) || n > 2 ** 31 || 2 ** Math.round(Math.log2(n)) !== n) {
    throw new RangeError(
      `The "size" ${kind} must be a power-of-two number of ${pageSize}-byte pages (at most 2^31), received ${size}`,
    );
  }
}

export class PageCache {
  readonly pageSize: number;
  readonly policy: CachePolicy;
  /** True when the cache lives in native memory (the addon), false in the twin. */
  readonly native: boolean;
  readonly [CACHE_IMPL]: CacheBackend;
  #closed = false;
  #budget: MemoryBudget | undefined;

  constructor(options: PageCacheOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`The "options" argument must be an object, received ${describe(options)}`);
    }
    const pageSize = options.pageSize ?? 4096;
    checkWhole(pageSize, 'pageSize', 1, MAX_PAGE_SIZE, 'option');
    checkCacheSize(options.size, pageSize, 'option');
    const policy = options.policy ?? 'qemu';
    if (!POLICIES.includes(policy)) {
      throw new RangeError(`The "policy" option must be 'qemu' or 'associative', received ${describe(policy)}`);
    }
    const ways = options.ways ?? 8;
    checkWhole(ways, 'ways', 1, 64, 'option');
    if (ways & (ways - 1)) throw new RangeError(`The "ways" option must be a power of two, received ${ways}`);
    const budget = options.budget;
    if (budget !== undefined && !(budget instanceof MemoryBudget)) {
      throw new TypeError(`The "budget" option must be a MemoryBudget, received ${describe(budget)}`);
    }
    this.pageSize = pageSize;
    this.policy = policy;
    if (budget) checkMetadataFits(options.size, pageSize, budget, 'option');
    const geometry = { pageSize, size: options.size, associative: policy === 'associative', ways };
    let impl: CacheBackend;
    try {
      impl = openCache(geometry, budget ? budget[BUDGET] : null);
    } catch (err) {
      // The twin's typed arrays throw a RangeError when they cannot be had;
      // the addon throws its own ERR_XBZRLE_NO_MEMORY.
      if (err instanceof RangeError) throw new NoMemoryError('slot-table', "the page cache's slot table");
      throw err;
    }
    this[CACHE_IMPL] = impl;
    this.native = impl.native;
    this.#budget = budget;
  }

  #check(): CacheBackend {
    if (this.#closed) throw new ClosedError();
    return this[CACHE_IMPL];
  }

  /** Bytes of page data the cache may hold. */
  get size(): number {
    return this.#stats()[0];
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** True when the cache holds addr; a hit sets the entry's age to `generation`. */
  lookup(addr: Address, generation: number): boolean {
    const impl = this.#check();
    checkAddress(addr);
    checkGeneration(generation);
    return impl.lookup(addr, generation);
  }

  /**
   * Stores a copy of `page` for addr with age `generation`. False when
   * refused: the slot (for 'associative', every way of the set) holds another
   * page used in the last two generations, or the budget or the allocator
   * could not provide a new page (each counted in `stats`).
   */
  insert(addr: Address, page: Uint8Array, generation: number): boolean {
    const impl = this.#check();
    checkAddress(addr);
    checkLength(page, 'page', this.pageSize);
    checkGeneration(generation);
    const r = impl.insert(addr, page, generation);
    if (r === abi.INSERT_CLOSED) throw new ClosedError();
    return r === abi.INSERT_STORED;
  }

  /** A copy of the cached page for addr, or undefined. The age is not touched. */
  get(addr: Address): Buffer | undefined {
    const impl = this.#check();
    checkAddress(addr);
    const out = Buffer.allocUnsafe(this.pageSize);
    return impl.get(addr, out) ? out : undefined;
  }

  /**
   * Changes the size (a power-of-two number of pages), live during a
   * migration. Entries that still fit are kept (the youngest win a contested
   * slot) without new page memory; memory past them goes back to the budget.
   */
  resize(size: number): void {
    const impl = this.#check();
    checkCacheSize(size, this.pageSize, 'argument');
    if (this.#budget) checkMetadataFits(size, this.pageSize, this.#budget, 'argument');
    if (!impl.resize(size)) throw new NoMemoryError('slot-table', "the resized page cache's slot table");
  }

  /** Drops every entry and gives all page memory back. */
  clear(): void {
    if (this.#closed) return;
    this[CACHE_IMPL].clear();
  }

  /** Frees everything (page memory goes back to the budget); later calls throw, except clear/close/stats. */
  close(): void {
    if (this.#closed) return;
    this[CACHE_IMPL].close();
    this.#closed = true;
  }

  #stats(): Float64Array {
    this[CACHE_IMPL].stats(statsBuf);
    return statsBuf;
  }

  get stats(): PageCacheStats {
    const s = this.#stats();
    return {
      size: s[abi.CACHE_STAT_SIZE],
      pageSize: s[abi.CACHE_STAT_PAGE_SIZE],
      policy: this.policy,
      slots: s[abi.CACHE_STAT_SLOTS],
      ways: s[abi.CACHE_STAT_WAYS],
      pages: s[abi.CACHE_STAT_PAGES],
      lookups: s[abi.CACHE_STAT_LOOKUPS],
      hits: s[abi.CACHE_STAT_HITS],
      misses: s[abi.CACHE_STAT_LOOKUPS] - s[abi.CACHE_STAT_HITS],
      inserts: s[abi.CACHE_STAT_INSERTS],
      refused: s[abi.CACHE_STAT_REFUSED_YOUNG],
      refusedBudget: s[abi.CACHE_STAT_REFUSED_BUDGET],
      refusedMemory: s[abi.CACHE_STAT_REFUSED_MEMORY],
      evictions: s[abi.CACHE_STAT_EVICTIONS],
      closed: s[abi.CACHE_STAT_CLOSED] === 1,
    };
  }

  get memoryUsage(): CacheMemoryUsage {
    const s = this.#stats();
    const pages = s[abi.CACHE_STAT_PAGE_BYTES];
    const metadata = s[abi.CACHE_STAT_METADATA_BYTES];
    return { pages, metadata, total: pages + metadata };
  }
}

/**
 * The metadata of a cache of `size` bytes (what memoryUsage().metadata
 * reports): 16 bytes a slot, written at construction, plus the chunk table.
 */
function cacheMetadata(size: number, pageSize: number): number {
  const slots = size / pageSize;
  const chunkPages = 2 ** Math.floor(Math.log2(Math.max(1, Math.floor(abi.CACHE_METADATA_CHUNK_BYTES / pageSize))));
  return metadataBytes(slots, Math.ceil(slots / chunkPages));
}

/** Slot tables any budgeted cache may have, even with a budget of 0. */
export const FREE_METADATA_BYTES = 64 * 1024;

// The budget bounds page memory; a geometry whose tables alone outgrow it
// (2^26 one-byte pages cost 1 GiB of slots) would allocate far outside it.
function checkMetadataFits(size: number, pageSize: number, budget: MemoryBudget, kind: 'option' | 'argument'): void {
  const metadata = cacheMetadata(size, pageSize);
  if (metadata > Math.max(budget.size, FREE_METADATA_BYTES)) {
    throw new RangeError(
      `A cache of ${size} bytes in ${pageSize}-byte pages needs ${metadata} bytes of slot tables, more than its budget of ${budget.size} bytes; use larger pages, a smaller "size" ${kind} or a larger budget`,
    );
  }
}
