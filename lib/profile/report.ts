// profile/report.ts: a self-contained HTML page with SVG charts (no script,
// no network): the miss-ratio curve with the advice marked, the dirty rate
// over time, and the outcome shares.
import { formatBytes, formatPercent } from '../util/sizes';
import type { ProfileReport } from './analysis';
import { methodText, renderSummary } from './summary';

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function num(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

function svg(title: string, W: number, H: number, body: string): string {
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}" font-family="system-ui,sans-serif">${body}</svg></figure>`;
}

/** Hit rate (solid) and saving (dashed) against cache size on a log2 axis; the advice as a marker. */
export function curveChart(r: ProfileReport): string {
  const W = 960;
  const H = 420;
  const left = 60;
  const right = 20;
  const top = 40;
  const bottom = 50;
  const sizes = [...new Set(r.curve.map((c) => c.size))].sort((a, b) => a - b);
  const lo = Math.log2(sizes[0]);
  const hi = Math.max(lo + 1, Math.log2(sizes[sizes.length - 1]));
  const px = (size: number): number => left + ((W - left - right) * (Math.log2(size) - lo)) / (hi - lo);
  const py = (v: number): number => top + (H - top - bottom) * (1 - v);
  const parts: string[] = [];
  for (let t = 0; t <= 4; t++) {
    const y = py(t / 4);
    parts.push(`<line x1="${left}" x2="${W - right}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${t * 25}%</text>`);
  }
  const step = Math.max(1, Math.ceil(sizes.length / 12));
  sizes.forEach((s, i) => {
    if (i % step === 0) parts.push(`<text x="${px(s)}" y="${H - bottom + 16}" text-anchor="middle" font-size="11">${esc(formatBytes(s))}</text>`);
  });
  const target = r.advice.target;
  parts.push(`<line x1="${left}" x2="${W - right}" y1="${py(target)}" y2="${py(target)}" stroke="#999" stroke-dasharray="2 4"/><text x="${W - right}" y="${py(target) - 4}" text-anchor="end" font-size="11" fill="#666">target ${formatPercent(target, 0)} hits</text>`);
  const policies = [...new Set(r.curve.map((c) => c.policy))];
  policies.forEach((p, i) => {
    const pts = r.curve.filter((c) => c.policy === p).sort((a, b) => a.size - b.size);
    const color = COLORS[i % COLORS.length];
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((c) => `${px(c.size)},${py(c.hitRate)}`).join(' ')}"/>`);
    for (const c of pts) {
      parts.push(`<circle cx="${px(c.size)}" cy="${py(c.hitRate)}" r="3" fill="${color}"><title>${esc(`${p}, ${formatBytes(c.size)}: ${formatPercent(c.hitRate)} hits, saving ${formatPercent(c.saving)}${c.sampled ? ' (sampled)' : ''}`)}</title></circle>`);
    }
    const saved = pts.filter((c) => c.saving !== null);
    if (saved.length) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" stroke-dasharray="6 4" points="${saved.map((c) => `${px(c.size)},${py(Math.max(0, c.saving!))}`).join(' ')}"/>`);
  });
  const a = r.advice;
  const ax = px(a.size);
  parts.push(`<line x1="${ax}" x2="${ax}" y1="${top}" y2="${H - bottom}" stroke="#d62728" stroke-dasharray="4 3"/><circle cx="${ax}" cy="${py(a.hitRate)}" r="7" fill="none" stroke="#d62728" stroke-width="2"/><text x="${ax > W / 2 ? ax - 8 : ax + 8}" y="${top + 14}" text-anchor="${ax > W / 2 ? 'end' : 'start'}" font-size="12" fill="#d62728">advice: ${esc(formatBytes(a.size))} (${formatPercent(a.hitRate)} hits)</text>`);
  const legend = policies
    .map((p, i) => {
      const x = left + i * 330;
      const c = COLORS[i % COLORS.length];
      return `<line x1="${x}" x2="${x + 22}" y1="14" y2="14" stroke="${c}" stroke-width="2"/><text x="${x + 28}" y="18" font-size="12">${esc(p)} hit rate</text><line x1="${x + 160}" x2="${x + 182}" y1="14" y2="14" stroke="${c}" stroke-dasharray="6 4"/><text x="${x + 188}" y="18" font-size="12">${esc(p)} saving</text>`;
    })
    .join('');
  const axes = `<line x1="${left}" y1="${H - bottom}" x2="${W - right}" y2="${H - bottom}" stroke="#000"/><line x1="${left}" y1="${top}" x2="${left}" y2="${H - bottom}" stroke="#000"/><text x="${(W + left) / 2}" y="${H - 12}" text-anchor="middle" font-size="12">cache size (log scale)</text>`;
  return svg('Miss-ratio curve: hit rate (solid) and share of re-sent bytes saved (dashed) against cache size', W, H, legend + axes + parts.join(''));
}

/** Dirty MiB/s per interval as bars. */
export function dirtyChart(r: ProfileReport): string {
  const W = 960;
  const H = 300;
  const left = 60;
  const right = 20;
  const top = 30;
  const bottom = 45;
  const s = r.dirty.series;
  const MiB = 2 ** 20;
  // Headroom above the tallest bar for the mean's label.
  const max = 1.15 * Math.max(1e-9, ...s.map((p) => p.bytesPerSecond / MiB));
  const tmax = Math.max(1e-9, ...s.map((p) => p.t));
  const px = (t: number): number => left + ((W - left - right) * t) / tmax;
  const py = (v: number): number => top + (H - top - bottom) * (1 - v / max);
  const parts: string[] = [];
  for (let t = 0; t <= 4; t++) {
    const v = (max * t) / 4;
    parts.push(`<line x1="${left}" x2="${W - right}" y1="${py(v)}" y2="${py(v)}" stroke="#ddd"/><text x="${left - 6}" y="${py(v) + 4}" text-anchor="end" font-size="11">${num(v)}</text>`);
    parts.push(`<text x="${px((tmax * t) / 4)}" y="${H - bottom + 16}" text-anchor="middle" font-size="11">${num((tmax * t) / 4)} s</text>`);
  }
  let prev = 0;
  for (const p of s) {
    const x0 = px(prev);
    const x1 = px(p.t);
    const v = p.bytesPerSecond / MiB;
    parts.push(`<rect x="${x0}" y="${py(v)}" width="${Math.max(1, x1 - x0 - 1)}" height="${py(0) - py(v)}" fill="${COLORS[0]}"><title>${esc(`${num(prev)}-${num(p.t)} s: ${Math.round(p.pages).toLocaleString('en')} pages, ${num(v)} MiB/s`)}</title></rect>`);
    prev = p.t;
  }
  const mean = r.dirty.bytesPerSecond / MiB;
  parts.push(`<line x1="${left}" x2="${W - right}" y1="${py(mean)}" y2="${py(mean)}" stroke="#d62728" stroke-dasharray="4 3"/><text x="${W - right}" y="${py(mean) - 4}" text-anchor="end" font-size="11" fill="#d62728">mean ${num(mean)} MiB/s</text>`);
  const axes = `<line x1="${left}" y1="${H - bottom}" x2="${W - right}" y2="${H - bottom}" stroke="#000"/><text x="14" y="${(H - bottom + top) / 2}" font-size="12" transform="rotate(-90 14 ${(H - bottom + top) / 2})">MiB/s dirtied</text><text x="${(W + left) / 2}" y="${H - 8}" text-anchor="middle" font-size="12">time since the baseline (one bar per interval = one pre-copy pass)</text>`;
  return svg('Dirty rate over time', W, H, axes + parts.join(''));
}

/** One stacked bar: what happens to the dirty pages. */
export function sharesChart(r: ProfileReport): string {
  const W = 960;
  const H = 110;
  const s = r.shares;
  const parts: [string, number, string][] = r.reDirtiedShares
    ? [
        ['first write (raw at any cache size)', s.first, '#7f7f7f'],
        ['unchanged (nothing sent on a hit)', s.unchanged, '#2ca02c'],
        ['encodable (a delta on a hit)', s.encodable, '#1f77b4'],
        ['overflow (raw even on a hit)', s.overflow, '#d62728'],
      ]
    : [
        ['first write', s.first, '#7f7f7f'],
        ['re-dirtied (contents unknown)', s.reDirtied, '#1f77b4'],
      ];
  let x = 10;
  const body: string[] = [];
  const legend: string[] = [];
  parts.forEach(([label, v, color], i) => {
    const w = (W - 20) * v;
    body.push(`<rect x="${x}" y="30" width="${w}" height="26" fill="${color}"><title>${esc(`${label}: ${formatPercent(v)}`)}</title></rect>`);
    x += w;
    const lx = 10 + (i % 2) * 470;
    const ly = 66 + Math.floor(i / 2) * 18;
    legend.push(`<rect x="${lx}" y="${ly}" width="10" height="10" fill="${color}"/><text x="${lx + 14}" y="${ly + 9}" font-size="12">${esc(`${label}: ${formatPercent(v)}`)}</text>`);
  });
  return svg('What happens to the dirty pages', W, H, body.join('') + legend.join(''));
}

/** The report page. */
export function renderProfileHtml(r: ProfileReport): string {
  const m = r.meta;
  const who = m.pid !== null ? `PID ${m.pid}${m.command ? ` (${m.command})` : ''}` : m.command || 'recorded process';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>xbzrle profile: ${esc(who)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1000px}pre{background:#f6f6f6;padding:1em;white-space:pre-wrap;font-size:12px}figure{margin:1.5em 0}figcaption{font-weight:600;margin-bottom:.5em}.advice{font-size:1.15em;border-left:4px solid ${r.advice.pays ? '#2ca02c' : '#d62728'};padding:.5em 1em;background:#fafafa}</style>
</head><body>
<h1>xbzrle profile: ${esc(who)}</h1>
<p>${esc(formatBytes(m.ramBytes))} profiled (${esc(m.selection)}); ${r.intervals} intervals over ${r.seconds.toFixed(1)} s, one simulated pre-copy pass each; dirty pages found by ${esc(methodText(m.method))} (${esc(m.methodReason)}). Started ${esc(m.startedAt)}.</p>
<p class="advice">${esc(r.advice.sentence)}</p>
${curveChart(r)}
${dirtyChart(r)}
${sharesChart(r)}
<h2>Summary</h2>
<pre>${esc(renderSummary(r))}</pre>
<h2>How to read this</h2>
<p>Each interval is one pre-copy pass: the pages dirtied in it are sent again. The first pass (the bulk copy) sends everything raw and does not fill the cache. From then on each dirty page is looked up in the XBZRLE cache: a miss is sent raw (and inserted, unless the policy refuses because the slot was used in the last two passes); a hit is encoded against the cached copy. "qemu" is QEMU's direct-mapped cache; "associative" is an 8-way cache of the same size, for comparison. Savings count a miss as a raw page, an overflow as a raw page, an encodable hit as its delta plus 3 bytes and an unchanged hit as nothing, over the bytes all these pages would take raw.</p>
</body></html>
`;
}
