// Governor and `xbzrle govern` against fake QEMUs (scripted QMP servers):
// the decisions, the budget invariant, a QEMU that dies mid-migration, and
// the CLI's usage errors. The real-QEMU run is test/govern-qemu.test.ts.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Governor, cacheCost, largestCacheWithin, type Decision } from '../lib';
import { allocate, type Claim } from '../lib/govern/allocate';
import { fakeServer, reply } from './helpers/qmp-fake';
import { buildDirtier, killAll, startDirtier } from './helpers/processes';

const MiB = 2 ** 20;

interface FakeVm {
  path: string;
  params: number[];
  caps: boolean[];
  close(): Promise<void>;
  die(): void;
}

/**
 * A QEMU as far as the governor sees it: calc-dirty-rate measures
 * `dirtyMiB` MiB/s; after `migrate`, query-migrate is 'active' for `polls`
 * polls, then 'completed'.
 */
async function fakeVm({ dirtyMiB = 8, polls = 3, measureAfterMs = 0 } = {}): Promise<FakeVm> {
  const params: number[] = [];
  const caps: boolean[] = [];
  let status = 'none';
  let left = polls;
  let measured = false;
  const srv = await fakeServer((cmd, sock) => {
    const ok = (ret: unknown = {}) => reply(sock, cmd.id, { return: ret });
    const a = cmd.arguments ?? {};
    switch (cmd.execute) {
      case 'query-migrate':
        if (status === 'active' && --left <= 0) status = 'completed';
        return ok(status === 'none' ? {} : { status, ram: { transferred: 1000, remaining: left * 100, total: 4096, 'dirty-pages-rate': 10, 'dirty-sync-count': polls - left, mbps: 1 }, 'xbzrle-cache': { 'cache-size': params.at(-1) ?? 0, pages: 5, 'cache-miss': 1, 'cache-miss-rate': 0.2, 'encoding-rate': 3, overflow: 0, bytes: 100 } });
      case 'calc-dirty-rate':
        setTimeout(() => (measured = true), measureAfterMs);
        return ok();
      case 'query-dirty-rate':
        return ok(measured ? { status: 'measured', 'dirty-rate': dirtyMiB } : { status: 'unstarted' });
      case 'migrate-set-capabilities':
        caps.push((a.capabilities as { state: boolean }[])[0].state);
        return ok();
      case 'migrate-set-parameters':
        if (typeof a['xbzrle-cache-size'] === 'number') params.push(a['xbzrle-cache-size'] as number);
        return ok();
      case 'migrate':
        status = 'active';
        return ok();
      default:
        return reply(sock, cmd.id, { error: { class: 'CommandNotFound', desc: `The command ${cmd.execute} has not been found` } });
    }
  });
  return { path: srv.path, params, caps, close: srv.close, die: () => srv.sockets.forEach((s) => s.destroy()) };
}

const quick = { interval: 0.02, profileSeconds: 0.1 } as const;

describe('cacheCost', () => {
  test("pages, QEMU's per-page allocation and slot, and its buffers", () => {
    expect(cacheCost(0)).toBe(0);
    expect(cacheCost(64 * MiB)).toBe(16384 * (4096 + 16 + 24) + 3 * 4096);
    expect(cacheCost(64 * MiB)).toBeGreaterThan(64 * MiB);
    // The largest cache within a cost is a power of two pages and fits.
    for (const b of [5 * MiB, 20 * MiB, 64 * MiB, 65 * MiB]) {
      const s = largestCacheWithin(b);
      expect(cacheCost(s)).toBeLessThanOrEqual(b);
      expect(Number.isInteger(Math.log2(s / 4096))).toBe(true);
      expect(cacheCost(s * 2)).toBeGreaterThan(b);
    }
    expect(largestCacheWithin(4096)).toBe(0);
  });
});

// A claim from a curve given as [size in MiB, hit rate] points.
function claim(idealMiB: number, rate: number, points: [number, number][]): Claim {
  const hits = new Map(points.map(([s, h]) => [s * MiB, h]));
  return { ideal: idealMiB * MiB, rate, sizes: points.map(([s]) => s * MiB), hitRate: (s) => hits.get(s) ?? 0 };
}

describe('allocate (VMs deciding together)', () => {
  const a = () => claim(8, 1 * MiB, [[1, 0.2], [2, 0.4], [4, 0.6], [8, 0.9]]);
  const b = () => claim(16, 10 * MiB, [[1, 0.1], [2, 0.2], [4, 0.4], [8, 0.8], [16, 0.95]]);

  test('every ideal when they all fit', () => {
    expect(allocate([a(), b()], cacheCost(8 * MiB) + cacheCost(16 * MiB))).toEqual([8 * MiB, 16 * MiB]);
  });

  test('otherwise the bytes go where they save the most pages per byte, within the cap', () => {
    const cap = 20 * MiB; // the two ideals cost 24.2 MiB
    const got = allocate([a(), b()], cap);
    // b dirties 10x as fast: its cache up to 16 MiB saves more per byte than any of a's beyond 2 MiB.
    expect(got).toEqual([2 * MiB, 16 * MiB]);
    expect(cacheCost(got[0]) + cacheCost(got[1])).toBeLessThanOrEqual(cap);
  });

  test('a plateau does not stop a VM short of the step that pays', () => {
    const flat = claim(4, MiB, [[1, 0], [2, 0], [4, 0.9]]);
    const slow = claim(4, MiB, [[1, 0.1], [2, 0.15], [4, 0.2]]);
    expect(allocate([flat, slow], cacheCost(4 * MiB) + 65536)).toEqual([4 * MiB, 0]);
  });

  test('nothing fits, nothing pays: no caches', () => {
    expect(allocate([a(), b()], 0)).toEqual([0, 0]);
    expect(allocate([claim(0, MiB, []), b()], 5 * MiB)).toEqual([0, 4 * MiB]);
  });
});

describe('Governor against fake QEMUs', () => {
  test('two VMs: each gets a cache from its dirty rate, the sum stays within the budget, both complete', async () => {
    const a = await fakeVm({ dirtyMiB: 4 });
    const b = await fakeVm({ dirtyMiB: 64 });
    const gov = new Governor({ budget: 40 * MiB, ...quick });
    const decisions: Decision[] = [];
    gov.on('decision', (d) => {
      decisions.push(d);
      expect(d.used).toBeLessThanOrEqual(40 * MiB);
    });
    let progress = 0;
    gov.on('progress', (p) => {
      progress++;
      expect(p.used).toBeLessThanOrEqual(40 * MiB);
    });
    try {
      const [ra, rb] = await Promise.all([gov.migrate({ qmp: a.path, uri: 'tcp:127.0.0.1:1', name: 'a' }), gov.migrate({ qmp: b.path, uri: 'tcp:127.0.0.1:2', name: 'b' })]);
      expect(ra.status).toBe('completed');
      expect(rb.status).toBe('completed');
      expect(a.caps).toEqual([true]);
      expect(a.params).toEqual([4 * MiB]); // one second of 4 MiB/s
      expect(b.params.length).toBe(1);
      expect(b.params[0]).toBeLessThan(64 * MiB); // capped by what is left
      expect(cacheCost(a.params[0]) + cacheCost(b.params[0])).toBeLessThanOrEqual(40 * MiB);
      expect(gov.usage.peakCost).toBeLessThanOrEqual(40 * MiB);
      expect(gov.usage.used).toBe(0); // all returned
      expect(decisions.map((d) => d.vm).sort()).toEqual(['a', 'b']);
      expect(decisions.every((d) => /→ \d+ MiB.*budget \d+ of 40 MiB/.test(d.message))).toBe(true);
      expect(progress).toBeGreaterThan(0);
      expect(ra.final?.status).toBe('completed');
    } finally {
      gov.close();
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('VMs profiled together share the budget by their needs, not by which profile ends first', async () => {
    // a needs 16 MiB and its profile ends first; b needs 2 MiB and ends 0.3 s
    // later. Deciding alone, a would get 8 MiB: half the 20 MiB held for b.
    const a = await fakeVm({ dirtyMiB: 16 });
    const b = await fakeVm({ dirtyMiB: 2, measureAfterMs: 300 });
    const gov = new Governor({ budget: 20 * MiB, ...quick });
    const decisions: Decision[] = [];
    gov.on('decision', (d) => decisions.push(d));
    try {
      const [ra, rb] = await Promise.all([gov.migrate({ qmp: a.path, uri: 'unix:/a', name: 'a' }), gov.migrate({ qmp: b.path, uri: 'unix:/b', name: 'b' })]);
      expect([ra.status, rb.status]).toEqual(['completed', 'completed']);
      expect(a.params).toEqual([16 * MiB]);
      expect(b.params).toEqual([2 * MiB]);
      expect(decisions.map((d) => d.message)).toEqual([expect.stringMatching(/^a: 0 B → 16 MiB, budget 16 of 20 MiB \(sized from QEMU's dirty rate\)$/), expect.stringMatching(/^b: 0 B → 2 MiB, budget 18 of 20 MiB/)]);
      expect(gov.usage.peakCost).toBeLessThanOrEqual(20 * MiB);
    } finally {
      gov.close();
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('VMs profiled together that do not all fit: the budget goes where it saves the most, within it', async () => {
    const a = await fakeVm({ dirtyMiB: 64 });
    const b = await fakeVm({ dirtyMiB: 64 });
    const c = await fakeVm({ dirtyMiB: 1 });
    const gov = new Governor({ budget: 48 * MiB, ...quick });
    const decisions: Decision[] = [];
    gov.on('decision', (d) => decisions.push(d));
    try {
      const rs = await Promise.all([a, b, c].map((v, i) => gov.migrate({ qmp: v.path, uri: `unix:/${i}`, name: 'abc'[i] })));
      expect(rs.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
      const sizes = [a, b, c].map((v) => v.params[0] ?? 0);
      expect(sizes.reduce((s, x) => s + cacheCost(x), 0)).toBeLessThanOrEqual(48 * MiB);
      expect(sizes[2]).toBe(1 * MiB); // the small need is met whole
      expect(Math.max(sizes[0], sizes[1])).toBe(32 * MiB);
      expect(decisions.find((d) => d.to < 64 * MiB && d.vm !== 'c')!.reason).toMatch(/left does not fit 64 MiB beside/);
      expect(gov.usage.peakCost).toBeLessThanOrEqual(48 * MiB);
    } finally {
      gov.close();
      await Promise.all([a, b, c].map((v) => v.close()));
    }
  });

  test('no dirtying: XBZRLE is turned off and nothing is charged', async () => {
    const a = await fakeVm({ dirtyMiB: 0 });
    const gov = new Governor({ budget: '16M', ...quick });
    try {
      const r = await gov.migrate({ qmp: a.path, uri: 'unix:/x' });
      expect(r.status).toBe('completed');
      expect(a.caps).toEqual([false]);
      expect(a.params).toEqual([]);
      expect(r.decisions[0].xbzrle).toBe(false);
    } finally {
      gov.close();
      await a.close();
    }
  });

  test('a QEMU that dies mid-migration fails its VM, returns its budget, and the other completes', async () => {
    const a = await fakeVm({ dirtyMiB: 8, polls: 1e9 });
    const b = await fakeVm({ dirtyMiB: 8, polls: 40 });
    const gov = new Governor({ budget: 64 * MiB, ...quick });
    try {
      const pa = gov.migrate({ qmp: a.path, uri: 'unix:/a', name: 'a' });
      const pb = gov.migrate({ qmp: b.path, uri: 'unix:/b', name: 'b' });
      // Both caches are set (each VM has polled once) before a dies.
      const polled = new Set<string>();
      await new Promise<void>((resolve) => gov.on('progress', (p) => polled.add(p.vm).size === 2 && resolve()));
      const before = gov.usage.used;
      expect(before).toBe(2 * cacheCost(8 * MiB));
      a.die();
      const ra = await pa;
      expect(ra.status).toBe('failed');
      expect(ra.error).toMatch(/closed/);
      expect(gov.usage.used).toBe(cacheCost(8 * MiB)); // a's share returned, b's still held
      const rb = await pb;
      expect(rb.status).toBe('completed');
      expect(gov.usage.used).toBe(0);
    } finally {
      gov.close();
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('when one migration ends, its budget grows the cache of another whose curve says it pays', async () => {
    // vm-a: a real process (the dirtier, 32 MiB rewritten each second) profiled
    // by PID; vm-b: a fake dirty rate that takes 6 s to measure, longer than
    // vm-a waits for its peers (one profile's length), so vm-a decides alone,
    // within half the budget, while vm-b's share is held.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xbzrle-govern-grow-'));
    const d = await startDirtier(buildDirtier(tmp), 8192, 8192);
    const a = await fakeVm({ polls: 1e9 });
    const b = await fakeVm({ dirtyMiB: 8, polls: 3, measureAfterMs: 6000 });
    const gov = new Governor({ budget: 50 * MiB, interval: 0.05, profileSeconds: 2, profileInterval: 0.5 });
    const decisions: Decision[] = [];
    gov.on('decision', (x) => decisions.push(x));
    try {
      const pa = gov.migrate({ qmp: a.path, uri: 'unix:/a', name: 'a', pid: d.pid });
      const rb = await gov.migrate({ qmp: b.path, uri: 'unix:/b', name: 'b' });
      expect(rb.status).toBe('completed');
      await new Promise((r) => setTimeout(r, 300));
      expect(a.params[0]).toBe(16 * MiB); // 32 MiB did not fit beside b's held share
      expect(a.params[1]).toBe(32 * MiB);
      const grow = decisions.find((x) => x.vm === 'a' && x.to === 32 * MiB)!;
      expect(grow.message).toMatch(/a: 16 MiB → 32 MiB, predicted hit rate \d+% → \d+%, budget \d+ of 50 MiB \(b ended and returned its budget/);
      expect(grow.hitRateTo!).toBeGreaterThan(grow.hitRateFrom!);
      expect(gov.usage.peakCost).toBeLessThanOrEqual(50 * MiB);
      gov.close();
      expect((await pa).status).toBe('closed');
    } finally {
      gov.close();
      killAll();
      await Promise.all([a.close(), b.close()]);
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  test('start: false leaves the migration to the caller; close() ends the polls', async () => {
    const a = await fakeVm({ dirtyMiB: 2 });
    const gov = new Governor({ budget: '8M', ...quick });
    try {
      const p = gov.migrate({ qmp: a.path, uri: 'unix:/a', start: false });
      await new Promise<void>((resolve) => gov.on('decision', () => resolve()));
      expect(a.params).toEqual([2 * MiB]);
      setTimeout(() => gov.close(), 50);
      const r = await p;
      expect(r.status).toBe('closed');
    } finally {
      gov.close();
      await a.close();
    }
  });

  test('arguments', () => {
    expect(() => new Governor(undefined as never)).toThrow(TypeError);
    expect(() => new Governor({} as never)).toThrow(TypeError);
    expect(() => new Governor({ budget: 'lots' })).toThrow(RangeError);
    expect(() => new Governor({ budget: '1G', target: 150 })).toThrow(RangeError);
    expect(() => new Governor({ budget: '1G', interval: 0 })).toThrow(RangeError);
    const gov = new Governor({ budget: '1G' });
    expect(() => gov.migrate({ qmp: '', uri: 'x' })).toThrow(TypeError);
    expect(() => gov.migrate({ qmp: '/q', uri: '' })).toThrow(TypeError);
    expect(() => gov.migrate({ qmp: '/q', uri: 'x', pid: -1 })).toThrow(RangeError);
    gov.close();
  });
});

describe('xbzrle govern (CLI)', () => {
  const bin = path.join(__dirname, '..', 'bin', 'xbzrle.js');
  const run = (...args: string[]) => spawnSync(process.execPath, [bin, 'govern', ...args], { encoding: 'utf8', timeout: 60_000 });

  test.each([
    [[], /--budget is required/],
    [['--budget', '1G'], /at least one --vm/],
    [['--budget', '0', '--vm', 'qmp=/q,uri=x'], /--budget/],
    [['--budget', '1G', '--vm', 'qmp=/q'], /uri=URI is required/],
    [['--budget', '1G', '--vm', 'qmp=/q,uri=x,pid=abc'], /pid must be a positive integer/],
    [['--budget', '1G', '--vm', 'qmp=/q,uri=x,color=red'], /unknown key "color"/],
    [['--budget', '1G', '--vm', 'qmp=/q,uri=x,name=a', '--vm', 'qmp=/r,uri=y,name=a'], /same name/],
    [['--budget', '1G', '--vm', 'qmp=/q,uri=x', '--target', '150%'], /--target/],
    [['--budget', '1G', '--vm', 'qmp=/q,uri=x', '--interval', 'soon'], /--interval/],
  ])('usage error %j exits 2', (args, message) => {
    const r = run(...(args as string[]));
    expect(r.stderr).toMatch(message as RegExp);
    expect(r.stderr).not.toMatch(/xbzrle: xbzrle/);
    expect(r.status).toBe(2);
  });

  test('two fake QEMUs: decisions, a final table, --json FILE with one entry per VM; exit 0', async () => {
    const a = await fakeVm({ dirtyMiB: 4 });
    const b = await fakeVm({ dirtyMiB: 2 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xbzrle-govern-'));
    const json = path.join(dir, 'report.json');
    try {
      const { spawn } = await import('node:child_process');
      const child = spawn(process.execPath, [bin, 'govern', '--budget', '32M', '--interval', '0.05', '--profile', '0.2', '--vm', `qmp=${a.path},uri=unix:/a,name=vm-a`, '--vm', `qmp=${b.path},uri=unix:/b,name=vm-b`, '--json', json]);
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      expect(out).toMatch(/vm-a: 0 B → 4 MiB/);
      expect(out).toMatch(/vm-b: completed/);
      expect(out).toMatch(/budget 32 MiB \(held\)/);
      expect(code).toBe(0);
      const report = JSON.parse(fs.readFileSync(json, 'utf8'));
      expect(report.vms.map((v: { name: string }) => v.name)).toEqual(['vm-a', 'vm-b']);
      expect(report.vms[0].status).toBe('completed');
      expect(report.vms[0].caches[0].size).toBe(4 * MiB);
      expect(report.vms[0].final['xbzrle-cache']).toBeDefined();
      expect(report.usage.peakCacheSum).toBe(6 * MiB);
    } finally {
      await Promise.all([a.close(), b.close()]);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a QMP socket that does not exist: that VM fails, exit 1', () => {
    const r = run('--budget', '8M', '--vm', 'qmp=/nonexistent/qmp.sock,uri=unix:/a');
    expect(r.stdout + r.stderr).toMatch(/vm-1: failed/);
    expect(r.status).toBe(1);
  });
});
