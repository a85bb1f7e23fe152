// profile/trackers.ts: which pages a process dirtied since the last look.
//
// 'soft-dirty' is the kernel's own record (write 4 to clear_refs, then read
// bit 55 of each pagemap entry): cheap, and it sees writes that leave a page
// as it was. 'content' is the fallback for kernels built without
// CONFIG_MEM_SOFT_DIRTY: a fingerprint of every resident page per interval,
// so a page counts as dirty when its bytes changed (a write of the same
// bytes is invisible, and so are A -> B -> A changes within one interval).
//
// Both look only at the pages of a PageSample (all of them at rate 1): the
// cost of a pass follows the sample, not the memory, and per-page state is
// indexed by the sampled page's dense number.
import * as fs from 'node:fs';
import type { PageSample } from '../advisor/page-sample';
import { grow } from './grow';
import type { LiveRange } from './maps';
import { PageHasher, zeroHash } from './page-hash';
import { PM_PRESENT, PM_SOFT_DIRTY, PM_SWAPPED, type ProcTarget } from './procfs';

/** How dirty pages are found. */
export type TrackingMethod = 'soft-dirty' | 'content';

/** Receives each dirty page, ascending by offset; `content` is valid during the call only. */
export type DirtyCallback = (offset: number, content: Uint8Array | null) => void;

/** What a scan saw. */
export interface ScanStats {
  /** Resident pages in the scanned ranges. */
  resident: number;
  /** Bytes read from /proc/PID/mem. */
  readBytes: number;
  /** Pages that could not be read (EIO). */
  unreadable: number;
}

/** Finds dirty pages. The first collect() of a page only records its state (the baseline). */
export interface DirtyTracker {
  readonly method: TrackingMethod;
  collect(ranges: LiveRange[], wantContent: (offset: number) => boolean, onDirty: DirtyCallback): ScanStats;
}

const PAGEMAP_CHUNK = 16384; // entries per pagemap read (128 KiB)

/** Content fingerprints: dirty = resident page whose bytes changed. */
export class ContentTracker implements DirtyTracker {
  readonly method = 'content' as const;
  private hashA = new Int32Array(0);
  private hashB = new Int32Array(0);
  private known = new Uint8Array(0);
  private readonly pm = new Uint32Array(PAGEMAP_CHUNK * 2);
  private readonly hasher: PageHasher;
  private readonly bad: Uint8Array;
  private readonly zero: Uint8Array;

  constructor(
    private readonly target: ProcTarget,
    private readonly pageSize: number,
    private readonly sample: PageSample,
  ) {
    this.hasher = new PageHasher(pageSize);
    this.bad = new Uint8Array(this.hasher.runPages);
    this.zero = new Uint8Array(pageSize);
  }

  /** 'wasm' or 'js': which fingerprint code runs. */
  get hashKind(): 'wasm' | 'js' {
    return this.hasher.kind;
  }

  /** Bytes of per-page state. */
  get stateBytes(): number {
    return this.hashA.byteLength * 2 + this.known.byteLength;
  }

  collect(ranges: LiveRange[], _want: (offset: number) => boolean, onDirty: DirtyCallback): ScanStats {
    const P = this.pageSize;
    const sample = this.sample;
    const stats: ScanStats = { resident: 0, readBytes: 0, unreadable: 0 };
    const end = sample.compressedSize(ranges.reduce((m, r) => Math.max(m, r.offset + (r.end - r.start) / P), 0));
    this.hashA = grow(this.hashA, end);
    this.hashB = grow(this.hashB, end);
    this.known = grow(this.known, end);
    const { hashA, hashB, known, pm, bad, hasher } = this;
    const buf = hasher.buffer;
    const runPages = hasher.runPages;
    const [z0, z1] = zeroHash(P);
    // Compares fingerprint (h0, h1) of the page at `offset` with the last
    // one; the page's bytes are buf[k * P ..] (k < 0: zeros). Views are made
    // for dirty pages only: one per scanned page would be garbage enough to
    // grow V8's young generation by tens of MiB.
    const check = (offset: number, h0: number, h1: number, k: number): void => {
      const at = sample.compress(offset);
      if (!known[at]) {
        known[at] = 1;
      } else if (hashA[at] === h0 && hashB[at] === h1) {
        return;
      } else {
        onDirty(offset, k < 0 ? this.zero : buf.subarray(k * P, (k + 1) * P));
      }
      hashA[at] = h0;
      hashB[at] = h1;
    };
    const markBad = (at: number): void => {
      bad[at / P] = 1;
    };
    for (const r of ranges) {
      // Sampled offsets [s, s + count): pages s - r.offset ... of the range.
      sample.forEachRun(r.offset, (r.end - r.start) / P, (s, count) => {
        const first = s - r.offset;
        const vbase = r.start / P + first;
        for (let c = 0; c < count; c += PAGEMAP_CHUNK) {
          const n = this.target.readPagemap(vbase + c, Math.min(PAGEMAP_CHUNK, count - c), pm);
          const off = s + c;
          let i = 0;
          while (i < n) {
            const hi = pm[2 * i + 1];
            if (!(hi & PM_PRESENT)) {
              // Absent: a swapped page kept its bytes; an absent private
              // anonymous page reads as zeros; other absent pages (file, shared)
              // are unknown, so unchanged as far as we can tell.
              if (!(hi & PM_SWAPPED) && r.anonymous) check(off + i, z0, z1, -1);
              i++;
              continue;
            }
            let j = i + 1;
            while (j < n && j - i < runPages && pm[2 * j + 1] & PM_PRESENT) j++;
            const len = (j - i) * P;
            bad.fill(0, 0, j - i);
            this.target.readMem(r.start + (first + c + i) * P, buf, len, P, markBad);
            stats.readBytes += len;
            const hs = hasher.hash(j - i);
            for (let k = 0; k < j - i; k++) {
              if (bad[k]) {
                stats.unreadable++;
                continue;
              }
              stats.resident++;
              check(off + i + k, hs[2 * k], hs[2 * k + 1], k);
            }
            i = j;
          }
        }
      });
    }
    return stats;
  }
}

/** The kernel's soft-dirty bits: dirty = written since the last clear. */
export class SoftDirtyTracker implements DirtyTracker {
  readonly method = 'soft-dirty' as const;
  private known = new Uint8Array(0);
  private readonly pm = new Uint32Array(PAGEMAP_CHUNK * 2);
  private readonly page: Buffer;

  constructor(
    private readonly target: ProcTarget,
    private readonly pageSize: number,
    private readonly sample: PageSample,
  ) {
    this.page = Buffer.alloc(pageSize);
  }

  get stateBytes(): number {
    return this.known.byteLength;
  }

  collect(ranges: LiveRange[], want: (offset: number) => boolean, onDirty: DirtyCallback): ScanStats {
    const P = this.pageSize;
    const stats: ScanStats = { resident: 0, readBytes: 0, unreadable: 0 };
    const sample = this.sample;
    const end = sample.compressedSize(ranges.reduce((m, r) => Math.max(m, r.offset + (r.end - r.start) / P), 0));
    this.known = grow(this.known, end);
    const { known, pm } = this;
    const dirty: number[] = [];
    const addrs: number[] = [];
    for (const r of ranges) {
      sample.forEachRun(r.offset, (r.end - r.start) / P, (s, count) => {
        const vbase = r.start / P + (s - r.offset);
        for (let c = 0; c < count; c += PAGEMAP_CHUNK) {
          const n = this.target.readPagemap(vbase + c, Math.min(PAGEMAP_CHUNK, count - c), pm);
          for (let i = 0; i < n; i++) {
            const hi = pm[2 * i + 1];
            if (hi & PM_PRESENT) stats.resident++;
            const offset = s + c + i;
            const at = sample.compress(offset);
            if (!known[at]) {
              // First sight (a new mapping reports every page soft-dirty): baseline.
              known[at] = 1;
              continue;
            }
            if (hi & PM_SOFT_DIRTY && hi & (PM_PRESENT | PM_SWAPPED)) {
              dirty.push(offset);
              addrs.push(r.start + (offset - r.offset) * P);
            }
          }
        }
      });
    }
    // Clear right after reading, so that the next interval starts now.
    if (!this.target.clearSoftDirty()) throw new Error(`could not write ${this.target.dir}/clear_refs`);
    for (let k = 0; k < dirty.length; k++) {
      let content: Uint8Array | null = null;
      if (want(dirty[k])) {
        let ok = true;
        this.target.readMem(addrs[k], this.page, P, P, () => {
          ok = false;
        });
        stats.readBytes += P;
        if (ok) content = this.page;
        else stats.unreadable++;
      }
      onDirty(dirty[k], content);
    }
    return stats;
  }
}

/**
 * Whether soft-dirty tracking works here: the kernel must set bit 55 (a
 * kernel with CONFIG_MEM_SOFT_DIRTY reports every page of a mapping that
 * was never cleared as soft-dirty, so our own heap shows it), and
 * clear_refs of the target must be writable.
 */
export function softDirtySupport(target: ProcTarget, pageSize: number, procRoot = '/proc'): { ok: boolean; reason: string } {
  if (!kernelSetsSoftDirty(procRoot, pageSize)) {
    return { ok: false, reason: 'this kernel sets no soft-dirty bits (built without CONFIG_MEM_SOFT_DIRTY)' };
  }
  try {
    fs.accessSync(`${target.dir}/clear_refs`, fs.constants.W_OK);
  } catch {
    return { ok: false, reason: `${target.dir}/clear_refs is not writable` };
  }
  return { ok: true, reason: 'the kernel keeps soft-dirty bits' };
}

function kernelSetsSoftDirty(procRoot: string, P: number): boolean {
  try {
    const maps = fs.readFileSync(`${procRoot}/self/maps`, 'utf8').split('\n');
    const fd = fs.openSync(`${procRoot}/self/pagemap`, 'r');
    try {
      const b = Buffer.alloc(8 * 64);
      for (const line of maps) {
        const m = /^([0-9a-f]+)-([0-9a-f]+) rw-p \S+ \S+ 0\s*(\[heap\]|\[stack\]|)$/.exec(line);
        if (!m) continue;
        const start = parseInt(m[1], 16) / P;
        const n = Math.min(64, (parseInt(m[2], 16) / P - start) | 0);
        const got = fs.readSync(fd, b, 0, n * 8, start * 8) >>> 3;
        for (let i = 0; i < got; i++) if (b.readUInt32LE(i * 8 + 4) & PM_SOFT_DIRTY) return true;
      }
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // unreadable: treat as unsupported
  }
  return false;
}
