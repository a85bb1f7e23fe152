// profile/trace.ts: the dirty-trace file of `xbzrle profile --record` and
// `xbzrle advise` (docs/TRACE-FORMAT.md describes it; keep the two in step).
//
//   "XBZTRACE"                      8-byte magic
//   chunk*                          kind (4 ASCII bytes), u32 version-free
//                                   payload length low, u32 high, payload
//   HEAD  UTF-8 JSON: the run (pageSize, method, pid, ...)
//   PASS  one pass: a 64-byte header, the pages, outcomes, contents
//   END   UTF-8 JSON: how the run ended, the regions
// Little-endian throughout. Unknown chunk kinds are skipped by readers.
import * as fs from 'node:fs';
import { ProfileError } from './errors';
import type { PassRecord, ProfileInfo } from './profiler';
import { PageSample } from '../advisor/page-sample';

export const TRACE_MAGIC = 'XBZTRACE';
export const TRACE_VERSION = 1;
const PASS_HEADER = 64;
const FLAG_OUTCOMES = 1;
const FLAG_CONTENTS = 2;

/** What a trace records per dirty page beyond its address. */
export type TraceContents = 'none' | 'outcomes' | 'pages';

/** The HEAD chunk. */
export interface TraceHead {
  version: number;
  pageSize: number;
  method: string;
  methodReason: string;
  pid: number | null;
  command: string;
  qemu: boolean;
  selection: string;
  interval: number;
  startedAt: string;
  contents: TraceContents;
  contentBudget: number | null;
  /** The pages watched (absent in traces of every page from before sampling): PASS chunks hold only these. */
  sample?: ProfileInfo['sample'];
}

/** The END chunk. */
export interface TraceEnd {
  ended: string;
  passes: number;
  ramBytes: number;
  regions: { start: number; end: number; offset: number; path: string }[];
  /** The encoder's time per page, microseconds, timed on sampled page pairs (null: no encode). */
  encodeMicrosPerPage: number | null;
  /** Means over the passes: bytes read from the process, resident sampled pages looked at. */
  readBytesPerPass?: number;
  watchedPagesPerPass?: number;
}

/** Writes a trace file chunk by chunk. */
export class TraceWriter {
  private readonly fd: number;
  private passes = 0;

  constructor(
    readonly path: string,
    private readonly head: TraceHead,
  ) {
    this.fd = fs.openSync(path, 'w');
    fs.writeSync(this.fd, Buffer.from(TRACE_MAGIC, 'latin1'));
    this.chunk('HEAD', Buffer.from(JSON.stringify(head)));
  }

  /** Appends a pass; outcomes and contents as the head's `contents` says. */
  pass(p: PassRecord): void {
    const n = p.pages.length;
    const withOutcomes = this.head.contents !== 'none';
    const withContents = this.head.contents === 'pages' && p.contents !== null;
    const outBytes = withOutcomes ? align4(n * 2) : 0;
    const h = Buffer.alloc(PASS_HEADER);
    h.writeUInt32LE(p.generation, 0);
    h.writeUInt32LE(n, 4);
    h.writeDoubleLE(p.start, 8);
    h.writeDoubleLE(p.end, 16);
    h.writeDoubleLE(p.costSampleRate, 24);
    h.writeDoubleLE(p.encodeSeconds, 32);
    h.writeDoubleLE(p.cpuSeconds, 40);
    h.writeUInt32LE(p.encodes, 48);
    h.writeUInt32LE(p.totalPages, 52);
    h.writeUInt32LE(p.residentPages, 56);
    h.writeUInt32LE((withOutcomes ? FLAG_OUTCOMES : 0) | (withContents ? FLAG_CONTENTS : 0), 60);
    const parts = [h, Buffer.from(p.pages.buffer, p.pages.byteOffset, n * 4)];
    if (withOutcomes) {
      const o = Buffer.alloc(outBytes);
      o.set(new Uint8Array(p.outcomes.buffer, p.outcomes.byteOffset, n * 2));
      parts.push(o);
    }
    if (withContents) parts.push(p.contents!);
    this.chunk('PASS', ...parts);
    this.passes++;
  }

  /** Writes END and closes the file. */
  end(end: Omit<TraceEnd, 'passes'>): void {
    this.chunk('END ', Buffer.from(JSON.stringify({ ...end, passes: this.passes })));
    fs.closeSync(this.fd);
  }

  private chunk(kind: string, ...parts: Buffer[]): void {
    const len = parts.reduce((s, b) => s + b.length, 0);
    const h = Buffer.alloc(12);
    h.write(kind, 0, 'latin1');
    h.writeUInt32LE(len % 2 ** 32, 4);
    h.writeUInt32LE(Math.floor(len / 2 ** 32), 8);
    fs.writeSync(this.fd, h);
    for (const b of parts) fs.writeSync(this.fd, b);
  }
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** A trace read back: its head, then its passes one at a time, then its end. */
export class TraceReader {
  readonly head: TraceHead;
  end: TraceEnd | null = null;
  /** True when the file ends inside a chunk (the recording was cut short). */
  truncated = false;
  private readonly fd: number;
  private readonly size: number;
  private pos = 0;
  /** Byte offset of the chunk read last (where a defect is reported). */
  chunkOffset = 0;

  constructor(readonly path: string) {
    try {
      this.fd = fs.openSync(path, 'r');
      this.size = fs.fstatSync(this.fd).size;
    } catch (err) {
      throw new ProfileError('bad-trace', `cannot open trace ${path}: ${(err as Error).message}`);
    }
    const magic = this.read(8);
    if (magic.toString('latin1') !== TRACE_MAGIC) this.bad('not an xbzrle trace (no XBZTRACE magic)', 0);
    const first = this.next();
    if (!first || first.kind !== 'HEAD') this.bad('the HEAD chunk is missing');
    this.head = checkHead(this.json(first.body, 'HEAD'), (why) => this.bad(why));
  }

  // A JSON chunk body, an object.
  private json(body: Buffer, kind: string): Record<string, unknown> {
    let v: unknown;
    try {
      v = JSON.parse(body.toString('utf8'));
    } catch {
      this.bad(`the ${kind} chunk is not valid JSON`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.bad(`the ${kind} chunk is not a JSON object`);
    return v as Record<string, unknown>;
  }

  /** The passes, in order (END, when present, is read on the way). */
  *passes(): Generator<PassRecord> {
    const P = this.head.pageSize;
    for (let c = this.next(); c; c = this.next()) {
      if (c.kind === 'END ') {
        this.end = checkEnd(this.json(c.body, 'END'), (why) => this.bad(why));
        continue;
      }
      if (c.kind !== 'PASS') continue;
      const b = c.body;
      if (b.length < PASS_HEADER) this.bad('a PASS chunk is shorter than its header');
      const n = b.readUInt32LE(4);
      const flags = b.readUInt32LE(60);
      let at = PASS_HEADER;
      const need = at + n * 4 + (flags & FLAG_OUTCOMES ? align4(n * 2) : 0) + (flags & FLAG_CONTENTS ? n * P : 0);
      if (b.length < need) this.bad(`a PASS chunk of ${n} pages is truncated`);
      const start = b.readDoubleLE(8);
      const end = b.readDoubleLE(16);
      const rate = b.readDoubleLE(24);
      if (!(start >= 0 && end >= start && Number.isFinite(end))) this.bad(`a PASS chunk has an impossible time span (${start} to ${end} s)`);
      if (!(rate > 0 && rate <= 1)) this.bad(`a PASS chunk has a sample rate of ${rate}, outside (0, 1]`);
      // Copies, so that each array owns aligned memory.
      const pages = new Uint32Array(n);
      new Uint8Array(pages.buffer).set(b.subarray(at, at + n * 4));
      at += n * 4;
      const outcomes = new Uint16Array(n).fill(0xffff);
      if (flags & FLAG_OUTCOMES) {
        new Uint8Array(outcomes.buffer).set(b.subarray(at, at + n * 2));
        at += align4(n * 2);
      }
      const contents = flags & FLAG_CONTENTS ? b.subarray(at, at + n * P) : null;
      const totalPages = b.readUInt32LE(52);
      for (let i = 0; i < n; i++) if (pages[i] >= totalPages) this.bad(`a PASS chunk names page ${pages[i]} of ${totalPages}`);
      yield {
        generation: b.readUInt32LE(0),
        start,
        end,
        costSampleRate: rate,
        encodeSeconds: b.readDoubleLE(32),
        cpuSeconds: b.readDoubleLE(40),
        encodes: b.readUInt32LE(48),
        totalPages,
        residentPages: b.readUInt32LE(56),
        readBytes: null,
        watchedPages: null,
        pages,
        outcomes,
        contents,
      };
    }
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  // The next chunk, or null at the end of the file. A chunk cut short (a
  // recording that was killed) ends the trace and sets `truncated`.
  private next(): { kind: string; body: Buffer } | null {
    const at = this.pos;
    const h = this.tryRead(12);
    if (!h) return null;
    this.chunkOffset = at;
    const len = h.readUInt32LE(4) + h.readUInt32LE(8) * 2 ** 32;
    // A length past the end of the file is a recording cut short: nothing is allocated for it.
    const body = len > this.size - this.pos ? ((this.truncated = true), null) : this.tryRead(len);
    if (!body) {
      this.truncated = true;
      return null;
    }
    return { kind: h.toString('latin1', 0, 4), body };
  }

  private read(n: number): Buffer {
    const b = this.tryRead(n);
    if (!b) this.bad('the file is too short');
    return b;
  }

  private tryRead(n: number): Buffer | null {
    const b = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const r = fs.readSync(this.fd, b, got, n - got, this.pos + got);
      if (r === 0) break;
      got += r;
    }
    if (got < n) {
      if (got > 0) this.truncated = true;
      return null;
    }
    this.pos += n;
    return b;
  }

  private bad(why: string, offset = this.chunkOffset): never {
    throw new ProfileError('bad-trace', `${this.path}: malformed trace at byte ${offset}: ${why}`);
  }
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';

// The HEAD fields the analysis relies on, checked so a damaged trace is an error with its offset.
function checkHead(h: Record<string, unknown>, bad: (why: string) => never): TraceHead {
  if (h.version !== TRACE_VERSION) bad(`version ${JSON.stringify(h.version)}; this xbzrle reads version ${TRACE_VERSION}`);
  if (!isNum(h.pageSize) || !Number.isInteger(h.pageSize) || h.pageSize < 1 || h.pageSize > 2 ** 30) bad(`HEAD pageSize ${JSON.stringify(h.pageSize)} is not a page size`);
  if (!isNum(h.interval) || !(h.interval > 0)) bad(`HEAD interval ${JSON.stringify(h.interval)} is not a positive number`);
  if (!['none', 'outcomes', 'pages'].includes(h.contents as string)) bad(`HEAD contents ${JSON.stringify(h.contents)} is not none, outcomes or pages`);
  for (const k of ['method', 'methodReason', 'command', 'selection', 'startedAt'] as const) if (!isStr(h[k])) bad(`HEAD ${k} is not a string`);
  if (h.pid !== null && !isNum(h.pid)) bad('HEAD pid is not a number');
  if (h.contentBudget !== null && !isNum(h.contentBudget)) bad('HEAD contentBudget is not a number');
  if (typeof h.qemu !== 'boolean') bad('HEAD qemu is not true or false');
  if (h.sample !== undefined) {
    const sm = h.sample as Record<string, unknown> | null;
    if (sm === null || typeof sm !== 'object') bad('HEAD sample is not an object');
    try {
      new PageSample({ rate: sm.rate as number, run: sm.run as number, units: sm.units as number });
    } catch (err) {
      bad(`HEAD sample: ${(err as Error).message}`);
    }
  }
  return h as unknown as TraceHead;
}

function checkEnd(e: Record<string, unknown>, bad: (why: string) => never): TraceEnd {
  if (!isStr(e.ended)) bad('END ended is not a string');
  if (!isNum(e.ramBytes) || e.ramBytes < 0) bad('END ramBytes is not a byte count');
  if (!Array.isArray(e.regions)) bad('END regions is not a list');
  if (e.encodeMicrosPerPage !== null && !isNum(e.encodeMicrosPerPage)) bad('END encodeMicrosPerPage is not a number');
  return e as unknown as TraceEnd;
}
