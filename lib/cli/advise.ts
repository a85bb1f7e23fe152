// cli/advise.ts: `xbzrle advise FILE`: the profile report and advice from a
// recorded trace.
import type { ParseArgsConfig } from 'node:util';
import { ProfileAnalysis } from '../profile/analysis';
import { ContentStore, OUTCOME_UNKNOWN } from '../profile/content-store';
import { ProfileError } from '../profile/errors';
import type { PassRecord } from '../profile/profiler';
import { TraceReader } from '../profile/trace';
import { ANALYSIS_HELP, ANALYSIS_OPTIONS, analysisOptions, checkBudget, emit } from './analysis-options';
import { failed, usage } from './options';

export const ADVISE_HELP = `Usage: xbzrle advise FILE [options]

The report of "xbzrle profile" from a trace it recorded with --record FILE:
dirty rate, working set, outcome shares, the miss-ratio curve and the advice.
A trace recorded with page contents (--record-contents pages) is re-encoded
here, so every re-dirtied page is classified, not a sample.

${ANALYSIS_HELP}`;

export const ADVISE_OPTIONS: ParseArgsConfig['options'] = { ...ANALYSIS_OPTIONS };

/** Re-derives outcomes from recorded contents: every page, no sampling. */
function reencode(pass: PassRecord, store: ContentStore): PassRecord {
  if (!pass.contents) return pass;
  const P = store.pageSize;
  const outcomes = new Uint16Array(pass.pages.length).fill(OUTCOME_UNKNOWN);
  const e0 = store.encodeSeconds;
  const n0 = store.encodes;
  for (let i = 0; i < pass.pages.length; i++) outcomes[i] = store.classify(pass.pages[i], pass.contents.subarray(i * P, (i + 1) * P));
  return { ...pass, outcomes, costSampleRate: 1, encodeSeconds: store.encodeSeconds - e0, encodes: store.encodes - n0 };
}

export async function adviseCommand(v: Record<string, unknown>, positionals: string[]): Promise<number> {
  if (positionals.length !== 1) throw usage('give one trace file: xbzrle advise FILE');
  const file = positionals[0];
  const options = analysisOptions(v);
  let reader: TraceReader;
  try {
    reader = new TraceReader(file);
  } catch (err) {
    if (err instanceof ProfileError) throw failed(err.message);
    throw err;
  }
  const h = reader.head;
  checkBudget(options, h.pageSize);
  let an: ProfileAnalysis;
  try {
    an = new ProfileAnalysis(h.pageSize, { sampling: options.sampling, pageSample: h.sample });
  } catch (err) {
    reader.close();
    throw failed(`${file}: malformed trace: HEAD sample: ${(err as Error).message}`);
  }
  const store = new ContentStore(h.pageSize, Infinity);
  let totalPages = 0;
  let withContents = false;
  try {
    for (const pass of reader.passes()) {
      withContents ||= pass.contents !== null;
      an.add(reencode(pass, store));
      totalPages = pass.totalPages;
    }
  } catch (err) {
    reader.close();
    if (err instanceof ProfileError) throw failed(err.message);
    // The reader checks the structure; what slips past it is still the file's fault here.
    throw failed(`${file}: malformed trace at byte ${reader.chunkOffset}: ${(err as Error).message}`);
  }
  reader.close();
  if (reader.truncated) console.error(`xbzrle advise: ${file} ends inside a chunk (the recording was cut short); using the complete passes`);
  const end = reader.end;
  const report = an.report(
    {
      source: 'trace',
      tracePath: file,
      pid: h.pid,
      command: h.command,
      qemu: h.qemu,
      method: h.method,
      methodReason: h.methodReason,
      pageSize: h.pageSize,
      selection: h.selection,
      ramBytes: end?.ramBytes ?? totalPages * h.pageSize,
      regions: end?.regions.length ?? 0,
      interval: h.interval,
      startedAt: h.startedAt,
      ended: end?.ended ?? 'cut short',
      contentBudget: h.contentBudget,
      // Contents were re-encoded here: time the encoder on them; else the recorded figure.
      encodeMicrosPerPage: withContents ? store.calibrate() : (end?.encodeMicrosPerPage ?? null),
      sampling: h.sample ? { ...h.sample, readBytesPerPass: end?.readBytesPerPass ?? null, watchedPagesPerPass: end?.watchedPagesPerPass ?? null } : null,
    },
    options,
  );
  await emit(report, v);
  return 0;
}
