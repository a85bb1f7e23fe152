// cache-backend.ts: what the page cache, the budget and the sender need from
// a backend, as the codec's Backend (binding.ts) is for the codec. Two
// implementations of each: native (native-cache-backend.ts, over the addon)
// and twin (lib/twin/budget.ts, cache.ts, sender.ts). lib/migration holds
// one backend object per PageCache, MemoryBudget and Sender and never asks
// which it is.
import type { Address } from '../util/checks';
import type { Handle, SendPagesArgs } from './addon';

/** A byte budget several caches draw page memory from. */
export interface BudgetBackend {
  /** The native budget a native cache draws from, or null for a twin budget. */
  readonly handle: Handle | null;
  /** Takes `bytes` if available; false (nothing taken) otherwise. */
  take(bytes: number): boolean;
  give(bytes: number): void;
  available(): number;
}

/** A cache's geometry, checked by the caller. */
export interface CacheGeometry {
  pageSize: number;
  /** Bytes of page data: a power-of-two number of pages, at most 2^31. */
  size: number;
  associative: boolean;
  /** Ways per set for associative (a power of two, 1 to 64). */
  ways: number;
}

/** The page cache store (native/core/page_cache.h PageCache). */
export interface CacheBackend {
  /** True when the store is in native memory. */
  readonly native: boolean;
  lookup(addr: Address, generation: number): boolean;
  /** An INSERT_* code (INSERT_CLOSED once closed). */
  insert(addr: Address, page: Uint8Array, generation: number): number;
  /** Copies the page into out (P bytes); false on a miss. */
  get(addr: Address, out: Uint8Array): boolean;
  /** False when the new slot table cannot be allocated (nothing changed). */
  resize(size: number): boolean;
  clear(): void;
  close(): void;
  /** Fills the CACHE_STATS_LENGTH slots (CACHE_STAT_* in abi.ts). */
  stats(out: Float64Array): void;
  /** A sender over this cache, in the same backend. */
  sender(limit: number): SenderBackend;
}

/** QEMU's sender steps over a cache (native/core/sender.h Sender). */
export interface SenderBackend {
  /** One page into body (P + 3 bytes); returns kind + 4 * body length. */
  sendPage(addr: Address, page: Uint8Array, body: Uint8Array, flags: number): number;
  /**
   * A batch of records into out; returns the bytes written, or -(i + 1) when
   * addrs[i] cannot go in a header (with FLAG_MEMORY: or its page is not
   * inside the memory image). The caller checked sizes and overlaps.
   */
  sendPages(...args: SendPagesArgs): number;
  zeroPage(addr: Address): void;
  nextGeneration(): void;
  /** Fills the SENDER_STATS_LENGTH slots (SENDER_STAT_* in abi.ts). */
  stats(out: Float64Array): void;
}
