// advisor.ts: CacheAdvisor, miss-ratio curves and XBZRLE cache-size advice
// from a trace of dirty passes (one pass per pre-copy iteration).
import * as os from 'node:os';
import { CacheSim, POLICIES, setsOf, type CachePolicy } from './cache-sim';
import { PageSample, type PageSampleSpec } from './page-sample';
import { decodePass, passBytes, storePass, type StoredPass } from './pass-store';
import { MAX_PAGE_SIZE, checkInteger, checkOptions } from '../util/checks';
import { floorPowerOfTwo, formatBytes, formatPercent, isPowerOfTwo, nextPowerOfTwo, parseBudget } from '../util/sizes';

export type { CachePolicy } from './cache-sim';

/** Saving (share of re-sent bytes) below which XBZRLE is said not to pay. */
export const PAYS_AT = 0.2;

/**
 * Savings closer than this (a share of re-sent bytes) to the best the budget
 * allows are taken as equal when the target cannot be met: the smaller cache wins.
 */
export const SAVING_TOLERANCE = 0.005;

/** One row of the trade-off shown around a recommendation. */
export interface TradeoffRow {
  size: number;
  hitRate: number;
  saving: number | null;
  /** Bytes XBZRLE saves over the trace at this size (raw - xbzrle), or null. */
  savedBytes: number | null;
  /** savedBytes per MiB of cache: what the operator pays for. */
  savedPerMiB: number | null;
  reachesTarget: boolean;
  withinBudget: boolean;
  chosen: boolean;
}

/** Options of a CacheAdvisor. */
export interface CacheAdvisorOptions {
  /** Page size in bytes (default 4096). Addresses are divided by it. */
  pageSize?: number;
  /** Policies curve() simulates when not told otherwise (default both: 'qemu', 'associative'). */
  policies?: readonly CachePolicy[];
  /**
   * Spatial sampling (SHARDS-style) for large caches: the fraction of cache
   * sets simulated, in (0, 1] (rounded down to a power of two); 1 simulates
   * every set (exact). 'auto' (default) is exact up to 2^18 distinct pages
   * (1 GiB of 4 KiB pages) and samples 2^18 / distinct pages (a power of
   * two, at least 1/256) above. Only caches with at least `sampleUnits` sets
   * are sampled. Not used for a trace that is page-sampled already (`pageSample`).
   */
  sampling?: number | 'auto';
  /**
   * M, a power of two: whether a set is sampled depends on set mod M
   * (page-sample.ts). Default: max(32768, 2048 / rate), so at least 2048
   * independent choices are made.
   */
  sampleUnits?: number;
  /**
   * The trace holds only the pages of this sample (a sampled profile:
   * `xbzrle profile --sample-rate`). Every size is then estimated from it:
   * caches of at least `units` sets from whole sampled sets, smaller ones as
   * a cache scaled by the rate over the sampled pages; counts are scaled by
   * 1 / rate to the whole memory.
   */
  pageSample?: PageSampleSpec;
  /** Bytes of guest RAM, so that advice can give the cache as a share of it. */
  ramBytes?: number;
}

/** Per-pass extras for addPass. */
export interface AddPassOptions {
  /**
   * Bytes XBZRLE would send for each page of the pass if it hit the cache,
   * aligned with `addresses`: 0 when unchanged, delta length + 3 when it
   * encodes, the page size on overflow. NaN or a negative value: unknown.
   * Without it, curves give hit rates but no byte savings.
   */
  hitBytes?: ArrayLike<number>;
  /** The fraction of pages whose hitBytes were measured (default 1), to weight them. */
  costSampleRate?: number;
}

/** One point of a miss-ratio curve. Counts are estimates when `sampled`. */
export interface CurvePoint {
  policy: CachePolicy;
  /** Cache size in bytes (slots x page size). */
  size: number;
  slots: number;
  /** Hits / dirty pages looked up (all passes). */
  hitRate: number;
  hits: number;
  misses: number;
  /** Misses whose insert the policy refused. */
  refused: number;
  /** Bytes sent with XBZRLE at this size (misses raw, hits by their cost), or null when no cost is known. */
  xbzrleBytes: number | null;
  /** Bytes sent without XBZRLE: every dirty page raw. */
  rawBytes: number;
  /** 1 - xbzrleBytes / rawBytes, or null. */
  saving: number | null;
  /** True when computed from a spatial sample of the sets. */
  sampled: boolean;
  /** Fraction of the events the simulation saw (1 when exact). */
  sampleFraction: number;
}

/** Options of recommend(). */
export interface RecommendOptions {
  /** Hit rate to reach, a fraction (default 0.9). */
  target?: number;
  /** Memory the caches may take: bytes, or a string such as "512M", "2G" or "10%" of host memory. */
  budget?: number | string;
  /** Migrations sharing the budget at once (default 1): each gets budget / concurrent. */
  concurrent?: number;
  /** Host memory for a percentage budget (default os.totalmem()). */
  hostMemory?: number;
  /** Policy to advise for (default 'qemu', what QEMU does). */
  policy?: CachePolicy;
  /** Sizes to consider (default: the advisor's default ladder). */
  sizes?: number[];
}

/** Why a recommendation stops where it does. */
export type LimitedBy = 'target' | 'budget' | 'plateau';

/** The result of recommend(). */
export interface Recommendation {
  policy: CachePolicy;
  /** Recommended cache size in bytes (a power of two number of pages). */
  size: number;
  /** The size as a share of guest RAM, when ramBytes is known. */
  ramShare: number | null;
  hitRate: number;
  saving: number | null;
  target: number;
  /** True when `hitRate >= target`. */
  reached: boolean;
  /** 'target': the smallest size reaching the target; 'budget': the budget stopped short of it; 'plateau': no size reaches it, this is where hits stop growing. */
  limitedBy: LimitedBy;
  /** Bytes each migration may use (budget / concurrent), or null without a budget. */
  budget: number | null;
  /** The smallest size reaching the target regardless of budget, or null. */
  targetSize: number | null;
  /** The smallest size saving at least PAYS_AT, or null. */
  smallestPaying: number | null;
  /** False when XBZRLE will not pay (see reasons). */
  pays: boolean;
  /** Plain reasons it will not pay (empty when it does). */
  reasons: string[];
  /** One or two plain sentences an operator can act on. */
  sentence: string;
  /** Bytes saved per MiB of cache at the recommended size, or null without costs. */
  savedPerMiB: number | null;
  /** The sizes either side of the pick (up to two each way), to show the trade-off. */
  tradeoff: TradeoffRow[];
  /** The curve the advice came from (this policy). */
  curve: CurvePoint[];
}

/** What a trace holds, for reports. Counts are of the whole memory: for a page-sampled trace, the sample's counts / rate. */
export interface TraceStats {
  passes: number;
  /** The fraction of pages the trace holds (1, or its pageSample's rate). */
  sampleRate: number;
  /** Dirty pages over all passes (a page counts once per pass). */
  events: number;
  distinctPages: number;
  /** Highest page number - lowest + 1 (0 for an empty trace). */
  span: number;
  /** Events whose page was dirty in an earlier pass: what an unbounded cache hits. */
  reDirtied: number;
  /** Weighted shares of the events whose hit cost is known: unchanged, encodable, overflow. */
  known: { weight: number; unchanged: number; encodable: number; overflow: number; meanBytes: number | null };
}

function savedPerMiB(c: CurvePoint): number | null {
  return c.xbzrleBytes === null ? null : (c.rawBytes - c.xbzrleBytes) / (c.size / 2 ** 20);
}

// The pick and up to two sizes either side of it.
function tradeoff(curve: CurvePoint[], chosen: CurvePoint, target: number, cap: number): TradeoffRow[] {
  const at = curve.indexOf(chosen);
  return curve.slice(Math.max(0, at - 2), at + 3).map((c) => ({
    size: c.size,
    hitRate: c.hitRate,
    saving: c.saving,
    savedBytes: c.xbzrleBytes === null ? null : c.rawBytes - c.xbzrleBytes,
    savedPerMiB: savedPerMiB(c),
    reachesTarget: c.hitRate >= target,
    withinBudget: c.size <= cap,
    chosen: c === chosen,
  }));
}

function checkPolicy(p: unknown): CachePolicy {
  if (p !== 'qemu' && p !== 'associative') throw new RangeError(`policy must be 'qemu' or 'associative', received ${String(p)}`);
  return p;
}

/**
 * Computes miss-ratio curves of XBZRLE's page cache from a trace of dirty
 * passes, by simulating the cache exactly (QEMU's direct-mapped policy and an
 * 8-way associative one), and advises a cache size.
 *
 * Semantics follow the migration sender: the bulk first pass sends every
 * page raw and does not touch the cache, so the first addPass() is
 * generation 1; each dirty page is looked up, a hit refreshes its age, a
 * miss inserts it (which the policy may refuse). Pages of a pass are
 * processed in ascending address order, as QEMU walks its dirty bitmap.
 *
 * @example
 * const a = new CacheAdvisor({ ramBytes: 8 * 2 ** 30 }); // not 8 << 30, which is 0
 * for (const dirty of passes) a.addPass(dirty);
 * a.curve([64 << 20, 128 << 20]);
 * a.recommend({ target: 0.9, budget: '10%', concurrent: 2 }).sentence;
 */
export class CacheAdvisor {
  /** Page size in bytes. */
  readonly pageSize: number;
  /** Policies curve() simulates by default. */
  readonly policies: readonly CachePolicy[];
  /** Bytes of guest RAM, when known (for shares in advice). */
  ramBytes: number | null;
  private readonly sampling: number | 'auto';
  private readonly sampleUnitsOption: number | undefined;
  /** The sample the trace was taken with, or null for a full trace. */
  readonly pageSample: PageSample | null;
  // Counts in the trace stand for scale times as many in the whole memory.
  private readonly scale: number;
  private readonly passes: StoredPass[] = [];
  private events = 0;
  private memo = new Map<string, CurvePoint>();
  private statsMemo: TraceStats | null = null;

  constructor(options: CacheAdvisorOptions = {}) {
    checkOptions(options);
    const pageSize = options.pageSize ?? 4096;
    checkInteger(pageSize, 'pageSize', 1, MAX_PAGE_SIZE);
    if (options.ramBytes !== undefined) checkInteger(options.ramBytes, 'ramBytes', 1, Number.MAX_SAFE_INTEGER);
    this.pageSize = pageSize;
    this.policies = (options.policies ?? POLICIES).map(checkPolicy);
    const s = options.sampling ?? 'auto';
    if (s !== 'auto' && !(typeof s === 'number' && s > 0 && s <= 1)) throw new RangeError(`sampling must be 'auto' or a rate in (0, 1], received ${String(s)}`);
    this.sampling = s;
    if (options.sampleUnits !== undefined && !(isPowerOfTwo(options.sampleUnits) && options.sampleUnits >= 2)) {
      throw new RangeError(`sampleUnits must be a power of two >= 2, received ${options.sampleUnits}`);
    }
    this.sampleUnitsOption = options.sampleUnits;
    checkOptions(options.pageSample, 'pageSample');
    this.pageSample = options.pageSample === undefined ? null : new PageSample(options.pageSample);
    this.scale = this.pageSample ? 1 / this.pageSample.rate : 1;
    this.ramBytes = options.ramBytes ?? null;
  }

  /** Passes added so far. */
  get passCount(): number {
    return this.passes.length;
  }

  /** Dirty pages added so far (each page once per pass). */
  get eventCount(): number {
    return this.events;
  }

  /** Bytes the stored trace takes. */
  get storedBytes(): number {
    return this.passes.reduce((s, p) => s + passBytes(p), 0);
  }

  /**
   * Adds one pre-copy pass: the byte addresses of the pages dirtied since the
   * previous pass (any order; duplicates count once). With
   * `options.hitBytes`, savings are estimated as well as hit rates.
   */
  addPass(addresses: ArrayLike<number>, options: AddPassOptions = {}): void {
    const n = addresses.length;
    const pages = new Float64Array(n);
    const P = this.pageSize;
    for (let i = 0; i < n; i++) {
      const a = addresses[i];
      if (!(a >= 0) || !Number.isSafeInteger(Math.floor(a))) throw new RangeError(`addresses[${i}] must be a non-negative safe integer, received ${a}`);
      pages[i] = Math.floor(a / P);
      if (this.pageSample && !this.pageSample.has(pages[i])) throw new RangeError(`addresses[${i}] (page ${pages[i]}) is not in the pageSample the trace was taken with`);
    }
    const hb = options.hitBytes;
    if (hb && hb.length !== n) throw new RangeError(`hitBytes must have one entry per address (${n}), received ${hb.length}`);
    const rate = options.costSampleRate ?? 1;
    if (!(rate > 0 && rate <= 1)) throw new RangeError(`costSampleRate must be in (0, 1], received ${rate}`);
    const p = storePass(pages, hb ?? null, rate);
    this.passes.push(p);
    this.events += p.count;
    this.memo.clear();
    this.statsMemo = null;
  }

  /** Facts about the trace: events, distinct pages, re-dirtied pages, known cost shares. */
  stats(): TraceStats {
    if (this.statsMemo) return this.statsMemo;
    let distinct = 0;
    let lo = Infinity;
    let hi = -Infinity;
    const seen = this.pageSet();
    const buf = new Float64Array(this.maxPassCount());
    for (const p of this.passes) {
      const n = decodePass(p, buf);
      for (let i = 0; i < n; i++) if (seen.add(buf[i])) distinct++;
      if (n) {
        lo = Math.min(lo, buf[0]);
        hi = Math.max(hi, buf[n - 1]);
      }
    }
    let weight = 0;
    let unchanged = 0;
    let encodable = 0;
    let overflow = 0;
    let bytes = 0;
    for (const p of this.passes) {
      for (let k = 0; k < p.knownBytes.length; k++) {
        const c = p.knownBytes[k];
        weight += p.weight;
        bytes += p.weight * c;
        if (c === 0) unchanged += p.weight;
        else if (c >= this.pageSize) overflow += p.weight;
        else encodable += p.weight;
      }
    }
    const share = (x: number): number => (weight > 0 ? x / weight : 0);
    const k = this.scale;
    this.statsMemo = {
      passes: this.passes.length,
      sampleRate: 1 / k,
      events: this.events * k,
      distinctPages: distinct * k,
      span: distinct ? hi - lo + 1 : 0,
      reDirtied: (this.events - distinct) * k,
      known: { weight, unchanged: share(unchanged), encodable: share(encodable), overflow: share(overflow), meanBytes: weight > 0 ? bytes / weight : null },
    };
    return this.statsMemo;
  }

  /**
   * The default ladder of cache sizes: powers of two from max(16 pages,
   * top / 1024) up to `top`, the smallest power-of-two number of pages
   * covering the span of page numbers in the trace (from there a
   * direct-mapped cache has no conflicts), but at most 256 times the
   * distinct pages (sparse addresses) and, when ramBytes is known, no
   * larger than guest RAM (QEMU refuses a larger cache).
   */
  defaultSizes(): number[] {
    const P = this.pageSize;
    const st = this.stats();
    const span = Math.min(st.span, 256 * Math.max(1, st.distinctPages));
    let top = nextPowerOfTwo(Math.max(16, span)) * P;
    // QEMU refuses a cache larger than guest RAM.
    if (this.ramBytes) top = Math.min(top, Math.max(16 * P, floorPowerOfTwo(Math.floor(this.ramBytes / P)) * P));
    const sizes: number[] = [];
    for (let s = Math.max(16 * P, top / 1024); s <= top; s *= 2) sizes.push(s);
    return sizes;
  }

  /**
   * The miss-ratio curve: for each size (bytes, a power-of-two number of
   * pages) and each policy, the hit rate over the whole trace, the bytes
   * XBZRLE would send and the saving. Sorted by policy, then size.
   */
  curve(sizes: readonly number[] = this.defaultSizes(), policies: readonly CachePolicy[] = this.policies): CurvePoint[] {
    const P = this.pageSize;
    for (const s of sizes) {
      if (!isPowerOfTwo(s / P) || s / P > 2 ** 31) throw new RangeError(`cache sizes must be a power-of-two number of ${P}-byte pages (up to 2^31), received ${s}`);
    }
    const sorted = [...new Set(sizes)].sort((a, b) => a - b);
    const todo: { policy: CachePolicy; size: number }[] = [];
    for (const policy of policies.map(checkPolicy)) for (const size of sorted) if (!this.memo.has(`${policy}/${size}`)) todo.push({ policy, size });
    if (todo.length) this.simulate(todo);
    return policies.flatMap((policy) => sorted.map((size) => this.memo.get(`${policy}/${size}`)!));
  }

  /**
   * Advises a cache size within `budget / concurrent`. With byte costs in
   * the trace: among the sizes reaching `target`, the one saving the most
   * bytes per MiB of cache; when none reaches it, the smallest saving within
   * SAVING_TOLERANCE of the best the budget allows. Without costs: the
   * smallest size reaching the target (else the plateau, or the budget).
   * Says whether XBZRLE pays at all, with a plain sentence, and gives the
   * trade-off rows around the pick.
   */
  recommend(options: RecommendOptions = {}): Recommendation {
    const P = this.pageSize;
    const target = options.target ?? 0.9;
    if (!(target >= 0 && target <= 1)) throw new RangeError(`target must be a fraction in [0, 1], received ${target}`);
    const policy = checkPolicy(options.policy ?? 'qemu');
    const concurrent = options.concurrent ?? 1;
    if (!Number.isInteger(concurrent) || concurrent < 1) throw new RangeError(`concurrent must be a positive integer, received ${concurrent}`);
    let cap = Infinity;
    let budget: number | null = null;
    if (options.budget !== undefined) {
      budget = Math.floor(parseBudget(options.budget, options.hostMemory ?? os.totalmem()) / concurrent);
      cap = floorPowerOfTwo(Math.floor(budget / P)) * P;
      if (cap < P) throw new RangeError(`the budget per migration (${formatBytes(budget)}) is smaller than one page`);
    }
    const sizes = [...(options.sizes ?? this.defaultSizes())];
    if (Number.isFinite(cap) && !sizes.includes(cap)) sizes.push(cap);
    const curve = this.curve(sizes, [policy]);
    const within = curve.filter((c) => c.size <= cap);
    const reach = curve.find((c) => c.hitRate >= target) ?? null;
    const best = Math.max(...curve.map((c) => c.hitRate));
    const plateau = curve.find((c) => c.hitRate >= best - 0.01)!;
    // With byte costs the pick optimises what the operator pays for: bytes
    // saved per MiB of cache, among the sizes within the budget that reach
    // the target. When none does, the smallest size saving about as much as
    // the best the budget allows. Without costs, only hit rates can decide.
    const costed = within.length > 0 && within.every((c) => c.saving !== null);
    const feasible = within.filter((c) => c.hitRate >= target);
    let chosen: CurvePoint;
    let limitedBy: LimitedBy;
    if (feasible.length) {
      limitedBy = 'target';
      chosen = feasible[0];
      if (costed) for (const c of feasible) if (savedPerMiB(c)! > savedPerMiB(chosen)!) chosen = c;
    } else {
      limitedBy = !reach && plateau.size <= cap ? 'plateau' : 'budget';
      if (costed) {
        const top = Math.max(...within.map((c) => c.saving!));
        chosen = within.find((c) => c.saving! >= top - SAVING_TOLERANCE)!;
      } else chosen = limitedBy === 'plateau' ? plateau : within[within.length - 1];
    }
    const paying = curve.find((c) => c.saving !== null && c.saving >= PAYS_AT) ?? null;
    const stats = this.stats();
    const reasons = this.reasons(chosen, stats, limitedBy, best);
    const pays = reasons.length === 0;
    const rec: Recommendation = {
      policy,
      size: chosen.size,
      ramShare: this.ramBytes ? chosen.size / this.ramBytes : null,
      hitRate: chosen.hitRate,
      saving: chosen.saving,
      target,
      reached: chosen.hitRate >= target,
      limitedBy,
      budget,
      targetSize: reach ? reach.size : null,
      smallestPaying: paying ? paying.size : null,
      pays,
      reasons,
      sentence: '',
      savedPerMiB: savedPerMiB(chosen),
      tradeoff: tradeoff(curve, chosen, target, cap),
      curve,
    };
    rec.sentence = this.sentence(rec, curve[0].size);
    return rec;
  }

  private reasons(c: CurvePoint, stats: TraceStats, limitedBy: LimitedBy, best: number): string[] {
    const out: string[] = [];
    if (stats.events === 0) return ['no page was dirtied during the trace'];
    if (stats.known.weight > 0 && stats.known.overflow >= 0.5) {
      out.push(`${formatPercent(stats.known.overflow, 0)} of re-dirtied pages overflow (they change too much to encode and go raw)`);
    }
    if (best < 0.5) {
      out.push(`only ${formatPercent(best, 0)} of dirty pages are ever found in the cache: most pages are not dirtied again, so they miss at any size`);
    } else if (limitedBy === 'budget' && c.hitRate < 0.5) {
      out.push(`the budget allows only ${formatBytes(c.size)}, where ${formatPercent(1 - c.hitRate, 0)} of dirty pages miss`);
    }
    // Overflow and misses only stand in for the saving: where the trace
    // measured it (page contents known), the saving decides, and they say why it is low.
    if (c.saving === null) return out;
    if (c.saving >= PAYS_AT) return [];
    return out.length ? out : [`it would save only ${formatPercent(c.saving, 0)} of re-sent bytes`];
  }

  private sentence(r: Recommendation, smallest: number): string {
    const size = formatBytes(r.size);
    const share = r.ramShare !== null ? ` (${formatPercent(r.ramShare)} of guest RAM)` : '';
    const hits = `${formatPercent(r.hitRate, 0)} of dirty pages hit`;
    let s: string;
    if (!r.pays) {
      const at = r.saving !== null ? `at a ${size} cache it would save ${formatPercent(r.saving, 0)} of re-sent bytes` : `at a ${size} cache ${hits}`;
      s = `XBZRLE will not pay here: ${r.reasons.join('; ')}; ${at}.`;
      return s + this.limitNote(r);
    }
    s = r.saving !== null ? `XBZRLE would save ${formatPercent(r.saving, 0)} of re-sent bytes at a ${size} cache${share}, where ${hits}` : `A ${size} cache${share} would hit ${formatPercent(r.hitRate, 0)} of dirty pages (no page contents in the trace, so no byte saving)`;
    if (r.smallestPaying !== null && r.smallestPaying > smallest && r.smallestPaying <= r.size) {
      s += `; below ${formatBytes(r.smallestPaying)} it saves less than ${formatPercent(PAYS_AT, 0)}`;
    }
    s += '.';
    return s + this.limitNote(r);
  }

  private limitNote(r: Recommendation): string {
    let s = '';
    if (r.limitedBy === 'budget' && r.targetSize !== null) {
      s += ` The ${formatPercent(r.target, 0)} hit target needs ${formatBytes(r.targetSize)}, above the budget of ${formatBytes(r.budget!)} per migration.`;
    } else if (r.limitedBy === 'budget') {
      s += ` No size reaches ${formatPercent(r.target, 0)} hits; the budget of ${formatBytes(r.budget!)} per migration stops here.`;
    } else if (r.limitedBy === 'plateau') {
      s += ` No size reaches ${formatPercent(r.target, 0)} hits: this is where the hit rate stops growing.`;
    }
    return s;
  }

  private maxPassCount(): number {
    return this.passes.reduce((m, p) => Math.max(m, p.count), 0);
  }

  // A set of page numbers: a bitmap for compact page numbers (the profiler's
  // RAM offsets), a Set for sparse virtual addresses.
  private pageSet(): { add(p: number): boolean } {
    let max = 0;
    for (const p of this.passes) {
      if (!p.count) continue;
      max = Math.max(max, p.list ? p.list[p.count - 1] : p.base + p.bits!.length * 32);
    }
    if (max < 2 ** 27) {
      const bits = new Uint8Array((max >>> 3) + 1);
      return {
        add(p: number): boolean {
          const b = 1 << (p & 7);
          if (bits[p >>> 3] & b) return false;
          bits[p >>> 3] |= b;
          return true;
        },
      };
    }
    const set = new Set<number>();
    return {
      add(p: number): boolean {
        if (set.has(p)) return false;
        set.add(p);
        return true;
      },
    };
  }

  // The sample the simulation uses: the trace's own, else one of the sets
  // of large caches (null: exact).
  private simSample(): PageSample | null {
    if (this.pageSample) return this.pageSample;
    let rate: number;
    if (this.sampling !== 'auto') rate = floorPowerOfTwo(this.sampling);
    else {
      const d = this.stats().distinctPages;
      rate = d <= 2 ** 18 ? 1 : Math.max(1 / 256, floorPowerOfTwo(2 ** 18 / d) || 1 / 256);
    }
    return rate < 1 ? new PageSample({ rate, units: this.sampleUnitsOption ?? Math.max(32768, nextPowerOfTwo(2048 / rate)) }) : null;
  }

  private simulate(todo: { policy: CachePolicy; size: number }[]): void {
    const P = this.pageSize;
    const sample = this.simSample();
    const buf = new Float64Array(this.maxPassCount());
    // A full trace samples only caches with whole sets in the sample; a
    // page-sampled trace has nothing else, so every size comes from it.
    const sampledCase = (t: { policy: CachePolicy; size: number }): boolean => sample !== null && (this.pageSample !== null || setsOf(t.policy, t.size / P) >= sample.units);
    // Exact simulations walk the whole trace; sampled ones share one copy of
    // the sampled events, numbered densely, run through a cache scaled by the rate.
    const sampledTrace = todo.some(sampledCase) ? this.compressTrace(sample!, buf) : null;
    for (const t of todo) {
      const slots = t.size / P;
      const sampled = sampledCase(t);
      const sim = new CacheSim(t.policy, sampled ? Math.max(1, slots * sample!.rate) : slots);
      if (sampled) {
        sampledTrace!.forEach((p, g) => sim.runPass(p.pages, p.pages.length, g + 1, p.knownPages, p.knownBytes, p.weight));
      } else {
        this.passes.forEach((p, g) => sim.runPass(buf, decodePass(p, buf), g + 1, p.knownPages, p.knownBytes, p.weight));
      }
      this.memo.set(`${t.policy}/${t.size}`, this.point(t.policy, t.size, sim, sampled));
    }
  }

  // The sampled events of each pass, pages numbered densely (PageSample.compress).
  private compressTrace(sample: PageSample, buf: Float64Array): { pages: Float64Array; knownPages: Float64Array; knownBytes: Float64Array; weight: number }[] {
    return this.passes.map((p) => {
      const n = decodePass(p, buf);
      const pages: number[] = [];
      for (let i = 0; i < n; i++) if (sample.has(buf[i])) pages.push(sample.compress(buf[i]));
      const kp: number[] = [];
      const kb: number[] = [];
      for (let k = 0; k < p.knownPages.length; k++) {
        if (sample.has(p.knownPages[k])) {
          kp.push(sample.compress(p.knownPages[k]));
          kb.push(p.knownBytes[k]);
        }
      }
      return { pages: Float64Array.from(pages), knownPages: Float64Array.from(kp), knownBytes: Float64Array.from(kb), weight: p.weight };
    });
  }

  private point(policy: CachePolicy, size: number, sim: CacheSim, sampled: boolean): CurvePoint {
    const P = this.pageSize;
    const total = this.events * this.scale;
    const scale = sim.events > 0 ? total / sim.events : 0;
    const hits = sim.hits * scale;
    const misses = sim.misses * scale;
    const hitRate = sim.events > 0 ? sim.hits / sim.events : 0;
    // Hits are costed by the known costs among them; when none of this
    // size's hits has a known cost, by the mean over all known costs.
    const mean = sim.knownHitWeight > 0 ? sim.knownHitBytes / sim.knownHitWeight : this.stats().known.meanBytes;
    const rawBytes = total * P;
    const xbzrleBytes = mean === null ? (hits === 0 ? misses * P : null) : misses * P + hits * mean;
    return {
      policy,
      size,
      slots: size / P,
      hitRate,
      hits,
      misses,
      refused: sim.refused * scale,
      xbzrleBytes,
      rawBytes,
      saving: xbzrleBytes === null || rawBytes === 0 ? null : 1 - xbzrleBytes / rawBytes,
      sampled,
      sampleFraction: total > 0 ? sim.events / total : 1,
    };
  }
}
