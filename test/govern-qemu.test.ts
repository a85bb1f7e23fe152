// The governor against real QEMUs (Debian's qemu-system-x86_64, TCG): three
// source guests with different working sets (scripts/stream/dirty.c in a
// busybox initramfs), three paused destinations on unix sockets, a low
// max-bandwidth so that XBZRLE matters, and one host budget below both naive
// rules (2 x 64 MiB, QEMU's default; 2 x 10% of guest RAM, Proxmox's).
// Asserts: the two kept migrations complete, each destination's RAM equals
// its source's final RAM page by page, the sum of the cache sizes QEMU
// reports for the migrations in flight never exceeds the budget at any
// poll, and the third, whose QEMU is killed mid-migration, fails alone and
// returns its budget. Under CI=true a missing tool is a failure.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Governor, QmpClient, cacheCost, type Decision, type VmReport } from '../lib';
import { describeIf } from './helpers/skip';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const { Lab, findTools, saveRam, differingPages, memoryOf, retry } = require('../scripts/stream/guests.js');

const MiB = 2 ** 20;
const RAM_MIB = 128;
const BUDGET = 20 * MiB; // < 2 x 64 MiB and < 2 x 12.8 MiB
const missing: string[] = process.platform === 'linux' ? findTools().missing : ['Linux'];
const rootOk = process.getuid?.() === 0;
if (!rootOk) missing.push('root (to read the QEMU process memory for the profile)');
const run = describeIf(missing.length === 0, `needs ${missing.join(', ')}`);

const connect = (p: string): Promise<QmpClient> =>
  retry(() => QmpClient.connect(p, { timeout: 2000, commandTimeout: 20_000 }));

run('Governor drives real QEMU migrations under one budget', () => {
  jest.setTimeout(240_000);
  let lab: InstanceType<typeof Lab>;
  let work: string;
  const clients: QmpClient[] = [];

  beforeAll(() => {
    if (missing.length) throw new Error(`govern-qemu needs ${missing.join(', ')} (CI=true: a failure, not a skip)`);
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'xbzrle-govern-qemu-'));
    lab = new Lab(work, { ramMiB: RAM_MIB });
  });
  afterAll(async () => {
    for (const q of clients) q.close();
    await lab?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test('two migrations complete with equal RAM, the budget holds at every poll, a killed QEMU fails alone', async () => {
    const names = ['a', 'b', 'c'];
    const scales: Record<string, number> = { a: 1, b: 3, c: 1 };
    const srcs = await Promise.all(names.map((n) => lab.source(`src-${n}`, { scale: scales[n], roundMs: 20 })));
    const dsts = names.map((n) => lab.destination(`dst-${n}`));
    const sq = await Promise.all(srcs.map((s: { qmpPath: string }) => connect(s.qmpPath)));
    const dq = await Promise.all(dsts.map((d: { qmpPath: string }) => connect(d.qmpPath)));
    clients.push(...sq, ...dq);
    // The caller's part (as libvirt would): bandwidth and downtime.
    for (const q of sq) await q.execute('migrate-set-parameters', { 'max-bandwidth': 8 * MiB, 'downtime-limit': 300 });

    // Peak RSS from here on (5 > clear_refs resets VmHWM): the cache's real cost must stay under the charged one.
    const rss0 = srcs.map((s: { pid: number }) => {
      fs.writeFileSync(`/proc/${s.pid}/clear_refs`, '5');
      return memoryOf(s.pid).rss;
    });
    const gov = new Governor({ budget: BUDGET, interval: 0.25, profileSeconds: 2, profileInterval: 0.5 });
    const decisions: Decision[] = [];
    gov.on('decision', (d) => decisions.push(d));
    const usedAfterKill: number[] = [];
    let killed = false;
    let maxSum = 0;
    const polls: number[] = [];
    let stop = false;
    // Our own poll of what QEMU reports: the cache sizes of the migrations in flight.
    const watcher = (async () => {
      while (!stop) {
        let sum = 0;
        for (let i = 0; i < sq.length; i++) {
          if (i === 2 && killed) continue;
          try {
            const m = await sq[i].execute('query-migrate');
            if (m.status !== 'active' && m.status !== 'setup' && m.status !== 'device') continue;
            const p = await sq[i].execute('query-migrate-parameters');
            const caps = await sq[i].execute('query-migrate-capabilities');
            if (caps.find((c) => c.capability === 'xbzrle')?.state) sum += p['xbzrle-cache-size'] ?? 0;
          } catch {
            /* a QEMU being killed */
          }
        }
        polls.push(sum);
        maxSum = Math.max(maxSum, sum);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    // Converge: after three passes the caller opens the bandwidth; kill c after its first pass.
    const opened = new Set<number>();
    gov.on('progress', (p) => {
      const i = names.indexOf(p.vm);
      if (p.vm === 'c' && !killed && p.status === 'active' && p.dirtySyncCount >= 1) {
        killed = true;
        process.kill(srcs[2].pid, 'SIGKILL');
      } else if (i < 2 && p.dirtySyncCount >= 3 && !opened.has(i)) {
        opened.add(i);
        void sq[i].execute('migrate-set-parameters', { 'max-bandwidth': 1 << 30, 'downtime-limit': 10_000 }).catch(() => {});
      }
    });
    gov.on('done', (r) => {
      if (r.name === 'c') usedAfterKill.push(gov.usage.used);
    });

    let reports: VmReport[];
    try {
      reports = await Promise.all(names.map((n, i) => gov.migrate({ qmp: sq[i], uri: dsts[i].uri, pid: srcs[i].pid, name: n })));
    } finally {
      stop = true;
      await watcher;
      gov.close();
    }
    const hwmGrowth = [0, 1].map((i) => memoryOf(srcs[i].pid).hwm - rss0[i]);
    const [ra, rb, rc] = reports;
    if (process.env.XBZRLE_GOVERN_LOG) console.log([`rss growth ${hwmGrowth}`, ...decisions.map((d) => d.message), JSON.stringify(reports.map((r) => ({ n: r.name, s: r.status, e: r.error, sent: r.final?.ram?.transferred, x: r.final?.["xbzrle-cache"] })))].join("\n"));
    expect(ra.status).toBe('completed');
    expect(rb.status).toBe('completed');
    expect(rc.status).toBe('failed');
    expect(rc.error).toMatch(/closed|QEMU/i);
    // c's budget came back: what stayed charged was the others' at most.
    expect(usedAfterKill.length).toBe(1);
    const cCharged = Math.max(0, ...decisions.filter((d) => d.vm === 'c').map((d) => cacheCost(d.to)));
    expect(usedAfterKill[0]).toBeLessThanOrEqual(BUDGET - cCharged);
    // Every governed size fits the budget, at every one of our polls and the governor's own count.
    expect(polls.length).toBeGreaterThan(3);
    expect(maxSum).toBeLessThanOrEqual(BUDGET);
    expect(gov.usage.peakCost).toBeLessThanOrEqual(BUDGET);
    expect(decisions.length).toBeGreaterThanOrEqual(3);
    expect(ra.final?.['xbzrle-cache'] ?? null).not.toBeNull();
    // XBZRLE did its work: pages went as deltas against the governed caches.
    expect((ra.final?.['xbzrle-cache']?.pages ?? 0) + (rb.final?.['xbzrle-cache']?.pages ?? 0)).toBeGreaterThan(0);
    // QEMU fills its cache only with pages it resends, so the charged cost is an upper bound:
    // each source's RSS grew by less than it, plus a few MiB of other migration state.
    for (const i of [0, 1]) {
      const size = Math.max(0, ...decisions.filter((d) => d.vm === names[i]).map((d) => d.to));
      expect(hwmGrowth[i]).toBeLessThanOrEqual(cacheCost(size) + 4 * MiB);
    }
    // The destinations hold the sources' final RAM, page by page.
    for (const i of [0, 1]) {
      const a = path.join(work, `src-${i}.ram`);
      const b = path.join(work, `dst-${i}.ram`);
      await saveRam(sq[i], RAM_MIB * MiB, a);
      await saveRam(dq[i], RAM_MIB * MiB, b);
      expect(differingPages(a, b)).toEqual([]);
    }
  });
});
