// lib/twin/cache.ts: the pure-TypeScript twin of native/core/page_cache.cc. Same
// rules (QEMU's direct-mapped cache and its two-generation lifetime rule, or
// set-associative under the same rule), same arena growth, same counters, so
// the two report identical figures for identical calls.
import type { BudgetBackend, CacheBackend, CacheGeometry, SenderBackend } from '../backend/cache-backend';
import * as abi from '../backend/abi';
import { INSERT_BUDGET, INSERT_CLOSED, INSERT_MEMORY, INSERT_STORED, INSERT_YOUNG } from '../backend/abi';
import type { Address } from '../util/checks';
import { TwinSender } from './sender';

const CHUNK_BYTES = abi.CACHE_METADATA_CHUNK_BYTES;
const GROW_BYTES = 64 << 10; // kGrowBytes
const NO_PAGE = 0xffff_ffff;
const TWO32 = 4294967296;

/**
 * What native/core/page_cache.cc PageCache::metadata_bytes() reports, so
 * memoryUsage() is equal in both backends (the constants are in
 * native/core/abi.h): 16 bytes per slot and 12 per chunk-table entry (a
 * pointer and a capacity). The twin's own tables cost the same 16 bytes a
 * slot (four Uint32Arrays); 0 once closed.
 */
export function metadataBytes(nslots: number, nchunks: number): number {
  return nslots * abi.CACHE_METADATA_SLOT_BYTES + nchunks * abi.CACHE_METADATA_CHUNK_ENTRY_BYTES;
}

/**
 * The page memory a twin cache holds in its budget. Kept apart from the
 * cache so a FinalizationRegistry can give it back when the cache is
 * dropped without close(), as the native finalizer does.
 */
interface Charge {
  budget: BudgetBackend;
  bytes: number;
}

const dropped = new FinalizationRegistry<Charge>((c) => {
  c.budget.give(c.bytes);
  c.bytes = 0;
});

// The key of the address being looked at, as two 32-bit halves (bigint
// addresses go up to 2^64 - 1, past what a double holds exactly).
let keyHi = 0;
let keyLo = 0;
function splitKey(addr: Address): void {
  if (typeof addr === 'number') {
    keyHi = Math.floor(addr / TWO32);
    keyLo = addr >>> 0;
  } else {
    keyHi = Number(addr >> 32n);
    keyLo = Number(addr & 0xffff_ffffn);
  }
}

/** Slot tables of one geometry (structure of arrays, 16 bytes a slot). */
interface Tables {
  nslots: number;
  ways: number;
  sets: number;
  keyHi: Uint32Array;
  keyLo: Uint32Array;
  age: Uint32Array;
  page: Uint32Array;
}

function tables(nslots: number, waysCfg: number): Tables {
  const ways = Math.min(waysCfg, nslots);
  const page = new Uint32Array(nslots);
  page.fill(NO_PAGE);
  return {
    nslots,
    ways,
    sets: nslots / ways,
    keyHi: new Uint32Array(nslots),
    keyLo: new Uint32Array(nslots),
    age: new Uint32Array(nslots),
    page,
  };
}

export class TwinPageCache implements CacheBackend {
  readonly native = false;
  readonly pageSize: number;
  size: number;
  closed = false;
  /** Arena index of the page the last successful insert wrote. */
  lastIndex = -1;

  private readonly waysCfg: number;
  private t: Tables;
  private readonly bigP: bigint;
  // The arena: chunks of up to 2^shift pages, each grown in 64 KiB steps.
  private readonly shift: number;
  private readonly perChunk: number;
  private chunks: (Uint8Array | null)[];
  private chunkCap: number[];
  private used = 0;
  private allocated = 0;
  private budget: BudgetBackend | null;
  private charge: Charge | null = null;
  private readonly associative: boolean;
  // The sender's walk direction, learned from lookups (see native/core/page_cache.h).
  private lastHi = 0;
  private lastLo = 0;
  private dir = 0;
  // Counters, in the order of the stats array.
  private lookups = 0;
  private hits = 0;
  private inserts = 0;
  private refusedYoung = 0;
  private refusedBudget = 0;
  private refusedMemory = 0;
  private evictions = 0;

  /** The caller checked the geometry (size a power-of-two number of pages). */
  constructor(g: CacheGeometry, budget: BudgetBackend | null) {
    const { pageSize, size, associative, ways } = g;
    this.pageSize = pageSize;
    this.size = size;
    this.bigP = BigInt(pageSize);
    this.waysCfg = associative ? ways : 1;
    this.associative = associative;
    const per = Math.floor(CHUNK_BYTES / pageSize);
    this.shift = per ? Math.floor(Math.log2(per)) : 0;
    this.perChunk = 2 ** this.shift;
    this.t = tables(size / pageSize, this.waysCfg);
    const n = Math.ceil(this.t.nslots / this.perChunk);
    this.chunks = new Array<Uint8Array | null>(n).fill(null);
    this.chunkCap = new Array<number>(n).fill(0);
    this.budget = budget;
    if (budget) {
      this.charge = { budget, bytes: 0 };
      dropped.register(this, this.charge, this);
    }
  }

  sender(limit: number): SenderBackend {
    return new TwinSender(this, limit);
  }

  private take(bytes: number): void {
    this.budget!.take(bytes);
    this.charge!.bytes += bytes;
  }

  private give(bytes: number): void {
    if (!this.budget || bytes === 0) return;
    this.budget.give(bytes);
    this.charge!.bytes -= bytes;
  }

  get ways(): number {
    return this.t.ways;
  }

  private base(addr: Address, t: Tables): number {
    const set =
      typeof addr === 'number'
        ? Math.floor(addr / this.pageSize) % t.sets
        : Number((addr / this.bigP) % BigInt(t.sets));
    return set * t.ways;
  }

  /** Slot of addr (its key in keyHi/keyLo) in [base, base + ways), or -1. */
  private find(base: number): number {
    const t = this.t;
    for (let i = base; i < base + t.ways; i++) {
      if (t.keyLo[i] === keyLo && t.keyHi[i] === keyHi && t.page[i] !== NO_PAGE) return i;
    }
    return -1;
  }

  view(idx: number): Uint8Array {
    const c = Math.floor(idx / this.perChunk);
    const off = (idx - c * this.perChunk) * this.pageSize;
    return (this.chunks[c] as Uint8Array).subarray(off, off + this.pageSize);
  }

  /** A hit refreshes the age and returns the page's arena index; a miss -1. */
  lookupIndex(addr: Address, gen: number): number {
    this.lookups++;
    if (this.closed) return -1;
    splitKey(addr);
    if (this.associative && (keyHi !== this.lastHi || keyLo !== this.lastLo)) {
      const up = keyHi > this.lastHi || (keyHi === this.lastHi && keyLo > this.lastLo);
      this.dir = Math.max(-64, Math.min(64, this.dir + (up ? 1 : -1)));
      this.lastHi = keyHi;
      this.lastLo = keyLo;
    }
    const i = this.find(this.base(addr, this.t));
    if (i < 0) return -1;
    this.t.age[i] = gen;
    this.hits++;
    return this.t.page[i];
  }

  lookup(addr: Address, gen: number): boolean {
    return this.lookupIndex(addr, gen) >= 0;
  }

  get(addr: Address, out: Uint8Array): boolean {
    if (this.closed) return false;
    splitKey(addr);
    const i = this.find(this.base(addr, this.t));
    if (i < 0) return false;
    out.set(this.view(this.t.page[i]));
    return true;
  }

  /** The next arena page, growing the current chunk; or INSERT_BUDGET / INSERT_MEMORY. */
  private newPage(): number {
    const P = this.pageSize;
    const c = Math.floor(this.used / this.perChunk);
    const off = this.used - c * this.perChunk;
    const cur = this.chunkCap[c];
    if (off < cur) return this.used++;
    const bound = Math.min(this.perChunk, this.t.nslots - c * this.perChunk);
    let want = Math.min(cur + Math.max(1, Math.floor(GROW_BYTES / P)), bound);
    if (this.budget) {
      const afford = Math.floor(this.budget.available() / P);
      if (want - cur > afford) want = cur + afford;
      if (want <= cur) return INSERT_BUDGET;
      this.take((want - cur) * P);
    }
    let mem: Uint8Array | null = null;
    try {
      mem = new Uint8Array(want * P);
    } catch {
      this.give((want - cur - 1) * P);
      want = cur + 1;
      try {
        mem = new Uint8Array(want * P);
      } catch {
        this.give(P);
        return INSERT_MEMORY;
      }
    }
    const old = this.chunks[c];
    if (old) mem.set(old);
    this.chunks[c] = mem;
    this.chunkCap[c] = want;
    this.allocated += want - cur;
    return this.used++;
  }

  /**
   * The way a miss for the address in keyHi/keyLo may replace, or -1 (native:
   * PageCache::victim). QEMU: the slot once two generations old.
   * Associative: the oldest such way, one the walk has passed first, then the
   * farthest away; a way ahead of the walk needs one more generation.
   */
  private victim(base: number, gen: number): number {
    const t = this.t;
    if (!this.associative) return t.page[base] !== NO_PAGE && t.age[base] + 2 <= gen ? base : -1;
    const key = keyHi * TWO32 + keyLo; // distances only rank ways: doubles suffice
    let best = -1;
    let bestBehind = false;
    let bestDist = 0;
    for (let i = base; i < base + t.ways; i++) {
      if (t.page[i] === NO_PAGE || t.age[i] + 2 > gen) continue;
      const hi = t.keyHi[i];
      const lo = t.keyLo[i];
      const below = hi < keyHi || (hi === keyHi && lo < keyLo);
      const above = hi > keyHi || (hi === keyHi && lo > keyLo);
      const behind = this.dir >= 0 ? below : above;
      if (!behind && t.age[i] + 3 > gen) continue;
      const dist = Math.abs(hi * TWO32 + lo - key);
      if (
        best < 0 ||
        t.age[i] < t.age[best] ||
        (t.age[i] === t.age[best] && (+behind > +bestBehind || (behind === bestBehind && dist > bestDist)))
      ) {
        best = i;
        bestBehind = behind;
        bestDist = dist;
      }
    }
    return best;
  }

  /** QEMU's insert (docs/FORMAT.md §3); src null stores zeros. Returns an INSERT_* code. */
  insert(addr: Address, src: Uint8Array | null, gen: number): number {
    if (this.closed) return INSERT_CLOSED;
    const t = this.t;
    splitKey(addr);
    const base = this.base(addr, t);
    let target = this.find(base);
    if (target < 0) {
      let empty = -1;
      for (let i = base; i < base + t.ways && empty < 0; i++) if (t.page[i] === NO_PAGE) empty = i;
      if (empty >= 0) {
        const idx = this.newPage();
        if (idx >= 0) {
          t.page[empty] = idx;
          target = empty;
        } else if ((target = this.victim(base, gen)) >= 0) {
          this.evictions++; // no memory for a new page, but a way can be reused
        } else {
          if (idx === INSERT_BUDGET) this.refusedBudget++;
          else this.refusedMemory++;
          return idx;
        }
      } else if ((target = this.victim(base, gen)) >= 0) {
        this.evictions++;
      } else {
        this.refusedYoung++;
        return INSERT_YOUNG;
      }
    }
    const dst = this.view(t.page[target]);
    if (src) dst.set(src);
    else dst.fill(0);
    t.keyHi[target] = keyHi;
    t.keyLo[target] = keyLo;
    t.age[target] = gen;
    this.inserts++;
    this.lastIndex = t.page[target];
    return INSERT_STORED;
  }

  private freeChunks(): void {
    this.chunks.fill(null);
    this.chunkCap.fill(0);
    this.give(this.allocated * this.pageSize);
    this.allocated = 0;
    this.used = 0;
  }

  clear(): void {
    if (this.closed) return;
    this.freeChunks();
    this.t.page.fill(NO_PAGE);
    this.t.keyHi.fill(0);
    this.t.keyLo.fill(0);
    this.t.age.fill(0);
  }

  close(): void {
    if (this.closed) return;
    this.freeChunks();
    this.t = tables(0, 1);
    this.chunks = [];
    this.chunkCap = [];
    dropped.unregister(this);
    this.budget = null;
    this.charge = null;
    this.closed = true;
  }

  /** Keeps what fits, as native/core/page_cache.cc does; false when out of memory. */
  resize(size: number): boolean {
    if (this.closed) return false;
    if (size === this.size) return true;
    let nt: Tables;
    let owner: Int32Array;
    try {
      nt = tables(size / this.pageSize, this.waysCfg);
      owner = new Int32Array(this.used).fill(-1);
    } catch {
      return false;
    }
    const t = this.t;
    // 1. Place the old entries; a contested set keeps its youngest pages.
    for (let i = 0; i < t.nslots; i++) {
      if (t.page[i] === NO_PAGE) continue;
      const addr = t.keyHi[i] < 0x200000 ? t.keyHi[i] * TWO32 + t.keyLo[i] : (BigInt(t.keyHi[i]) << 32n) | BigInt(t.keyLo[i]);
      const base = this.base(addr, nt);
      let dst = -1;
      let oldest = -1;
      for (let j = base; j < base + nt.ways && dst < 0; j++) {
        if (nt.page[j] === NO_PAGE) dst = j;
        else if (oldest < 0 || nt.age[j] < nt.age[oldest]) oldest = j;
      }
      if (dst < 0 && nt.age[oldest] < t.age[i]) dst = oldest;
      if (dst >= 0) {
        nt.keyHi[dst] = t.keyHi[i];
        nt.keyLo[dst] = t.keyLo[i];
        nt.age[dst] = t.age[i];
        nt.page[dst] = t.page[i];
      }
    }
    // 2. Compact: kept pages move from the arena's tail into its holes.
    let kept = 0;
    for (let i = 0; i < nt.nslots; i++) {
      if (nt.page[i] !== NO_PAGE) {
        owner[nt.page[i]] = i;
        kept++;
      }
    }
    let lo = 0;
    let hi = this.used;
    for (;;) {
      while (lo < hi && owner[lo] >= 0) lo++;
      while (hi > lo && owner[hi - 1] < 0) hi--;
      if (lo >= hi) break;
      const from = hi - 1;
      this.view(lo).set(this.view(from));
      nt.page[owner[from]] = lo;
      owner[lo] = owner[from];
      owner[from] = -1;
    }
    // 3. Trim the arena to the kept pages.
    const n = Math.ceil(nt.nslots / this.perChunk);
    const chunks = new Array<Uint8Array | null>(n).fill(null);
    const caps = new Array<number>(n).fill(0);
    let freed = 0;
    for (let c = 0; c < this.chunks.length; c++) {
      const cap = this.chunkCap[c];
      const keep = Math.min(Math.max(kept - c * this.perChunk, 0), cap);
      freed += cap - keep;
      if (keep > 0) {
        const mem = this.chunks[c] as Uint8Array;
        chunks[c] = keep < cap ? mem.slice(0, keep * this.pageSize) : mem;
        caps[c] = keep;
      }
    }
    this.allocated -= freed;
    this.give(freed * this.pageSize);
    this.used = kept;
    this.chunks = chunks;
    this.chunkCap = caps;
    this.t = nt;
    this.size = size;
    return true;
  }

  /** Fills the stats array (layout: native/addon/addon.cc CacheStats). */
  stats(o: Float64Array): void {
    const t = this.t;
    o[abi.CACHE_STAT_SIZE] = this.size;
    o[abi.CACHE_STAT_PAGE_SIZE] = this.pageSize;
    o[abi.CACHE_STAT_SLOTS] = t.nslots;
    o[abi.CACHE_STAT_WAYS] = t.ways;
    o[abi.CACHE_STAT_PAGES] = this.used;
    o[abi.CACHE_STAT_PAGE_BYTES] = this.allocated * this.pageSize;
    o[abi.CACHE_STAT_METADATA_BYTES] = this.closed ? 0 : metadataBytes(t.nslots, this.chunks.length);
    o[abi.CACHE_STAT_LOOKUPS] = this.lookups;
    o[abi.CACHE_STAT_HITS] = this.hits;
    o[abi.CACHE_STAT_INSERTS] = this.inserts;
    o[abi.CACHE_STAT_REFUSED_YOUNG] = this.refusedYoung;
    o[abi.CACHE_STAT_REFUSED_BUDGET] = this.refusedBudget;
    o[abi.CACHE_STAT_REFUSED_MEMORY] = this.refusedMemory;
    o[abi.CACHE_STAT_EVICTIONS] = this.evictions;
    o[abi.CACHE_STAT_CLOSED] = this.closed ? 1 : 0;
  }
}
