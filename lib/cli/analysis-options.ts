// cli/analysis-options.ts: the options `profile` and `advise` share (the
// advice and the outputs), and writing the outputs.
import type { ParseArgsConfig } from 'node:util';
import type { AnalysisOptions, ProfileReport } from '../profile/analysis';
import * as os from 'node:os';
import {
  JSON_HELP,
  JSON_OPTION,
  checkOutputDir,
  checkOutputFile,
  jsonTarget,
  parseBudgetSize,
  parseEnum,
  parseInteger,
  parseRate,
  usage,
  writeOutput,
  writeReportDir,
} from './options';

export const ANALYSIS_HELP = `Advice:
  --target RATE        hit rate the cache should reach: 90% (default) or 0.9
  --budget SIZE        memory for XBZRLE caches: 512M, 2G, or 10% of host memory
                       (at least one page per migration, at most 8 TiB)
  --concurrent N       migrations sharing the budget at once (default 1; up to 4096)
  --policy NAME        qemu (default: QEMU's direct-mapped cache) or associative
  --sampling RATE      spatial sampling of the cache simulation: auto (default:
                       exact up to 1 GiB of distinct pages), 1 (exact), or 1/16

Output:
  ${JSON_HELP}
  --report DIR         write DIR/index.html: charts of the miss-ratio curve
                       (advice marked) and of the dirty rate; no script, no network`;

/** The largest --budget: beyond any host, and the advisor's 2^31 pages of 4 KiB. */
export const MAX_BUDGET = 2 ** 43;

export const ANALYSIS_OPTIONS: ParseArgsConfig['options'] = {
  target: { type: 'string' },
  budget: { type: 'string' },
  concurrent: { type: 'string' },
  policy: { type: 'string' },
  sampling: { type: 'string' },
  ...JSON_OPTION,
  report: { type: 'string' },
};

/**
 * Reads the advice options and checks the outputs can be written, before
 * any work. `pageSize`, when known, bounds the budget per migration from below.
 */
export function analysisOptions(v: Record<string, unknown>, pageSize = 1): AnalysisOptions {
  const o: AnalysisOptions = {};
  if (v.target !== undefined) o.target = parseRate(v.target, '--target', { above: 0 });
  if (v.concurrent !== undefined) o.concurrent = parseInteger(v.concurrent, '--concurrent', { min: 1, max: 4096 });
  if (v.budget !== undefined) {
    o.budget = parseBudgetSize(v.budget, '--budget', os.totalmem(), { min: 1, max: MAX_BUDGET });
    checkBudget(o, pageSize);
  }
  if (v.policy !== undefined) o.policy = parseEnum(v.policy, '--policy', ['qemu', 'associative'] as const);
  o.sampling = samplingOption(v.sampling as string | undefined);
  const json = jsonTarget(v);
  if (json && json !== '-') checkOutputFile(json, '--json');
  if (v.report !== undefined) checkOutputDir(String(v.report), '--report');
  return o;
}

/** The budget per migration must hold one page. */
export function checkBudget(o: AnalysisOptions, pageSize: number): void {
  if (typeof o.budget !== 'number') return;
  const per = o.budget / (o.concurrent ?? 1);
  if (per < pageSize) {
    throw usage(`--budget ${o.budget} bytes${(o.concurrent ?? 1) > 1 ? ` over ${o.concurrent} migrations` : ''} is less than one ${pageSize}-byte page per migration`);
  }
}

function samplingOption(s: string | undefined): number | 'auto' {
  if (s === undefined || s === 'auto') return 'auto';
  const m = /^1\/(\d+)$/.exec(s);
  const rate = m ? 1 / Number(m[1]) : /^(\d+\.?\d*|\.\d+)$/.test(s) ? Number(s) : NaN;
  if (!(rate > 0 && rate <= 1)) throw usage(`--sampling must be auto, 1, or a rate such as 1/16 or 0.0625, received "${s}"`);
  return rate;
}

/** Writes --json and --report; prints the summary (to stderr when the JSON goes to stdout). */
export async function emit(report: ProfileReport, v: Record<string, unknown>): Promise<void> {
  const { renderSummary } = await import('../profile/summary');
  const json = jsonTarget(v);
  const summary = renderSummary(report);
  if (json === '-') console.error(summary);
  else console.log(summary);
  if (json) {
    writeOutput(json, JSON.stringify(report, null, 2) + '\n');
    if (json !== '-') console.error(`wrote ${json}`);
  }
  const dir = v.report as string | undefined;
  if (dir) {
    const { renderProfileHtml } = await import('../profile/report');
    console.error(`wrote ${writeReportDir(dir, renderProfileHtml(report))}`);
  }
}
