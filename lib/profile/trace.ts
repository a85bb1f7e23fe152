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
import type { PassRecord } from './profiler';

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
}

/** The END chunk. */
export interface TraceEnd {
  ended: string;
  passes: number;
  ramBytes: number;
  regions: { start: number; end: number; offset: number; path: string }[];
  /** The encoder's time per page, microseconds, timed on sampled page pairs (null: no encode). */
  encodeMicrosPerPage: number | null;
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
  private pos = 0;

  constructor(readonly path: string) {
    try {
      this.fd = fs.openSync(path, 'r');
    } catch (err) {
      throw new ProfileError('bad-trace', `cannot open trace ${path}: ${(err as Error).message}`);
    }
    const magic = this.read(8);
    if (magic.toString('latin1') !== TRACE_MAGIC) this.bad('not an xbzrle trace (no XBZTRACE magic)');
    const first = this.next();
    if (!first || first.kind !== 'HEAD') this.bad('the HEAD chunk is missing');
    this.head = JSON.parse(first.body.toString('utf8')) as TraceHead;
    if (this.head.version !== TRACE_VERSION) this.bad(`version ${this.head.version}; this xbzrle reads version ${TRACE_VERSION}`);
  }

  /** The passes, in order (END, when present, is read on the way). */
  *passes(): Generator<PassRecord> {
    const P = this.head.pageSize;
    for (let c = this.next(); c; c = this.next()) {
      if (c.kind === 'END ') {
        this.end = JSON.parse(c.body.toString('utf8')) as TraceEnd;
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
      yield {
        generation: b.readUInt32LE(0),
        start: b.readDoubleLE(8),
        end: b.readDoubleLE(16),
        costSampleRate: b.readDoubleLE(24),
        encodeSeconds: b.readDoubleLE(32),
        cpuSeconds: b.readDoubleLE(40),
        encodes: b.readUInt32LE(48),
        totalPages: b.readUInt32LE(52),
        residentPages: b.readUInt32LE(56),
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
    const h = this.tryRead(12);
    if (!h) return null;
    const len = h.readUInt32LE(4) + h.readUInt32LE(8) * 2 ** 32;
    const body = this.tryRead(len);
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

  private bad(why: string): never {
    throw new ProfileError('bad-trace', `${this.path}: ${why}`);
  }
}
