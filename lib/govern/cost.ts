// govern/cost.ts: what an XBZRLE cache really costs the source host, so that
// a budget of host memory is a budget of host memory and not of
// `xbzrle-cache-size`.
//
// From docs/FORMAT.md §3: the cache has N = size / P slots, N a power of
// two; each slot holds an address, a page and an age; page memory is
// allocated on first insert, one page at a time. So, in QEMU:
//
//   cost(size) = N x (P + MALLOC_OVERHEAD)   pages, each its own allocation
//              + N x SLOT_BYTES             the slot table (pointer, age, address), allocated up front
//              + BUFFERS x P                the encode buffer, the snapshot of the page, a zero page
//
// with SLOT_BYTES = 24 (three 8-byte words) and MALLOC_OVERHEAD = 16 (glibc's
// chunk header and rounding for a 4 KiB request). For the default 64 MiB at
// 4 KiB pages: 64 MiB + 16384 x 40 B + 12 KiB = 64.64 MiB.
// The full cost is charged from the moment the size is set (pages fill
// within a pass or two), and during a resize both the old and the new cache
// are charged until QEMU has answered, since it builds the new one before it
// frees the old.
import { floorPowerOfTwo } from '../util/sizes';

export const SLOT_BYTES = 24;
export const MALLOC_OVERHEAD = 16;
export const BUFFERS = 3;

/** Host bytes a cache of `size` bytes (page size `pageSize`) takes at most; 0 for no cache. */
export function cacheCost(size: number, pageSize = 4096): number {
  if (size <= 0) return 0;
  const n = Math.floor(size / pageSize);
  return n * (pageSize + MALLOC_OVERHEAD + SLOT_BYTES) + BUFFERS * pageSize;
}

/** The largest cache size (a power-of-two number of pages) whose cost fits in `bytes`, or 0. */
export function largestCacheWithin(bytes: number, pageSize = 4096): number {
  if (bytes < cacheCost(pageSize, pageSize)) return 0;
  const n = floorPowerOfTwo(Math.floor((bytes - BUFFERS * pageSize) / (pageSize + MALLOC_OVERHEAD + SLOT_BYTES)));
  return n >= 1 ? n * pageSize : 0;
}
