// RAM record framing (docs/FORMAT.md §2): the header, the bodies, the writer and
// the incremental reader, its chunking and its errors on garbage.
import {
  ENCODING_XBZRLE,
  RecordError,
  RecordFlag,
  RecordReader,
  RecordWriter,
  pageHeader,
  xbzrleBody,
  type RamRecord,
} from '../lib';
import { rng } from '../lib/bench/traces';

const P = 4096;

describe('header and bodies', () => {
  test('the header is be64 offset | flags, then u8 length and the block name', () => {
    const h = pageHeader(0x12345000, RecordFlag.PAGE, 'pc.ram');
    expect(h.readBigUInt64BE(0)).toBe(0x12345000n | 0x08n);
    expect(h[8]).toBe(6);
    expect(h.toString('latin1', 9)).toBe('pc.ram');
    expect(h.length).toBe(15);
  });

  test('CONTINUE omits the block name', () => {
    const h = pageHeader(4096n, RecordFlag.ZERO | RecordFlag.CONTINUE);
    expect([...h]).toEqual([0, 0, 0, 0, 0, 0, 0x10, 0x22]);
  });

  test('64-bit offsets as bigint', () => {
    expect(pageHeader(0xffff_ffff_ffff_f000n, RecordFlag.XBZRLE | RecordFlag.CONTINUE).readBigUInt64BE(0)).toBe(
      0xffff_ffff_ffff_f060n,
    );
  });

  test('the flag constants are QEMU values', () => {
    expect(RecordFlag).toEqual({ ZERO: 0x02, MEM_SIZE: 0x04, PAGE: 0x08, EOS: 0x10, CONTINUE: 0x20, XBZRLE: 0x40 });
    expect(ENCODING_XBZRLE).toBe(0x01);
  });

  test('the XBZRLE body is 0x01, be16 length, delta', () => {
    expect([...xbzrleBody(Buffer.from([0, 1, 7]))]).toEqual([1, 0, 3, 0, 1, 7]);
    const long = xbzrleBody(Buffer.alloc(300, 5));
    expect([long[1], long[2]]).toEqual([1, 44]);
  });

  test('bad arguments', () => {
    expect(() => pageHeader(100, RecordFlag.PAGE, 'x')).toThrow(/"offset".*multiple of 1024/);
    expect(() => pageHeader(0, RecordFlag.PAGE)).toThrow(/"block".*string/);
    expect(() => pageHeader(0, RecordFlag.PAGE, '')).toThrow(/"block".*1 to 255/);
    expect(() => pageHeader(0, RecordFlag.PAGE, 'é'.repeat(128))).toThrow(/256 bytes/);
    expect(() => pageHeader(0, 0x400, 'x')).toThrow(/"flags"/);
    expect(() => pageHeader(-1024, RecordFlag.PAGE, 'x')).toThrow(RangeError);
    expect(() => xbzrleBody('ab' as never)).toThrow(TypeError);
    expect(() => xbzrleBody(Buffer.alloc(16385))).toThrow(RangeError);
  });
});

/** A stream of every kind of record, and what the reader must return. */
function sample(): { stream: Buffer; want: Partial<RamRecord>[] } {
  const w = new RecordWriter({ pageSize: P });
  const page = Buffer.alloc(P, 0xab);
  const body = xbzrleBody(Buffer.from([2, 1, 9]));
  w.memSize([
    { name: 'pc.ram', length: 1 << 30 },
    { name: 'vga.vram', length: 16 << 20 },
  ]);
  w.page(0, 'pc.ram', page);
  w.zero(P, 'pc.ram');
  w.xbzrle(2 * P, 'pc.ram', body);
  w.zero(0, 'vga.vram', 0x11);
  w.page(3 * P, 'pc.ram', page);
  w.eos();
  const want: Partial<RamRecord>[] = [
    { type: 'mem-size', flags: 0x04, offset: (1 << 30) + (16 << 20) },
    { type: 'page', flags: 0x08, offset: 0, block: 'pc.ram' },
    { type: 'zero', flags: 0x22, offset: P, block: 'pc.ram', fill: 0 },
    { type: 'xbzrle', flags: 0x60, offset: 2 * P, block: 'pc.ram' },
    { type: 'zero', flags: 0x02, offset: 0, block: 'vga.vram', fill: 0x11 },
    { type: 'page', flags: 0x08, offset: 3 * P, block: 'pc.ram' },
    { type: 'eos', flags: 0x10, offset: 0 },
  ];
  return { stream: w.take(), want };
}

function summary(r: RamRecord): Partial<RamRecord> {
  const { type, flags, offset, block, fill } = r;
  const s: Partial<RamRecord> = { type, flags, offset };
  if (block !== undefined) s.block = block;
  if (fill !== undefined) s.fill = fill;
  return s;
}

describe('writer and reader', () => {
  test('a stream reads back as written, in one push', () => {
    const { stream, want } = sample();
    const r = new RecordReader({ pageSize: P });
    const got = r.push(stream);
    r.end();
    expect(got.map(summary)).toEqual(want);
    expect(got[0].blocks).toEqual([
      { name: 'pc.ram', length: 1 << 30 },
      { name: 'vga.vram', length: 16 << 20 },
    ]);
    expect(got[1].body!.equals(Buffer.alloc(P, 0xab))).toBe(true);
    expect([...got[3].body!]).toEqual([1, 0, 3, 2, 1, 9]);
    expect([...got[3].delta!]).toEqual([2, 1, 9]);
    expect(got.reduce((n, x) => n + x.length, 0)).toBe(stream.length);
    expect(got.map((x) => x.at)).toEqual(got.map((_, i) => got.slice(0, i).reduce((n, x) => n + x.length, 0)));
    expect(r.offset).toBe(stream.length);
    // Inside one chunk, bodies are views of it: no copy.
    expect(got[1].body!.buffer).toBe(stream.buffer);
  });

  test('byte by byte, and in random chunks, the records are the same', () => {
    const { stream, want } = sample();
    const one = new RecordReader();
    const got: RamRecord[] = [];
    for (let i = 0; i < stream.length; i++) got.push(...one.push(stream.subarray(i, i + 1)));
    one.end();
    expect(got.map(summary)).toEqual(want);
    expect(got[1].body!.equals(Buffer.alloc(P, 0xab))).toBe(true);
    const rand = rng(2);
    for (let round = 0; round < 20; round++) {
      const r = new RecordReader();
      const all: RamRecord[] = [];
      for (let i = 0; i < stream.length; ) {
        const n = 1 + ((rand() * 3000) | 0);
        all.push(...r.push(stream.subarray(i, i + n)));
        i += n;
      }
      r.end();
      expect(all.map(summary)).toEqual(want);
      expect(Buffer.concat(all.map((x) => x.body ?? Buffer.alloc(0))).equals(
        Buffer.concat(got.map((x) => x.body ?? Buffer.alloc(0))),
      )).toBe(true);
    }
  });

  test('the reader never reads past what it was given', () => {
    const { stream } = sample();
    // The stream sits in a larger buffer followed by garbage; pushing exact
    // views must behave as if the garbage were not there.
    const big = Buffer.concat([stream, Buffer.alloc(100, 0xff)]);
    const r = new RecordReader();
    const a = r.push(big.subarray(0, 20));
    const b = r.push(big.subarray(20, stream.length));
    expect(() => r.end()).not.toThrow();
    expect(a.length + b.length).toBe(7);
    // A partial record is held back (copied), not read past.
    const r2 = new RecordReader();
    expect(r2.push(big.subarray(0, 10))).toEqual([]);
    expect(r2.pending).toBe(10);
    big.fill(0xee, 0, 10); // the caller reuses its chunk: the reader kept a copy
    const rest = r2.push(stream.subarray(10));
    expect(rest.map(summary)).toEqual(sample().want);
  });

  test('the writer uses CONTINUE for consecutive records of a block, as QEMU', () => {
    const w = new RecordWriter();
    expect(w.continues('a')).toBe(false);
    w.zero(0, 'a');
    expect(w.continues('a')).toBe(true);
    w.zero(P, 'a');
    w.zero(0, 'b');
    w.eos(); // EOS does not change the block
    w.zero(2 * P, 'b');
    const recs = new RecordReader().push(w.take());
    expect(recs.map((r) => [r.flags & RecordFlag.CONTINUE ? 'C' : 'N', r.block ?? '-'])).toEqual([
      ['N', 'a'],
      ['C', 'a'],
      ['N', 'b'],
      ['N', '-'],
      ['C', 'b'],
    ]);
    expect(w.length).toBe(0);
    expect(w.lastBlock).toBe('b');
  });

  test('framed() appends records already framed and sets the block', () => {
    const a = new RecordWriter();
    a.zero(0, 'blk');
    const pre = a.take();
    const w = new RecordWriter();
    w.framed(pre, 'blk').zero(P, 'blk');
    w.framed(Buffer.alloc(0), 'other'); // nothing written: the block stays
    w.zero(2 * P, 'blk');
    const recs = new RecordReader().push(w.take());
    expect(recs.map((r) => r.flags)).toEqual([0x02, 0x22, 0x22]);
  });

  test('a 64-bit offset reads back as a bigint, a safe one as a number', () => {
    const w = new RecordWriter();
    w.zero(0xffff_ffff_ffff_f000n, 'x').zero(2 ** 52, 'x');
    const recs = new RecordReader().push(w.take());
    expect(recs[0].offset).toBe(0xffff_ffff_ffff_f000n);
    expect(recs[1].offset).toBe(2 ** 52);
  });

  test('the writer checks what it writes', () => {
    const w = new RecordWriter({ pageSize: 1024 });
    expect(() => w.page(0, 'x', Buffer.alloc(P))).toThrow(/"data".*1024/);
    expect(() => w.xbzrle(0, 'x', Buffer.from([2, 0, 0]))).toThrow(RecordError);
    expect(() => w.xbzrle(0, 'x', xbzrleBody(Buffer.alloc(1025)))).toThrow(/length-over-page|larger than the page/);
    expect(() => w.zero(0, 'x', 256)).toThrow(/"fill"/);
    expect(() => w.memSize([{ name: 'x', length: 1000 }])).toThrow(/"total".*1024/);
    expect(() => new RecordWriter({ pageSize: 0 })).toThrow(/"pageSize"/);
    expect(w.length).toBe(0); // nothing half-written
  });
});

describe('garbage', () => {
  function fails(bytes: Uint8Array | number[], reason: string, offset: number, prefix: Uint8Array = Buffer.alloc(0)): RecordError {
    const r = new RecordReader();
    const data = Buffer.concat([prefix, Buffer.from(bytes)]);
    let err: unknown;
    try {
      r.push(data);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RecordError);
    expect(err).toMatchObject({ code: 'ERR_XBZRLE_RECORD', reason, offset });
    // The reader stays failed.
    expect(() => r.push(Buffer.alloc(1))).toThrow(RecordError);
    return err as RecordError;
  }
  const word = (lo: number): number[] => [0, 0, 0, 0, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff];

  test('unknown, missing or combined flags', () => {
    fails(word(0x01), 'unknown-flags', 0); // COMPRESS (old): not supported
    fails(word(0x100), 'unknown-flags', 0);
    fails(word(0x200), 'unknown-flags', 0);
    fails(word(0x80), 'unknown-flags', 0);
    fails(word(0x00), 'unknown-flags', 0);
    fails(word(0x20), 'unknown-flags', 0); // CONTINUE alone
    fails(word(0x0a), 'unknown-flags', 0); // ZERO | PAGE
    fails(word(0x24), 'unknown-flags', 0); // MEM_SIZE | CONTINUE
  });

  test('EOS with an offset or CONTINUE', () => {
    fails(word(0x1010), 'bad-eos', 0);
    fails(word(0x30), 'bad-eos', 0);
  });

  test('CONTINUE before any block; an empty block name', () => {
    fails(word(0x22), 'no-block', 0);
    fails([...word(0x02), 0, 0], 'empty-block-name', 8);
  });

  test('a bad XBZRLE encoding flag or length, at the byte where it is', () => {
    const head = [...word(0x40), 1, 0x41];
    fails([...head, 0x02, 0, 1, 0], 'bad-encoding-flag', 10);
    fails([...head, 0x01, 0x10, 0x01], 'length-over-page', 11); // 4097 > 4096
  });

  test('MEM_SIZE blocks adding up past the total', () => {
    fails([...word(0x1004), 1, 0x61, 0, 0, 0, 0, 0, 0, 0x20, 0], 'mem-size-overrun', 8);
  });

  test('offsets count from the start of the stream; complete records come with the error', () => {
    const { stream } = sample();
    const err = fails(word(0x80), 'unknown-flags', stream.length, stream);
    expect(err.records).toHaveLength(7);
  });

  test('a stream that ends inside a record', () => {
    const { stream } = sample();
    const r = new RecordReader();
    r.push(stream.subarray(0, 200));
    expect(() => r.end()).toThrow(expect.objectContaining({ reason: 'truncated', offset: 40 }));
  });

  test('push checks its argument', () => {
    expect(() => new RecordReader().push('x' as never)).toThrow(/"chunk"/);
  });
});
