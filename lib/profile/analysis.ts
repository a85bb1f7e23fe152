// profile/analysis.ts: turns passes (live or from a trace) into the report:
// dirty rate, working set, outcome shares, bytes, encoder CPU, the
// miss-ratio curve and the advice.
import { CacheAdvisor, type CurvePoint, type Recommendation, type RecommendOptions } from '../advisor/advisor';
import type { CachePolicy } from '../advisor/cache-sim';
import { PageSample, type PageSampleSpec } from '../advisor/page-sample';
import { grow } from './grow';
import { hitCost } from './content-store';
import type { PassRecord } from './profiler';

/** Facts about the run that the passes do not carry. */
export interface ProfileMeta {
  source: 'live' | 'trace';
  tracePath?: string;
  pid: number | null;
  command: string;
  qemu: boolean;
  method: string;
  methodReason: string;
  pageSize: number;
  selection: string;
  /** Bytes of memory profiled (the RAM-offset space at the end). */
  ramBytes: number;
  regions: number;
  interval: number;
  startedAt: string;
  ended: string;
  contentBudget: number | null;
  /** The encoder's time per page measured on sampled page pairs, microseconds (else the in-run mean is used). */
  encodeMicrosPerPage?: number | null;
  /**
   * Which pages were watched: the sample (rate, pages per run, M), the pages
   * in it, why this rate, and per pass the bytes read from the process and
   * the resident sampled pages looked at (null when not recorded).
   */
  sampling?: SamplingMeta | null;
}

/** The sampling a profile used (ProfileMeta.sampling). */
export interface SamplingMeta {
  rate: number;
  run: number;
  units: number;
  sampledPages: number;
  reason: string;
  readBytesPerPass: number | null;
  watchedPagesPerPass: number | null;
}

/** Options of the analysis (curve and advice). */
export interface AnalysisOptions extends Omit<RecommendOptions, 'sizes'> {
  /** Spatial sampling of the cache simulation ('auto' by default). */
  sampling?: number | 'auto';
  /** Cache sizes for the curve (default: the advisor's ladder). */
  sizes?: number[];
}

/** One interval on the dirty-rate chart. */
export interface SeriesPoint {
  /** End of the interval, seconds since the baseline. */
  t: number;
  pages: number;
  pagesPerSecond: number;
  bytesPerSecond: number;
}

/** The whole report (also the --json output). */
export interface ProfileReport {
  meta: ProfileMeta;
  intervals: number;
  /** Seconds covered by the passes. */
  seconds: number;
  dirty: { pages: number; distinctPages: number; pagesPerSecond: number; bytesPerSecond: number; series: SeriesPoint[] };
  /** Pages dirtied in 2 or more intervals. */
  workingSet: { pages: number; bytes: number; ramShare: number | null };
  /**
   * Shares of all dirty pages: first = the page's first dirtying in the
   * profile (a miss at any cache size), reDirtied = 1 - first, split into
   * unchanged + encodable + overflow when page contents were sampled (else
   * those are 0).
   */
  shares: { first: number; reDirtied: number; unchanged: number; encodable: number; overflow: number };
  /** Shares among re-dirtied pages (what a cache can hit), from the content sample. */
  reDirtiedShares: { unchanged: number; encodable: number; overflow: number } | null;
  /** Content sample: final rate and the re-dirtied pages it classified. */
  contentSample: { rate: number; classified: number };
  /** Bytes re-sent after the bulk pass: raw, and with XBZRLE and an unbounded cache. */
  bytes: { raw: number; xbzrle: number | null; saving: number | null; meanHitBytes: number | null };
  cpu: {
    /** Encoder time per page, microseconds: timed on up to 128 page pairs sampled from the run. */
    encodeMicrosPerPage: number | null;
    /** Encoder CPU seconds per second of migration if every re-dirtied page hit. */
    encodePerSecond: number | null;
    /** The profiler's own CPU per second of profiling (live runs). */
    profilerPerSecond: number | null;
  };
  /** What the profiler process itself used, start to report (live runs; null from a trace). */
  cost: { cpuSeconds: number; wallSeconds: number; maxRssBytes: number } | null;
  curve: CurvePoint[];
  advice: Omit<Recommendation, 'curve'> & { encodePerSecond: number | null; bytesSavedPerSecond: number | null };
}

export class ProfileAnalysis {
  readonly advisor: CacheAdvisor;
  private counts = new Uint8Array(0);
  private readonly series: SeriesPoint[] = [];
  private events = 0;
  private seconds = 0;
  private encodeSeconds = 0;
  private encodes = 0;
  private cpuSeconds = 0;
  private lastRate = 1;
  private classified = 0;

  // Counts of the watched pages stand for scale times as many.
  private readonly scale: number;
  private readonly sample: PageSample;

  /** `pageSample`: the passes hold only these pages (a sampled profile); counts are scaled to the whole memory. */
  constructor(
    readonly pageSize: number,
    options: { sampling?: number | 'auto'; policies?: readonly CachePolicy[]; pageSample?: PageSampleSpec } = {},
  ) {
    const sampled = options.pageSample !== undefined && options.pageSample.rate < 1;
    this.advisor = new CacheAdvisor({ pageSize, sampling: options.sampling ?? 'auto', policies: options.policies, pageSample: sampled ? options.pageSample : undefined });
    this.sample = new PageSample(sampled ? options.pageSample! : { rate: 1 });
    this.scale = 1 / this.sample.rate;
  }

  /** Adds one pass. */
  add(pass: PassRecord): void {
    const P = this.pageSize;
    const n = pass.pages.length;
    const addresses = new Float64Array(n);
    const costs = new Float64Array(n);
    this.counts = grow(this.counts, this.sample.compressedSize(pass.totalPages));
    for (let i = 0; i < n; i++) {
      const off = pass.pages[i];
      addresses[i] = off * P;
      costs[i] = hitCost(pass.outcomes[i], P);
      if (costs[i] >= 0) this.classified++;
      const at = this.sample.compress(off);
      if (this.counts[at] < 255) this.counts[at]++;
    }
    this.advisor.addPass(addresses, { hitBytes: costs, costSampleRate: pass.costSampleRate });
    const dt = Math.max(1e-9, pass.end - pass.start);
    const est = n * this.scale;
    this.series.push({ t: pass.end, pages: est, pagesPerSecond: est / dt, bytesPerSecond: (est * P) / dt });
    this.events += est;
    this.seconds += dt;
    this.encodeSeconds += pass.encodeSeconds;
    this.encodes += pass.encodes;
    this.cpuSeconds += pass.cpuSeconds;
    this.lastRate = pass.costSampleRate;
  }

  /** The report, with the advice for `options`. */
  report(meta: ProfileMeta, options: AnalysisOptions = {}): ProfileReport {
    const P = this.pageSize;
    this.advisor.ramBytes = meta.ramBytes || null;
    const stats = this.advisor.stats();
    const events = this.events;
    const seconds = this.seconds;
    let ws = 0;
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i] >= 2) ws++;
    ws *= this.scale;
    const k = stats.known;
    const first = events ? stats.distinctPages / events : 0;
    const re = events ? stats.reDirtied / events : 0;
    const reShares = k.weight > 0 ? { unchanged: k.unchanged, encodable: k.encodable, overflow: k.overflow } : null;
    const raw = events * P;
    const xbzrle = k.meanBytes === null ? null : stats.distinctPages * P + stats.reDirtied * k.meanBytes;
    const encodeMicros = meta.encodeMicrosPerPage ?? (this.encodes ? (this.encodeSeconds / this.encodes) * 1e6 : null);
    const perSecond = (x: number): number => (seconds > 0 ? x / seconds : 0);
    const curve = this.advisor.curve(options.sizes ?? this.advisor.defaultSizes());
    const rec = this.advisor.recommend({ ...options, sizes: options.sizes });
    const { curve: _omit, ...advice } = rec;
    void _omit;
    const hitsAt = rec.curve.find((c) => c.size === rec.size);
    return {
      meta,
      intervals: this.series.length,
      seconds,
      dirty: { pages: events, distinctPages: stats.distinctPages, pagesPerSecond: perSecond(events), bytesPerSecond: perSecond(events * P), series: this.series },
      workingSet: { pages: ws, bytes: ws * P, ramShare: meta.ramBytes ? (ws * P) / meta.ramBytes : null },
      shares: reShares
        ? { first, reDirtied: re, unchanged: re * reShares.unchanged, encodable: re * reShares.encodable, overflow: re * reShares.overflow }
        : { first, reDirtied: re, unchanged: 0, encodable: 0, overflow: 0 },
      reDirtiedShares: reShares,
      contentSample: { rate: this.lastRate, classified: this.classified },
      bytes: { raw, xbzrle, saving: xbzrle === null || raw === 0 ? null : 1 - xbzrle / raw, meanHitBytes: k.meanBytes },
      cpu: {
        encodeMicrosPerPage: encodeMicros,
        encodePerSecond: encodeMicros === null ? null : (encodeMicros / 1e6) * perSecond(stats.reDirtied),
        profilerPerSecond: meta.source === 'live' && seconds > 0 ? this.cpuSeconds / seconds : null,
      },
      cost: null,
      curve,
      advice: {
        ...advice,
        encodePerSecond: encodeMicros === null || !hitsAt ? null : (encodeMicros / 1e6) * perSecond(hitsAt.hits),
        bytesSavedPerSecond: hitsAt && hitsAt.xbzrleBytes !== null ? perSecond(hitsAt.rawBytes - hitsAt.xbzrleBytes) : null,
      },
    };
  }
}
