// cli/profile.ts: `xbzrle profile`: profiles a live process, prints the
// report and advice, records a trace on request.
import type { ParseArgsConfig } from 'node:util';
import { ProfileAnalysis } from '../profile/analysis';
import { ProfileError } from '../profile/errors';
import { checkSampleRate } from '../advisor/page-sample';
import { runProfile, type PassRecord, type ProfileInfo, type Profiler } from '../profile/profiler';
import { TraceWriter, type TraceContents } from '../profile/trace';
import { formatBytes } from '../util/sizes';
import { ANALYSIS_HELP, ANALYSIS_OPTIONS, MAX_BUDGET, analysisOptions, emit } from './analysis-options';
import { checkOutputFile, failed, parseDuration, parseEnum, parseInteger, parseSize, usage as usageError } from './options';
import { checkProcess } from './process-check';

export const PROFILE_HELP = `Usage: xbzrle profile --pid PID [options]

Watches which pages a Linux process dirties, one interval per simulated
pre-copy pass, encodes each dirtied page against its previous content, and
says which XBZRLE cache size would pay and how much it would save.
Needs ptrace access to the process: run as root or with CAP_SYS_PTRACE.

Profiling:
  --pid PID            the process (a QEMU process: its guest RAM is found
                       automatically; otherwise every writable private mapping)
  --duration S         seconds to profile (default 10; 10, 90s, 5m or 2h; at most
                       7 days; Ctrl-C stops early, leaving out the part-interval)
  --interval S         seconds per pass (default 1; 0.01 s to 1 h, at most the duration)
  --region SPEC        memory to profile instead (repeatable): a hex range
                       START-END, "anon", or a pathname match ("[heap]",
                       "memfd:pc.ram")
  --method NAME        auto (default: soft-dirty bits when the kernel has them,
                       else content fingerprints), soft-dirty or content
  --sample-rate RATE   the share of pages watched: auto (default: as many as
                       one pass reads in 0.1 core, a power of two), 1 (every
                       page), or 1/2, 1/4, ... 1/16777216 (also 0.03125)
  --content-budget SIZE  memory for page copies used to classify dirty pages
                       (default 0.5% of the profiled memory or the sampled
                       pages' bytes, whichever is smaller, at least 4M);
                       above it, a spatial sample of pages is classified
  --record FILE        write the dirty trace (docs/TRACE-FORMAT.md)
  --record-contents WHAT  none (addresses only), outcomes (default: plus each
                       page's outcome) or pages (plus every dirty page's bytes)
  --quiet              no line per interval

${ANALYSIS_HELP}`;

export const PROFILE_OPTIONS: ParseArgsConfig['options'] = {
  pid: { type: 'string' },
  duration: { type: 'string' },
  interval: { type: 'string' },
  region: { type: 'string', multiple: true },
  method: { type: 'string' },
  'content-budget': { type: 'string' },
  'sample-rate': { type: 'string' },
  record: { type: 'string' },
  'record-contents': { type: 'string' },
  quiet: { type: 'boolean' },
  ...ANALYSIS_OPTIONS,
};

/** The longest --duration and --interval accepted (seconds). */
export const MAX_DURATION = 7 * 86400;
export const MAX_INTERVAL = 3600;

export async function profileCommand(v: Record<string, unknown>): Promise<number> {
  // Every option is checked here, before the process is touched.
  if (v.pid === undefined) throw usageError('--pid is required');
  const pid = parseInteger(v.pid, '--pid', { min: 1, max: 2 ** 22 });
  const duration = v.duration === undefined ? 10 : parseDuration(v.duration, '--duration', { min: 0.01, max: MAX_DURATION });
  const interval = v.interval === undefined ? Math.min(1, duration) : parseDuration(v.interval, '--interval', { min: 0.01, max: MAX_INTERVAL });
  if (interval > duration) throw usageError(`--interval ${interval} s is longer than --duration ${duration} s`);
  const method = parseEnum(v.method ?? 'auto', '--method', ['auto', 'soft-dirty', 'content'] as const);
  const contents: TraceContents = parseEnum(v['record-contents'] ?? 'outcomes', '--record-contents', ['none', 'outcomes', 'pages'] as const);
  const sampleRate = sampleRateOption(v['sample-rate']);
  const contentBudget = v['content-budget'] === undefined ? undefined : parseSize(v['content-budget'], '--content-budget', { min: 65536, max: MAX_BUDGET });
  if (v.record !== undefined) checkOutputFile(String(v.record), '--record');
  const options = analysisOptions(v, 1);
  const target = checkProcess(pid);
  if (options.budget !== undefined) analysisOptions(v, target.pageSize);
  const quiet = !!v.quiet;
  const startedAt = new Date().toISOString();
  // Set once the baseline is taken (the page size is known then).
  const state: { an: ProfileAnalysis | null; trace: TraceWriter | null; readBytes: number; watched: number } = { an: null, trace: null, readBytes: 0, watched: 0 };
  const ac = new AbortController();
  const onSigint = (): void => ac.abort();
  process.once('SIGINT', onSigint);
  let run;
  try {
    run = await runProfile({
      pid,
      duration,
      interval,
      method,
      regions: v.region as string[] | undefined,
      contentBudget,
      sampleRate,
      recordContents: !!v.record && contents === 'pages',
      signal: ac.signal,
      onStart: (p: Profiler) => {
        const i = p.info;
        state.an = new ProfileAnalysis(i.pageSize, { sampling: options.sampling, pageSample: i.sample });
        console.error(
          `xbzrle profile: PID ${pid}${i.command ? ` (${i.command})` : ''}: ${formatBytes(p.regions.totalBytes)} in ${p.regions.regions.length} region${p.regions.regions.length === 1 ? '' : 's'}; ` +
            `${i.method === 'soft-dirty' ? 'soft-dirty bits' : 'content fingerprints'} (${i.methodReason}); ${sampleText(i.sample, i.pageSize)}; ${duration} s, one pass per ${interval} s`,
        );
        if (v.record) {
          state.trace = new TraceWriter(v.record as string, {
            version: 1,
            pageSize: i.pageSize,
            method: i.method,
            methodReason: i.methodReason,
            pid,
            command: i.command,
            qemu: i.qemu,
            selection: i.selection,
            interval,
            startedAt,
            contents,
            contentBudget: i.contentBudget,
            sample: i.sample,
          });
        }
      },
      onPass: (rec: PassRecord) => {
        state.an!.add(rec);
        state.readBytes += rec.readBytes ?? 0;
        state.watched += rec.watchedPages ?? 0;
        state.trace?.pass(rec);
        if (!quiet) {
          const dt = rec.end - rec.start;
          console.error(
            `[${rec.end.toFixed(1).padStart(6)} s] pass ${rec.generation}: ${rec.pages.length.toLocaleString('en')} dirty pages (${formatBytes((rec.pages.length * state.an!.pageSize) / dt)}/s), profiler ${(rec.cpuSeconds / dt).toFixed(2)} core`,
          );
        }
      },
    });
  } catch (err) {
    if (err instanceof ProfileError) throw failed(err.message);
    throw err;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  const p = run.profiler;
  const regions = p.regions.regions.map((r) => ({ start: r.start, end: r.end, offset: r.offset, path: r.path }));
  const encodeMicrosPerPage = p.calibrateEncoder();
  const perPass = (x: number): number | null => (run.passes ? x / run.passes : null);
  const sampling = { ...p.info.sample, readBytesPerPass: perPass(state.readBytes), watchedPagesPerPass: perPass(state.watched) };
  state.trace?.end({ ended: run.ended, ramBytes: p.regions.totalBytes, regions, encodeMicrosPerPage, readBytesPerPass: sampling.readBytesPerPass ?? 0, watchedPagesPerPass: sampling.watchedPagesPerPass ?? 0 });
  if (state.trace) console.error(`wrote ${state.trace.path}`);
  if (run.ended === 'exited') console.error(`xbzrle profile: PID ${pid} exited after ${run.passes} passes; reporting those`);
  if (run.partialSeconds > 0) {
    console.error(`xbzrle profile: stopped early; the last ${run.partialSeconds.toFixed(2)} s (part of an interval) is left out, so every pass is a full ${interval} s`);
  }
  const report = state.an!.report(
    {
      source: 'live',
      pid,
      command: p.info.command,
      qemu: p.info.qemu,
      method: p.info.method,
      methodReason: p.info.methodReason,
      pageSize: p.info.pageSize,
      selection: p.info.selection,
      ramBytes: p.regions.totalBytes,
      regions: regions.length,
      interval,
      startedAt,
      ended: run.ended,
      contentBudget: p.info.contentBudget,
      encodeMicrosPerPage,
      sampling,
    },
    options,
  );
  const usage = process.resourceUsage();
  report.cost = { cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6, wallSeconds: process.uptime(), maxRssBytes: usage.maxRSS * 1024 };
  await emit(report, v);
  return 0;
}

/** --sample-rate: auto, 1, 1/2^k or its decimal; anything else is a usage error. */
export function sampleRateOption(s: unknown): number | 'auto' {
  if (s === undefined || s === 'auto') return 'auto';
  const text = String(s);
  const m = /^1\/(\d+)$/.exec(text);
  const rate = m ? 1 / Number(m[1]) : /^(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : NaN;
  try {
    return checkSampleRate(rate, '--sample-rate');
  } catch {
    throw usageError(`--sample-rate must be auto, 1, or a power-of-two fraction such as 1/32 or 0.03125 (down to 1/16777216), received "${text}"`);
  }
}

/** The sample in words, for the start line. */
function sampleText(s: ProfileInfo['sample'], pageSize: number): string {
  if (s.rate === 1) return 'every page watched';
  return `1/${1 / s.rate} of pages watched (${formatBytes(s.sampledPages * pageSize)} in runs of ${s.run}; ${s.reason})`;
}
