// native-cache.ts: the addon's page cache, budget and sender entry points
// (native/addon/addon.cc, the cache_glue block), typed. Internal.
import { addon } from './binding';

/** A native handle (an external); only the addon can read it. */
export type Handle = object;

export interface CacheAddon {
  budgetNew(size: number): Handle;
  budgetInfo(b: Handle, out: Float64Array): void;
  budgetTake(b: Handle, bytes: number): boolean;
  budgetGive(b: Handle, bytes: number): void;
  cacheNew(pageSize: number, size: number, policy: number, ways: number, budget: Handle | null): Handle;
  cacheLookup(c: Handle, addr: number | bigint, generation: number): boolean;
  cacheInsert(c: Handle, addr: number | bigint, page: Uint8Array, generation: number): number;
  cacheGet(c: Handle, addr: number | bigint, out: Uint8Array): boolean;
  cacheResize(c: Handle, size: number): boolean;
  cacheClear(c: Handle, close: boolean): void;
  cacheStats(c: Handle, out: Float64Array): void;
  senderNew(c: Handle, limit: number): Handle;
  senderSendPage(s: Handle, addr: number | bigint, page: Uint8Array, body: Uint8Array, flags: number): number;
  senderSendPages(
    s: Handle,
    addrs: Float64Array | BigUint64Array,
    pages: Uint8Array | Uint8Array[],
    out: Uint8Array,
    kinds: Uint8Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    flags: number,
    block: Uint8Array,
  ): number;
  senderZeroPage(s: Handle, addr: number | bigint): void;
  senderNextGeneration(s: Handle): void;
  senderStats(s: Handle, out: Float64Array): void;
}

/** The addon's cache surface, or null when the twin serves (or an older build lacks it). */
export const cacheAddon: CacheAddon | null =
  addon && typeof (addon as unknown as Partial<CacheAddon>).cacheNew === 'function'
    ? (addon as unknown as CacheAddon)
    : null;

/** Layout of the cache stats array (native/addon/addon.cc CacheStats, lib/twin/cache.ts). */
export const CACHE_STATS_LENGTH = 15;
/** Layout of the sender stats array (native/addon/addon.cc SenderStats, lib/twin/sender.ts). */
export const SENDER_STATS_LENGTH = 12;

/** What insert() did; the numbers match native/core/page_cache.h `Insert`. */
export const INSERT_STORED = 1;
export const INSERT_YOUNG = 0;
export const INSERT_BUDGET = -1;
export const INSERT_MEMORY = -2;

/** Sender flags shared by the addon and the twin. */
export const FLAG_LAST_STAGE = 1;
export const FLAG_DETECT_ZERO = 2;
export const FLAG_CONTINUED = 4;
/** sendPages: `pages` is a memory image indexed by address. */
export const FLAG_MEMORY = 8;
