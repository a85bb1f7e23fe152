// bench/report.ts: a self-contained HTML page with SVG charts (no script, no
// network): throughput by workload and kernel, and bytes per page against
// throughput for XBZRLE and the general-purpose compressors.
import type { BenchJson } from './json';
import type { Row } from './harness';

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** Grouped bars: one group per workload, one bar per series, log-free linear scale. */
function barChart(title: string, unit: string, groups: string[], series: string[], value: (g: string, s: string) => number | undefined): string {
  const W = 960;
  const H = 360;
  const left = 60;
  const bottom = 80;
  const top = 40;
  const plotH = H - top - bottom;
  const max = Math.max(1e-9, ...groups.flatMap((g) => series.map((s) => value(g, s) ?? 0)));
  const gw = (W - left - 20) / Math.max(1, groups.length);
  const bw = Math.max(2, (gw - 10) / Math.max(1, series.length));
  const parts: string[] = [];
  for (let t = 0; t <= 4; t++) {
    const v = (max * t) / 4;
    const y = top + plotH - (plotH * t) / 4;
    parts.push(`<line x1="${left}" x2="${W - 10}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${left - 6}" y="${y + 4}" text-anchor="end" font-size="11">${fmt(v)}</text>`);
  }
  groups.forEach((g, gi) => {
    const x0 = left + gi * gw + 5;
    series.forEach((s, si) => {
      const v = value(g, s);
      if (v === undefined) return;
      const h = (plotH * v) / max;
      parts.push(`<rect x="${x0 + si * bw}" y="${top + plotH - h}" width="${bw - 1}" height="${h}" fill="${COLORS[si % COLORS.length]}"><title>${esc(`${g} / ${s}: ${fmt(v)} ${unit}`)}</title></rect>`);
    });
    parts.push(`<text transform="translate(${x0 + gw / 2 - 5},${top + plotH + 14}) rotate(25)" font-size="11">${esc(g)}</text>`);
  });
  const legend = series.map((s, si) => `<rect x="${left + si * 120}" y="8" width="10" height="10" fill="${COLORS[si % COLORS.length]}"/><text x="${left + si * 120 + 14}" y="17" font-size="12">${esc(s)}</text>`).join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">${legend}<text x="12" y="${top + plotH / 2}" font-size="11" transform="rotate(-90 12 ${top + plotH / 2})">${esc(unit)}</text>${parts.join('')}</svg></figure>`;
}

/** Scatter: x = bytes per page, y = GB/s; one colour per method. */
function scatter(title: string, points: { method: string; workload: string; x: number; y: number }[]): string {
  const W = 960;
  const H = 420;
  const left = 60;
  const bottom = 50;
  const top = 40;
  const right = 20;
  const methods = [...new Set(points.map((p) => p.method))];
  const maxX = Math.max(1, ...points.map((p) => p.x));
  const maxY = Math.max(1e-9, ...points.map((p) => p.y));
  const px = (x: number): number => left + ((W - left - right) * x) / maxX;
  const py = (y: number): number => top + (H - top - bottom) * (1 - y / maxY);
  const axes: string[] = [];
  for (let t = 0; t <= 4; t++) {
    axes.push(`<text x="${px((maxX * t) / 4)}" y="${H - bottom + 16}" text-anchor="middle" font-size="11">${fmt((maxX * t) / 4)}</text>`);
    axes.push(`<text x="${left - 6}" y="${py((maxY * t) / 4) + 4}" text-anchor="end" font-size="11">${fmt((maxY * t) / 4)}</text>`);
  }
  const dots = points.map((p) => {
    const c = COLORS[methods.indexOf(p.method) % COLORS.length];
    return `<circle cx="${px(p.x)}" cy="${py(p.y)}" r="5" fill="${c}" fill-opacity="0.8"><title>${esc(`${p.method}, ${p.workload}: ${fmt(p.x)} B/page, ${fmt(p.y)} GB/s`)}</title></circle>`;
  });
  const legend = methods.map((m, i) => `<circle cx="${left + i * 170 + 5}" cy="14" r="5" fill="${COLORS[i % COLORS.length]}"/><text x="${left + i * 170 + 14}" y="18" font-size="12">${esc(m)}</text>`).join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">${legend}<line x1="${left}" y1="${H - bottom}" x2="${W - right}" y2="${H - bottom}" stroke="#000"/><line x1="${left}" y1="${top}" x2="${left}" y2="${H - bottom}" stroke="#000"/>${axes.join('')}<text x="${(W + left) / 2}" y="${H - 10}" text-anchor="middle" font-size="12">bytes sent per page (lower is better)</text><text x="14" y="${(H - bottom + top) / 2}" font-size="12" transform="rotate(-90 14 ${(H - bottom + top) / 2})">GB/s (higher is better)</text>${dots.join('')}</svg></figure>`;
}

function table(rows: Row[]): string {
  const head = ['row', 'cores', 'ns/page', '±%', 'GB/s', 'pages/s', 'bytes/page', 'x compare', 'x copy'];
  const body = rows
    .map((r) => `<tr><td>${esc(r.id)}</td><td>${r.cores}</td><td>${fmt(r.nsPerPage)}</td><td>${r.rme.toFixed(1)}${r.noisy ? ' !' : ''}</td><td>${fmt(r.gbPerSec)}</td><td>${Math.round(r.pagesPerSec).toLocaleString('en')}</td><td>${r.bytesPerPage === null ? '' : fmt(r.bytesPerPage)}</td><td>${r.xCompare === null ? '' : fmt(r.xCompare)}</td><td>${r.xCopy === null ? '' : fmt(r.xCopy)}</td></tr>`)
    .join('\n');
  return `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>`;
}

export function renderReport(j: BenchJson): string {
  const rows = j.rows;
  const l2enc = rows.filter((r) => r.regime === 'l2' && r.op === 'encode');
  const workloads = [...new Set(l2enc.map((r) => r.workload))];
  const kernelSeries = [...new Set(l2enc.map((r) => r.kernel ?? ''))];
  const bestPath = l2enc[0]?.path;
  const byKernel = barChart(
    `Encode throughput on L2-resident pages (${bestPath ?? ''} path), by workload and kernel`,
    'GB/s',
    workloads,
    kernelSeries,
    (g, s) => l2enc.find((r) => r.workload === g && r.kernel === s && r.path === bestPath)?.gbPerSec,
  );
  const top = j.kernels[0];
  const points = rows
    .filter((r) => r.regime === 'l2' && ((r.op === 'encode' && r.kernel === top && r.path === bestPath) || r.op === 'compress') && r.bytesPerPage !== null)
    .map((r) => ({ method: r.op === 'encode' ? `xbzrle (${top})` : r.kernel ?? '?', workload: r.workload, x: r.bytesPerPage!, y: r.gbPerSec }));
  const sc = scatter('Bytes per page against throughput (L2): XBZRLE and general-purpose compressors on the XOR of the pages', points);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>xbzrle bench: ${esc(j.host.cpu)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td:first-child{text-align:left}figure{margin:1.5em 0}figcaption{font-weight:600;margin-bottom:.5em}</style>
</head><body>
<h1>xbzrle bench</h1>
<p>${esc(j.package.name)} ${esc(j.package.version)} on ${esc(j.host.cpu)} (${j.host.cores} cores, ${esc(j.host.platform)}-${esc(j.host.arch)}), Node ${esc(j.node)}, ${esc(j.date)}.
Kernels: ${esc(j.kernels.join(', '))}; in use: ${esc(j.kernel)}; ${j.native ? 'native addon' : 'TypeScript twin'}. Page size ${j.pageSize} bytes.</p>
${byKernel}
${sc}
${j.absent.length ? `<p>Not measured: ${esc(j.absent.join('; '))}.</p>` : ''}
<h2>All rows</h2>
<p>Rows are regime/workload/operation/kernel/path. "x compare" is the time per page over one Buffer.compare of equal pages (a full read of both), per core on rows that use several (time × cores); decode and compress rows read no page pair and have none. "x copy" is over one Buffer.copy of a page, both measured in the same run and regime. "±%" is the margin of error; "!" marks a row above ${j.noisyRme}%. Load average ${j.host.loadavg.start.map((x) => x.toFixed(2)).join(' ')} at start, ${j.host.loadavg.end.map((x) => x.toFixed(2)).join(' ')} at end.</p>
${table(rows)}
</body></html>
`;
}
