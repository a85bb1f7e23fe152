// batch-async.ts: the batch functions on the libuv thread pool, split across
// threads when the batch is large enough to pay for it, cancellable.
import * as os from 'node:os';
import { addon, type JobDone, type NativeJob } from '../backend/binding';
import { backend } from '../backend/kernels';
import { checkInteger, checkSignal, signalOps } from '../util/checks';
import { BatchError, abortError } from '../util/errors';
import {
  type DecodePagesOptions,
  type EncodePagesOptions,
  type EncodedPages,
  decodeResult,
  encodeResult,
  planDecode,
  planEncode,
} from './batch';

/** What the async forms add to the sync options. */
export interface AsyncPagesOptions {
  /**
   * Cancels the call: the promise rejects with an AbortError (name
   * 'AbortError', code 'ABORT_ERR', cause: the signal's reason) once no
   * thread touches the buffers any more.
   */
  signal?: AbortSignal;
  /**
   * Most thread-pool threads the batch may use, 1 to 64. Default: one per
   * 512 KiB of pages, at most UV_THREADPOOL_SIZE (4 unless set); 1 on a
   * machine with one core.
   */
  threads?: number;
}

/** Options of {@link encodePagesAsync}. */
export interface EncodePagesAsyncOptions extends EncodePagesOptions, AsyncPagesOptions {}

/** Options of {@link decodePagesAsync}. */
export interface DecodePagesAsyncOptions extends DecodePagesOptions, AsyncPagesOptions {}

const MAX_THREADS = 64;

// A work on the pool costs tens of microseconds to queue, wake and
// complete; below this many bytes of pages per thread, splitting loses.
const MIN_BYTES_PER_THREAD = 512 * 1024;

// Chunks small enough that a thread starting late (the pool is shared with
// fs, dns, zlib and other jobs) still finds work and that the threads end
// together (the last chunk, ~40 us of 10%-scattered pages at 32 pages, is
// the wait at the end), large enough that handing one out (one atomic add
// and at most one memmove of its deltas, core/batch_job.h) is free.
const CHUNKS_PER_THREAD = 16;
const MAX_CHUNK_BYTES = 128 * 1024;

const poolSize = ((): number => {
  const n = Number(process.env.UV_THREADPOOL_SIZE);
  return Number.isInteger(n) && n > 0 ? n : 4;
})();
const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;

function threadsOf(options: AsyncPagesOptions | undefined): number | undefined {
  const threads = options?.threads;
  if (threads !== undefined) checkInteger(threads, 'threads', 1, MAX_THREADS);
  return threads;
}

/**
 * How many works to queue and how many pages each chunk holds (internal).
 * By default one work per pool thread (with two cores or more), even where
 * the pool has more threads than the machine has cores: libuv wakes one
 * idle thread per work, and Linux may run a woken thread on the busy core
 * for milliseconds while the other one idles. With a work per pool thread,
 * whichever threads run first take the chunks, and the others find none
 * and return. Measured on an idle 2-vCPU VM, 2048 pages, 10% scattered
 * (docs/PERFORMANCE.md "On two idle cores"): 2 works gave 1.35–1.47× the
 * sync call, and the second work found no chunk left in 15% of the calls;
 * 4 works (the default pool) gave 1.60–1.71×.
 */
export function split(count: number, pageSize: number, threads?: number, machine = { cores, poolSize }): [works: number, chunkPages: number] {
  const auto =
    machine.cores < 2 ? 1 : Math.min(machine.poolSize, MAX_THREADS, Math.floor((count * pageSize) / MIN_BYTES_PER_THREAD));
  const works = Math.max(1, Math.min(threads ?? auto, count));
  if (works === 1) return [1, Math.max(1, count)];
  const cap = Math.max(1, Math.floor(MAX_CHUNK_BYTES / pageSize));
  return [works, Math.max(1, Math.min(cap, Math.ceil(count / (works * CHUNKS_PER_THREAD))))];
}

// Runs one native job to its end; an abort cancels it and rejects once the
// addon reports that every thread has let go of the buffers.
function run(signal: AbortSignal | undefined, start: (done: JobDone) => NativeJob): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let onAbort: (() => void) | undefined;
    const done: JobDone = (state, value) => {
      if (onAbort) signalOps.unlisten(signal!, onAbort);
      if (state === 0) resolve(value);
      else if (state === 1) reject(aborted(signal!));
      else reject(new BatchError(String(value)));
    };
    const job = start(done);
    if (signal) {
      onAbort = () => addon!.cancelJob(job);
      signalOps.listen(signal, onAbort);
    }
  });
}

function aborted(signal: AbortSignal): Error {
  return abortError({ reason: signalOps.reason(signal) } as AbortSignal);
}

/**
 * {@link encodePages} on the libuv thread pool; resolves to the same bytes
 * and tables. `oldPages`, `newPages`, the index lists, `out`, `offsets` and
 * `lengths` stay referenced until the promise settles; after it settles no
 * thread reads or writes them.
 *
 * Writing to the pages while the call runs is allowed but gives a delta of
 * whatever was read, page by page (snapshot the pages first, as QEMU does,
 * for a consistent result); it never crashes or writes outside the buffers.
 * Do not transfer or detach their ArrayBuffers during the call.
 *
 * With the TypeScript twin (no addon, or the 'js' kernel) the work runs
 * synchronously and the promise carries its result.
 *
 * @throws (rejects) as encodePages, and with an AbortError when
 *   `options.signal` aborts first; `out` then holds unspecified bytes.
 */
export async function encodePagesAsync(
  oldPages: Uint8Array,
  newPages: Uint8Array,
  options?: EncodePagesAsyncOptions,
): Promise<EncodedPages> {
  const signal = options?.signal;
  checkSignal(signal);
  const threads = threadsOf(options);
  const p = planEncode(oldPages, newPages, options);
  if (signal && signalOps.aborted(signal)) throw aborted(signal);
  const be = backend();
  const args = [p.oldPages, p.newPages, p.oldIndexes, p.indexes, p.pageSize, p.limit, p.out, p.offsets, p.lengths] as const;
  if (!addon || be !== addon) return encodeResult(p, be.encodePages(...args));
  const [works, chunkPages] = split(p.count, p.pageSize, threads);
  const total = await run(signal, (done) => addon!.encodePagesStart(...args, works, chunkPages, done));
  return encodeResult(p, total as number, false);
}

/**
 * {@link decodePages} on the libuv thread pool. The inputs stay referenced
 * until the promise settles; after it settles no thread touches them.
 * Rejects with the same XbzrleError (first bad page, all in `errors`) after
 * applying every valid delta. A batch whose `indexes` name one page twice
 * runs on one thread, so the deltas land in order as in the sync form.
 *
 * Writing to `deltas` or the tables during the call gives whatever was read;
 * it never crashes or writes outside the pages.
 *
 * @throws (rejects) as decodePages, and with an AbortError when
 *   `options.signal` aborts first: each page is then either fully decoded or
 *   untouched, which ones is unspecified.
 */
export async function decodePagesAsync(
  deltas: Uint8Array,
  offsets: Uint32Array,
  lengths: Int32Array,
  pages: Uint8Array,
  options?: DecodePagesAsyncOptions,
): Promise<void> {
  const signal = options?.signal;
  checkSignal(signal);
  const threads = threadsOf(options);
  const p = planDecode(deltas, offsets, lengths, pages, options);
  if (signal && signalOps.aborted(signal)) throw aborted(signal);
  const be = backend();
  const args = [p.deltas, p.offsets, p.lengths, p.pages, p.indexes, p.pageSize] as const;
  if (!addon || be !== addon) return decodeResult(be.decodePages(...args));
  const [works, chunkPages] = split(p.count, p.pageSize, threads);
  const fails = await run(signal, (done) => addon!.decodePagesStart(...args, works, chunkPages, done));
  decodeResult(fails as number[] | null);
}
