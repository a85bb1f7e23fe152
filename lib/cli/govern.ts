// cli/govern.ts: `xbzrle govern`: drives concurrent QEMU migrations with
// XBZRLE under one host memory budget (lib/govern), printing decisions,
// a progress line per VM, a final table and, with --json, the report.
import * as os from 'node:os';
import type { ParseArgsConfig } from 'node:util';
import { Governor, type MigrateOptions, type Progress, type VmReport } from '../govern/governor';
import { formatBytes, formatPercent } from '../util/sizes';
import { checkOutputFile, JSON_HELP, JSON_OPTION, jsonTarget, parseBudgetSize, parseDuration, parseRate, usage, writeOutput } from './options';

export const GOVERN_HELP = `Usage: xbzrle govern --budget SIZE --vm qmp=PATH,uri=URI[,pid=PID][,name=NAME] [--vm ...] [options]

Starts each migration (QMP "migrate" to its URI) and governs all of them
until every one has completed or failed: sizes each VM's XBZRLE cache from
a short profile of its guest RAM, keeps the host cost of all caches within
the budget, and grows the caches of the others when one ends.

  --budget SIZE     host memory for all XBZRLE caches together: bytes
                    (512M, 2G) or a share of host memory (10%)
  --vm SPEC         one source VM (repeatable): qmp=PATH the QMP unix socket,
                    uri=URI where to migrate (tcp:HOST:PORT, unix:PATH, ...),
                    pid=PID the QEMU process, to profile guest RAM (else
                    QEMU's calc-dirty-rate), name=NAME for the logs
  --target RATE     hit rate to reach (default 90%)
  --interval S      seconds between polls of query-migrate (default 1)
  --profile S       seconds of profiling before each migration (default 3)
  ${JSON_HELP}
  --quiet           no progress lines

Exit status: 0 when every migration completed, 1 when any failed, 2 on bad usage.`;

export const GOVERN_OPTIONS: ParseArgsConfig['options'] = {
  budget: { type: 'string' },
  vm: { type: 'string', multiple: true },
  target: { type: 'string' },
  interval: { type: 'string' },
  profile: { type: 'string' },
  ...JSON_OPTION,
  quiet: { type: 'boolean' },
};

/** Parses one --vm SPEC; a bad one is a usage error. */
export function parseVmSpec(spec: string): MigrateOptions {
  const out: Record<string, string> = {};
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw usage(`--vm: expected KEY=VALUE items separated by commas, received "${part}" in "${spec}"`);
    const k = part.slice(0, eq);
    if (!['qmp', 'uri', 'pid', 'name'].includes(k)) throw usage(`--vm: unknown key "${k}" (qmp, uri, pid, name)`);
    if (k in out) throw usage(`--vm: "${k}" given twice in "${spec}"`);
    out[k] = part.slice(eq + 1);
  }
  // A URI may itself hold commas (exec:...): then give it last, and what follows uri= is kept whole.
  if (!out.qmp) throw usage(`--vm: qmp=PATH is required in "${spec}"`);
  if (!out.uri) throw usage(`--vm: uri=URI is required in "${spec}"`);
  const vm: MigrateOptions = { qmp: out.qmp, uri: out.uri };
  if (out.pid !== undefined) {
    if (!/^[1-9]\d*$/.test(out.pid)) throw usage(`--vm: pid must be a positive integer, received "${out.pid}"`);
    vm.pid = Number(out.pid);
  }
  if (out.name !== undefined) {
    if (!out.name) throw usage('--vm: name must not be empty');
    vm.name = out.name;
  }
  return vm;
}


export async function governCommand(values: Record<string, unknown>): Promise<number> {
  if (values.budget === undefined) throw usage('--budget is required');
  // At least one 4 KiB page of cache, at most the host's memory.
  const budget = parseBudgetSize(values.budget, '--budget', os.totalmem(), { min: 4096, max: os.totalmem() });
  const specs = (values.vm as string[] | undefined) ?? [];
  if (!specs.length) throw usage('at least one --vm is required');
  const vms = specs.map(parseVmSpec);
  vms.forEach((v, i) => (v.name ??= `vm-${i + 1}`));
  const names = new Set(vms.map((v) => v.name));
  if (names.size !== vms.length) throw usage('--vm: two VMs have the same name');
  const target = values.target === undefined ? 0.9 : parseRate(values.target, '--target', { above: 0 });
  const interval = values.interval === undefined ? 1 : parseDuration(values.interval, '--interval', { min: 0.05, max: 3600 });
  const profileSeconds = values.profile === undefined ? 3 : parseDuration(values.profile, '--profile', { min: 0.1, max: 3600 });
  const jsonFile = jsonTarget(values);
  if (jsonFile && jsonFile !== '-') checkOutputFile(jsonFile, '--json');
  const gov = new Governor({ budget, target, interval, profileSeconds });
  const out = jsonFile === '-' ? process.stderr : process.stdout;
  const say = (s: string): void => void out.write(s + '\n');
  const tty = !!out.isTTY && !values.quiet;
  const last = new Map<string, Progress>();
  let drawn = 0;
  const draw = (): void => {
    if (!tty) return;
    if (drawn) out.write(`\x1b[${drawn}A`);
    for (const v of vms) out.write(`\x1b[2K${progressLine(v.name!, last.get(v.name!))}\n`);
    drawn = vms.length;
  };
  let lastPlain = 0;
  gov.on('decision', (d) => {
    if (tty && drawn) {
      out.write(`\x1b[${drawn}A\x1b[J`);
      drawn = 0;
    }
    say(d.message);
    draw();
  });
  gov.on('progress', (p) => {
    last.set(p.vm, p);
    if (tty) draw();
    else if (!values.quiet && Date.now() - lastPlain > 10_000) {
      lastPlain = Date.now();
      for (const v of vms) if (last.has(v.name!)) say(progressLine(v.name!, last.get(v.name!)));
    }
  });
  gov.on('done', (r) => {
    if (tty && drawn) {
      out.write(`\x1b[${drawn}A\x1b[J`);
      drawn = 0;
    }
    say(`${r.name}: ${r.status}${r.error ? `: ${r.error}` : ''}`);
    draw();
  });
  const stopOnSignal = (): void => gov.close();
  process.once('SIGINT', stopOnSignal);
  let reports: VmReport[];
  try {
    reports = await Promise.all(vms.map((v) => gov.migrate(v)));
  } finally {
    process.off('SIGINT', stopOnSignal);
    gov.close();
  }
  say(finalTable(reports, gov));
  if (jsonFile) {
    const body = JSON.stringify({ budget: gov.budget, target: gov.target, usage: gov.usage, vms: reports }, null, 2) + '\n';
    writeOutput(jsonFile, body);
    if (jsonFile !== '-') say(`wrote ${jsonFile}`);
  }
  return reports.every((r) => r.status === 'completed') ? 0 : 1;
}

function progressLine(name: string, p: Progress | undefined): string {
  if (!p) return `${name}: profiling`;
  const done = p.total ? formatPercent(1 - p.remaining / p.total, 0) : '-';
  const hit = p.cacheMissRate === null ? '' : `, miss rate ${formatPercent(p.cacheMissRate, 0)}`;
  return `${name}: ${p.status}, pass ${p.dirtySyncCount}, sent ${formatBytes(p.transferred)}, ${done} of RAM, ${p.mbps.toFixed(1)} Mbit/s, cache ${formatBytes(p.cacheSize)}${hit}`;
}

/** The closing table: one row per VM, then the budget line. */
export function finalTable(reports: VmReport[], gov: Governor): string {
  const head = ['vm', 'status', 'cache', 'RAM sent', 'time', 'downtime', 'xbzrle pages', 'misses', 'overflow'];
  const rows = reports.map((r) => {
    const f = r.final;
    const x = f?.['xbzrle-cache'];
    const size = r.caches.length ? r.caches[r.caches.length - 1].size : 0;
    return [r.name, r.status, formatBytes(size), f?.ram ? formatBytes(f.ram.transferred) : '-', f?.['total-time'] !== undefined ? `${(f['total-time'] / 1000).toFixed(1)} s` : '-', f?.downtime !== undefined ? `${f.downtime} ms` : '-', x ? String(x.pages) : '-', x ? String(x['cache-miss']) : '-', x ? String(x.overflow) : '-'];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  const u = gov.usage;
  return [line(head), ...rows.map(line), `peak cache sum ${formatBytes(u.peakCacheSum)}, peak host cost ${formatBytes(u.peakCost)}, budget ${formatBytes(u.budget)}${u.peakCost <= u.budget ? ' (held)' : ' (EXCEEDED)'}`].join('\n');
}
