// bench/harness.ts: the measurements behind `xbzrle bench`. benchmark.js
// times each row; one timed operation covers every page of the regime, so
// the per-op cost of the timer itself is spread over many pages.
import Benchmark from 'benchmark';
import * as api from '../index';
import { loadCompressors, type Compressor } from './compressors';
import { makePages, WORKLOADS, type PageSet, type Workload } from './workloads';

export type Regime = 'hot' | 'l2' | 'cold';
export type Path = 'page' | 'batch' | 'async';
export type Op = 'encode' | 'decode' | 'compare' | 'copy' | 'compress';

export const REGIMES: Regime[] = ['hot', 'l2', 'cold'];
const COLD_BYTES = 64 * 1024 * 1024;

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
  kernels: string[];
  filter?: RegExp;
  onRow?(done: number, total: number, id: string): void;
}

export interface Row {
  id: string;
  op: Op;
  regime: Regime;
  workload: string;
  kernel: string | null;
  path: Path | null;
  pages: number;
  nsPerPage: number;
  gbPerSec: number;
  pagesPerSec: number;
  /** Bytes a sender would put on the wire per page (delta, or the raw page on overflow). */
  bytesPerPage: number | null;
  /** Page size / bytesPerPage (null when nothing is sent). */
  compression: number | null;
  /** Time per page over the compare floor (a full read of both pages) of the regime. */
  xCompare: number | null;
  /** Time per page over the copy floor (memcpy of a page) of the regime. */
  xCopy: number | null;
  rme: number;
  samples: number;
}

interface Plan {
  id: string;
  op: Op;
  regime: Regime;
  workload: string;
  kernel: string | null;
  path: Path | null;
  bytesPerPage: number | null;
  make(set: PageSet): { fn: () => unknown; defer?: boolean };
}

type BatchApi = {
  encodePages?: (o: Uint8Array, n: Uint8Array, opt: object) => { data: Buffer; offsets: Uint32Array; lengths: Int32Array };
  encodePagesAsync?: (o: Uint8Array, n: Uint8Array, opt: object) => Promise<unknown>;
  decodePages?: (d: Uint8Array, off: Uint32Array, len: Int32Array, pages: Uint8Array, opt: object) => unknown;
};
const batch = api as unknown as BatchApi;

/** Which paths this build offers: per page always, batch and async once the batch API exists. */
export function paths(): Path[] {
  const p: Path[] = ['page'];
  if (typeof batch.encodePages === 'function') p.push('batch');
  if (typeof batch.encodePagesAsync === 'function') p.push('async');
  return p;
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
    const n = api.encodeInto(olds[k], news[k], data.subarray(o, o + pageSize));
    offsets[k] = o;
    lengths[k] = n;
    if (n > 0) o += n;
    wire += n < 0 ? pageSize : n;
  }
  return { data: data.subarray(0, o), offsets, lengths, wire };
}

function encodeRow(path: Path, pageSize: number): (set: PageSet) => { fn: () => unknown; defer?: boolean } {
  return (set) => {
    const { pages } = set;
    if (path === 'page') {
      const olds = views(set.oldMem, pages, pageSize);
      const news = views(set.newMem, pages, pageSize);
      const out = Buffer.alloc(pageSize);
      return {
        fn: () => {
          for (let k = 0; k < pages; k++) api.encodeInto(olds[k], news[k], out);
        },
      };
    }
    const out = Buffer.alloc(pages * pageSize);
    if (path === 'batch') return { fn: () => batch.encodePages!(set.oldMem, set.newMem, { pageSize, out }) };
    return {
      defer: true,
      fn: (deferred?: { resolve(): void }) =>
        batch.encodePagesAsync!(set.oldMem, set.newMem, { pageSize, out }).then(() => deferred!.resolve()),
    } as { fn: () => unknown; defer: boolean };
  };
}

function decodeRow(path: Path, pageSize: number): (set: PageSet) => { fn: () => unknown } {
  return (set) => {
    const d = encodeAll(set);
    const target = Buffer.from(set.oldMem);
    if (path === 'batch') return { fn: () => batch.decodePages!(d.data, d.offsets, d.lengths, target, { pageSize }) };
    const pages = views(target, set.pages, pageSize);
    const deltas = Array.from(d.lengths, (n, k) => (n > 0 ? d.data.subarray(d.offsets[k], d.offsets[k] + n) : null));
    return {
      fn: () => {
        for (let k = 0; k < deltas.length; k++) {
          const delta = deltas[k];
          if (delta) api.decodeInto(delta, pages[k]);
        }
      },
    };
  };
}

function compressRow(c: Compressor): (set: PageSet) => { fn: () => unknown } {
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

/** The rows to measure: full matrix on L2, the best kernel elsewhere. */
function plan(opts: BenchOptions, compressors: Compressor[]): Plan[] {
  const { pageSize, quick } = opts;
  const avail = paths();
  const best = avail.includes('batch') ? 'batch' : 'page';
  const nativeKernels = opts.kernels.filter((k) => k !== 'js');
  const top = opts.kernels[0];
  const out: Plan[] = [];
  const add = (p: Omit<Plan, 'id' | 'bytesPerPage'>): void => {
    const id = [p.regime, p.workload, p.op, p.kernel ?? '-', p.path ?? '-'].join('/');
    out.push({ ...p, id, bytesPerPage: null });
  };
  for (const regime of opts.regimes) {
    const base = { regime, kernel: null, path: null } as const;
    add({ ...base, workload: 'unchanged', op: 'compare', make: () => ({ fn: () => 0 }) });
    add({ ...base, workload: 'unchanged', op: 'copy', make: () => ({ fn: () => 0 }) });
    const full = regime === 'l2';
    for (const w of opts.workloads) {
      const kernels = full ? opts.kernels : [top];
      for (const k of kernels) add({ regime, workload: w.name, op: 'encode', kernel: k, path: best, make: encodeRow(best, pageSize) });
      // Other paths, for the best kernel, where they differ most.
      const pathWorkloads = ['unchanged', 'scattered-10'];
      if (!quick && regime !== 'hot' && (pathWorkloads.includes(w.name) || w.files)) {
        for (const p of avail) if (p !== best) add({ regime, workload: w.name, op: 'encode', kernel: top, path: p, make: encodeRow(p, pageSize) });
      }
      // Decoding: the native decoder and the twin (the decoder is one per backend).
      const decoders = full || w.files ? [...nativeKernels.slice(0, 1), 'js'] : nativeKernels.slice(0, 1);
      for (const k of decoders) add({ regime, workload: w.name, op: 'decode', kernel: k, path: best === 'batch' && k !== 'js' ? 'batch' : 'page', make: decodeRow(best === 'batch' && k !== 'js' ? 'batch' : 'page', pageSize) });
      if (full || w.files) for (const c of compressors) add({ regime, workload: w.name, op: 'compress', kernel: c.name, path: null, make: compressRow(c) });
    }
  }
  return opts.filter ? out.filter((p) => opts.filter!.test(p.id) || p.op === 'compare' || p.op === 'copy') : out;
}

function measure(fn: () => unknown, defer: boolean, quick: boolean): Promise<Benchmark> {
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
}

/** Runs the benchmark; rows come in plan order. */
export async function runBench(opts: BenchOptions): Promise<BenchResult> {
  const { available, absent } = loadCompressors();
  const plans = plan(opts, available);
  const rows: Row[] = [];
  const before = api.kernel();
  const floors = new Map<Regime, { compare: number; copy: number }>();
  let done = 0;
  try {
    for (const regime of opts.regimes) {
      const n = regimePages(regime, opts.pageSize);
      const mine = plans.filter((p) => p.regime === regime);
      // Floors on equal, distinct memory of the regime's size.
      const a = Buffer.alloc(n * opts.pageSize, 0x5a);
      const b = Buffer.from(a);
      const dst = Buffer.alloc(a.length);
      const floorOf = async (fn: () => unknown): Promise<number> => ((await measure(fn, false, opts.quick)).stats.mean * 1e9) / n;
      const compare = await floorOf(() => Buffer.compare(a, b));
      const copy = await floorOf(() => a.copy(dst));
      floors.set(regime, { compare, copy });
      for (const p of mine.filter((p) => p.op === 'compare' || p.op === 'copy')) {
        const ns = p.op === 'compare' ? compare : copy;
        rows.push(finish(p, ns, n, opts.pageSize, compare, copy, 0, 0));
        opts.onRow?.(++done, plans.length, p.id);
      }
      const byWorkload = new Map<string, Plan[]>();
      for (const p of mine) if (p.op !== 'compare' && p.op !== 'copy') byWorkload.set(p.workload, [...(byWorkload.get(p.workload) ?? []), p]);
      for (const w of opts.workloads) {
        const todo = byWorkload.get(w.name);
        if (!todo?.length) continue;
        const set = makePages(w, n, opts.pageSize, 1 + opts.workloads.indexOf(w));
        api.useKernel(opts.kernels[0]);
        const all = encodeAll(set);
        const wire = all.wire / set.pages;
        const anyDelta = all.lengths.some((n) => n > 0);
        for (const p of todo) {
          if (p.op === 'decode' && !anyDelta) {
            opts.onRow?.(++done, plans.length, p.id); // nothing to decode: every page unchanged or overflowed
            continue;
          }
          if (p.kernel && p.op !== 'compress') api.useKernel(p.kernel);
          const { fn, defer } = p.make(set);
          const bm = await measure(fn, !!defer, opts.quick);
          const ns = (bm.stats.mean * 1e9) / set.pages;
          const bytes = p.op === 'compress' ? compressedBytes(available.find((c) => c.name === p.kernel)!, set) : p.op === 'encode' ? wire : null;
          rows.push(finish({ ...p, bytesPerPage: bytes }, ns, set.pages, opts.pageSize, compare, copy, bm.stats.rme, bm.stats.sample.length));
          opts.onRow?.(++done, plans.length, p.id);
        }
      }
    }
  } finally {
    api.useKernel(before);
  }
  return { rows, absent, paths: paths() };
}

function finish(p: Plan, ns: number, pages: number, pageSize: number, compare: number, copy: number, rme: number, samples: number): Row {
  const bytes = p.bytesPerPage;
  return {
    id: p.id,
    op: p.op,
    regime: p.regime,
    workload: p.workload,
    kernel: p.kernel,
    path: p.path,
    pages,
    nsPerPage: ns,
    gbPerSec: pageSize / ns,
    pagesPerSec: 1e9 / ns,
    bytesPerPage: bytes,
    compression: bytes ? pageSize / bytes : null,
    xCompare: ns / compare,
    xCopy: ns / copy,
    rme,
    samples,
  };
}

export { WORKLOADS };
