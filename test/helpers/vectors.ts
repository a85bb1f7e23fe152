// Readers for the QEMU-made vectors in test/fixtures (format: test/fixtures/README.md).
import * as fs from 'node:fs';
import * as path from 'node:path';

const dir = path.join(__dirname, '..', 'fixtures');

export interface PairVector {
  id: number;
  flags: number;
  scalarRet: number;
  avx512Ret: number;
  unboundedRet: number;
  oldPage: Buffer;
  newPage: Buffer;
  scalarEnc: Buffer;
  avx512Enc: Buffer;
  unboundedEnc: Buffer;
}

export interface MalformedVector {
  id: number;
  src: Buffer;
  qemuRet: number;
  after: Buffer;
}

function header(buf: Buffer, magic: string): { count: number; pageSize: number } {
  if (buf.toString('latin1', 0, 8) !== magic) throw new Error(`bad magic, expected ${magic}`);
  return { count: buf.readUInt32LE(8), pageSize: buf.readUInt32LE(12) };
}

export function readPairs(): PairVector[] {
  const buf = fs.readFileSync(path.join(dir, 'pairs.bin'));
  const { count, pageSize } = header(buf, 'XBZVEC01');
  const out: PairVector[] = [];
  let o = 16;
  for (let k = 0; k < count; k++) {
    const id = buf.readUInt32LE(o);
    const flags = buf.readUInt32LE(o + 4);
    const scalarRet = buf.readInt32LE(o + 8);
    const avx512Ret = buf.readInt32LE(o + 12);
    const unboundedRet = buf.readInt32LE(o + 16);
    o += 20;
    const take = (n: number): Buffer => {
      const b = buf.subarray(o, o + n);
      o += n;
      return b;
    };
    const oldPage = take(pageSize);
    const newPage = take(pageSize);
    const scalarEnc = take(Math.max(scalarRet, 0));
    const avx512Enc = take(Math.max(avx512Ret, 0));
    const unboundedEnc = take(unboundedRet);
    out.push({ id, flags, scalarRet, avx512Ret, unboundedRet, oldPage, newPage, scalarEnc, avx512Enc, unboundedEnc });
  }
  if (o !== buf.length) throw new Error('pairs.bin: trailing bytes');
  return out;
}

export function readMalformed(): MalformedVector[] {
  const buf = fs.readFileSync(path.join(dir, 'malformed.bin'));
  const { count, pageSize } = header(buf, 'XBZMAL01');
  const out: MalformedVector[] = [];
  let o = 16;
  for (let k = 0; k < count; k++) {
    const id = buf.readUInt32LE(o);
    const len = buf.readUInt32LE(o + 4);
    const qemuRet = buf.readInt32LE(o + 8);
    o += 12;
    const src = buf.subarray(o, o + len);
    o += len;
    const after = buf.subarray(o, o + pageSize);
    o += pageSize;
    out.push({ id, src, qemuRet, after });
  }
  if (o !== buf.length) throw new Error('malformed.bin: trailing bytes');
  return out;
}
