// cli/bench.ts: `xbzrle bench`: runs the harness, prints a table, writes
// JSON and an HTML report on request.
import type { ParseArgsConfig } from 'node:util';
import * as api from '../index';
import { JSON_HELP, JSON_OPTION, jsonTarget, parsePageSize, parseRegExp, usage, writeOutput, writeReportDir } from './options';
import type { BenchOptions, Regime, Row } from '../bench/harness';
import type { Workload } from '../bench/workloads';

export const BENCH_HELP = `Usage: xbzrle bench [options]

Measures XBZRLE on this host: every kernel the CPU runs and the TypeScript
twin, per-page and batch paths, encode and decode, on the workloads below, in
three regimes (hot: 4 pages in L1; l2: 128 distinct page pairs; cold: 64 MiB),
against a full compare and a copy of the same pages and against general
compressors (deflate level 1; LZ4 and zstd when installed).

Options:
  --quick              a short run (under 30 s): L2 regime only, shorter timing
  ${JSON_HELP}
  --report DIR         write DIR/index.html, a self-contained page with charts
  --filter REGEX       only rows whose id (regime/workload/op/kernel/path) matches
  --page-size N        page size in bytes, 1..16384 (default 4096)
  --workload NAME      a workload (repeatable): unchanged, last-byte, sparse-16,
                       run-512, scattered-10, random-50, alternate, full, or
                       file:A,B to encode the pages of two memory images of equal size
  --regime NAME        hot, l2 or cold (repeatable; default all three, l2 with --quick)
  --kernel NAME        limit to these kernels (repeatable; see "xbzrle info")
  --no-progress        no progress bar (it only shows on a terminal anyway)`;

export const BENCH_OPTIONS: ParseArgsConfig['options'] = {
  quick: { type: 'boolean' },
  ...JSON_OPTION,
  report: { type: 'string' },
  filter: { type: 'string' },
  'page-size': { type: 'string' },
  workload: { type: 'string', multiple: true },
  regime: { type: 'string', multiple: true },
  kernel: { type: 'string', multiple: true },
  'no-progress': { type: 'boolean' },
};

// The harness, table and progress packages are dependencies, loaded only
// when the bench runs, so plain library users never pay for them.
function load<T>(name: string): T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(name) as T;
}

function fmt(v: number | null, digits = 2): string {
  if (v === null || !Number.isFinite(v)) return '';
  return v >= 1000 ? Math.round(v).toLocaleString('en') : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(digits);
}

export async function benchCommand(v: Record<string, unknown>): Promise<number> {
  const harness = load<typeof import('../bench/harness')>('../bench/harness');
  const { WORKLOADS, fileWorkload } = await import('../bench/workloads');
  const Table = load<typeof import('cli-table3')>('cli-table3');
  const progress = load<typeof import('cli-progress')>('cli-progress');

  const pageSize = v['page-size'] === undefined ? 4096 : parsePageSize(v['page-size']);
  const quick = !!v.quick;
  const regimes = ((v.regime as string[] | undefined) ?? (quick ? ['l2'] : harness.REGIMES)) as Regime[];
  for (const r of regimes) if (!harness.REGIMES.includes(r)) throw usage(`--regime ${r}: expected hot, l2 or cold`);
  const workloads: Workload[] = ((v.workload as string[] | undefined) ?? WORKLOADS.map((w) => w.name)).map((name) => {
    if (name.startsWith('file:')) return fileWorkload(name);
    const w = WORKLOADS.find((x) => x.name === name);
    if (!w) throw usage(`--workload ${name}: expected one of ${WORKLOADS.map((x) => x.name).join(', ')} or file:A,B`);
    return w;
  });
  const all = api.kernels();
  const kernels = (v.kernel as string[] | undefined) ?? all;
  for (const k of kernels) if (!all.includes(k)) throw usage(`--kernel ${k}: this machine runs ${all.join(', ')}`);
  const filter = v.filter === undefined ? undefined : parseRegExp(v.filter, '--filter');
  const jsonPath = jsonTarget(v);
  const reportDir = v.report as string | undefined;

  const tty = process.stderr.isTTY && !v['no-progress'];
  const bar = tty ? new progress.SingleBar({ format: 'bench [{bar}] {value}/{total} {row}', hideCursor: true }, progress.Presets.shades_classic) : null;
  const opts: BenchOptions = {
    pageSize,
    quick,
    regimes,
    workloads,
    kernels,
    filter,
    onRow: (done, total, id) => {
      if (!bar) return;
      if (done === 1) bar.start(total, 0, { row: id });
      bar.update(done, { row: id });
    },
  };
  console.error(`xbzrle bench: ${api.native ? 'native addon' : 'TypeScript twin'}, kernels ${kernels.join(', ')}, page ${pageSize} B, regimes ${regimes.join(', ')}${quick ? ' (quick)' : ''}`);
  const result = await harness.runBench(opts);
  bar?.stop();

  // With the JSON on stdout, the table goes to stderr.
  const log = jsonPath === '-' ? console.error : console.log;
  printTable(result.rows, Table, log);
  if (result.absent.length) log(`\nNot measured: ${result.absent.join('; ')}`);

  const { toJson } = await import('../bench/json');
  const json = toJson(result, { pageSize, quick, regimes });
  if (jsonPath) {
    writeOutput(jsonPath, JSON.stringify(json, null, 2) + '\n');
    if (jsonPath !== '-') console.error(`wrote ${jsonPath}`);
  }
  if (reportDir) {
    const { renderReport } = await import('../bench/report');
    console.error(`wrote ${writeReportDir(reportDir, renderReport(json))}`);
  }
  return 0;
}

function printTable(rows: Row[], Table: typeof import('cli-table3'), log: (line: string) => void): void {
  for (const regime of [...new Set(rows.map((r) => r.regime))]) {
    const t = new Table({
      head: ['workload', 'op', 'kernel', 'path', 'ns/page', 'GB/s', 'pages/s', 'bytes/page', 'x compare', 'x copy'],
      colAligns: ['left', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'],
      style: { head: [], border: [], compact: true },
    });
    for (const r of rows.filter((x) => x.regime === regime)) {
      t.push([r.workload, r.op, r.kernel ?? '', r.path ?? '', fmt(r.nsPerPage, 1), fmt(r.gbPerSec), fmt(r.pagesPerSec), fmt(r.bytesPerPage, 0), fmt(r.xCompare), fmt(r.xCopy)]);
    }
    const pages = rows.find((x) => x.regime === regime)?.pages ?? 0;
    log(`\n${regime.toUpperCase()} (${pages} page pairs)`);
    log(t.toString());
  }
}
