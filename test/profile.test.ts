// `xbzrle profile` and `xbzrle advise` against real processes: the dirtier
// (test/fixtures/dirtier.c: known pages, rates and content changes), a real
// redis-server under redis-benchmark, a process that exits mid-profile,
// a missing PID, a user without ptrace rights; the soft-dirty path against a
// fake /proc (this kernel has no soft-dirty bits). Runs the built CLI (dist/).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CacheAdvisor, SAVING_TOLERANCE } from '../lib';
import { main as cliMain } from '../lib/cli/main';
import type { ProfileReport } from '../lib/profile/analysis';
import { OUTCOME_FIRST, OUTCOME_OVERFLOW } from '../lib/profile/content-store';
import { ProfileError } from '../lib/profile/errors';
import { RegionSet, hugetlbfsMounts, looksLikeQemu, parseMaps, parseRegionSpec, selectBySpecs, selectQemuRam, selectWritablePrivate } from '../lib/profile/maps';
import { PageHasher, zeroHash } from '../lib/profile/page-hash';
import { PageSample } from '../lib/advisor/page-sample';
import { Profiler, autoSampleRate, type PassRecord } from '../lib/profile/profiler';
import { TraceReader } from '../lib/profile/trace';
import { referenceSim } from './helpers/cache-reference';
import { buildDirtier, cli, freePort, killAll, lastStarted, root, start, startDirtier, waitForPort, which, type Dirtier } from './helpers/processes';
import { skippedTitle } from './helpers/skip';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xbzrle-profile-'));
let dirtierExe = '';
beforeAll(() => {
  dirtierExe = buildDirtier(tmp);
});
afterAll(() => {
  killAll();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function passesOf(file: string): { head: TraceReader['head']; passes: PassRecord[] } {
  const r = new TraceReader(file);
  const passes = [...r.passes()];
  r.close();
  return { head: r.head, passes };
}

function selfContained(html: string): void {
  expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(2);
  expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//i);
  expect(html).not.toMatch(/@import|url\(/i);
  expect(html).not.toMatch(/<script/i);
}

describe('ground truth: the dirtier', () => {
  // 4096 hot pages (16 MiB) each rewritten every 2 s (2048 pages/s), 1024
  // cold pages; 6 s in passes of 0.5 s: each hot page is dirtied 3 times, in
  // 3 different passes. Page i's write is by i % 4: 0 overflows, 1 encodes
  // to 63 bytes, 2 to 516 bytes, 3 rewrites the same bytes.
  const HOT = 4096;
  const RATE = 2048;
  const COLD = 1024;
  const trace = path.join(tmp, 'dirtier.trace');
  const reportDir = path.join(tmp, 'dirtier-report');
  let d: Dirtier;
  let run: { code: number | null; out: string; err: string };
  let report: ProfileReport;
  let passes: PassRecord[];
  let visible: number; // share of writes a method sees (content: not the same-bytes rewrites)

  beforeAll(async () => {
    d = await startDirtier(dirtierExe, HOT, RATE, COLD);
    run = await cli(['profile', '--pid', String(d.pid), '--duration', '6', '--interval', '0.5', '--region', d.region, '--content-budget', '64M', '--record', trace, '--json', '-', '--report', reportDir, '--quiet']);
    d.proc.kill('SIGKILL');
    report = JSON.parse(run.out) as ProfileReport;
    passes = passesOf(trace).passes;
    visible = report.meta.method === 'content' ? 3 / 4 : 1;
  }, 40_000);

  test('exits 0 and says which method ran', () => {
    expect(run.code).toBe(0);
    expect(['content', 'soft-dirty']).toContain(report.meta.method);
    expect(run.err).toMatch(report.meta.method === 'content' ? /content fingerprints \(soft-dirty is unavailable: / : /soft-dirty bits/);
    expect(report.meta.ramBytes).toBe((HOT + COLD) * d.pageSize);
    expect(report.intervals).toBe(12);
  });

  test('dirty rate and working set within 5%', () => {
    const rate = RATE * visible;
    expect(Math.abs(report.dirty.pagesPerSecond - rate) / rate).toBeLessThan(0.05);
    expect(Math.abs(report.dirty.bytesPerSecond - rate * d.pageSize) / (rate * d.pageSize)).toBeLessThan(0.05);
    const ws = HOT * visible;
    expect(Math.abs(report.workingSet.pages - ws) / ws).toBeLessThan(0.05);
  });

  test('every dirty page is a hot page, classified exactly by what was written', () => {
    const expected = [OUTCOME_OVERFLOW, 63, 516, 0];
    const seen = new Set<number>();
    const wrong: string[] = [];
    let classified = 0;
    for (const p of passes) {
      p.pages.forEach((page, i) => {
        const o = p.outcomes[i];
        // The budget holds every page, so nothing is left unclassified.
        const want = seen.has(page) ? expected[page % 4] : OUTCOME_FIRST;
        if (page >= HOT || o !== want || (visible < 1 && page % 4 === 3)) wrong.push(`pass ${p.generation} page ${page}: ${o}, expected ${want}`);
        if (seen.has(page)) classified++;
        seen.add(page);
      });
    }
    expect(wrong).toEqual([]);
    expect(classified).toBeGreaterThan(HOT); // about 2 re-dirties per visible page
  });

  test('shares equal the ground truth exactly', () => {
    let first = 0;
    const by = [0, 0, 0, 0];
    const seen = new Set<number>();
    let events = 0;
    for (const p of passes) {
      for (const page of p.pages) {
        events++;
        if (seen.has(page)) by[page % 4]++;
        else {
          seen.add(page);
          first++;
        }
      }
    }
    const re = events - first;
    expect(report.dirty.pages).toBe(events);
    expect(report.shares.first).toBeCloseTo(first / events, 12);
    expect(report.reDirtiedShares!.overflow).toBeCloseTo(by[0] / re, 12);
    expect(report.reDirtiedShares!.encodable).toBeCloseTo((by[1] + by[2]) / re, 12);
    expect(report.reDirtiedShares!.unchanged).toBeCloseTo(by[3] / re, 12);
    expect(report.contentSample.rate).toBe(1);
    // Bytes with an unbounded cache: firsts raw, then each class's cost.
    const P = d.pageSize;
    expect(report.bytes.xbzrle!).toBeCloseTo(first * P + by[0] * P + by[1] * 66 + by[2] * 519, 3);
  });

  test('the curve is the exact simulation of the trace; sampling stays within 2 points', () => {
    const pagesOf = passes.map((p) => [...p.pages]);
    for (const c of report.curve) {
      const ref = referenceSim(c.policy, c.slots, pagesOf);
      expect(c.sampled).toBe(false);
      expect({ policy: c.policy, slots: c.slots, hits: c.hits, misses: c.misses }).toEqual({ policy: c.policy, slots: c.slots, hits: ref.hits, misses: ref.misses });
    }
    const full = report.curve.filter((c) => c.size >= HOT * d.pageSize);
    expect(full.length).toBeGreaterThan(0);
    for (const c of full) expect(c.hitRate).toBeCloseTo(1 - report.shares.first, 12);
    const sampled = new CacheAdvisor({ pageSize: d.pageSize, sampling: 1 / 4, sampleUnits: 256 });
    for (const p of passes) sampled.addPass([...p.pages].map((x) => x * d.pageSize));
    const sizes = [...new Set(report.curve.map((c) => c.size))];
    const s = sampled.curve(sizes);
    expect(s.filter((c) => c.sampled).length).toBeGreaterThanOrEqual(5);
    for (const c of s) {
      const e = report.curve.find((x) => x.policy === c.policy && x.size === c.size)!;
      expect(Math.abs(c.hitRate - e.hitRate)).toBeLessThanOrEqual(0.02);
    }
  });

  test('the advice is the smallest size reaching the best hit rate, with a sentence', () => {
    const a = report.advice;
    // 90% is out of reach (a third of dirty pages are first writes): the plateau.
    expect(a.limitedBy).toBe('plateau');
    expect(a.size).toBe(HOT * d.pageSize);
    expect(a.pays).toBe(true);
    expect(a.sentence).toMatch(/^XBZRLE would save \d+% of re-sent bytes at a 16 MiB cache/);
    expect(a.ramShare).toBeCloseTo(HOT / (HOT + COLD), 12);
  });

  test('terminal summary and a self-contained HTML report', () => {
    expect(run.err).toMatch(/dirty rate\s+[\d,]+ pages\/s/);
    expect(run.err).toMatch(/working set\s+[\d,]+ pages/);
    expect(run.err).toMatch(/<- advice/);
    selfContained(fs.readFileSync(path.join(reportDir, 'index.html'), 'utf8'));
  });

  test('advise FILE gives the same report from the trace', async () => {
    const r = await cli(['advise', trace, '--json', '-']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as ProfileReport;
    expect(j.meta.source).toBe('trace');
    expect(j.dirty).toEqual(report.dirty);
    expect(j.workingSet).toEqual(report.workingSet);
    expect(j.shares).toEqual(report.shares);
    expect(j.curve).toEqual(report.curve);
    expect(j.advice.size).toBe(report.advice.size);
    const b = await cli(['advise', trace, '--budget', '2M', '--json', '-']);
    // The hot set needs 16 MiB: within 2 MiB no size saves a byte, so no
    // size buys more than the smallest, and XBZRLE does not pay.
    const capped = (JSON.parse(b.out) as ProfileReport).advice;
    expect(capped.limitedBy).toBe('budget');
    expect(capped.pays).toBe(false);
    expect(capped.size).toBe(j.curve.find((c) => c.policy === capped.policy)!.size);
    expect(capped.tradeoff.every((t) => !t.withinBudget || t.saving! < SAVING_TOLERANCE)).toBe(true);
  });
});

describe('sampled profiling: 1/8 of the pages of a 256 MiB dirtier', () => {
  // 16384 hot pages (64 MiB) of 65536, rewritten every 2 s; 6 s in passes of
  // 0.5 s. Two profiles of the same process at the same time: every page
  // (recorded as a trace) and --sample-rate 1/8.
  const HOT = 16384;
  const RATE = 8192;
  const COLD = 65536 - HOT;
  const trace = path.join(tmp, 'full.trace');
  let d: Dirtier;
  let full: ProfileReport;
  let sampled: ProfileReport;
  let passes: PassRecord[];
  let summary = '';
  beforeAll(async () => {
    d = await startDirtier(dirtierExe, HOT, RATE, COLD);
    const common = ['profile', '--pid', String(d.pid), '--duration', '6', '--interval', '0.5', '--region', d.region, '--json', '-', '--quiet'];
    const [f, s] = await Promise.all([cli([...common, '--sample-rate', '1', '--record', trace]), cli([...common, '--sample-rate', '1/8'])]);
    d.proc.kill('SIGKILL');
    expect([f.code, s.code]).toEqual([0, 0]);
    full = JSON.parse(f.out) as ProfileReport;
    sampled = JSON.parse(s.out) as ProfileReport;
    summary = s.err;
    passes = passesOf(trace).passes;
  }, 60_000);

  test('the JSON says what was sampled and what a pass read', () => {
    const P = d.pageSize;
    const sm = sampled.meta.sampling!;
    expect(sm).toMatchObject({ rate: 1 / 8, run: 65536 / P, reason: 'asked for with --sample-rate' });
    expect(sm.sampledPages).toBe(new PageSample(sm).sampledIn(HOT + COLD));
    expect(sm.sampledPages).toBe((HOT + COLD) / 8);
    // Every page is resident: each pass fingerprints all sampled pages, and reads only them.
    expect(sm.watchedPagesPerPass).toBe(sm.sampledPages);
    expect(sm.readBytesPerPass).toBe(sm.sampledPages * P);
    expect(full.meta.sampling).toMatchObject({ rate: 1, sampledPages: HOT + COLD, readBytesPerPass: (HOT + COLD) * P });
    // The page copies stay within the sampled pages' bytes.
    expect(sampled.meta.contentBudget).toBeLessThanOrEqual(Math.max(4 * 2 ** 20, sm.sampledPages * P));
  });

  test('the same trace, only its sampled pages: every size within 2 points of the exact curve', () => {
    const spec = sampled.meta.sampling!;
    const sample = new PageSample(spec);
    const exact = new CacheAdvisor({ pageSize: d.pageSize, sampling: 1 });
    const est = new CacheAdvisor({ pageSize: d.pageSize, pageSample: spec });
    for (const p of passes) {
      exact.addPass([...p.pages].map((x) => x * d.pageSize));
      est.addPass([...p.pages].filter((x) => sample.has(x)).map((x) => x * d.pageSize));
    }
    const sizes = exact.defaultSizes();
    const e = exact.curve(sizes);
    const s = est.curve(sizes);
    expect(e.some((c) => c.hitRate > 0.3)).toBe(true);
    for (let i = 0; i < e.length; i++) expect({ policy: e[i].policy, size: e[i].size, error: Math.abs(s[i].hitRate - e[i].hitRate) <= 0.02 }).toEqual({ policy: e[i].policy, size: e[i].size, error: true });
  });

  // Two live runs also differ in when their passes end (reading every page
  // takes longer): at the 32 MiB knee, where the hot pages sharing a slot
  // are written exactly half a period apart, that alone moved the exact
  // hit rate by 3.5 points between runs. So live: within 2 points from the
  // hot set's size up (the plateau), within 5 below; the 2-point claim at
  // every size is the same-trace test above.
  test('live, sampled against every page: the plateau within 2 points, the curve within 5, the dirty rate within 5%', () => {
    const P = d.pageSize;
    let compared = 0;
    for (const c of sampled.curve) {
      const e = full.curve.find((x) => x.policy === c.policy && x.size === c.size)!;
      expect(c.sampled).toBe(true);
      const tolerance = c.size >= HOT * P ? 0.02 : 0.05;
      expect({ policy: c.policy, size: c.size, error: Math.abs(c.hitRate - e.hitRate) <= tolerance }).toEqual({ policy: c.policy, size: c.size, error: true });
      compared++;
    }
    expect(compared).toBe(full.curve.length);
    expect(sampled.curve.some((c) => c.size >= HOT * P)).toBe(true);
    expect(Math.abs(sampled.dirty.pagesPerSecond - full.dirty.pagesPerSecond) / full.dirty.pagesPerSecond).toBeLessThan(0.05);
    expect(Math.abs(sampled.workingSet.pages - full.workingSet.pages) / full.workingSet.pages).toBeLessThan(0.05);
  });

  test('the summary says how the pages were sampled', async () => {
    const r = await cli(['advise', trace]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/sampling: +every page; per pass 65,536 pages fingerprinted, 256 MiB read/);
    expect(summary).toMatch(/1\/8 of pages watched \(32 MiB in runs of 16; asked for with --sample-rate\)/);
    expect(summary).toMatch(/sampling: +1\/8 of pages \(8,192 pages, runs of 16\); per pass 8,192 pages fingerprinted, 32 MiB read/);
    expect(summary).toMatch(/~: estimated from the 1\/8 of pages watched/);
  });
});

describe('a QEMU-like process: guest RAM in a memfd, found automatically', () => {
  // The dirtier under QEMU's name, its memory a shared memfd mapping as with
  // memory-backend-memfd; recorded with page contents, then advised from the trace.
  const HOT = 2048;
  const RATE = 2048;
  const COLD = 2048;
  const trace = path.join(tmp, 'qemu.trace');
  let live: ProfileReport;
  let fromTrace: ProfileReport;
  let passes: PassRecord[];
  let pageSize = 4096;
  beforeAll(async () => {
    const exe = path.join(tmp, 'qemu-system-x86_64');
    fs.copyFileSync(dirtierExe, exe);
    fs.chmodSync(exe, 0o755);
    const d = await startDirtier(exe, HOT, RATE, COLD, true, true);
    pageSize = d.pageSize;
    const r = await cli(['profile', '--pid', String(d.pid), '--duration', '3', '--interval', '0.5', '--record', trace, '--record-contents', 'pages', '--json', '-', '--quiet']);
    d.proc.kill('SIGKILL');
    expect(r.code).toBe(0);
    live = JSON.parse(r.out) as ProfileReport;
    const a = await cli(['advise', trace, '--json', '-']);
    expect(a.code).toBe(0);
    fromTrace = JSON.parse(a.out) as ProfileReport;
    passes = passesOf(trace).passes;
  }, 40_000);

  test('selects the memfd guest RAM and nothing else', () => {
    expect(live.meta.qemu).toBe(true);
    expect(live.meta.selection).toMatch(/^QEMU guest RAM/);
    expect(live.meta.ramBytes).toBe((HOT + COLD) * pageSize);
    expect(live.meta.regions).toBe(1);
    const rate = RATE * (live.meta.method === 'content' ? 3 / 4 : 1);
    expect(Math.abs(live.dirty.pagesPerSecond - rate) / rate).toBeLessThan(0.05);
  });

  test('a trace with page contents is re-encoded in full by advise', () => {
    expect(passes.every((p) => p.contents !== null && p.contents.length === p.pages.length * pageSize)).toBe(true);
    const seen = new Set<number>();
    const by = [0, 0, 0, 0];
    for (const p of passes) for (const page of p.pages) seen.has(page) ? by[page % 4]++ : seen.add(page);
    const re = by.reduce((x, y) => x + y, 0);
    expect(fromTrace.contentSample).toEqual({ rate: 1, classified: re });
    expect(fromTrace.reDirtiedShares!.overflow).toBeCloseTo(by[0] / re, 12);
    expect(fromTrace.reDirtiedShares!.encodable).toBeCloseTo((by[1] + by[2]) / re, 12);
    // The live run classified a sample (default budget: 4 MiB of 16 MiB).
    expect(live.contentSample.rate).toBeLessThan(1);
    expect(fromTrace.dirty).toEqual(live.dirty);
  });
});

describe('a real server: redis-server under redis-benchmark', () => {
  const redis = which('/usr/bin/redis-server', '/usr/local/bin/redis-server');
  const bench = which('/usr/bin/redis-benchmark', '/usr/local/bin/redis-benchmark');
  if (process.env.CI) {
    test('CI installs redis (apt-get install redis-server redis-tools)', () => {
      expect(redis && bench).toBeTruthy();
    });
  }
  const d = redis && bench ? describe : describe.skip;
  const title = 'profiled for 3 s';
  d(redis && bench ? title : skippedTitle(title, 'needs redis-server and redis-benchmark (apt-get install redis-server redis-tools)'), () => {
    let report: ProfileReport;
    let run: { code: number | null; out: string; err: string };
    beforeAll(async () => {
      const port = await freePort();
      // setpriv --pdeathsig: they die with the test runner even if afterAll never runs.
      const setpriv = which('/usr/bin/setpriv', '/bin/setpriv');
      const guarded = (cmd: string, args: string[]) => (setpriv ? start(setpriv, ['--pdeathsig', 'KILL', '--', cmd, ...args]) : start(cmd, args));
      const server = guarded(redis!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
      await waitForPort(port);
      guarded(bench!, ['-p', String(port), '-n', '100000000', '-r', '200000', '-d', '256', '-t', 'set,get,lpush', '-q']);
      await new Promise((r) => setTimeout(r, 500));
      run = await cli(['profile', '--pid', String(server.pid), '--duration', '3', '--interval', '0.5', '--json', '-', '--quiet']);
      report = JSON.parse(run.out) as ProfileReport;
    }, 40_000);

    test('profiles every writable private mapping and finds dirty pages', () => {
      expect(run.code).toBe(0);
      expect(report.meta.command).toMatch(/redis/);
      expect(report.meta.selection).toMatch(/writable private/);
      expect(report.intervals).toBe(6);
      expect(report.dirty.pages).toBeGreaterThan(0);
    });

    test('the report is consistent', () => {
      const P = report.meta.pageSize;
      const r = report;
      expect(r.dirty.pagesPerSecond).toBeCloseTo(r.dirty.pages / r.seconds, 6);
      expect(r.workingSet.pages).toBeLessThanOrEqual(r.dirty.distinctPages);
      expect(r.dirty.distinctPages).toBeLessThanOrEqual(r.meta.ramBytes / P);
      expect(r.shares.first + r.shares.reDirtied).toBeCloseTo(1, 12);
      if (r.reDirtiedShares) {
        const s = r.reDirtiedShares;
        expect(s.unchanged + s.encodable + s.overflow).toBeCloseTo(1, 12);
        expect(r.shares.unchanged + r.shares.encodable + r.shares.overflow).toBeCloseTo(r.shares.reDirtied, 12);
      }
      expect(r.bytes.raw).toBe(r.dirty.pages * P);
      if (r.bytes.xbzrle !== null) expect(r.bytes.xbzrle).toBeLessThanOrEqual(r.bytes.raw);
      const unbounded = 1 - r.shares.first;
      for (const c of r.curve) {
        expect(c.hitRate).toBeGreaterThanOrEqual(0);
        expect(c.hitRate).toBeLessThanOrEqual(unbounded + 1e-9); // no cache beats an unbounded one
        expect(c.hits + c.misses).toBeCloseTo(r.dirty.pages, 6);
        if (c.xbzrleBytes !== null) expect(c.xbzrleBytes).toBeLessThanOrEqual(c.rawBytes + 1e-6);
      }
      const q = r.curve.filter((c) => c.policy === 'qemu');
      expect(q[q.length - 1].hitRate).toBeGreaterThanOrEqual(q[0].hitRate);
      const slots = r.advice.size / P;
      expect(Math.log2(slots) % 1).toBe(0);
      expect(r.advice.sentence.length).toBeGreaterThan(20);
      expect(r.cost!.maxRssBytes).toBeGreaterThan(0);
    });
  });
});

describe('failures an operator can act on', () => {
  test('a process that exits mid-profile: the passes so far are reported', async () => {
    const d = await startDirtier(dirtierExe, 256, 512);
    // Killed once two passes are in.
    const r = await cli(['profile', '--pid', String(d.pid), '--duration', '10', '--interval', '0.5', '--region', d.region, '--json', '-'], {
      onErr: (err) => {
        if (/pass 2:/.test(err)) d.proc.kill('SIGKILL');
      },
    });
    expect(r.code).toBe(0);
    expect(r.err).toMatch(new RegExp(`PID ${d.pid} exited after \\d+ passes`));
    const j = JSON.parse(r.out) as ProfileReport;
    expect(j.meta.ended).toBe('exited');
    expect(j.intervals).toBeGreaterThanOrEqual(2);
    expect(j.intervals).toBeLessThan(20);
  }, 20_000);

  test('Ctrl-C stops early and still reports', async () => {
    const d = await startDirtier(dirtierExe, 64, 256);
    let sent = false;
    const run = cli(['profile', '--pid', String(d.pid), '--duration', '30', '--interval', '0.5', '--region', d.region, '--json', '-'], {
      onErr: (err) => {
        if (!sent && /pass 1:/.test(err)) {
          sent = true;
          process.kill(lastStarted().pid!, 'SIGINT');
        }
      },
    });
    const r = await run;
    d.proc.kill('SIGKILL');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as ProfileReport;
    expect(j.meta.ended).toBe('aborted');
    // SIGINT came during the wait for pass 2: that part-interval is left out,
    // so the rate is over full intervals only (it read twice the steady rate).
    expect(r.err).toMatch(/stopped early; the last \d+\.\d+ s \(part of an interval\) is left out/);
    expect(j.intervals).toBe(1);
    expect(j.seconds).toBeGreaterThanOrEqual(0.5);
    expect(j.dirty.series.every((s, i, a) => s.t - (i ? a[i - 1].t : 0) >= 0.5)).toBe(true);
  }, 20_000);

  // Usage errors and failures before any profiling: the CLI's main() in-process.
  async function main(args: string[]): Promise<{ code: number; err: string }> {
    const err: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      return { code: await cliMain(args), err: err.join('\n') };
    } finally {
      spy.mockRestore();
      log.mockRestore();
    }
  }

  test('a missing PID', async () => {
    let pid = 4_000_000;
    while (fs.existsSync(`/proc/${pid}`)) pid++;
    const r = await main(['profile', '--pid', String(pid), '--duration', '1']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`no process with PID ${pid}: it does not exist or has exited`));
  });

  test('a region that matches nothing, and bad options', async () => {
    const d = await startDirtier(dirtierExe, 16, 100);
    const r = await main(['profile', '--pid', String(d.pid), '--region', 'no-such-mapping', '--duration', '1']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no memory of PID \d+ matches --region no-such-mapping/);
    d.proc.kill('SIGKILL');
    for (const args of [['--pid', 'x'], ['--pid', '1', '--interval', '0'], ['--pid', '1', '--method', 'magic'], ['--pid', '1', '--budget', 'lots'], ['--pid', '1', '--sampling', '3'], []]) {
      expect((await main(['profile', ...args])).code).toBe(2);
    }
    const t = await main(['advise', path.join(tmp, 'missing.trace')]);
    expect(t.code).toBe(1);
    expect(t.err).toMatch(/cannot open trace/);
  });

  // Each would profile this very process for 30 s if checked late: the test would time out.
  test.each([
    [['--budget', '0'], /--budget must be above 0/],
    [['--budget', '100T'], /--budget must be at most 8 TiB/],
    [['--budget', '1'], /less than one 4096-byte page per migration/],
    [['--duration', '1e309'], /--duration must be a duration/],
    [['--interval', '1000000000'], /--interval must be at most 3600 s/],
    [['--interval', '31'], /--interval 31 s is longer than --duration 30 s/],
    [['--concurrent', '0'], /--concurrent must be at least 1/],
    [['--sample-rate', '0.3'], /--sample-rate must be auto, 1, or a power-of-two fraction/],
    [['--sample-rate', '1/3'], /--sample-rate must be auto, 1, or a power-of-two fraction/],
    [['--sample-rate', '0'], /--sample-rate must be auto, 1, or a power-of-two fraction/],
    [['--sample-rate', '2'], /--sample-rate must be auto, 1, or a power-of-two fraction/],
    [['--sample-rate', '1/33554432'], /--sample-rate must be auto, 1, or a power-of-two fraction/],
  ])('profile %j is refused before any work (exit 2)', async (args, message) => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const r = await main(['profile', '--pid', String(process.pid), '--duration', '30', ...args]);
      expect(r.err).toMatch(message);
      expect(r.code).toBe(2);
    } finally {
      process.removeListener('warning', onWarning);
    }
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });

  test('outputs that cannot be written are refused before any work', async () => {
    const file = path.join(tmp, 'a-file.html');
    fs.writeFileSync(file, 'x');
    const r = await main(['profile', '--pid', String(process.pid), '--duration', '30', '--report', file]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--report .*a-file\.html: exists and is not a directory/);
    const j = await main(['profile', '--pid', String(process.pid), '--duration', '30', '--json', tmp]);
    expect(j.code).toBe(2);
    expect(j.err).toMatch(/--json .*: is a directory; give a file name/);
    const t = await main(['profile', '--pid', String(process.pid), '--duration', '30', '--record', path.join(file, 'x.trace')]);
    expect(t.code).toBe(2);
    expect(t.err).toMatch(/--record /);
  });

  (process.platform === 'linux' && fs.existsSync('/proc/2/stat') && /\(kthreadd\)/.test(fs.readFileSync('/proc/2/stat', 'utf8')) ? test : test.skip)(
    '--pid 2 (kthreadd, outside a PID namespace) is a kernel thread, not a missing process',
    async () => {
      const r = await main(['profile', '--pid', '2', '--duration', '30']);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/PID 2 \(kthreadd\) is a kernel thread: it has no user memory to profile/);
      expect(r.err).not.toMatch(/no process with PID/);
    },
  );

  test('advise on malformed traces: exit 1 with the byte offset, never internals', async () => {
    const bad: [string, Buffer][] = [
      ['no magic', Buffer.from('garbage-not-a-trace-at-all')],
      ['magic then junk', Buffer.concat([Buffer.from('XBZTRACE'), Buffer.alloc(64, 0xff)])],
      ['magic then zeros', Buffer.concat([Buffer.from('XBZTRACE'), Buffer.alloc(64)])],
      ['empty', Buffer.alloc(0)],
    ];
    for (const [name, bytes] of bad) {
      const f = path.join(tmp, `bad-${name.replace(/ /g, '-')}.trace`);
      fs.writeFileSync(f, bytes);
      const r = await main(['advise', f]);
      expect({ name, code: r.code }).toEqual({ name, code: 1 });
      expect(r.err).toMatch(/at byte \d+/);
      expect(r.err).not.toMatch(/Cannot read properties|is not a function|TypeError|undefined/);
    }
  });

  const asNobody = process.getuid?.() === 0 && which('/usr/bin/setpriv', '/bin/setpriv') !== null;
  (asNobody ? test : test.skip)('no ptrace rights: permission denied, with what to do', async () => {
    // A copy of the CLI that user nobody can read (the checkout may not be).
    const app = fs.mkdtempSync(path.join(os.tmpdir(), 'xbzrle-nobody-'));
    for (const p of ['bin', 'dist', 'package.json', path.join('node_modules', 'node-gyp-build')]) {
      fs.cpSync(path.join(root, p), path.join(app, p), { recursive: true });
    }
    spawnSync('chmod', ['-R', 'a+rX', app]);
    const d = await startDirtier(dirtierExe, 16, 100);
    const r = await cli(['profile', '--pid', String(d.pid), '--duration', '1'], {
      cmd: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, path.join(app, 'bin', 'xbzrle.js')],
      env: { XBZRLE_NO_NATIVE: '1' },
      cwd: app,
    });
    d.proc.kill('SIGKILL');
    fs.rmSync(app, { recursive: true, force: true });
    expect(r.err).toMatch(/permission denied on \/proc\/\d+\/maps \(running as uid 65534\)/);
    expect(r.err).toMatch(/Run as root, or give node CAP_SYS_PTRACE/);
    expect(r.code).toBe(1);
  });
});

describe('soft-dirty tracking, against a fake /proc', () => {
  // This kernel has no soft-dirty bits, so the path is checked against files
  // laid out as /proc lays them out: pagemap entries at vpage * 8 (bit 63
  // present, bit 55 soft-dirty), memory at its address in mem.
  const P = 4096;
  const base = 0x10000000;
  const procRoot = path.join(tmp, 'proc');
  const dir = path.join(procRoot, '4242');
  const pagemap = path.join(dir, 'pagemap');
  const mem = path.join(dir, 'mem');

  function setPages(dirty: number[]): void {
    const b = Buffer.alloc(8 * 8);
    for (let i = 0; i < 8; i++) b.writeUInt32LE(((1 << 31) | (dirty.includes(i) ? 1 << 23 : 0)) >>> 0, i * 8 + 4);
    const fd = fs.openSync(pagemap, 'r+');
    fs.writeSync(fd, b, 0, b.length, (base / P) * 8);
    fs.closeSync(fd);
  }
  function writeMem(page: number, at: number, bytes: number[]): void {
    const fd = fs.openSync(mem, 'r+');
    fs.writeSync(fd, Buffer.from(bytes), 0, bytes.length, base + page * P + at);
    fs.closeSync(fd);
  }

  beforeAll(() => {
    fs.mkdirSync(dir, { recursive: true });
    fs.mkdirSync(path.join(procRoot, 'self'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'maps'), `${base.toString(16)}-${(base + 8 * P).toString(16)} rw-p 00000000 00:00 0 \n`);
    fs.writeFileSync(path.join(dir, 'comm'), 'fake\n');
    fs.writeFileSync(path.join(dir, 'stat'), '4242 (fake) S 1 1 1 0');
    fs.writeFileSync(path.join(dir, 'smaps'), 'KernelPageSize:        4 kB\n');
    fs.writeFileSync(path.join(dir, 'clear_refs'), '');
    fs.writeFileSync(pagemap, '');
    fs.writeFileSync(mem, '');
    const page = Buffer.alloc(8 * P);
    for (let i = 0; i < page.length; i++) page[i] = (i * 131 + 7) & 0xff;
    const fd = fs.openSync(mem, 'r+');
    fs.writeSync(fd, page, 0, page.length, base);
    fs.closeSync(fd);
    setPages([0, 1, 2, 3, 4, 5, 6, 7]); // a new mapping: every page soft-dirty
    // Our own heap, as a kernel with soft-dirty reports it: every page soft-dirty.
    fs.writeFileSync(path.join(procRoot, 'self', 'maps'), '20000000-20001000 rw-p 00000000 00:00 0 [heap]\n');
    const self = Buffer.alloc(8);
    self.writeUInt32LE(((1 << 31) | (1 << 23)) >>> 0, 4);
    fs.writeFileSync(path.join(procRoot, 'self', 'pagemap'), '');
    const sfd = fs.openSync(path.join(procRoot, 'self', 'pagemap'), 'r+');
    fs.writeSync(sfd, self, 0, 8, (0x20000000 / P) * 8);
    fs.closeSync(sfd);
  });

  test('detects support, takes the baseline and clears the bits', () => {
    const p = new Profiler({ pid: 4242, procRoot });
    expect(p.info.method).toBe('soft-dirty');
    expect(p.info.methodReason).toBe('the kernel keeps soft-dirty bits');
    p.start();
    expect(fs.readFileSync(path.join(dir, 'clear_refs'), 'utf8')).toBe('4');
    setPages([]);
    expect(p.step().pages.length).toBe(0); // the baseline reported nothing
    p.close();
  });

  test('reports soft-dirty pages, and a rewrite of the same bytes as unchanged', () => {
    const p = new Profiler({ pid: 4242, procRoot, recordContents: true });
    p.start();
    setPages([1, 3]);
    writeMem(1, 100, [1, 2, 3]);
    const a = p.step();
    expect([...a.pages]).toEqual([1, 3]);
    expect([...a.outcomes]).toEqual([OUTCOME_FIRST, OUTCOME_FIRST]);
    expect(a.contents!.length).toBe(2 * P);
    setPages([1, 3, 6]);
    writeMem(1, 200, [9]); // 200 = zrun of 2 bytes (>= 128), nzrun 1, 1 byte
    const b = p.step();
    expect([...b.pages]).toEqual([1, 3, 6]);
    expect([...b.outcomes]).toEqual([4, 0, OUTCOME_FIRST]);
    p.close();
  });

  test('asking for soft-dirty where it is missing is an error; a vanished process too', () => {
    fs.writeFileSync(path.join(procRoot, 'self', 'maps'), '');
    expect(() => new Profiler({ pid: 4242, procRoot, method: 'soft-dirty' })).toThrow(/soft-dirty tracking is unavailable: this kernel sets no soft-dirty bits/);
    const p = new Profiler({ pid: 4242, procRoot });
    expect(p.info.method).toBe('content');
    fs.rmSync(dir, { recursive: true });
    expect(() => p.start()).toThrow(ProfileError);
    expect(() => new Profiler({ pid: 4242, procRoot })).toThrow(/no process with PID 4242/);
  });
});

describe("the 'auto' sample rate (docs/PROFILE.md's model table)", () => {
  test('0.1 core per 1 s pass: every page up to 204 MiB, then a power of two', () => {
    const GiB = 2 ** 30;
    expect(autoSampleRate('content', 0.125 * GiB)).toBe(1);
    expect(autoSampleRate('content', 0.5 * GiB)).toBe(1 / 4);
    expect(autoSampleRate('content', 6 * GiB)).toBe(1 / 32);
    expect(autoSampleRate('content', 64 * GiB)).toBe(1 / 512);
    expect(autoSampleRate('content', 1024 * GiB)).toBe(1 / 8192);
    expect(autoSampleRate('content', 1024 * GiB, 16)).toBe(1 / 512); // a longer interval reads more per pass
    expect(autoSampleRate('soft-dirty', 2 * GiB)).toBe(1);
    expect(autoSampleRate('soft-dirty', 64 * GiB)).toBe(1 / 32);
    expect(autoSampleRate('soft-dirty', 1024 * GiB)).toBe(1 / 512);
  });
});

describe('page fingerprints', () => {
  test('WebAssembly SIMD and JavaScript compute the same fingerprint; zeros match zeroHash', () => {
    const w = new PageHasher(4096);
    const j = new PageHasher(4096, { wasm: false });
    expect(w.kind).toBe('wasm');
    expect(j.kind).toBe('js');
    for (let i = 0; i < w.buffer.length; i++) w.buffer[i] = j.buffer[i] = (i * 2654435761) >>> 23;
    w.buffer.fill(0, 0, 4096);
    j.buffer.fill(0, 0, 4096);
    expect([...w.hash(w.runPages)]).toEqual([...j.hash(j.runPages)]);
    expect([w.hash(1)[0], w.hash(1)[1]]).toEqual(zeroHash(4096));
  });

  test('every single-bit change of a page changes it; so do paired high-bit changes', () => {
    const h = new PageHasher(4096);
    const page = Buffer.alloc(4096);
    for (let i = 0; i < page.length; i++) page[i] = (i * 131 + 7) & 0xff;
    const seen = new Set<string>();
    const fp = (): string => {
      const r = h.hash(1);
      return `${r[0]},${r[1]}`;
    };
    h.buffer.set(page);
    seen.add(fp());
    let n = 1;
    for (let bit = 0; bit < 4096 * 8; bit++) {
      h.buffer.set(page);
      h.buffer[bit >> 3] ^= 1 << (bit & 7);
      seen.add(fp());
      n++;
    }
    // The top bit of two words of one lane (words j and j + 16), flipped together.
    for (let w = 0; w + 16 < 1024; w += 7) {
      h.buffer.set(page);
      h.buffer[w * 4 + 3] ^= 0x80;
      h.buffer[(w + 16) * 4 + 3] ^= 0x80;
      seen.add(fp());
      n++;
    }
    expect(seen.size).toBe(n);
  });
});

describe('choosing memory from /proc/PID/maps', () => {
  const text = [
    '55c81e58f000-55c81e590000 rw-p 00003000 fe:00 2146501                    /usr/bin/qemu-system-x86_64',
    '55c822563000-55c822584000 rw-p 00000000 00:00 0                          [heap]',
    '7f0000000000-7f0040000000 rw-s 00000000 00:01 2946                       /memfd:pc.ram (deleted)',
    '7f0040000000-7f0041000000 rw-p 00000000 00:00 0 ',
    '7f0050000000-7f0058000000 rw-p 00000000 00:00 0 ',
    '7f0060000000-7f0064000000 ---p 00000000 00:00 0 ',
    '7fd63bd62000-7fd63bd64000 rw-p 001d3000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6',
    '7ffd5a648000-7ffd5a669000 rw-p 00000000 00:00 0                          [stack]',
    '7ffd5a7f0000-7ffd5a7f2000 r-xp 00000000 00:00 0                          [vdso]',
    'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]',
  ].join('\n');
  const maps = parseMaps(text);

  test('parses lines, drops " (deleted)" and addresses beyond 2^53', () => {
    expect(maps).toHaveLength(9);
    expect(maps[2]).toEqual({ start: 0x7f0000000000, end: 0x7f0040000000, perms: 'rw-s', path: '/memfd:pc.ram' });
  });

  test('QEMU: the largest guest-RAM candidates (at least 1/8 of the largest)', () => {
    expect(looksLikeQemu('qemu-system-x86', null)).toBe(true);
    expect(looksLikeQemu('redis-server', '/usr/bin/redis-server')).toBe(false);
    const ram = selectQemuRam(maps);
    // 1 GiB memfd and 128 MiB anonymous; not the 16 MiB one, the heap or the PROT_NONE reserve.
    expect(ram.map((m) => m.path || 'anon')).toEqual(['/memfd:pc.ram', 'anon']);
    expect(ram[1].end - ram[1].start).toBe(128 * 2 ** 20);
    // A memory-backend-file on a hugetlbfs mounted anywhere.
    const huge = parseMaps('7e0000000000-7e0100000000 rw-s 00000000 00:2f 1 /mnt/huge\\040pages/vm1.ram\n');
    const mounts = hugetlbfsMounts('tmpfs /dev/shm tmpfs rw 0 0\nnone /mnt/huge\\040pages hugetlbfs rw,pagesize=2M 0 0\n');
    expect(mounts).toEqual(['/mnt/huge pages']);
    expect(selectQemuRam([...maps, { ...huge[0], path: '/mnt/huge pages/vm1.ram' }], mounts).map((m) => m.path)).toEqual(['/memfd:pc.ram', '/mnt/huge pages/vm1.ram']);
  });

  test('otherwise: every readable, writable private mapping', () => {
    const w = selectWritablePrivate(maps);
    expect(w.map((m) => m.path)).toEqual(['/usr/bin/qemu-system-x86_64', '[heap]', '', '', '/usr/lib/x86_64-linux-gnu/libc.so.6', '[stack]']);
  });

  test('--region: ranges are clipped to mappings; names match pathnames; "anon"', () => {
    const r = selectBySpecs(maps, [parseRegionSpec('7f003ff00000-7f0040100000')]);
    expect(r.map((m) => [m.start, m.end])).toEqual([
      [0x7f003ff00000, 0x7f0040000000],
      [0x7f0040000000, 0x7f0040100000],
    ]);
    expect(selectBySpecs(maps, [parseRegionSpec('memfd:pc.ram')])).toHaveLength(1);
    expect(selectBySpecs(maps, [parseRegionSpec('anon')]).map((m) => m.path)).toEqual(['[heap]', '', '', '[stack]']);
    expect(() => parseRegionSpec('20-10')).toThrow(RangeError);
  });

  test('RAM offsets: regions keep their offsets; new and grown parts come after', () => {
    const P = 4096;
    const set = new RegionSet(P);
    set.cover([{ start: 0x10000, end: 0x14000, perms: 'rw-p', path: '' }]);
    expect(set.totalPages).toBe(4);
    const grown = set.cover([
      { start: 0x8000, end: 0x16000, perms: 'rw-p', path: '' },
      { start: 0x40000, end: 0x41000, perms: 'rw-p', path: 'x' },
    ]);
    expect(grown.map((r) => [r.start, r.end, r.offset])).toEqual([
      [0x8000, 0x10000, 4],
      [0x14000, 0x16000, 12],
      [0x40000, 0x41000, 14],
    ]);
    expect(set.totalPages).toBe(15);
    // Parts mapped now, in offset order; a hole reads as not mapped.
    const live = set.live([
      { start: 0x8000, end: 0x12000, perms: 'rw-p', path: '' },
      { start: 0x40000, end: 0x41000, perms: 'rw-s', path: 'x' },
    ]);
    expect(live).toEqual([
      { start: 0x10000, end: 0x12000, offset: 0, anonymous: true },
      { start: 0x8000, end: 0x10000, offset: 4, anonymous: true },
      { start: 0x40000, end: 0x41000, offset: 14, anonymous: false },
    ]);
  });
});
