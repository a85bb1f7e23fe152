// cli/analysis-options.ts: the options `profile` and `advise` share (the
// advice and the outputs), and writing the outputs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import type { AnalysisOptions, ProfileReport } from '../profile/analysis';
import * as os from 'node:os';
import { parseBudget, parseFraction } from '../util/sizes';

export const ANALYSIS_HELP = `Advice:
  --target RATE        hit rate the cache should reach: 90% (default) or 0.9
  --budget SIZE        memory for XBZRLE caches: 512M, 2G, or 10% of host memory
  --concurrent N       migrations sharing the budget at once (default 1)
  --policy NAME        qemu (default: QEMU's direct-mapped cache) or associative
  --sampling RATE      spatial sampling of the cache simulation: auto (default:
                       exact up to 1 GiB of distinct pages), 1 (exact), or 1/16

Output:
  --json FILE          write the report as JSON ("-" for stdout)
  --report DIR         write DIR/index.html: charts of the miss-ratio curve
                       (advice marked) and of the dirty rate; no script, no network`;

export const ANALYSIS_OPTIONS: ParseArgsConfig['options'] = {
  target: { type: 'string' },
  budget: { type: 'string' },
  concurrent: { type: 'string' },
  policy: { type: 'string' },
  sampling: { type: 'string' },
  json: { type: 'string' },
  report: { type: 'string' },
};

/** Reads the advice options. */
export function analysisOptions(v: Record<string, unknown>): AnalysisOptions {
  const o: AnalysisOptions = {};
  if (v.target !== undefined) o.target = parseFraction(v.target as string, '--target');
  // Checked now, not after a profile of many seconds.
  if (v.budget !== undefined) o.budget = parseBudget(v.budget as string, os.totalmem(), '--budget');
  if (v.concurrent !== undefined) {
    const n = Number(v.concurrent);
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`--concurrent must be a positive integer, received ${String(v.concurrent)}`);
    o.concurrent = n;
  }
  if (v.policy !== undefined) {
    if (v.policy !== 'qemu' && v.policy !== 'associative') throw new RangeError(`--policy must be qemu or associative, received ${String(v.policy)}`);
    o.policy = v.policy;
  }
  o.sampling = samplingOption(v.sampling as string | undefined);
  return o;
}

function samplingOption(s: string | undefined): number | 'auto' {
  if (s === undefined || s === 'auto') return 'auto';
  const m = /^1\/(\d+)$/.exec(s);
  const rate = m ? 1 / Number(m[1]) : Number(s);
  if (!(rate > 0 && rate <= 1)) throw new RangeError(`--sampling must be auto, 1, or a rate such as 1/16 or 0.0625, received ${s}`);
  return rate;
}

/** Writes --json and --report; prints the summary (to stderr when the JSON goes to stdout). */
export async function emit(report: ProfileReport, v: Record<string, unknown>): Promise<void> {
  const { renderSummary } = await import('../profile/summary');
  const json = v.json as string | undefined;
  const summary = renderSummary(report);
  if (json === '-') {
    console.error(summary);
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  } else {
    console.log(summary);
    if (json) {
      fs.mkdirSync(path.dirname(path.resolve(json)), { recursive: true });
      fs.writeFileSync(json, JSON.stringify(report, null, 2) + '\n');
      console.error(`wrote ${json}`);
    }
  }
  const dir = v.report as string | undefined;
  if (dir) {
    const { renderProfileHtml } = await import('../profile/report');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'index.html');
    fs.writeFileSync(file, renderProfileHtml(report));
    console.error(`wrote ${file}`);
  }
}
