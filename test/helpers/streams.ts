// Helpers for the migration-stream tests: the committed fixtures, a check of
// every XBZRLE record, and hashes of rebuilt RAM ranges.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { decode, encode, readMigration, type StreamInput } from '../../lib';
import { explain } from '../../lib/stream/reencode';

export const STREAMS = path.join(__dirname, '..', 'fixtures', 'streams');

export interface RangeMeta {
  blockOffset: number;
  guestAddr: number;
  length: number;
}

/** The parts of scripts/make-stream.js's meta.json the tests read. */
export interface StreamMeta {
  qemu: string;
  mode: string;
  stream: { file: string; bytes: number; readBytes: number; storedBytes: number };
  qemuStats: { ram: Record<string, number>; xbzrle: { bytes: number; pages: number; overflow: number; 'cache-miss': number } };
  reader: {
    records: Record<string, { count: number; bytes: number }>;
    passes: number;
    parts: number;
    xbzrle: { records: number; deltaBytes: number; qemuBytes: number };
    resent: { raw: number; wouldOverflow: number; wouldFit: number; unchanged: number; zero: number };
  };
  destination: { allEqual: boolean; blocks: { name: string; ranges: RangeMeta[]; bytes: number; destSha256: string; equal: boolean }[] };
}

export function fixturePath(name: string): string {
  return path.join(STREAMS, `${name}.stream.gz`);
}

export function loadMeta(file: string): StreamMeta {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as StreamMeta;
}

export function fixtureBytes(name: string): Buffer {
  return zlib.gunzipSync(fs.readFileSync(fixturePath(name)));
}

export interface XbzrleCheck {
  records: number;
  identical: number;
  /** Σ (delta + 3): QEMU's "bytes" statistic without its overflows. */
  qemuBytes: number;
  differences: string[];
}

/**
 * Follows the receiver's pages through the stream (a page map of its own,
 * independent of RamImage) and, for every XBZRLE record, decodes the delta
 * onto the page the receiver had, then re-encodes (old, new): QEMU's cache
 * equals the receiver's page, so our canonical encoding must be QEMU's bytes.
 */
export async function checkXbzrleRecords(input: StreamInput): Promise<XbzrleCheck> {
  const pages = new Map<string, Buffer>();
  const out: XbzrleCheck = { records: 0, identical: 0, qemuBytes: 0, differences: [] };
  for await (const ev of readMigration(input)) {
    if (ev.kind !== 'zero' && ev.kind !== 'page' && ev.kind !== 'compressed-page' && ev.kind !== 'xbzrle') continue;
    const key = `${ev.block}@${ev.addr}`;
    if (ev.kind === 'zero') pages.set(key, Buffer.alloc(4096, ev.fill));
    else if (ev.kind !== 'xbzrle') pages.set(key, Buffer.from(ev.data));
    else {
      const before = pages.get(key) ?? Buffer.alloc(4096);
      const after = decode(before, ev.delta);
      const again = encode(before, after);
      out.records++;
      out.qemuBytes += ev.delta.length + 3;
      if (again && again.equals(ev.delta)) out.identical++;
      else if (out.differences.length < 10) out.differences.push(`byte ${ev.offset} (${key}): ${explain(before, ev.delta)}`);
      pages.set(key, after);
    }
  }
  return out;
}

/** SHA-256 of a block's ranges read from a rebuilt block file, in order. */
export function hashRanges(file: string, ranges: RangeMeta[]): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    for (const r of ranges) {
      const b = Buffer.alloc(r.length);
      fs.readSync(fd, b, 0, r.length, r.blockOffset);
      h.update(b);
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}
