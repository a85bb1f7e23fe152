// govern/governor.ts: Governor, which sizes and drives XBZRLE for several
// concurrent QEMU migrations under one host memory budget.
//
// Per VM: a short profile of guest RAM gives a miss-ratio curve (the
// profiler reading /proc/PID/mem; without a PID, QEMU's calc-dirty-rate
// gives only a rate); the advisor picks the smallest cache reaching the
// target hit rate. VMs whose profiles end together decide together: each
// gets its ideal when all fit, else allocate.ts shares what is left by hits
// per byte; a VM still profiling has its even share held. Then QMP sets the
// cache size and the xbzrle capability and starts the migration. While they run, query-migrate
// is polled; when one ends its budget returns and the others may grow, if
// their curves say the gain over the next passes beats the refill (a resize
// in QEMU starts from an empty cache).
//
// Budget: every cache is charged its host cost (cost.ts) before QEMU is told
// to use it, and released only after QEMU has dropped it, so the charged sum
// never exceeds the budget, also during a resize. Shrinks happen before
// grows.
import { EventEmitter } from 'node:events';
import * as os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CurvePoint } from '../advisor/advisor';
import { ProfileAnalysis } from '../profile/analysis';
import { runProfile } from '../profile/profiler';
import { QmpClient } from '../qmp/client';
import { QmpError } from '../qmp/errors';
import type { MigrationInfo } from '../qmp/types';
import { formatBytes, formatPercent, nextPowerOfTwo, parseBudget, parseFraction } from '../util/sizes';
import { allocate, type Claim } from './allocate';
import { cacheCost, largestCacheWithin } from './cost';

export interface GovernorOptions {
  /** Host memory all XBZRLE caches may take together: bytes, "512M", or "10%" of host memory. */
  budget: number | string;
  /** Hit rate to reach, a fraction or "90%" (default 0.9). */
  target?: number | string;
  /** Seconds between two polls of query-migrate (default 1). */
  interval?: number;
  /** Host memory for a percentage budget (default os.totalmem()). */
  hostMemory?: number;
  /** Seconds of guest-RAM profiling before each migration starts (default 3). */
  profileSeconds?: number;
  /** Seconds per profiled pass (default 0.5). */
  profileInterval?: number;
  /** Passes a grow must pay back over: grow only when horizon x (hit-rate gain) beats the current hit rate lost to the refill (default 4). */
  horizon?: number;
  /** Deadline of each QMP command, milliseconds (default 15000). */
  qmpTimeout?: number;
}

export interface MigrateOptions {
  /** The source QEMU's QMP: a unix socket path, or a connected QmpClient (left open). */
  qmp: string | QmpClient;
  /** Where to migrate, as QEMU's `migrate` takes it ("tcp:HOST:PORT", "unix:PATH", ...). */
  uri: string;
  /** The source QEMU's PID, to profile guest RAM (else QEMU's calc-dirty-rate). */
  pid?: number;
  /** A name for logs and reports (default vm-1, vm-2, ...). */
  name?: string;
  /** Send `migrate` (default true); false leaves the start to the caller. */
  start?: boolean;
}

/** One cache-size decision. */
export interface Decision {
  vm: string;
  /** Seconds since the governor was created. */
  t: number;
  from: number;
  to: number;
  xbzrle: boolean;
  hitRateFrom: number | null;
  hitRateTo: number | null;
  /** Host cost charged to all caches after this decision, and the budget. */
  used: number;
  budget: number;
  reason: string;
  /** The log line, e.g. "vm-b: 32 MiB → 128 MiB, predicted hit rate 58% → 91%, budget 176 of 192 MiB (...)". */
  message: string;
}

export interface Progress {
  vm: string;
  t: number;
  status: string;
  cacheSize: number;
  transferred: number;
  remaining: number;
  total: number;
  dirtyPagesRate: number;
  dirtySyncCount: number;
  mbps: number;
  cacheMissRate: number | null;
  encodingRate: number | null;
  overflow: number | null;
  /** Sum over live VMs of the sizes set, and their charged host cost. */
  cacheSum: number;
  used: number;
}

export type VmStatus = 'completed' | 'failed' | 'cancelled' | 'closed';

export interface VmReport {
  name: string;
  status: VmStatus;
  error: string | null;
  uri: string;
  /** How the curve was obtained and what it said. */
  profile: { method: 'profiler' | 'calc-dirty-rate' | 'none'; seconds: number; ramBytes: number | null; dirtyBytesPerSecond: number | null; curve: { size: number; hitRate: number; saving: number | null }[]; pays: boolean; sentence: string } | null;
  /** The cache sizes set over time, with their reasons. */
  caches: { t: number; size: number; reason: string }[];
  decisions: Decision[];
  /** QEMU's last query-migrate (xbzrle-cache and ram stats, times, downtime). */
  final: MigrationInfo | null;
  /** The peak, over the governor's life so far, of the sum of cache sizes set, and of their charged cost. */
  peakCacheSum: number;
  peakCost: number;
  budget: number;
}

interface Vm {
  name: string;
  opts: MigrateOptions;
  client: QmpClient | null;
  profiled: boolean;
  decided: boolean;
  /** Set when another VM's decision could not be applied to this one: its own run fails with it. */
  failure: Error | null;
  size: number;
  charged: number;
  curve: CurvePoint[] | null;
  ideal: number;
  live: boolean;
  syncsAtResize: number;
  lastInfo: MigrationInfo | null;
  report: VmReport;
}

const PAGE = 4096;

export interface Governor {
  on(event: 'decision', listener: (d: Decision) => void): this;
  on(event: 'progress', listener: (p: Progress) => void): this;
  on(event: 'done', listener: (r: VmReport) => void): this;
}

export class Governor extends EventEmitter {
  readonly budget: number;
  readonly target: number;
  readonly interval: number;
  private readonly profileSeconds: number;
  private readonly profileInterval: number;
  private readonly horizon: number;
  private readonly qmpTimeout: number;
  private readonly vms: Vm[] = [];
  private readonly t0 = Date.now();
  private used = 0;
  private sizeSum = 0;
  private peakUsed = 0;
  private peakSizeSum = 0;
  private closed = false;
  private readonly stop = new AbortController();
  private lock: Promise<void> = Promise.resolve();

  constructor(options: GovernorOptions) {
    super();
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object with a budget');
    if (options.budget === undefined) throw new TypeError('options.budget is required (bytes, "512M" or "10%")');
    if (typeof options.budget !== 'number' && typeof options.budget !== 'string') throw new TypeError(`budget must be a number or a string, received ${typeof options.budget}`);
    this.budget = parseBudget(options.budget, options.hostMemory ?? os.totalmem(), 'budget');
    this.target = parseFraction(options.target ?? 0.9, 'target');
    this.interval = positive(options.interval ?? 1, 'interval');
    this.profileSeconds = positive(options.profileSeconds ?? 3, 'profileSeconds');
    this.profileInterval = positive(options.profileInterval ?? 0.5, 'profileInterval');
    this.horizon = positive(options.horizon ?? 4, 'horizon');
    this.qmpTimeout = positive(options.qmpTimeout ?? 15_000, 'qmpTimeout');
  }

  /** Host cost charged now, and the peaks so far (sizes as QEMU sees them, and cost). */
  get usage(): { used: number; cacheSum: number; peakCost: number; peakCacheSum: number; budget: number } {
    return { used: this.used, cacheSum: this.sizeSum, peakCost: this.peakUsed, peakCacheSum: this.peakSizeSum, budget: this.budget };
  }

  /** Governs one migration; resolves with its report when it completed, failed, or the governor closed. Never rejects for a migration failure. */
  migrate(options: MigrateOptions): Promise<VmReport> {
    if (this.closed) return Promise.reject(new Error('the governor is closed'));
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    if (!(typeof options.qmp === 'string' && options.qmp !== '') && !(options.qmp instanceof QmpClient)) throw new TypeError('qmp must be a socket path or a QmpClient');
    if (typeof options.uri !== 'string' || options.uri === '') throw new TypeError('uri must be a non-empty string');
    if (options.pid !== undefined && !(Number.isSafeInteger(options.pid) && options.pid > 0)) throw new RangeError(`pid must be a positive integer, received ${String(options.pid)}`);
    const name = options.name ?? `vm-${this.vms.length + 1}`;
    if (typeof name !== 'string' || name === '') throw new TypeError('name must be a non-empty string');
    if (this.vms.some((v) => v.name === name)) throw new RangeError(`a VM named "${name}" is already governed`);
    const vm: Vm = {
      name,
      opts: options,
      client: null,
      profiled: false,
      decided: false,
      failure: null,
      size: 0,
      charged: 0,
      curve: null,
      ideal: 0,
      live: true,
      syncsAtResize: 0,
      lastInfo: null,
      report: { name, status: 'failed', error: null, uri: options.uri, profile: null, caches: [], decisions: [], final: null, peakCacheSum: 0, peakCost: 0, budget: this.budget },
    };
    this.vms.push(vm);
    return this.run(vm);
  }

  /** Stops governing: polls end, owned QMP connections close; migrations go on in QEMU with the caches they have. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stop.abort();
  }

  private now(): number {
    return (Date.now() - this.t0) / 1000;
  }

  // Serialises budget changes (a resize awaits QEMU between charge and release).
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn);
    this.lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async run(vm: Vm): Promise<VmReport> {
    const owned = typeof vm.opts.qmp === 'string';
    try {
      vm.client = owned ? await QmpClient.connect(vm.opts.qmp as string, { timeout: this.qmpTimeout, commandTimeout: this.qmpTimeout }) : (vm.opts.qmp as QmpClient);
      const q = vm.client;
      const before = await q.execute('query-migrate');
      if (vm.opts.start !== false && (before.status === 'active' || before.status === 'setup')) throw new Error(`a migration is already ${before.status} on this QEMU`);
      await this.profile(vm);
      vm.profiled = true;
      await this.awaitPeers(vm);
      await this.exclusive(() => this.decideStart(vm));
      if (vm.failure) throw vm.failure;
      if (vm.opts.start !== false) await q.execute('migrate', { uri: vm.opts.uri });
      await this.poll(vm);
    } catch (err) {
      vm.report.status = this.closed && !(err instanceof QmpError && err.reason !== 'closed') ? 'closed' : 'failed';
      vm.report.error = (err as Error).message;
    } finally {
      vm.live = false;
      await this.exclusive(async () => {
        this.charge(vm, 0, 0);
      });
      vm.report.final = vm.lastInfo;
      vm.report.peakCacheSum = this.peakSizeSum;
      vm.report.peakCost = this.peakUsed;
      if (owned) vm.client?.close();
      this.emit('done', vm.report);
      if (!this.closed) await this.exclusive(() => this.rebalance(vm.name));
    }
    return vm.report;
  }

  private async profile(vm: Vm): Promise<void> {
    const q = vm.client!;
    const t = Date.now();
    if (vm.opts.pid !== undefined) {
      // Made at the baseline: a large guest is profiled through a sample of its pages.
      let analysis = new ProfileAnalysis(PAGE, { policies: ['qemu'] });
      let ramBytes = 0;
      await runProfile({
        pid: vm.opts.pid,
        duration: this.profileSeconds,
        interval: this.profileInterval,
        signal: this.stop.signal,
        onStart: (p) => {
          ramBytes = p.regions.totalPages * p.info.pageSize;
          analysis = new ProfileAnalysis(PAGE, { policies: ['qemu'], pageSample: p.info.sample });
        },
        onPass: (pass) => analysis.add(pass),
      });
      const advisor = analysis.advisor;
      advisor.ramBytes = ramBytes || null;
      const stats = advisor.stats();
      const sizes = ladder(ramBytes);
      vm.curve = advisor.curve(sizes, ['qemu']);
      const seconds = (Date.now() - t) / 1000;
      const rec = advisor.recommend({ target: this.target, sizes, policy: 'qemu' });
      vm.ideal = rec.pays ? rec.size : 0;
      vm.report.profile = {
        method: 'profiler',
        seconds,
        ramBytes,
        dirtyBytesPerSecond: stats.events ? (stats.events * PAGE) / this.profileSeconds : 0,
        curve: vm.curve.map((c) => ({ size: c.size, hitRate: c.hitRate, saving: c.saving })),
        pays: rec.pays,
        sentence: rec.sentence,
      };
      return;
    }
    // No PID: QEMU's own estimate, a dirty rate without a curve. The cache
    // is sized to hold one second of dirtying.
    try {
      await q.execute('calc-dirty-rate', { 'calc-time': Math.max(1, Math.round(this.profileSeconds)) });
      let info;
      for (;;) {
        await sleep(200, undefined, { signal: this.stop.signal });
        info = await q.execute('query-dirty-rate');
        if (info.status === 'measured') break;
      }
      const rate = (info['dirty-rate'] ?? 0) * 2 ** 20;
      vm.ideal = rate > 0 ? nextPowerOfTwo(Math.ceil(rate / PAGE)) * PAGE : 0;
      vm.report.profile = { method: 'calc-dirty-rate', seconds: (Date.now() - t) / 1000, ramBytes: null, dirtyBytesPerSecond: rate, curve: [], pays: rate > 0, sentence: rate > 0 ? `QEMU measures ${formatBytes(rate)}/s dirtied; a cache holding one second of it is ${formatBytes(vm.ideal)}` : 'QEMU measures no dirtying: XBZRLE has nothing to do' };
    } catch (err) {
      if (err instanceof QmpError && err.reason === 'command-failed') {
        vm.ideal = 64 << 20;
        vm.report.profile = { method: 'none', seconds: 0, ramBytes: null, dirtyBytesPerSecond: null, curve: [], pays: true, sentence: `no profile (${err.desc}); aiming at QEMU's default 64 MiB` };
      } else throw err;
    }
  }

  private hitRate(vm: Vm, size: number): number | null {
    if (!vm.curve || size === 0) return size === 0 ? 0 : null;
    const p = vm.curve.find((c) => c.size === size);
    return p ? p.hitRate : null;
  }

  // A VM whose profile has ended waits, at most one profile's length, for
  // peers still profiling: VMs started together then share the budget by
  // their curves, not by which profile happened to end first.
  private async awaitPeers(vm: Vm): Promise<void> {
    const until = Date.now() + Math.max(1, this.profileSeconds) * 1000;
    while (!vm.decided && Date.now() < until && this.vms.some((v) => v !== vm && v.live && !v.profiled)) {
      await sleep(50, undefined, { signal: this.stop.signal });
    }
  }

  // Decides every VM whose profile has ended and that is not decided yet
  // (vm among them, unless a peer's batch already took it).
  private async decideStart(vm: Vm): Promise<void> {
    if (vm.decided) return;
    const live = this.vms.filter((v) => v.live);
    const batch = live.filter((v) => v.profiled && !v.decided);
    const held = live.filter((v) => !v.profiled).length;
    const share = Math.floor(this.budget / live.length);
    const free = this.budget - this.used;
    const cap = Math.max(0, free - held * share);
    const heldNote = held ? `, ${formatBytes(held * share)} held for ${held} VM(s) still profiling` : '';
    const sizes = batch.length === 1 ? [this.sizeAlone(vm, cap)] : allocate(batch.map((v) => this.claim(v)), cap, PAGE);
    for (const [i, v] of batch.entries()) {
      const size = sizes[i];
      const peers = batch.filter((p) => p !== v).map((p) => p.name).join(', ');
      let reason: string;
      if (v.ideal === 0) reason = v.report.profile?.pays === false ? `XBZRLE does not pay: ${v.report.profile.sentence}` : 'no dirtying seen';
      else if (size === v.ideal) reason = v.curve ? `the smallest cache reaching the ${formatPercent(this.target, 0)} target (or where hits stop growing)` : "sized from QEMU's dirty rate";
      else if (batch.length === 1) reason = size === 0 ? `no budget left (${formatBytes(free)} free${heldNote})` : `the budget stops short of ${formatBytes(v.ideal)}: largest useful cache within ${formatBytes(cap)}`;
      else reason = `${formatBytes(cap)} left${heldNote} does not fit ${formatBytes(v.ideal)} beside ${peers}: ${size === 0 ? 'it saves more there' : 'the most hits per byte among them'}`;
      v.decided = true;
      try {
        await this.apply(v, size, reason);
      } catch (err) {
        v.failure = err as Error; // its own run fails with it; the batch goes on
      }
    }
  }

  // A VM deciding alone: its ideal if it fits, else the best within the cap.
  private sizeAlone(vm: Vm, cap: number): number {
    const capSize = largestCacheWithin(cap, PAGE);
    if (vm.ideal === 0 || capSize === 0) return 0;
    return vm.ideal <= capSize ? vm.ideal : this.bestWithin(vm, capSize);
  }

  private claim(v: Vm): Claim {
    const rate = v.report.profile?.dirtyBytesPerSecond ?? 0;
    if (v.curve) return { ideal: v.ideal, rate, sizes: v.curve.map((c) => c.size).filter((s) => s <= v.ideal), hitRate: (s) => this.hitRate(v, s) ?? 0 };
    // Only a rate: hits are taken to grow with the size up to the ideal.
    const sizes: number[] = [];
    for (let s = 256 << 10; s < v.ideal; s *= 2) sizes.push(s);
    if (v.ideal > 0) sizes.push(v.ideal);
    return { ideal: v.ideal, rate, sizes, hitRate: (s) => (v.ideal > 0 ? Math.min(1, s / v.ideal) : 0) };
  }

  private async apply(vm: Vm, size: number, reason: string): Promise<void> {
    const q = vm.client!;
    if (size > 0) {
      this.charge(vm, size, cacheCost(size, PAGE));
      // Size first: the capability on with QEMU's default 64 MiB standing would be a cache outside the budget.
      await q.execute('migrate-set-parameters', { 'xbzrle-cache-size': size });
      await q.execute('migrate-set-capabilities', { capabilities: [{ capability: 'xbzrle', state: true }] });
    } else {
      await q.execute('migrate-set-capabilities', { capabilities: [{ capability: 'xbzrle', state: false }] });
    }
    this.decision(vm, 0, size, reason);
  }
  // The smallest size within `capSize` whose hit rate is within a point of the best within it.
  private bestWithin(vm: Vm, capSize: number): number {
    if (!vm.curve) return capSize;
    const within = vm.curve.filter((c) => c.size <= capSize);
    if (!within.length) return capSize;
    const best = Math.max(...within.map((c) => c.hitRate));
    return within.find((c) => c.hitRate >= best - 0.01)!.size;
  }

  private charge(vm: Vm, size: number, cost: number): void {
    this.used += cost - vm.charged;
    this.sizeSum += size - vm.size;
    vm.charged = cost;
    vm.size = size;
    this.peakUsed = Math.max(this.peakUsed, this.used);
    this.peakSizeSum = Math.max(this.peakSizeSum, this.sizeSum);
    if (this.used > this.budget) throw new Error(`internal: charged ${this.used} over the budget ${this.budget}`);
  }

  private decision(vm: Vm, from: number, to: number, reason: string): void {
    const hf = this.hitRate(vm, from);
    const ht = this.hitRate(vm, to);
    const rates = vm.curve && hf !== null && ht !== null ? `, predicted hit rate ${formatPercent(hf, 0)} → ${formatPercent(ht, 0)}` : '';
    const what = to === 0 && from === 0 ? 'XBZRLE off' : `${formatBytes(from)} → ${formatBytes(to)}`;
    const message = `${vm.name}: ${what}${rates}, budget ${fmtMiB(this.used)} of ${fmtMiB(this.budget)} MiB (${reason})`;
    const d: Decision = { vm: vm.name, t: this.now(), from, to, xbzrle: to > 0, hitRateFrom: hf, hitRateTo: ht, used: this.used, budget: this.budget, reason, message };
    vm.report.decisions.push(d);
    vm.report.caches.push({ t: d.t, size: to, reason });
    this.emit('decision', d);
  }

  private async poll(vm: Vm): Promise<void> {
    const q = vm.client!;
    for (;;) {
      const info = await q.execute('query-migrate');
      vm.lastInfo = info;
      const ram = info.ram;
      const x = info['xbzrle-cache'];
      const p: Progress = {
        vm: vm.name,
        t: this.now(),
        status: info.status ?? 'none',
        cacheSize: vm.size,
        transferred: ram?.transferred ?? 0,
        remaining: ram?.remaining ?? 0,
        total: ram?.total ?? 0,
        dirtyPagesRate: ram?.['dirty-pages-rate'] ?? 0,
        dirtySyncCount: ram?.['dirty-sync-count'] ?? 0,
        mbps: ram?.mbps ?? 0,
        cacheMissRate: x ? x['cache-miss-rate'] : null,
        encodingRate: x ? x['encoding-rate'] : null,
        overflow: x ? x.overflow : null,
        cacheSum: this.sizeSum,
        used: this.used,
      };
      this.emit('progress', p);
      if (info.status === 'completed') {
        vm.report.status = 'completed';
        return;
      }
      if (info.status === 'failed' || info.status === 'cancelled') {
        vm.report.status = info.status;
        vm.report.error = info['error-desc'] ?? `migration ${info.status}`;
        return;
      }
      if (info.status === 'none' && vm.opts.start !== false) throw new Error('QEMU reports no migration after migrate');
      try {
        await sleep(this.interval * 1000, undefined, { signal: this.stop.signal });
      } catch {
        vm.report.status = 'closed';
        vm.report.error = 'the governor was closed before the migration ended';
        return;
      }
    }
  }

  // After `ended` released its budget: grow the live caches whose curves say
  // a grow pays back within `horizon` passes, largest gain first.
  private async rebalance(ended: string): Promise<void> {
    const candidates = this.vms.filter((v) => v.live && v.decided && v.size > 0 && v.curve && v.ideal > v.size);
    const plans = candidates
      .map((v) => {
        const to = Math.min(v.ideal, this.bestWithin(v, largestCacheWithin(this.budget - this.used, PAGE)));
        const from = v.size;
        const hf = this.hitRate(v, from) ?? 0;
        const ht = this.hitRate(v, to) ?? 0;
        return { v, from, to, hf, ht, gain: ht - hf };
      })
      .filter((p) => p.to > p.from)
      .sort((a, b) => b.gain - a.gain);
    for (const plan of plans) {
      const { v, from, hf, ht } = plan;
      const to = Math.min(plan.to, this.bestWithin(v, largestCacheWithin(this.budget - this.used, PAGE)));
      if (to <= from) continue;
      const status = v.lastInfo?.status;
      if (status !== 'active' && status !== 'setup' && status !== undefined) continue;
      if (this.horizon * (ht - hf) <= hf) {
        const d = `${v.name}: stays at ${formatBytes(from)}: ${formatBytes(to)} would raise the hit rate ${formatPercent(hf, 0)} → ${formatPercent(ht, 0)}, which over ${this.horizon} passes does not pay back the refill`;
        this.emit('decision', { vm: v.name, t: this.now(), from, to: from, xbzrle: true, hitRateFrom: hf, hitRateTo: hf, used: this.used, budget: this.budget, reason: 'refill', message: d } satisfies Decision);
        continue;
      }
      // Both caches are charged until QEMU has answered: it builds the new one first.
      const oldCost = v.charged;
      const newCost = cacheCost(to, PAGE);
      if (this.used + newCost > this.budget) continue;
      this.used += newCost;
      this.peakUsed = Math.max(this.peakUsed, this.used);
      try {
        await v.client!.execute('migrate-set-parameters', { 'xbzrle-cache-size': to });
      } catch {
        // QEMU refused the size, or the VM died (its own poll reports that): keep the old cache.
        this.used -= newCost;
        continue;
      }
      this.used -= newCost + oldCost;
      v.charged = 0;
      this.charge(v, to, newCost);
      this.decision(v, from, to, `${ended} ended and returned its budget; ${this.horizon} passes at +${formatPercent(ht - hf, 0)} hits beat one refill at ${formatPercent(hf, 0)}`);
    }
  }
}

function positive(v: number, what: string): number {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new RangeError(`${what} must be a positive number, received ${String(v)}`);
  return v;
}

function fmtMiB(n: number): string {
  return String(Math.round(n / 2 ** 20));
}

// Cache sizes to consider: 256 KiB .. guest RAM (or 4 GiB), powers of two.
function ladder(ramBytes: number): number[] {
  const top = Math.max(1 << 20, ramBytes > 0 ? nextPowerOfTwo(ramBytes / PAGE) * PAGE : 4 * 2 ** 30);
  const out: number[] = [];
  for (let s = 256 << 10; s <= top; s *= 2) out.push(s);
  return out;
}
