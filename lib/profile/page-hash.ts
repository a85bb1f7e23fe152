// profile/page-hash.ts: a 64-bit fingerprint per page, to tell which pages
// changed between two scans when the kernel keeps no soft-dirty bits.
//
// 16 lanes of 32 bits; lane j takes words j, j + 16, ... of the page and
// steps lane = rotl(lane + word * 0x85ebca77, 13) * 0x9e3779b1 (the round
// of xxHash32). Every step is one-to-one in the lane and in the word, and
// so is the fold into two words in each lane, so a change of one word always
// changes the fingerprint; multiplying, rotating, multiplying spreads any
// changed bit over the lane, so that later words do not cancel it (a plain
// xor-then-multiply never spreads a changed top bit, and the test of every
// single-bit change caught that). The WebAssembly SIMD version
// (page-hash.wat) runs the lanes as four vectors and hashes a page several
// times faster than JavaScript can, which matters because every resident
// page is hashed once per interval; hashPageJs is the same function, used
// where WebAssembly is unavailable.
import { PAGE_HASH_WASM } from './page-hash-wasm';

const SEEDS = [
  0x9e3779b1, 0x85ebca77, 0xc2b2ae3d, 0x27d4eb2f, 0x165667b1, 0xd3a2646c, 0xfd7046c5, 0xb55a4f09, 0x7f4a7c15, 0x94d049bb, 0xbf58476d, 0x1ce4e5b9, 0x2545f491, 0x9e3779b9,
  0x61c88647, 0x3c6ef372,
];
const lanes = new Int32Array(16);

/** The fingerprint of `words` 32-bit words of `u` from `at` (words a multiple of 16), into out[0..1]. */
export function hashPageJs(u: Int32Array, at: number, words: number, out: Int32Array, outAt = 0): void {
  const s = lanes;
  s.set(SEEDS);
  for (let i = at, e = at + words; i < e; i += 16) {
    for (let j = 0; j < 16; j++) {
      const x = (s[j] + Math.imul(u[i + j], 0x85ebca77)) | 0;
      s[j] = Math.imul((x << 13) | (x >>> 19), 0x9e3779b1);
    }
  }
  const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));
  const v = [0, 0, 0, 0];
  for (let j = 0; j < 4; j++) {
    let x = Math.imul(s[j], 0x85ebca6b) ^ Math.imul(rotl(s[4 + j], 8), 0xc2b2ae35) ^ Math.imul(rotl(s[8 + j], 16), 0x27d4eb2f) ^ Math.imul(rotl(s[12 + j], 24), 0x165667b1);
    x ^= x >>> 16;
    v[j] = x;
  }
  const x = v[0] ^ Math.imul(v[2], 0xd3a2646d);
  const y = v[1] ^ Math.imul(v[3], 0xfd7046c5);
  out[outAt] = (x + Math.imul(rotl(y, 11), 0xb55a4f09)) | 0;
  out[outAt + 1] = (y + Math.imul(rotl(x, 17), 0x7f4a7c15)) | 0;
}

const READ_BYTES = 256 * 1024; // stays in L2 between the read and the hash

// Node has WebAssembly; the TypeScript libs in use (ES2022, no DOM) do not
// declare it, so this is the little of it used here.
interface Wasm {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
type HashPages = (src: number, pages: number, pageBytes: number, out: number) => void;

let wasmModule: object | null | undefined;
function compiled(): object | null {
  if (wasmModule === undefined) {
    try {
      const wasm = (globalThis as unknown as { WebAssembly?: Wasm }).WebAssembly;
      wasmModule = wasm ? new wasm.Module(Buffer.from(PAGE_HASH_WASM, 'base64')) : null;
    } catch {
      wasmModule = null; // no SIMD here (or WebAssembly disabled): JavaScript it is
    }
  }
  return wasmModule;
}

/**
 * Fingerprints runs of pages read into `buffer`: read up to `runPages`
 * pages into it, then hash(n) gives two words per page.
 */
export class PageHasher {
  /** 'wasm' (SIMD) or 'js'. */
  readonly kind: 'wasm' | 'js';
  readonly runPages: number;
  /** Where to read pages to; page k is buffer[k * pageSize ..]. */
  readonly buffer: Buffer;
  private readonly hashes: Int32Array;
  private readonly words: Int32Array;
  private readonly wasmHash: HashPages | null = null;

  constructor(
    readonly pageSize: number,
    options: { wasm?: boolean } = {},
  ) {
    if (pageSize % 64 !== 0) throw new RangeError(`page size must be a multiple of 64 bytes, received ${pageSize}`);
    this.runPages = Math.max(1, Math.floor(READ_BYTES / pageSize));
    const mod = options.wasm === false ? null : compiled();
    if (mod && this.runPages * pageSize <= READ_BYTES) {
      const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;
      const inst = new wasm.Instance(mod, {});
      const mem = (inst.exports.memory as { buffer: ArrayBuffer }).buffer;
      this.kind = 'wasm';
      this.buffer = Buffer.from(mem, 0, this.runPages * pageSize);
      this.hashes = new Int32Array(mem, READ_BYTES, this.runPages * 2);
      this.wasmHash = inst.exports.hash_pages as HashPages;
    } else {
      this.kind = 'js';
      this.buffer = Buffer.alloc(this.runPages * pageSize);
      this.hashes = new Int32Array(this.runPages * 2);
    }
    this.words = new Int32Array(this.buffer.buffer, this.buffer.byteOffset, this.buffer.length >>> 2);
  }

  /** Fingerprints pages 0..n-1 of the buffer; page k's are at [2k] and [2k + 1] of the result. */
  hash(n: number): Int32Array {
    if (this.wasmHash) {
      this.wasmHash(0, n, this.pageSize, READ_BYTES);
    } else {
      const W = this.pageSize >>> 2;
      for (let k = 0; k < n; k++) hashPageJs(this.words, k * W, W, this.hashes, 2 * k);
    }
    return this.hashes;
  }
}

const zeroHashes = new Map<number, [number, number]>();

/** The fingerprint of a page of zeros (what an absent anonymous page reads as). */
export function zeroHash(pageSize: number): [number, number] {
  let h = zeroHashes.get(pageSize);
  if (!h) {
    const out = new Int32Array(2);
    hashPageJs(new Int32Array(pageSize / 4), 0, pageSize / 4, out);
    h = [out[0], out[1]];
    zeroHashes.set(pageSize, h);
  }
  return h;
}
