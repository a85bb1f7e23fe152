// bench/json.ts: the machine-readable result of `xbzrle bench --json`.
import * as os from 'node:os';
import { kernel, kernels } from '../backend/kernels';
import { native } from '../backend/status';
import type { BenchResult, Regime, Row } from './harness';
import type { Answer } from './answer';

export interface BenchJson {
  package: { name: string; version: string };
  node: string;
  date: string;
  host: { cpu: string; cores: number; arch: string; platform: string; memoryBytes: number; loadavg: { start: number[]; end: number[] } };
  native: boolean;
  kernel: string;
  kernels: string[];
  paths: string[];
  pageSize: number;
  quick: boolean;
  regimes: Regime[];
  absent: string[];
  /** Page pairs per regime and workload. */
  pagesUsed: Record<string, Record<string, number>>;
  /** Relative margin of error (percent) above which a row is flagged noisy. */
  noisyRme: number;
  rows: Row[];
  /** Whether XBZRLE pays on the link, per workload (null when no encode row ran). */
  answer: Answer | null;
}

export function toJson(r: BenchResult, o: { pageSize: number; quick: boolean; regimes: Regime[]; answer: Answer | null; noisyRme: number }): BenchJson {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require('../../package.json') as { name: string; version: string };
  return {
    package: { name: pkg.name, version: pkg.version },
    node: process.version,
    date: new Date().toISOString(),
    host: {
      cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
      cores: os.cpus().length,
      arch: process.arch,
      platform: process.platform,
      memoryBytes: os.totalmem(),
      loadavg: r.load,
    },
    native,
    kernel: kernel(),
    kernels: kernels(),
    paths: r.paths,
    pageSize: o.pageSize,
    quick: o.quick,
    regimes: o.regimes,
    absent: r.absent,
    pagesUsed: r.pagesUsed,
    noisyRme: o.noisyRme,
    rows: r.rows,
    answer: o.answer,
  };
}
