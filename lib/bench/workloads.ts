// bench/workloads.ts: the page pairs the benchmark encodes (docs/BENCHMARKS.md,
// "Workloads"), laid out as two contiguous buffers of N pages each.
import * as fs from 'node:fs';

export interface Workload {
  name: string;
  description: string;
  /** Fills newPage from oldPage (same length) using rand. */
  mutate?(oldPage: Uint8Array, newPage: Uint8Array, rand: () => number): void;
  /** For file workloads: the two images. */
  files?: [string, string];
}

function changeByte(oldPage: Uint8Array, newPage: Uint8Array, i: number, rand: () => number): void {
  newPage[i] = (oldPage[i] + 1 + ((rand() * 255) | 0)) & 0xff; // always differs
}

export const WORKLOADS: Workload[] = [
  { name: 'unchanged', description: 'page rewritten with the same bytes', mutate: () => {} },
  {
    name: 'last-byte',
    description: 'one byte changed at the end',
    mutate: (o, n, r) => changeByte(o, n, n.length - 1, r),
  },
  {
    name: 'sparse-16',
    description: '16 scattered bytes changed',
    mutate: (o, n, r) => {
      for (let k = 0; k < 16; k++) changeByte(o, n, (r() * n.length) | 0, r);
    },
  },
  {
    name: 'run-512',
    description: 'one 512-byte run changed',
    mutate: (o, n, r) => {
      const len = Math.min(512, n.length);
      const at = ((r() * (n.length - len + 1)) | 0);
      for (let i = at; i < at + len; i++) changeByte(o, n, i, r);
    },
  },
  {
    name: 'scattered-10',
    description: '10% of bytes changed, scattered',
    mutate: (o, n, r) => {
      for (let i = 0; i < n.length; i++) if (r() < 0.1) changeByte(o, n, i, r);
    },
  },
  {
    name: 'random-50',
    description: '50% of bytes changed at random (overflows)',
    mutate: (o, n, r) => {
      for (let i = 0; i < n.length; i++) if (r() < 0.5) changeByte(o, n, i, r);
    },
  },
  {
    name: 'alternate',
    description: 'every other byte changed (overflows)',
    mutate: (o, n, r) => {
      for (let i = 0; i < n.length; i += 2) changeByte(o, n, i, r);
    },
  },
  {
    name: 'full',
    description: 'every byte changed (overflows)',
    mutate: (o, n, r) => {
      for (let i = 0; i < n.length; i++) changeByte(o, n, i, r);
    },
  },
];

/** A `file:A,B` workload: the pages of two memory images of equal size. */
export function fileWorkload(spec: string): Workload {
  const [a, b] = spec.slice('file:'.length).split(',');
  if (!a || !b) throw new RangeError(`--workload ${spec}: expected file:A,B (two images of equal size)`);
  for (const f of [a, b]) if (!fs.existsSync(f)) throw new RangeError(`--workload ${spec}: no such file: ${f}`);
  const sa = fs.statSync(a).size;
  const sb = fs.statSync(b).size;
  if (sa !== sb) throw new RangeError(`--workload ${spec}: the images differ in size (${sa} and ${sb} bytes)`);
  return { name: `file:${a},${b}`, description: `pages of ${a} against ${b}`, files: [a, b] };
}

export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

export interface PageSet {
  oldMem: Buffer;
  newMem: Buffer;
  pages: number;
  pageSize: number;
}

/** FNV-1a of a workload's name: its seed, so its bytes do not depend on which other workloads run. */
export function seedOf(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h || 1;
}

/**
 * N page pairs in two contiguous buffers; every pair distinct. A file
 * workload gives every page of its images, whatever N.
 */
export function makePages(w: Workload, pages: number, pageSize: number, seed = seedOf(w.name)): PageSet {
  if (w.files) return filePages(w.files, pageSize);
  const rand = prng(seed);
  const oldMem = Buffer.allocUnsafe(pages * pageSize);
  let i = 0;
  for (; i + 4 <= oldMem.length; i += 4) oldMem.writeUInt32LE((rand() * 4294967296) >>> 0, i);
  for (; i < oldMem.length; i++) oldMem[i] = (rand() * 256) | 0;
  const newMem = Buffer.from(oldMem);
  for (let p = 0; p < pages; p++) {
    const at = p * pageSize;
    w.mutate!(oldMem.subarray(at, at + pageSize), newMem.subarray(at, at + pageSize), rand);
  }
  return { oldMem, newMem, pages, pageSize };
}

/** How many whole pages a file workload's images hold. */
export function filePageCount(w: Workload, pageSize: number): number {
  return w.files ? Math.floor(fs.statSync(w.files[0]).size / pageSize) : 0;
}

// Every whole page of the two images (a trailing partial page is left out).
function filePages([a, b]: [string, string], pageSize: number): PageSet {
  const n = Math.floor(fs.statSync(a).size / pageSize);
  if (n === 0) throw new RangeError(`--workload file: the images are smaller than one page (${pageSize} bytes)`);
  const read = (f: string): Buffer => {
    const buf = Buffer.alloc(n * pageSize);
    const fd = fs.openSync(f, 'r');
    try {
      fs.readSync(fd, buf, 0, buf.length, 0);
    } finally {
      fs.closeSync(fd);
    }
    return buf;
  };
  return { oldMem: read(a), newMem: read(b), pages: n, pageSize };
}
