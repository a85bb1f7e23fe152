// profile/profiler.ts: samples a live process, one simulated pre-copy pass
// per interval: which pages it dirtied, and how each would encode against
// its previous content.
import { setTimeout as sleep } from 'node:timers/promises';
import { MIN_SAMPLE_RATE, PageSample, checkSampleRate } from '../advisor/page-sample';
import { floorPowerOfTwo, formatBytes } from '../util/sizes';
import { ContentStore, OUTCOME_UNKNOWN } from './content-store';
import { ProfileError } from './errors';
import { RegionSet, looksLikeQemu, parseRegionSpec, selectBySpecs, selectQemuRam, selectWritablePrivate, type Mapping, type Region } from './maps';
import { ProcTarget } from './procfs';
import { ContentTracker, SoftDirtyTracker, softDirtySupport, type DirtyTracker, type TrackingMethod } from './trackers';

/** Options of a Profiler. */
export interface ProfilerOptions {
  /** The process to profile. */
  pid: number;
  /** Which memory: "START-END" hex ranges, "anon", or pathname matches (default: automatic). */
  regions?: string[];
  /** 'auto' (default): soft-dirty when the kernel supports it, else content fingerprints. */
  method?: 'auto' | TrackingMethod;
  /**
   * The fraction of pages watched (a power of two, 1/2^k), or 'auto'
   * (default): as many as one pass can read in 0.1 core (autoSampleRate).
   */
  sampleRate?: number | 'auto';
  /** Seconds per pass, for the 'auto' sample rate (default 1). */
  interval?: number;
  /**
   * Bytes of page copies kept to classify dirty pages (default: 0.5% of the
   * profiled memory or the sampled pages' bytes, whichever is smaller, at
   * least 4 MiB).
   */
  contentBudget?: number;
  /** Deliver the content of every dirty page in each PassRecord (for traces with contents). */
  recordContents?: boolean;
  /** The /proc to read (tests point it at a fake one). */
  procRoot?: string;
}

/** One interval: one simulated pre-copy pass. */
export interface PassRecord {
  /** 1 for the first interval after the baseline (the bulk pass is generation 0). */
  generation: number;
  /** Seconds since the baseline: the interval the pass covers. */
  start: number;
  end: number;
  /** RAM page offsets dirtied in the interval, ascending. */
  pages: Uint32Array;
  /** Outcome code per page (content-store.ts: delta length, overflow, first, unknown). */
  outcomes: Uint16Array;
  /** The fraction of pages in the content sample during this pass (of the watched pages). */
  costSampleRate: number;
  /** Bytes read from the process in this pass (memory for fingerprints, pagemap for soft-dirty) and the resident sampled pages looked at; null from a trace. */
  readBytes: number | null;
  watchedPages: number | null;
  /** pages.length x pageSize bytes when recording contents (zeros where unreadable), else null. */
  contents: Buffer | null;
  /** Encoder time and encodes in this pass (sampled pages only). */
  encodeSeconds: number;
  encodes: number;
  /** Pages in the RAM-offset space, and resident ones. */
  totalPages: number;
  residentPages: number;
  /** CPU the profiler spent on this interval (user + system). */
  cpuSeconds: number;
}

/** What is being profiled and how. */
export interface ProfileInfo {
  pid: number;
  command: string;
  exe: string | null;
  qemu: boolean;
  method: TrackingMethod;
  /** Why this method (e.g. why soft-dirty is unavailable). */
  methodReason: string;
  pageSize: number;
  /** How the memory was chosen, in words. */
  selection: string;
  contentBudget: number;
  /** Which pages are watched (a PageSample), and why at this rate. */
  sample: { rate: number; run: number; units: number; sampledPages: number; reason: string };
}

/**
 * What one core watches per second, in bytes of profiled memory, from what
 * was measured here with margin for a busy host (docs/PROFILE.md, "Sampling
 * model and cost"): content fingerprints read and hash 64 KiB runs through
 * /proc/PID/mem (2.5-3.3 GiB/s measured); soft-dirty reads 128 bytes of
 * pagemap per run of 16 pages (1.3 us a read: 48 GiB/s).
 */
export const WATCH_BYTES_PER_CORE_SECOND: Record<TrackingMethod, number> = { content: 2 * 2 ** 30, 'soft-dirty': 32 * 2 ** 30 };

/** The share of a core the 'auto' sample rate lets a pass take. */
export const PROFILER_CORE_SHARE = 0.1;

/** Pages per sampled run: 64 KiB, one read each. */
export function sampleRun(pageSize: number): number {
  return Math.max(1, floorPowerOfTwo(65536 / pageSize));
}

/**
 * The 'auto' sample rate: the fraction of `ramBytes` one core reads in
 * PROFILER_CORE_SHARE x interval seconds, rounded down to a power of two,
 * at most 1.
 */
export function autoSampleRate(method: TrackingMethod, ramBytes: number, interval = 1): number {
  const r = (PROFILER_CORE_SHARE * WATCH_BYTES_PER_CORE_SECOND[method] * interval) / Math.max(1, ramBytes);
  return r >= 1 ? 1 : Math.max(MIN_SAMPLE_RATE, floorPowerOfTwo(r));
}

const MIB = 2 ** 20;

export class Profiler {
  readonly info: ProfileInfo;
  readonly regions: RegionSet;
  private readonly target: ProcTarget;
  private readonly tracker: DirtyTracker;
  private readonly store: ContentStore;
  private readonly choose: (maps: Mapping[]) => Mapping[];
  private readonly recordContents: boolean;
  /** Which pages are watched. */
  readonly sample: PageSample;
  private generation = 0;
  private t0 = 0;
  private last = 0;

  constructor(options: ProfilerOptions) {
    if (process.platform !== 'linux' && !options.procRoot) {
      throw new ProfileError('not-linux', `xbzrle profile runs on Linux only (it reads /proc); this is ${process.platform}`);
    }
    const procRoot = options.procRoot ?? '/proc';
    this.target = new ProcTarget(options.pid, procRoot);
    const maps = this.target.maps();
    const pageSize = this.target.pageSize();
    const command = this.target.command();
    const exe = this.target.exe();
    const qemu = looksLikeQemu(command, exe);
    let selection: string;
    if (options.regions?.length) {
      const specs = options.regions.map(parseRegionSpec);
      this.choose = (m) => selectBySpecs(m, specs);
      selection = `--region ${options.regions.join(', ')}`;
    } else if (qemu) {
      const ram = selectQemuRam(maps, this.target.hugetlbfsMounts());
      this.choose = () => ram;
      selection = 'QEMU guest RAM: its largest anonymous, memfd and hugetlbfs mappings';
    } else {
      this.choose = selectWritablePrivate;
      selection = 'every writable private mapping (heap, stacks, anonymous memory, data), including ones that appear while profiling';
    }
    this.regions = new RegionSet(pageSize);
    this.regions.cover(this.choose(maps));
    if (!this.regions.totalPages) {
      const sample = maps.slice(0, 8).map((m) => `${m.start.toString(16)}-${m.end.toString(16)} ${m.perms} ${m.path}`).join('\n  ');
      throw new ProfileError('no-region', `no memory of PID ${options.pid} matches ${selection}; its first mappings:\n  ${sample}`);
    }

    const want = options.method ?? 'auto';
    let method: TrackingMethod = 'content';
    let methodReason: string;
    if (want === 'content') {
      methodReason = 'asked for with --method content';
    } else {
      const sd = softDirtySupport(this.target, pageSize, procRoot);
      if (sd.ok) {
        method = 'soft-dirty';
        methodReason = sd.reason;
      } else if (want === 'soft-dirty') {
        throw new ProfileError('no-soft-dirty', `soft-dirty tracking is unavailable: ${sd.reason}; use --method content (or auto)`);
      } else {
        methodReason = `soft-dirty is unavailable: ${sd.reason}`;
      }
    }
    const ram = this.regions.totalBytes;
    const asked = options.sampleRate ?? 'auto';
    const rate = asked === 'auto' ? autoSampleRate(method, ram, options.interval ?? 1) : checkSampleRate(asked, 'sampleRate');
    this.sample = new PageSample({ rate, run: sampleRun(pageSize) });
    const sampledPages = this.sample.sampledIn(this.regions.totalPages);
    const reason =
      asked !== 'auto'
        ? 'asked for with --sample-rate'
        : rate === 1
          ? `every page: one pass reads ${formatBytes(ram)}, within ${PROFILER_CORE_SHARE} core`
          : `${PROFILER_CORE_SHARE} core per pass of ${options.interval ?? 1} s at ${formatBytes(WATCH_BYTES_PER_CORE_SECOND[method])}/s per core`;
    this.target.open();
    this.tracker = method === 'soft-dirty' ? new SoftDirtyTracker(this.target, pageSize, this.sample) : new ContentTracker(this.target, pageSize, this.sample);
    // Half of the 1% of guest RAM the profiler may take: Node itself takes
    // the rest on a guest of a few GiB.
    const budget = options.contentBudget ?? Math.max(4 * MIB, Math.floor(Math.min(ram / 200, sampledPages * pageSize)));
    this.store = new ContentStore(pageSize, budget);
    this.store.fit(sampledPages);
    this.recordContents = !!options.recordContents;
    this.info = {
      pid: options.pid,
      command,
      exe,
      qemu,
      method,
      methodReason,
      pageSize,
      selection,
      contentBudget: budget,
      sample: { ...this.sample.spec, sampledPages, reason },
    };
  }

  /** The regions profiled so far (in RAM-offset order). */
  get regionList(): readonly Region[] {
    return this.regions.regions;
  }

  /** The fraction of pages whose contents are sampled now. */
  get contentRate(): number {
    return this.store.rate;
  }

  /** The encoder's time per page on pairs sampled from this run, microseconds (ContentStore.calibrate). */
  calibrateEncoder(): number | null {
    return this.store.calibrate();
  }

  /** Bytes of page copies held. */
  get contentBytes(): number {
    return this.store.storedBytes;
  }

  /** Takes the baseline (the bulk first pass): every page's state, no dirty pages. */
  start(): void {
    this.tracker.collect(this.regions.live(this.target.maps()), () => false, () => undefined);
    this.t0 = performance.now() / 1000;
    this.last = 0;
  }

  /** Seconds since the baseline. */
  elapsed(): number {
    return performance.now() / 1000 - this.t0;
  }

  /** Collects one pass: the pages dirtied since the last call. */
  step(): PassRecord {
    const cpu0 = process.cpuUsage();
    const enc0 = this.store.encodeSeconds;
    const n0 = this.store.encodes;
    const maps = this.target.maps();
    // Ranges that appeared since the last pass join now; their first scan is their baseline.
    if (this.regions.cover(this.choose(maps)).length) this.store.fit(this.sample.sampledIn(this.regions.totalPages));
    const rate = this.store.rate;
    const pages: number[] = [];
    const outcomes: number[] = [];
    const contents: Buffer[] = [];
    const P = this.info.pageSize;
    const want = this.recordContents ? () => true : (o: number) => this.store.wants(o);
    const stats = this.tracker.collect(this.regions.live(maps), want, (offset, content) => {
      pages.push(offset);
      outcomes.push(this.store.classify(offset, content));
      if (this.recordContents) contents.push(content ? Buffer.from(content) : Buffer.alloc(P));
    });
    const end = this.elapsed();
    const cpu = process.cpuUsage(cpu0);
    const rec: PassRecord = {
      generation: ++this.generation,
      start: this.last,
      end,
      pages: Uint32Array.from(pages),
      outcomes: Uint16Array.from(outcomes),
      // A rate that dropped during the pass: the pages classified before the
      // drop and now outside the sample are dropped from the estimate.
      costSampleRate: Math.min(rate, this.store.rate),
      readBytes: stats.readBytes,
      watchedPages: stats.resident,
      contents: this.recordContents ? Buffer.concat(contents) : null,
      encodeSeconds: this.store.encodeSeconds - enc0,
      encodes: this.store.encodes - n0,
      totalPages: this.regions.totalPages,
      residentPages: stats.resident,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
    if (this.store.rate < rate) {
      for (let i = 0; i < rec.pages.length; i++) if (!this.store.wants(rec.pages[i])) rec.outcomes[i] = OUTCOME_UNKNOWN;
    }
    this.last = end;
    return rec;
  }

  close(): void {
    this.target.close();
  }
}

/** Options of runProfile. */
export interface RunOptions extends ProfilerOptions {
  /** Seconds to profile (default 10). */
  duration?: number;
  /** Seconds per interval, one pre-copy pass each (default 1). */
  interval?: number;
  /** Stops early (the passes so far are kept). */
  signal?: AbortSignal;
  /** Called after the baseline, with the profiler. */
  onStart?: (p: Profiler) => void;
  /** Called with each pass. */
  onPass?: (pass: PassRecord, p: Profiler) => void;
}

/** How a run ended. */
export type RunEnd = 'duration' | 'exited' | 'aborted';

/**
 * Profiles a process for `duration` seconds, one pass per `interval`, and
 * resolves with how it ended. Passes go to onPass as they are taken.
 *
 * An abort (Ctrl-C) during a wait ends the run without a pass for the
 * part-interval: fewer distinct pages are re-dirtied in a short interval, so
 * its rate would read high. `partialSeconds` says how much was left out. The
 * part-interval is kept only when no full pass was taken.
 */
export async function runProfile(
  options: RunOptions,
): Promise<{ profiler: Profiler; ended: RunEnd; passes: number; partialSeconds: number }> {
  const duration = options.duration ?? 10;
  const interval = options.interval ?? 1;
  if (!(duration > 0)) throw new RangeError(`--duration must be a positive number of seconds, received ${duration}`);
  if (!(interval > 0) || interval > duration) throw new RangeError(`--interval must be a positive number of seconds up to the duration, received ${interval}`);
  const p = new Profiler({ ...options, interval });
  let ended: RunEnd = 'duration';
  let passes = 0;
  let partialSeconds = 0;
  try {
    p.start();
    options.onStart?.(p);
    const count = Math.max(1, Math.round(duration / interval));
    for (let k = 1; k <= count; k++) {
      const wait = k * interval - p.elapsed();
      if (wait > 0) {
        try {
          await sleep(wait * 1000, undefined, { signal: options.signal });
        } catch {
          ended = 'aborted';
        }
      }
      if (options.signal?.aborted) {
        ended = 'aborted';
        if (passes > 0) {
          partialSeconds = Math.max(0, p.elapsed() - (k - 1) * interval);
          break;
        }
      }
      let rec: PassRecord;
      try {
        rec = p.step();
      } catch (err) {
        if (err instanceof ProfileError && err.reason === 'no-process') {
          ended = 'exited';
          break;
        }
        throw err;
      }
      passes++;
      options.onPass?.(rec, p);
      if (ended === 'aborted') break;
    }
  } finally {
    p.close();
  }
  return { profiler: p, ended, passes, partialSeconds };
}
