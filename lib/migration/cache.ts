// cache.ts: PageCache, the sender's cache of the pages it last sent
// (FORMAT.md 3), in native memory when the addon serves, else in the
// TypeScript twin. Page memory comes from one arena per cache, allocated on
// first insert and never more than the cache's size; a MemoryBudget can cap
// several caches together.
//
// Threads: a cache belongs to the JavaScript thread that created it.
import { BUDGET, MemoryBudget } from './budget';
import { checkAddress, checkGeneration, checkWhole, type Address } from '../util/checks';
import { MAX_PAGE_SIZE, checkBytes } from '../util/errors';
import { TwinPageCache } from '../twin/cache';
import { backend } from '../backend/kernels';
import { twinBackend } from '../backend/binding';
import { CACHE_STATS_LENGTH, INSERT_STORED, cacheAddon, type Handle } from '../backend/native-cache';

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

/** The two backends behind PageCache; internal. */
export type CacheImpl =
  | { native: true; handle: Handle }
  | { native: false; twin: TwinPageCache };

export const CACHE_IMPL = Symbol('xbzrle.cache');

const POLICIES: readonly CachePolicy[] = ['qemu', 'associative'];
const statsBuf = new Float64Array(CACHE_STATS_LENGTH);

function closedError(): Error {
  const e = new Error('The page cache is closed') as Error & { code: string };
  e.code = 'ERR_XBZRLE_CLOSED';
  return e;
}

function noMemory(what: string): Error {
  const e = new Error(`Out of memory for ${what}`) as Error & { code: string };
  e.code = 'ERR_XBZRLE_NO_MEMORY';
  return e;
}

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
  readonly [CACHE_IMPL]: CacheImpl;
  #closed = false;

  constructor(options: PageCacheOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`The "options" argument must be an object, received ${options === null ? 'null' : typeof options}`);
    }
    const pageSize = options.pageSize ?? 4096;
    checkWhole(pageSize, 'pageSize', 1, MAX_PAGE_SIZE, 'option');
    checkCacheSize(options.size, pageSize, 'option');
    const policy = options.policy ?? 'qemu';
    if (!POLICIES.includes(policy)) {
      throw new RangeError(`The "policy" option must be 'qemu' or 'associative', received ${String(policy)}`);
    }
    const ways = options.ways ?? 8;
    checkWhole(ways, 'ways', 1, 64, 'option');
    if (ways & (ways - 1)) throw new RangeError(`The "ways" option must be a power of two, received ${ways}`);
    const budget = options.budget;
    if (budget !== undefined && !(budget instanceof MemoryBudget)) {
      throw new TypeError('The "budget" option must be a MemoryBudget');
    }
    this.pageSize = pageSize;
    this.policy = policy;
    const assoc = policy === 'associative';
    // The twin serves when no addon loaded, or when useKernel('js') chose it.
    if (cacheAddon && backend() !== twinBackend) {
      const handle = cacheAddon.cacheNew(pageSize, options.size, assoc ? 1 : 0, ways, budget?.[BUDGET].handle ?? null);
      this[CACHE_IMPL] = { native: true, handle };
      this.native = true;
    } else {
      let twin: TwinPageCache;
      try {
        twin = new TwinPageCache(pageSize, options.size, assoc, ways, budget ? budget[BUDGET] : null);
      } catch {
        throw noMemory("the page cache's slot table");
      }
      this[CACHE_IMPL] = { native: false, twin };
      this.native = false;
    }
  }

  #check(): CacheImpl {
    if (this.#closed) throw closedError();
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
    return impl.native ? cacheAddon!.cacheLookup(impl.handle, addr, generation) : impl.twin.lookup(addr, generation);
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
    checkBytes(page, 'page');
    if (page.length !== this.pageSize) {
      throw new RangeError(`The "page" argument must be ${this.pageSize} bytes long, received ${page.length} bytes`);
    }
    checkGeneration(generation);
    const r = impl.native
      ? cacheAddon!.cacheInsert(impl.handle, addr, page, generation)
      : impl.twin.insert(addr, page, generation);
    return r === INSERT_STORED;
  }

  /** A copy of the cached page for addr, or undefined. The age is not touched. */
  get(addr: Address): Buffer | undefined {
    const impl = this.#check();
    checkAddress(addr);
    const out = Buffer.allocUnsafe(this.pageSize);
    const hit = impl.native ? cacheAddon!.cacheGet(impl.handle, addr, out) : impl.twin.get(addr, out);
    return hit ? out : undefined;
  }

  /**
   * Changes the size (a power-of-two number of pages), live during a
   * migration. Entries that still fit are kept (the youngest win a contested
   * slot) without new page memory; memory past them goes back to the budget.
   */
  resize(size: number): void {
    const impl = this.#check();
    checkCacheSize(size, this.pageSize, 'argument');
    const ok = impl.native ? cacheAddon!.cacheResize(impl.handle, size) : impl.twin.resize(size);
    if (!ok) throw noMemory("the resized page cache's slot table");
  }

  /** Drops every entry and gives all page memory back. */
  clear(): void {
    if (this.#closed) return;
    const impl = this[CACHE_IMPL];
    if (impl.native) cacheAddon!.cacheClear(impl.handle, false);
    else impl.twin.clear();
  }

  /** Frees everything (page memory goes back to the budget); later calls throw, except clear/close/stats. */
  close(): void {
    if (this.#closed) return;
    const impl = this[CACHE_IMPL];
    if (impl.native) cacheAddon!.cacheClear(impl.handle, true);
    else impl.twin.close();
    this.#closed = true;
  }

  #stats(): Float64Array {
    const impl = this[CACHE_IMPL];
    if (impl.native) cacheAddon!.cacheStats(impl.handle, statsBuf);
    else impl.twin.stats(statsBuf);
    return statsBuf;
  }

  get stats(): PageCacheStats {
    const s = this.#stats();
    return {
      size: s[0],
      pageSize: s[1],
      policy: this.policy,
      slots: s[2],
      ways: s[3],
      pages: s[4],
      lookups: s[7],
      hits: s[8],
      misses: s[7] - s[8],
      inserts: s[9],
      refused: s[10],
      refusedBudget: s[11],
      refusedMemory: s[12],
      evictions: s[13],
      closed: s[14] === 1,
    };
  }

  get memoryUsage(): CacheMemoryUsage {
    const s = this.#stats();
    return { pages: s[5], metadata: s[6], total: s[5] + s[6] };
  }
}
