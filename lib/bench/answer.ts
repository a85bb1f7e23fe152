// bench/answer.ts: the question an operator runs the bench for: on this
// host and this link, does XBZRLE send a dirty page sooner than sending it
// raw, and how many bytes does it save? Worked out from the measured rows.
import type { Regime, Row } from './harness';

/** The link speed assumed when none is given: 10 Gbit/s. */
export const DEFAULT_LINK_BPS = 10e9;

/** The columns of the answer table (README.md shows a default run's table with them; a test holds the two together). */
export const ANSWER_HEAD = ['workload', 'encode ns', 'send delta ns', 'XBZRLE ns', 'raw ns', 'bytes saved', 'pays?'] as const;

export interface Verdict {
  workload: string;
  /** Encode time per page (one core, batch path), ns. */
  encodeNs: number;
  /** Time to send the page raw on the link, ns. */
  rawNs: number;
  /** Time to send what XBZRLE sends (the delta, or the raw page on overflow), ns. */
  deltaNs: number;
  /** encodeNs + deltaNs: the page leaves after this with XBZRLE. */
  xbzrleNs: number;
  bytesPerPage: number;
  /** Percent of the page's bytes not sent. */
  savedPercent: number;
  /** rawNs / xbzrleNs: above 1, XBZRLE gets the page out sooner. */
  speedup: number;
  pays: boolean;
  why: string;
}

export interface Answer {
  linkBitsPerSecond: number;
  /** The regime the figures come from (COLD when measured: guest memory is rarely in cache). */
  regime: Regime;
  kernel: string;
  verdicts: Verdict[];
}

/** Per workload, from the batch encode rows of the best kernel in the coldest measured regime. */
export function operatorAnswer(rows: Row[], pageSize: number, kernel: string, linkBps = DEFAULT_LINK_BPS): Answer | null {
  const enc = (r: Row): boolean => r.op === 'encode' && r.path === 'batch' && r.kernel === kernel && r.bytesPerPage !== null;
  const regime = (['cold', 'l2', 'hot'] as Regime[]).find((g) => rows.some((r) => r.regime === g && enc(r)));
  if (!regime) return null;
  const nsPerByte = 8e9 / linkBps;
  const rawNs = pageSize * nsPerByte;
  const verdicts = rows
    .filter((r) => r.regime === regime && enc(r))
    .map((r): Verdict => {
      const bytes = r.bytesPerPage!;
      const deltaNs = bytes * nsPerByte;
      const xbzrleNs = r.nsPerPage + deltaNs;
      const savedPercent = (100 * (pageSize - bytes)) / pageSize;
      const pays = bytes < pageSize && xbzrleNs < rawNs;
      const why =
        bytes >= pageSize
          ? 'overflows: the page goes raw, the encode time is lost'
          : pays
            ? `the page leaves ${(rawNs / xbzrleNs).toFixed(1)}x sooner, ${savedPercent.toFixed(1)}% fewer bytes`
            : `encoding (${r.nsPerPage.toFixed(0)} ns) costs more than the ${(rawNs - deltaNs).toFixed(0)} ns the smaller send saves`;
      return { workload: r.workload, encodeNs: r.nsPerPage, rawNs, deltaNs, xbzrleNs, bytesPerPage: bytes, savedPercent, speedup: rawNs / xbzrleNs, pays, why };
    });
  return { linkBitsPerSecond: linkBps, regime, kernel, verdicts };
}

/** "10 Gbit/s", "2.5 Gbit/s", "100 Mbit/s". */
export function formatLink(bps: number): string {
  const [d, u] = bps >= 1e12 ? [1e12, 'T'] : bps >= 1e9 ? [1e9, 'G'] : bps >= 1e6 ? [1e6, 'M'] : [1e3, 'k'];
  return `${+(bps / d).toPrecision(4)} ${u}bit/s`;
}

/** What `xbzrle profile` adds, said after the answer. */
export const PROFILE_NOTE =
  'These workloads are synthetic. `xbzrle profile --pid PID` watches a real guest on this host (its QEMU process): ' +
  'how fast it dirties pages, how many resent pages a cache of each size would hold (a miss is sent raw, ' +
  'whatever the table above says), and the delta sizes of its own pages; it then advises a cache size.';
