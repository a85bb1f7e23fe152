#!/usr/bin/env node
// bench/govern.js: the same two-guest workload migrated under five cache
// policies, one after the other in one run, on real QEMUs (TCG):
//   none      XBZRLE off
//   qemu      QEMU's default, 64 MiB per VM
//   proxmox   10% of guest RAM per VM (rounded down to a power of two, as QEMU requires)
//   even      the budget split evenly: the largest cache whose cost fits budget / VMs
//             (the best rule that fits any budget without looking at the guests)
//   governed  the Governor under --budget (default 20 MiB)
// The guests differ as hosts' guests do: by default a 256 MiB guest that
// dirties little (dirty.c scale 1) and a 128 MiB guest that dirties a lot
// (scale 8), so that a cache sized by RAM lands on the wrong guest.
// Columns: RAM bytes sent (both VMs), total migration time (the longer),
// downtime (the longer, as QEMU reports it), peak XBZRLE memory on the host
// (cacheCost of the caches set, summed over VMs in flight), and whether
// that peak held the budget. Each policy boots fresh guests, so each sees
// the same workload; the caller's part (bandwidth, then opening it after
// --passes passes so the migration converges) is the same for all.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');
const { Governor, QmpClient, cacheCost, largestCacheWithin, parseBudget, formatBytes } = require('../dist');
const { Lab, memoryOf, retry } = require('../scripts/stream/guests.js');

const { values: opt } = parseArgs({
  options: {
    budget: { type: 'string', default: '20M' },
    ram: { type: 'string', default: '256,128' },
    scale: { type: 'string', default: '1,8' },
    bandwidth: { type: 'string', default: '8M' },
    passes: { type: 'string', default: '4' },
    json: { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (opt.help) {
  console.log('Usage: npm run bench:govern -- [--budget 20M] [--ram MiB,MiB] [--scale S,S] [--bandwidth 8M] [--passes 4] [--json FILE]');
  process.exit(0);
}
const MiB = 2 ** 20;
const list = (v, what) => {
  const xs = v.split(',').map(Number);
  if (xs.length !== 2 || !xs.every((x) => Number.isSafeInteger(x) && x > 0)) {
    console.error(`bench:govern: ${what} takes two positive integers, e.g. ${what} 256,128`);
    process.exit(2);
  }
  return xs;
};
const RAM = list(opt.ram, '--ram'); // MiB per guest
const SCALES = list(opt.scale, '--scale'); // dirty.c's scale per guest: its working set
const NAMES = ['vm-0', 'vm-1'];
const budget = parseBudget(opt.budget, os.totalmem(), '--budget');
const bandwidth = parseBudget(opt.bandwidth, os.totalmem(), '--bandwidth');
const passes = Number(opt.passes);
const FIXED = {
  none: () => 0,
  qemu: () => 64 * MiB,
  proxmox: (i) => 2 ** Math.floor(Math.log2((RAM[i] * MiB) / 10)), // QEMU takes powers of two only: 10% rounded down
  even: () => largestCacheWithin(budget / RAM.length),
};

const connect = (p) => retry(() => QmpClient.connect(p, { timeout: 2000, commandTimeout: 20_000 }));

async function runPolicy(policy) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `xbzrle-bench-govern-${policy}-`));
  const lab = new Lab(work);
  const clients = [];
  try {
    const srcs = await Promise.all(SCALES.map((s, i) => lab.source(`src-${i}`, { scale: s, roundMs: 20, ramMiB: RAM[i] })));
    const dsts = SCALES.map((_, i) => lab.destination(`dst-${i}`, { ramMiB: RAM[i] }));
    const sq = await Promise.all(srcs.map((s) => connect(s.qmpPath)));
    // A destination's QMP answers once its QEMU listens on -incoming.
    const dq = await Promise.all(dsts.map((d) => connect(d.qmpPath)));
    clients.push(...sq, ...dq);
    for (const q of sq) await q.execute('migrate-set-parameters', { 'max-bandwidth': bandwidth, 'downtime-limit': 300 });
    // Reset each source's peak RSS (write 5 to clear_refs), so VmHWM after the run is the migration's peak.
    for (const s of srcs) fs.writeFileSync(`/proc/${s.pid}/clear_refs`, '5');
    const rss0 = srcs.map((s) => memoryOf(s.pid).rss);
    let live = new Set([0, 1]);
    let peak = 0;
    const sizes = [0, 0];
    const track = () => {
      let sum = 0;
      for (const i of live) sum += cacheCost(sizes[i]);
      peak = Math.max(peak, sum);
    };
    const opened = new Set();
    const converge = (i, info) => {
      const n = info.ram?.['dirty-sync-count'] ?? 0;
      if (n >= passes && !opened.has(i)) {
        opened.add(i);
        void sq[i].execute('migrate-set-parameters', { 'max-bandwidth': 1 << 30, 'downtime-limit': 10_000 }).catch(() => {});
      }
    };
    let finals;
    if (policy === 'governed') {
      const gov = new Governor({ budget, interval: 0.25, profileSeconds: 2, profileInterval: 0.5 });
      gov.on('decision', (d) => {
        console.error(`  ${d.message}`);
        sizes[NAMES.indexOf(d.vm)] = d.to;
      });
      gov.on('progress', (p) => converge(NAMES.indexOf(p.vm), { ram: { 'dirty-sync-count': p.dirtySyncCount } }));
      gov.on('done', (r) => live.delete(NAMES.indexOf(r.name)));
      const reports = await Promise.all(sq.map((q, i) => gov.migrate({ qmp: q, uri: dsts[i].uri, pid: srcs[i].pid, name: NAMES[i] })));
      gov.close();
      peak = gov.usage.peakCost;
      finals = reports.map((r) => ({ status: r.status, info: r.final }));
    } else {
      for (let i = 0; i < 2; i++) {
        const fixed = FIXED[policy](i);
        if (fixed > 0) await sq[i].execute('migrate-set-parameters', { 'xbzrle-cache-size': fixed });
        await sq[i].execute('migrate-set-capabilities', { capabilities: [{ capability: 'xbzrle', state: fixed > 0 }] });
        sizes[i] = fixed;
        await sq[i].execute('migrate', { uri: dsts[i].uri });
      }
      track();
      finals = await Promise.all(
        sq.map(async (q, i) => {
          for (;;) {
            const info = await q.execute('query-migrate');
            converge(i, info);
            if (info.status === 'completed' || info.status === 'failed' || info.status === 'cancelled') {
              live.delete(i);
              if (info.status !== 'completed') console.error(`  ${NAMES[i]}: ${info.status}: ${info['error-desc'] ?? ''}`);
              return { status: info.status, info };
            }
            await new Promise((r) => setTimeout(r, 250));
          }
        }),
      );
    }
    const growth = srcs.map((s, i) => memoryOf(s.pid).hwm - rss0[i]);
    return {
      policy,
      rssGrowth: growth,
      completed: finals.every((f) => f.status === 'completed'),
      sent: finals.reduce((s, f) => s + (f.info?.ram?.transferred ?? 0), 0),
      totalMs: Math.max(...finals.map((f) => f.info?.['total-time'] ?? 0)),
      downtimeMs: Math.max(...finals.map((f) => f.info?.downtime ?? 0)),
      peak,
      held: peak <= budget,
      caches: sizes.slice(),
    };
  } finally {
    for (const q of clients) q.close();
    await lab.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

(async () => {
  console.error(`bench:govern: guests of ${RAM.map((r, i) => `${r} MiB at dirty.c scale ${SCALES[i]}`).join(' and ')}, max-bandwidth ${formatBytes(bandwidth)}/s for ${passes} passes, budget ${formatBytes(budget)}; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const rows = [];
  for (const p of [...Object.keys(FIXED), 'governed']) {
    console.error(`${p}...`);
    rows.push(await runPolicy(p));
  }
  const head = ['policy', 'QEMU peak RSS growth', 'caches', 'RAM sent', 'total time', 'downtime', 'peak XBZRLE memory', `within ${formatBytes(budget)}`, 'completed'];
  const table = rows.map((r) => [r.policy, r.rssGrowth.map((g) => formatBytes(g)).join(' + '), r.caches.map((c) => formatBytes(c)).join(' + '), formatBytes(r.sent), `${(r.totalMs / 1000).toFixed(1)} s`, `${r.downtimeMs} ms`, formatBytes(r.peak), r.held ? 'yes' : 'no', r.completed ? 'yes' : 'NO']);
  console.log(`| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|\n${table.map((r) => `| ${r.join(' | ')} |`).join('\n')}`);
  // The comparison the governor is for: against the best fixed rule that held the same budget.
  const gov = rows.find((r) => r.policy === 'governed');
  const fits = rows.filter((r) => r.policy !== 'governed' && r.held && r.completed).sort((a, b) => a.sent - b.sent);
  const best = fits[0];
  const verdict = best && gov.completed ? `governed sent ${formatBytes(gov.sent)}, the best fixed rule within ${formatBytes(budget)} (${best.policy}) ${formatBytes(best.sent)}: ${(100 * (1 - gov.sent / best.sent)).toFixed(1)}% ${gov.sent <= best.sent ? 'fewer' : 'MORE'} bytes; budget ${gov.held ? 'held' : 'NOT held'}` : 'no comparison: a migration failed';
  console.log(`\n${verdict}`);
  if (opt.json) fs.writeFileSync(opt.json, JSON.stringify({ budget, ram: RAM, scales: SCALES, bandwidth, passes, rows, bestFixedWithinBudget: best?.policy ?? null, verdict }, null, 2) + '\n');
  process.exit(rows.every((r) => r.completed) ? 0 : 1);
})().catch((err) => {
  console.error(`bench:govern: ${err.stack || err}`);
  process.exit(1);
});
