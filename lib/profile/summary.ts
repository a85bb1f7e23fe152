// profile/summary.ts: the terminal summary of a profile report.
import { formatBytes, formatPercent } from '../util/sizes';
import type { ProfileReport } from './analysis';

function int(n: number): string {
  return Math.round(n).toLocaleString('en');
}

function seconds(s: number): string {
  return s >= 1 ? `${s.toFixed(2)} s` : s >= 1e-3 ? `${(s * 1e3).toFixed(2)} ms` : `${(s * 1e6).toFixed(1)} µs`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

/** The method in words. */
export function methodText(method: string): string {
  return method === 'soft-dirty' ? 'soft-dirty bits' : 'content fingerprints';
}

/** A plain-text summary for a terminal. */
export function renderSummary(r: ProfileReport): string {
  const m = r.meta;
  const out: string[] = [];
  const who = m.pid !== null ? `PID ${m.pid}${m.command ? ` (${m.command})` : ''}` : m.command || 'a recorded process';
  out.push(`xbzrle ${m.source === 'live' ? 'profile' : 'advise'}: ${who}, ${formatBytes(m.ramBytes)} in ${m.regions} region${m.regions === 1 ? '' : 's'}: ${m.selection}`);
  if (m.tracePath) out.push(`trace:          ${m.tracePath}`);
  out.push(`method:         ${methodText(m.method)} (${m.methodReason})`);
  const sm = m.sampling;
  if (sm) {
    const share = sm.rate === 1 ? 'every page' : `1/${1 / sm.rate} of pages (${int(sm.sampledPages)} pages, runs of ${sm.run})`;
    const per = sm.readBytesPerPass !== null ? `; per pass ${int(sm.watchedPagesPerPass ?? 0)} pages ${m.method === 'content' ? 'fingerprinted' : 'looked at'}, ${formatBytes(sm.readBytesPerPass)} read` : '';
    out.push(`sampling:       ${share}${per} (${sm.reason})`);
  }
  out.push(`intervals:      ${r.intervals} over ${r.seconds.toFixed(1)} s${m.ended !== 'duration' ? ` (${m.ended === 'exited' ? 'the process exited' : m.ended === 'aborted' ? 'stopped early' : m.ended})` : ''}`);
  out.push('');
  const peak = Math.max(0, ...r.dirty.series.map((s) => s.pagesPerSecond));
  out.push(`dirty rate      ${int(r.dirty.pagesPerSecond)} pages/s, ${formatBytes(r.dirty.bytesPerSecond)}/s (peak ${int(peak)} pages/s)`);
  out.push(`working set     ${int(r.workingSet.pages)} pages, ${formatBytes(r.workingSet.bytes)}${r.workingSet.ramShare !== null ? ` (${formatPercent(r.workingSet.ramShare)} of profiled memory)` : ''}, dirtied in 2 or more intervals`);
  const s = r.shares;
  if (r.reDirtiedShares) {
    out.push(`dirty pages     first write ${formatPercent(s.first)} | unchanged ${formatPercent(s.unchanged)} | encodable ${formatPercent(s.encodable)} | overflow ${formatPercent(s.overflow)}`);
    out.push(`                of re-dirtied pages: unchanged ${formatPercent(r.reDirtiedShares.unchanged)}, encodable ${formatPercent(r.reDirtiedShares.encodable)}, overflow ${formatPercent(r.reDirtiedShares.overflow)} (content sample ${formatPercent(r.contentSample.rate, 2)} of pages, ${int(r.contentSample.classified)} classified)`);
  } else {
    out.push(`dirty pages     first write ${formatPercent(s.first)} | re-dirtied ${formatPercent(s.reDirtied)} (no page contents, so no outcome classes)`);
  }
  if (m.method === 'content') out.push(`                a write that leaves a page as it was is invisible to content fingerprints: "unchanged" stays 0`);
  const b = r.bytes;
  out.push(`re-sent bytes   raw ${formatBytes(b.raw)}${b.xbzrle !== null ? `, XBZRLE ${formatBytes(b.xbzrle)} with an unbounded cache: saves ${formatPercent(b.saving)}` : ''}`);
  if (r.cpu.encodePerSecond !== null) {
    out.push(`encode CPU      ${seconds(r.cpu.encodePerSecond)} per second of migration with every re-dirtied page hitting (${seconds((r.cpu.encodeMicrosPerPage ?? 0) / 1e6)} per page)`);
  }
  if (r.cpu.profilerPerSecond !== null) {
    const c = r.cost;
    const peak = c ? `; peak memory ${formatBytes(c.maxRssBytes)} (${formatPercent(c.maxRssBytes / Math.max(1, m.ramBytes))} of the profiled memory)` : '';
    out.push(`profiler        ${r.cpu.profilerPerSecond.toFixed(2)} of a core while profiling${c ? `, ${(c.cpuSeconds / c.wallSeconds).toFixed(2)} overall` : ''}${peak}`);
  }
  out.push('');
  const policies = [...new Set(r.curve.map((c) => c.policy))];
  const sizes = [...new Set(r.curve.map((c) => c.size))];
  out.push(['cache size', ...policies.map((p) => `${p} hits`), ...policies.map((p) => `${p} saving`)].map((h, i) => (i === 0 ? h.padEnd(10) : pad(h, 20))).join(''));
  for (const size of sizes) {
    const row = [formatBytes(size).padEnd(10)];
    for (const p of policies) {
      const c = r.curve.find((x) => x.policy === p && x.size === size);
      row.push(pad(c ? `${formatPercent(c.hitRate)}${c.sampled ? '~' : ''}` : '', 20));
    }
    for (const p of policies) {
      const c = r.curve.find((x) => x.policy === p && x.size === size);
      row.push(pad(c ? formatPercent(c.saving) : '', 20));
    }
    out.push(row.join('') + (size === r.advice.size ? '   <- advice' : ''));
  }
  if (r.curve.some((c) => c.sampled)) out.push(sm && sm.rate < 1 ? `(~: estimated from the 1/${1 / sm.rate} of pages watched)` : '(~: estimated from a spatial sample of the cache sets)');
  out.push('');
  const a = r.advice;
  const budget = a.budget !== null ? `, budget ${formatBytes(a.budget)} per migration` : '';
  out.push(`advice (${a.policy} policy, target ${formatPercent(a.target, 0)} hits${budget}):`);
  out.push(`  cache ${formatBytes(a.size)}${a.ramShare !== null ? ` (${formatPercent(a.ramShare)} of profiled memory)` : ''}: ${formatPercent(a.hitRate)} hits${a.saving !== null ? `, saves ${formatPercent(a.saving)} of re-sent bytes` : ''}${a.bytesSavedPerSecond !== null ? ` (${formatBytes(a.bytesSavedPerSecond)}/s)` : ''}${a.encodePerSecond !== null ? `, encoder ${seconds(a.encodePerSecond)} CPU per second` : ''}`);
  out.push(`  ${a.sentence}`);
  if (a.tradeoff.length > 1) {
    out.push('');
    out.push(`trade-off near the advice (${a.policy}):`);
    out.push(['cache size', 'hits', 'saving', 'saved', 'saved per MiB'].map((h, i) => (i === 0 ? h.padEnd(10) : pad(h, 16))).join(''));
    for (const t of a.tradeoff) {
      const notes = [t.chosen ? '<- advice' : '', t.reachesTarget ? '' : 'below target', t.withinBudget ? '' : 'over budget'].filter(Boolean).join(', ');
      out.push(
        [formatBytes(t.size).padEnd(10), pad(formatPercent(t.hitRate), 16), pad(t.saving !== null ? formatPercent(t.saving) : '-', 16), pad(t.savedBytes !== null ? formatBytes(t.savedBytes) : '-', 16), pad(t.savedPerMiB !== null ? formatBytes(t.savedPerMiB) : '-', 16)].join('') +
          (notes ? `   ${notes}` : ''),
      );
    }
  }
  if (m.qemu) out.push(`  QEMU: migrate-set-parameters xbzrle-cache-size ${a.size} (and migrate-set-capabilities xbzrle on)`);
  return out.join('\n');
}
