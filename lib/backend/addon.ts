// addon.ts: the one typing of the native addon's surface (native/addon/*.cc)
// and of the codec interface the addon and the twin share. Types only; the
// numbers the calls exchange are in abi.ts, generated from native/core/abi.h.

import type { AddressArray } from '../util/checks';

// The batch calls' argument lists, named once: the Backend, the addon, the
// twin and the sender backends all take them as they stand.
export type EncodePagesArgs = [
  oldPages: Uint8Array, newPages: Uint8Array, oldIndexes: Uint32Array | null, indexes: Uint32Array | null,
  pageSize: number, limit: number, out: Uint8Array, offsets: Uint32Array, lengths: Int32Array,
];
export type DecodePagesArgs = [
  deltas: Uint8Array, offsets: Uint32Array, lengths: Int32Array, pages: Uint8Array,
  indexes: Uint32Array | null, pageSize: number,
];
export type SendPagesArgs = [
  addrs: AddressArray, pages: Uint8Array | Uint8Array[], out: Uint8Array, kinds: Uint8Array,
  offsets: Uint32Array, lengths: Uint32Array, flags: number, block: Uint8Array,
];

/** What the codec needs from a backend: the native addon or the twin. */
export interface Backend {
  encodeInto(oldPage: Uint8Array, newPage: Uint8Array, out: Uint8Array, limit: number): number;
  decodeInto(delta: Uint8Array, page: Uint8Array): number;
  /** Encodes lengths.length pages back to back into out; returns the bytes written. */
  encodePages(...args: EncodePagesArgs): number;
  /** Applies every valid delta; null, or the rejections as [page, packed, ...]. */
  decodePages(...args: DecodePagesArgs): number[] | null;
}

/** An async batch running in the addon (an opaque handle for cancelJob). */
export type NativeJob = { readonly __nativeJob: unique symbol };

/** A native budget, cache or sender handle (a type-tagged external). */
export type Handle = object;

/**
 * Called once when an async batch ends: state 0 with the result (bytes
 * written, or the rejections), 1 after cancelJob, 2 with an error message.
 */
export type JobDone = (state: number, value: unknown) => void;

/** The addon's surface. */
export interface NativeAddon extends Backend {
  kernels(): string[];
  kernel(): string;
  useKernel(name: string): boolean;
  encodePagesStart(
    ...args: [...EncodePagesArgs, works: number, chunkPages: number, done: JobDone]
  ): NativeJob;
  decodePagesStart(
    ...args: [...DecodePagesArgs, works: number, chunkPages: number, done: JobDone]
  ): NativeJob;
  cancelJob(job: NativeJob): void;
  /** The function async batches call on each ArrayBuffer they use. */
  setUntransferable?(markAsUntransferable: (ab: object) => void): void;
  /** [jobs still holding their inputs, jobs not yet freed], process-wide. */
  jobCounts(): [number, number];

  budgetNew(size: number): Handle;
  /** Fills BUDGET_INFO_LENGTH slots. */
  budgetInfo(b: Handle, out: Float64Array): void;
  budgetTake(b: Handle, bytes: number): boolean;
  budgetGive(b: Handle, bytes: number): void;
  cacheNew(pageSize: number, size: number, policy: number, ways: number, budget: Handle | null): Handle;
  cacheLookup(c: Handle, addr: number | bigint, generation: number): boolean;
  /** An INSERT_* code. */
  cacheInsert(c: Handle, addr: number | bigint, page: Uint8Array, generation: number): number;
  cacheGet(c: Handle, addr: number | bigint, out: Uint8Array): boolean;
  cacheResize(c: Handle, size: number): boolean;
  cacheClear(c: Handle, close: boolean): void;
  /** Fills CACHE_STATS_LENGTH slots (CACHE_STAT_*). */
  cacheStats(c: Handle, out: Float64Array): void;
  senderNew(c: Handle, limit: number): Handle;
  /** FLAG_* flags; returns KIND_* + 4 * body length. */
  senderSendPage(s: Handle, addr: number | bigint, page: Uint8Array, body: Uint8Array, flags: number): number;
  senderSendPages(s: Handle, ...args: SendPagesArgs): number;
  senderZeroPage(s: Handle, addr: number | bigint): void;
  senderNextGeneration(s: Handle): void;
  /** Fills SENDER_STATS_LENGTH slots (SENDER_STAT_*). */
  senderStats(s: Handle, out: Float64Array): void;
}
