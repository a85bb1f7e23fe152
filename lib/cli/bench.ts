// cli/bench.ts: `xbzrle bench`: runs the harness, prints a table, writes
// JSON and an HTML report on request.
import * as os from 'node:os';
import type { ParseArgsConfig } from 'node:util';
import * as api from '../index';
import { JSON_HELP, JSON_OPTION, jsonTarget, parseLinkSpeed, parsePageSize, parseRegExp, usage, writeOutput, writeReportDir } from './options';
import type { BenchOptions, BenchResult, Regime, Row } from '../bench/harness';
import type { Workload } from '../bench/workloads';
import { ANSWER_HEAD, DEFAULT_LINK_BPS, formatLink, operatorAnswer, PROFILE_NOTE, type Answer } from '../bench/answer';

export const BENCH_HELP = `Usage: xbzrle bench [options]

Measures XBZRLE on this host: every kernel the CPU runs and the TypeScript
twin, in each of three regimes (hot: 4 pages in L1; l2: 128 distinct page
pairs; cold: 64 MiB), encode on the batch path (and per page and async for
the best kernel), the native decoder and the twin's, against a full compare
and a copy of the same pages and against general compressors (deflate level
1; LZ4 and zstd when installed). Ends with the operator's answer: per
workload, whether XBZRLE sends a page sooner than sending it raw on the link.

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
  --link SPEED         the migration link for the answer, in bits/s: 10G, 25G,
                       100M ... (default 10G)
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
  link: { type: 'string' },
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
    if (name.startsWith('file:')) {
      try {
        return fileWorkload(name);
      } catch (err) {
        throw err instanceof RangeError ? usage(err.message) : err;
      }
    }
    const w = WORKLOADS.find((x) => x.name === name);
    if (!w) throw usage(`--workload ${name}: expected one of ${WORKLOADS.map((x) => x.name).join(', ')} or file:A,B`);
    return w;
  });
  const all = api.kernels();
  const kernels = (v.kernel as string[] | undefined) ?? all;
  for (const k of kernels) if (!all.includes(k)) throw usage(`--kernel ${k}: this machine runs ${all.join(', ')}`);
  const link = v.link === undefined ? DEFAULT_LINK_BPS : parseLinkSpeed(v.link);
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
  const result = await harness.runBench(opts);
  bar?.stop();

  // With the JSON on stdout, the table goes to stderr.
  const log = jsonPath === '-' ? console.error : console.log;
  const cpus = os.cpus();
  const la = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
  log(`xbzrle bench: ${api.native ? 'native addon' : 'TypeScript twin'}, kernels ${kernels.join(', ')}, page ${pageSize} B, regimes ${regimes.join(', ')}${quick ? ' (quick)' : ''}`);
  log(`host: ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, Node ${process.version}; load average ${la(result.load.start)} at start, ${la(result.load.end)} at end`);
  printTable(result, Table, log, harness);
  if (result.absent.length) log(`\nNot measured: ${result.absent.join('; ')}`);
  const answer = operatorAnswer(result.rows, pageSize, kernels[0], link);
  if (answer) printAnswer(answer, pageSize, Table, log);

  const { toJson } = await import('../bench/json');
  const json = toJson(result, { pageSize, quick, regimes, answer, noisyRme: harness.NOISY_RME });
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

function label(r: Row): string {
  if (r.op === 'call') return 'encode, 1 call';
  return r.op;
}

function printTable(result: BenchResult, Table: typeof import('cli-table3'), log: (line: string) => void, h: { NOISY_RME: number; BATCH_ENTRIES: number }): void {
  const { rows } = result;
  for (const regime of [...new Set(rows.map((r) => r.regime))]) {
    const t = new Table({
      head: ['workload', 'op', 'kernel', 'path', 'cores', 'ns/page', '±%', 'GB/s', 'bytes/page', 'x compare', 'x copy'],
      colAligns: ['left', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
      style: { head: [], border: [], compact: true },
    });
    for (const r of rows.filter((x) => x.regime === regime)) {
      const rme = `${r.rme.toFixed(1)}${r.noisy ? ' !' : ''}`;
      const xc = r.xCompare === null ? '-' : `${fmt(r.xCompare)}${r.floor === 'compare-per-core' ? ' /core' : ''}`;
      t.push([r.workload, label(r), r.kernel ?? '', r.path ?? '', String(r.cores), fmt(r.nsPerPage, 1), rme, fmt(r.gbPerSec), fmt(r.bytesPerPage, 0), xc, fmt(r.xCopy)]);
    }
    const pages = rows.find((x) => x.regime === regime && (x.op === 'compare' || x.op === 'copy'))?.pages ?? 0;
    const files = Object.entries(result.pagesUsed[regime] ?? {}).filter(([w]) => w.startsWith('file:'));
    const fileNote = files.map(([w, n]) => `; ${w}: ${n} page pairs`).join('');
    log(`\n${regime.toUpperCase()} (${pages} page pairs${fileNote})`);
    log(t.toString());
    if (regime === 'hot') {
      const call = rows.find((x) => x.regime === 'hot' && x.op === 'call');
      const per = rows.find((x) => x.regime === 'hot' && x.op === 'encode' && x.workload === 'unchanged' && x.kernel === call?.kernel && x.path === 'batch');
      if (call && per) {
        const callNs = call.nsPerPage * call.pages;
        log(`per call: one encodePages of ${call.pages} unchanged pages takes ${fmt(callNs, 0)} ns, about ${fmt(Math.max(0, callNs - call.pages * per.nsPerPage), 0)} ns of it fixed (the call) and ${call.pages} x ${fmt(per.nsPerPage, 1)} ns the pages; the other HOT rows cycle the ${call.pages} pages through ${h.BATCH_ENTRIES}-entry batches, as L2 does.`);
      }
    }
  }
  log(`\n±%: margin of error (95%); "!" marks a noisy row (above ${h.NOISY_RME}%): rerun on a quieter host before quoting it.`);
  log('x compare: time per page over one Buffer.compare of two equal pages (a full read of both), measured in the same regime and run;');
  log('"/core" rows ran on several threads at once (cores) and are held against the floor per core (time x cores).');
  log('Decode and compress rows do not read a page pair, so no compare floor applies ("-"); x copy is against copying the page raw.');
}

function printAnswer(a: Answer, pageSize: number, Table: typeof import('cli-table3'), log: (line: string) => void): void {
  log(`\nDoes XBZRLE pay on a ${formatLink(a.linkBitsPerSecond)} link${a.linkBitsPerSecond === DEFAULT_LINK_BPS ? ' (the default; set --link)' : ''}? ` +
    `${a.kernel} kernel, ${a.regime.toUpperCase()} encode rates, one core; a ${pageSize}-byte page takes ${fmt(a.verdicts[0]?.rawNs ?? 0, 0)} ns to send raw.`);
  const t = new Table({
    head: [...ANSWER_HEAD],
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'left'],
    style: { head: [], border: [], compact: true },
  });
  for (const v of a.verdicts) {
    t.push([v.workload, fmt(v.encodeNs, 0), fmt(v.deltaNs, 0), fmt(v.xbzrleNs, 0), fmt(v.rawNs, 0), `${v.savedPercent.toFixed(1)}%`, `${v.pays ? 'yes' : 'no'}: ${v.why}`]);
  }
  log(t.toString());
  log('Only pages found in the XBZRLE cache are encoded; a miss is sent raw either way.');
  log(PROFILE_NOTE);
}
