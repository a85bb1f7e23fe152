// bench/harness.ts: the measurements behind `xbzrle bench`. benchmark.js
// times each row; one timed operation covers many pages, so the cost of the
// timer, and of one call into the addon, is spread over them. Where the
// per-call cost matters (a small batch) it is a row of its own.
import * as os from 'node:os';
import Benchmark from 'benchmark';
import { kernel, useKernel } from '../backend/kernels';
import { decodePages, encodePages } from '../codec/batch';
import { encodeInto } from '../codec/page';
import { encodePagesAsync, split } from '../codec/async';
import { loadCompressors, type Compressor } from './compressors';
import { makePages, WORKLOADS, type PageSet, type Workload } from './workloads';

export type Regime = 'hot' | 'l2' | 'cold';
export type Path = 'page' | 'batch' | 'async';
/** `call`: one encodePages call of the HOT regime's 4 pages (the per-call cost over a small batch). */
export type Op = 'encode' | 'call' | 'decode' | 'compare' | 'copy' | 'compress';
/** What a row's time is held against: a full read of both pages (per core on multi-core rows), or nothing. */
export type Floor = 'compare' | 'compare-per-core' | null;

export const REGIMES: Regime[] = ['hot', 'l2', 'cold'];
const COLD_BYTES = 64 * 1024 * 1024;
/** Entries per timed batch call: HOT cycles its 4 pages through this many, so the call cost weighs as in L2. */
export const BATCH_ENTRIES = 128;
/** A row whose relative margin of error (percent) is above this is flagged noisy. */
export const NOISY_RME = 5;

/** Pages per regime: HOT stays in L1, L2 has 128 distinct pairs, COLD 64 MiB. */
export function regimePages(regime: Regime, pageSize: number): number {
  if (regime === 'hot') return 4;
  if (regime === 'l2') return 128;
  return Math.ceil(COLD_BYTES / pageSize);
}

export interface BenchOptions {
  pageSize: number;
  quick: boolean;
  regimes: Regime[];
  workloads: Workload[];
  /** Encoder kernels to run, best first ('js' is the twin); every one runs in every regime. */
  kernels: string[];
  filter?: RegExp;
  onRow?(done: number, total: number, id: string): void;
}

/** What a row is: planned first, then measured. */
export interface RowKey {
  id: string;
  op: Op;
  regime: Regime;
  workload: string;
  /** The encoder kernel, the compressor, or for decode the decoder that ran: 'native' or 'twin'. */
  kernel: string | null;
  path: Path | null;
}

export interface Row extends RowKey {
  /** Distinct page pairs the row works on. */
  pages: number;
  /** Threads the row keeps busy at once (async rows on big batches use more than one). */
  cores: number;
  nsPerPage: number;
  gbPerSec: number;
  pagesPerSec: number;
  /** Bytes a sender would put on the wire per page (delta, or the raw page on overflow). */
  bytesPerPage: number | null;
  /** Page size / bytesPerPage (null when nothing is sent). */
  compression: number | null;
  /** Which floor xCompare is over; null when the work is not a read of both pages. */
  floor: Floor;
  /**
   * Time per page over the compare floor (a full read of both pages) of the
   * regime; on a multi-core row, time × cores (the floor per core). Null
   * where the floor does not fit (decode, compress).
   */
  xCompare: number | null;
  /** Time per page over the copy (memcpy of a page) of the regime: what sending or storing the page raw costs. */
  xCopy: number | null;
  /** Relative margin of error, percent (benchmark.js, 95%). */
  rme: number;
  /** rme above NOISY_RME. */
  noisy: boolean;
  samples: number;
}

interface Timed {
  fn: (deferred?: { resolve(): void }) => unknown;
  defer?: boolean;
  /** Page operations one call of fn does (default: the set's pages). */
  ops?: number;
  cores?: number;
}

interface Plan extends RowKey {
  /** The backend kernel to select before timing. */
  use: string | null;
  make(set: PageSet): Timed;
}

/** Which paths this build offers. */
export function paths(): Path[] {
  return ['page', 'batch', 'async'];
}

function views(mem: Buffer, pages: number, size: number): Buffer[] {
  return Array.from({ length: pages }, (_, k) => mem.subarray(k * size, (k + 1) * size));
}

interface Deltas {
  data: Buffer;
  offsets: Uint32Array;
  lengths: Int32Array;
  wire: number; // bytes a sender would send for all pages
}

function encodeAll(set: PageSet): Deltas {
  const { pages, pageSize } = set;
  const olds = views(set.oldMem, pages, pageSize);
  const news = views(set.newMem, pages, pageSize);
  const data = Buffer.alloc(pages * pageSize);
  const offsets = new Uint32Array(pages);
  const lengths = new Int32Array(pages);
  let o = 0;
  let wire = 0;
  for (let k = 0; k < pages; k++) {
    const n = encodeInto(olds[k], news[k], data.subarray(o, o + pageSize));
    offsets[k] = o;
    lengths[k] = n;
    if (n > 0) o += n;
    wire += n < 0 ? pageSize : n;
  }
  return { data: data.subarray(0, o), offsets, lengths, wire };
}

/** Page numbers 0..pages-1 repeated up to `entries` (a set smaller than a batch is cycled through it). */
function cycle(pages: number, entries: number): Uint32Array {
  const n = Math.max(pages, entries);
  return Uint32Array.from({ length: n }, (_, k) => k % pages);
}

function encodeRow(path: Path): (set: PageSet) => Timed {
  return (set) => {
    const { pages, pageSize } = set;
    if (path === 'page') {
      const olds = views(set.oldMem, pages, pageSize);
      const news = views(set.newMem, pages, pageSize);
      const out = Buffer.alloc(pageSize);
      const reps = Math.max(1, Math.ceil(BATCH_ENTRIES / pages));
      return {
        ops: reps * pages,
        fn: () => {
          for (let r = 0; r < reps; r++) for (let k = 0; k < pages; k++) encodeInto(olds[k], news[k], out);
        },
      };
    }
    const indexes = cycle(pages, BATCH_ENTRIES);
    const n = indexes.length;
    const opt = { pageSize, indexes, oldIndexes: indexes, out: Buffer.alloc(n * pageSize), offsets: new Uint32Array(n), lengths: new Int32Array(n) };
    if (path === 'batch') return { ops: n, fn: () => encodePages(set.oldMem, set.newMem, opt) };
    const [works] = kernel() === 'js' ? [1] : split(n, pageSize);
    return {
      ops: n,
      cores: Math.min(works, os.cpus().length),
      defer: true,
      fn: (deferred) => encodePagesAsync(set.oldMem, set.newMem, opt).then(() => deferred!.resolve()),
    };
  };
}

/** One encodePages call of exactly the set's pages: the per-call cost over a small batch. */
function callRow(set: PageSet): Timed {
  const n = set.pages;
  const opt = { pageSize: set.pageSize, out: Buffer.alloc(n * set.pageSize), offsets: new Uint32Array(n), lengths: new Int32Array(n) };
  return { ops: n, fn: () => encodePages(set.oldMem, set.newMem, opt) };
}

function decodeRow(set: PageSet): Timed {
  const d = encodeAll(set);
  const target = Buffer.from(set.oldMem);
  // Decoding a page's delta again onto the decoded page gives the same page,
  // so a small set is cycled through one batch as for encode.
  const indexes = cycle(set.pages, BATCH_ENTRIES);
  const parts: Buffer[] = [];
  const offsets = new Uint32Array(indexes.length);
  const lengths = Int32Array.from(indexes, (k) => d.lengths[k]);
  let at = 0;
  indexes.forEach((k, i) => {
    const len = Math.max(0, d.lengths[k]);
    parts.push(d.data.subarray(d.offsets[k], d.offsets[k] + len));
    offsets[i] = at;
    at += len;
  });
  const data = Buffer.concat(parts);
  return { ops: indexes.length, fn: () => decodePages(data, offsets, lengths, target, { pageSize: set.pageSize, indexes }) };
}

function compressRow(c: Compressor): (set: PageSet) => Timed {
  return (set) => {
    // The XOR of each pair is computed once, outside the timing: this
    // favours the compressor, which would have to compute it too.
    const xor = Buffer.alloc(set.oldMem.length);
    for (let i = 0; i < xor.length; i++) xor[i] = set.oldMem[i] ^ set.newMem[i];
    const pages = views(xor, set.pages, set.pageSize);
    return {
      fn: () => {
        for (const p of pages) c.compress(p);
      },
    };
  };
}

function compressedBytes(c: Compressor, set: PageSet): number {
  let total = 0;
  for (let k = 0; k < set.pages; k++) {
    const at = k * set.pageSize;
    const x = Buffer.alloc(set.pageSize);
    for (let i = 0; i < set.pageSize; i++) x[i] = set.oldMem[at + i] ^ set.newMem[at + i];
    total += Math.min(c.compress(x), set.pageSize);
  }
  return total / set.pages;
}

/**
 * The rows to measure: in every regime every selected kernel encodes every
 * workload on the batch path; the best kernel also on the other paths
 * (unchanged, scattered-10, files); HOT adds the per-call row; each decoder
 * (native, twin) decodes; the compressors run on L2 and files.
 */
function plan(opts: BenchOptions, compressors: Compressor[]): Plan[] {
  const { quick } = opts;
  const avail = paths();
  const top = opts.kernels[0];
  const nativeKernel = opts.kernels.find((k) => k !== 'js');
  const decoders: [string, string][] = [];
  if (nativeKernel) decoders.push(['native', nativeKernel]);
  if (opts.kernels.includes('js')) decoders.push(['twin', 'js']);
  const out: Plan[] = [];
  const add = (p: Omit<Plan, 'id'>): void => {
    const id = [p.regime, p.workload, p.op, p.kernel ?? '-', p.path ?? '-'].join('/');
    out.push({ ...p, id });
  };
  for (const regime of opts.regimes) {
    const base = { regime, kernel: null, path: null, use: null } as const;
    add({ ...base, workload: 'unchanged', op: 'compare', make: () => ({ fn: () => 0 }) });
    add({ ...base, workload: 'unchanged', op: 'copy', make: () => ({ fn: () => 0 }) });
    if (regime === 'hot') add({ regime, workload: 'unchanged', op: 'call', kernel: top, path: 'batch', use: top, make: callRow });
    for (const w of opts.workloads) {
      for (const k of opts.kernels) add({ regime, workload: w.name, op: 'encode', kernel: k, path: 'batch', use: k, make: encodeRow('batch') });
      const pathWorkloads = ['unchanged', 'scattered-10'];
      if (!quick && (pathWorkloads.includes(w.name) || w.files)) {
        for (const p of avail) {
          if (p === 'batch' || (p === 'async' && regime === 'hot')) continue;
          add({ regime, workload: w.name, op: 'encode', kernel: top, path: p, use: top, make: encodeRow(p) });
        }
      }
      for (const [label, k] of decoders) add({ regime, workload: w.name, op: 'decode', kernel: label, path: 'batch', use: k, make: decodeRow });
      if (regime === 'l2' || w.files) {
        for (const c of compressors) add({ regime, workload: w.name, op: 'compress', kernel: c.name, path: null, use: null, make: compressRow(c) });
      }
    }
  }
  return opts.filter ? out.filter((p) => opts.filter!.test(p.id) || p.op === 'compare' || p.op === 'copy') : out;
}

function measure(fn: Timed['fn'], defer: boolean, quick: boolean): Promise<Benchmark> {
  return new Promise((resolve, reject) => {
    const b = new Benchmark({
      fn,
      defer,
      maxTime: quick ? 0.08 : 0.4,
      minSamples: quick ? 3 : 8,
      initCount: 1,
      onError: (e: { message?: unknown }) => reject(e.message instanceof Error ? e.message : new Error(String(e.message))),
      onComplete: () => resolve(b),
    });
    b.run({ async: true });
  });
}

export interface BenchResult {
  rows: Row[];
  absent: string[];
  paths: Path[];
  /** os.loadavg() before and after the run. */
  load: { start: number[]; end: number[] };
  /** Page pairs per regime and workload (file workloads use every page of their images). */
  pagesUsed: Record<string, Record<string, number>>;
}

/** Runs the benchmark; rows come in plan order. */
export async function runBench(opts: BenchOptions): Promise<BenchResult> {
  const start = os.loadavg();
  const { available, absent } = loadCompressors();
  const plans = plan(opts, available);
  const rows: Row[] = [];
  const pagesUsed: BenchResult['pagesUsed'] = {};
  const before = kernel();
  let done = 0;
  try {
    for (const regime of opts.regimes) {
      const n = regimePages(regime, opts.pageSize);
      const mine = plans.filter((p) => p.regime === regime);
      pagesUsed[regime] = {};
      // Floors on equal, distinct memory of the regime's size, repeated like the batch rows.
      const a = Buffer.alloc(n * opts.pageSize, 0x5a);
      const b = Buffer.from(a);
      const dst = Buffer.alloc(a.length);
      const reps = Math.max(1, Math.ceil(BATCH_ENTRIES / n));
      const floorOf = async (fn: () => unknown): Promise<Benchmark> =>
        measure(() => {
          for (let r = 0; r < reps; r++) fn();
        }, false, opts.quick);
      const cmp = await floorOf(() => Buffer.compare(a, b));
      const cpy = await floorOf(() => a.copy(dst));
      const compare = (cmp.stats.mean * 1e9) / (n * reps);
      const copy = (cpy.stats.mean * 1e9) / (n * reps);
      for (const p of mine.filter((p) => p.op === 'compare' || p.op === 'copy')) {
        const bm = p.op === 'compare' ? cmp : cpy;
        rows.push(finish(p, p.op === 'compare' ? compare : copy, n, 1, null, opts.pageSize, compare, copy, bm));
        opts.onRow?.(++done, plans.length, p.id);
      }
      // The per-call row runs on unchanged pages whichever workloads are selected.
      for (const p of mine.filter((p) => p.op === 'call')) {
        useKernel(p.use!);
        const set = makePages(WORKLOADS[0], n, opts.pageSize);
        const t = p.make(set);
        const bm = await measure(t.fn, false, opts.quick);
        rows.push(finish(p, (bm.stats.mean * 1e9) / t.ops!, set.pages, 1, 0, opts.pageSize, compare, copy, bm));
        opts.onRow?.(++done, plans.length, p.id);
      }
      for (const w of opts.workloads) {
        const todo = mine.filter((p) => p.workload === w.name && p.op !== 'compare' && p.op !== 'copy' && p.op !== 'call');
        if (!todo.length) continue;
        const set = makePages(w, n, opts.pageSize);
        pagesUsed[regime][w.name] = set.pages;
        useKernel(opts.kernels.find((k) => k !== 'js') ?? 'js');
        const all = encodeAll(set);
        const wire = all.wire / set.pages;
        const anyDelta = all.lengths.some((x) => x > 0);
        for (const p of todo) {
          if (p.op === 'decode' && !anyDelta) {
            opts.onRow?.(++done, plans.length, p.id); // nothing to decode: every page unchanged or overflowed
            continue;
          }
          if (p.use) useKernel(p.use);
          const t = p.make(set);
          const bm = await measure(t.fn, !!t.defer, opts.quick);
          const ns = (bm.stats.mean * 1e9) / (t.ops ?? set.pages);
          const bytes = p.op === 'compress' ? compressedBytes(available.find((c) => c.name === p.kernel)!, set) : p.op === 'encode' || p.op === 'call' ? wire : null;
          rows.push(finish(p, ns, set.pages, t.cores ?? 1, bytes, opts.pageSize, compare, copy, bm));
          opts.onRow?.(++done, plans.length, p.id);
        }
      }
    }
  } finally {
    useKernel(before);
  }
  return { rows, absent, paths: paths(), load: { start, end: os.loadavg() }, pagesUsed };
}

/**
 * The floor a row is held against and its ratios: encode reads both pages
 * (the compare floor, per core when several threads share the work);
 * decode and compress do not, so they get none; x copy is against copying
 * the page raw, except for compressors (their input is an XOR computed apart).
 */
export function floorOf(op: Op, nsPerPage: number, cores: number, compareNs: number, copyNs: number): { floor: Floor; xCompare: number | null; xCopy: number | null } {
  const readsPages = op === 'encode' || op === 'call' || op === 'compare';
  const floor: Floor = readsPages ? (cores > 1 ? 'compare-per-core' : 'compare') : null;
  return { floor, xCompare: floor ? (nsPerPage * cores) / compareNs : null, xCopy: op === 'compress' ? null : nsPerPage / copyNs };
}

function finish(p: Plan, ns: number, pages: number, cores: number, bytes: number | null, pageSize: number, compare: number, copy: number, bm: Benchmark): Row {
  const rme = bm.stats.rme;
  return {
    id: p.id,
    op: p.op,
    regime: p.regime,
    workload: p.workload,
    kernel: p.kernel,
    path: p.path,
    pages,
    cores,
    nsPerPage: ns,
    gbPerSec: pageSize / ns,
    pagesPerSec: 1e9 / ns,
    bytesPerPage: bytes,
    compression: bytes ? pageSize / bytes : null,
    ...floorOf(p.op, ns, cores, compare, copy),
    rme,
    noisy: rme > NOISY_RME,
    samples: bm.stats.sample.length,
  };
}

export { WORKLOADS };
