// Cheap input that used to cost a lot (issue 16, items 9-12, 14, 15; issue
// 18): declared sizes, huge elements, endless MEM_SIZE lists, unaligned page
// offsets, pages past the codec, odd inputs. Each is refused with a coded
// error, or read at a cost that follows the bytes read; the jest timeout is
// the hang guard (the old code took from 20 s to minutes on these).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { RecordError, RecordReader, RecordWriter, inspectStream, readMigration, StreamError, type StreamInput } from '../lib';
import { Receiver } from '../lib/migration/receiver';
import { MAX_ELEMENT_BYTES } from '../lib/stream/byte-reader';
import { MAX_RAM_BYTES } from '../lib/stream/reader';
import { StreamBuilder } from './helpers/stream-builder';

const P = 4096;
const root = path.join(__dirname, '..');
const bin = path.join(root, 'bin', 'xbzrle.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xbzrle-limits-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function failure(input: StreamInput, options = {}): Promise<StreamError> {
  try {
    for await (const ev of readMigration(input, options)) void ev;
  } catch (err) {
    expect(err).toBeInstanceOf(StreamError);
    return err as StreamError;
  }
  throw new Error('the stream read without error');
}

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, 'inspect', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

/** A RAM section start declaring `blocks`, then one zero page at the end of each. */
function declaring(blocks: { name: string; length: number }[]): Buffer {
  const b = new StreamBuilder().header().start(2, 'ram').memSize(blocks);
  for (const blk of blocks) b.zero(blk.name, blk.length - P);
  return b.build();
}

describe('item 9: declared RAM sizes cost nothing until pages come', () => {
  test('a 65-byte stream declaring a 2^44-byte block reads at once; its one page is counted', async () => {
    const s = declaring([{ name: 'pc.ram', length: 2 ** 44 }]);
    expect(s.length).toBeLessThanOrEqual(65);
    const r = await inspectStream(s);
    expect(r.errors).toEqual([expect.objectContaining({ reason: 'truncated', offset: s.length })]);
    expect(r.blocks).toEqual([expect.objectContaining({ name: 'pc.ram', length: 2 ** 44, pagesSent: 1 })]);
  });

  test('many huge blocks (64 x 2^46 bytes) cost per page sent, not per page declared', async () => {
    const blocks = Array.from({ length: 64 }, (_, i) => ({ name: `b${i}`, length: 2 ** 46 }));
    const r = await inspectStream(declaring(blocks));
    expect(r.blocks.map((b) => b.pagesSent)).toEqual(blocks.map(() => 1));
  });

  test.each([2 ** 45, 2 ** 50, MAX_RAM_BYTES])('a block of %d bytes is read (no RangeError)', async (length) => {
    const r = await inspectStream(declaring([{ name: 'pc.ram', length }]));
    expect(r.errors.map((e) => e.reason)).toEqual(['truncated']);
    expect(r.blocks[0]).toMatchObject({ length, pagesSent: 1 });
  });

  test('RAM past 2^52 bytes is a StreamError "unsupported-size" at the MEM_SIZE record, and exit 1 in the CLI', async () => {
    const b = new StreamBuilder().header().start(2, 'ram');
    const at = b.offset;
    const s = b.memSize([{ name: 'pc.ram', length: 2 ** 53 }]).build();
    const err = await failure(s);
    expect(err).toMatchObject({ code: 'ERR_XBZRLE_STREAM', reason: 'unsupported-size', offset: at });
    expect(err.message).toMatch(/more than the 2\^52 bytes this reader supports/);
    const file = path.join(tmp, 'huge.bin');
    fs.writeFileSync(file, s);
    const c = cli([file]);
    expect(c.status).toBe(1);
    expect(c.out).toMatch(/unsupported-size/);
  });
});

describe('item 10: buffering is linear and one element is capped', () => {
  test(`a section that declares 0xFFFFFFFF bytes is refused before any is buffered (cap ${MAX_ELEMENT_BYTES} bytes)`, async () => {
    const b = new StreamBuilder().header();
    const at = b.offset;
    b.u8(0x07).be32(0xffffffff).raw(Buffer.alloc(1 << 20));
    const err = await failure(b.build());
    expect(err).toMatchObject({ reason: 'too-large', offset: at });
    expect(err.message).toMatch(/needs 4294967295 bytes, more than the 16 MiB this reader holds at once/);
  });

  test('a 32 KB gzip bomb behind such a header stops at the header, not after gunzipping it', async () => {
    const s = Buffer.concat([new StreamBuilder().header().u8(0x07).be32(0xffffffff).build(), Buffer.alloc(128 << 20)]);
    const gz = zlib.gzipSync(s, { level: 9 });
    expect(gz.length).toBeLessThan(256 << 10);
    const err = await failure(gz);
    expect(err).toMatchObject({ reason: 'too-large', offset: 8 });
  });

  test('an element just under the cap, fed in 4 KiB chunks, is joined once (linear)', async () => {
    const len = MAX_ELEMENT_BYTES - 16;
    const s = new StreamBuilder().header().u8(0x07).be32(len).raw(Buffer.alloc(len)).build();
    async function* chunks() {
      for (let i = 0; i < s.length; i += 4096) yield s.subarray(i, i + 4096);
    }
    // The configuration is all zeros, so it is malformed past its length field;
    // what matters is that the reader got there, having buffered it.
    const err = await failure(chunks());
    expect(err.reason).not.toBe('too-large');
    expect(err.offset).toBeGreaterThanOrEqual(13);
  });
});

describe('item 11: a MEM_SIZE record read incrementally, bounded', () => {
  function endless(entries: number): Buffer {
    const b = new StreamBuilder().be64(BigInt(2 ** 40) | 0x04n);
    const entry = Buffer.from([1, 0x61, 0, 0, 0, 0, 0, 0, 0, 0]); // block "a" of 0 bytes
    return Buffer.concat([b.build(), ...Array.from({ length: entries }, () => entry)]);
  }

  test('one-byte pushes of a 100,000-entry list: no re-parse per push, then "too-many-blocks"', () => {
    const s = endless(100_000);
    const r = new RecordReader();
    let err: unknown;
    let held = 0;
    try {
      for (let i = 0; i < s.length; i++) {
        r.push(s.subarray(i, i + 1));
        held = Math.max(held, r.pending - (r.pending > 8 ? Math.floor((r.pending - 8) / 10) * 10 : 0));
      }
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RecordError);
    expect(err).toMatchObject({ reason: 'too-many-blocks', offset: 8 + 65536 * 10 });
    expect(held).toBeLessThanOrEqual(18); // at most a header and one entry not yet parsed
  });

  test('64 KiB pushes of the same list fail the same way, at the same byte', () => {
    const s = endless(70_000);
    const r = new RecordReader();
    expect(() => {
      for (let i = 0; i < s.length; i += 65536) r.push(s.subarray(i, i + 65536));
    }).toThrow(expect.objectContaining({ reason: 'too-many-blocks', offset: 8 + 65536 * 10 }));
  });

  test('a complete list split anywhere gives one record', () => {
    const w = new RecordWriter().memSize([
      { name: 'pc.ram', length: 1 << 30 },
      { name: 'vga.vram', length: 16 << 20 },
    ]);
    const s = w.take();
    for (let cut = 1; cut < s.length; cut++) {
      const r = new RecordReader();
      const recs = [...r.push(s.subarray(0, cut)), ...r.push(s.subarray(cut))];
      expect(recs.map((x) => [x.type, x.blocks?.length, x.length])).toEqual([['mem-size', 2, s.length]]);
      r.end();
    }
  });
});

describe('item 12: a page record at offset 0x400 with 4 KiB pages', () => {
  // RecordWriter refuses to write one, so it is written by hand.
  const word = Buffer.from([0, 0, 0, 0, 0, 0, 0x04, 0x08]); // 0x400 | PAGE
  const record = Buffer.concat([word, Buffer.from([6]), Buffer.from('pc.ram'), Buffer.alloc(P, 0x5a)]);

  test('RecordReader refuses it with the offset', () => {
    const r = new RecordReader();
    expect(() => r.push(record)).toThrow(expect.objectContaining({ code: 'ERR_XBZRLE_RECORD', reason: 'unaligned-offset', offset: 0x400 }));
  });

  test('Receiver refuses it with the offset, memory untouched', () => {
    const memory = Buffer.alloc(4 * P);
    const rec = { type: 'page' as const, flags: 0x08, offset: 0x400, block: 'pc.ram', body: Buffer.alloc(P, 0x5a), at: 0, length: record.length };
    expect(() => new Receiver().receive(memory, rec)).toThrow(expect.objectContaining({ reason: 'unaligned-offset', offset: 0x400 }));
    expect(memory.every((b) => b === 0)).toBe(true);
  });

  test('the stream reader refuses it too (it used to mask the offset), at the record', async () => {
    const b = new StreamBuilder().header().start(2, 'ram').memSize([{ name: 'pc.ram', length: 4 * P }]).eos().part(2);
    const at = b.offset;
    const err = await failure(b.raw(record).build());
    expect(err).toMatchObject({ code: 'ERR_XBZRLE_STREAM', reason: 'unaligned-offset', offset: at });
    expect(err.message).toMatch(/offset 0x400, which is not a multiple of the 4096-byte page/);
    expect((err as { cause?: unknown }).cause).toMatchObject({ reason: 'unaligned-offset', offset: 0x400 });
  });
});

describe('item 14: pages above 16384 bytes', () => {
  const bits = (n: number) => {
    const body = Buffer.alloc(4);
    body.writeUInt32BE(n);
    return { name: 'configuration/target-page-bits', body };
  };
  test.each([15, 16])('target-page-bits %d is a StreamError "unsupported-page-size", exit 1 in the CLI', async (n) => {
    const b = new StreamBuilder().header();
    const s = b.configuration('pc', [bits(n)]).build();
    const err = await failure(s);
    expect(err).toMatchObject({ code: 'ERR_XBZRLE_STREAM', reason: 'unsupported-page-size' });
    expect(err.message).toMatch(new RegExp(`${2 ** n}-byte pages: pages above 16384 bytes are not supported`));
    const file = path.join(tmp, `bits${n}.bin`);
    fs.writeFileSync(file, s);
    expect(cli([file]).status).toBe(1);
  });

  test('readMigration with pageSize 32768 reads the header, then refuses the RAM section', async () => {
    const s = new StreamBuilder().header().start(2, 'ram').memSize([{ name: 'pc.ram', length: 1 << 20 }]).build();
    expect(await failure(s, { pageSize: 32768 })).toMatchObject({ reason: 'unsupported-page-size' });
  });
});

describe('item 15: odd inputs are StreamErrors', () => {
  test.each([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'boom'],
    ['an object without a message', { toString: () => { throw new Error('no'); } }],
  ])('an iterator that throws %s', async (_what, thrown) => {
    const input = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          throw thrown;
        },
      }),
    };
    const err = await failure(input as unknown as AsyncIterable<Uint8Array>);
    expect(err).toMatchObject({ reason: 'bad-input', offset: 0 });
  });

  test('an iterator that throws after some bytes: the error is at the bytes given', async () => {
    const head = new StreamBuilder().header().build();
    async function* input() {
      yield head;
      throw null;
    }
    expect(await failure(input())).toMatchObject({ reason: 'bad-input', offset: 8 });
  });

  function detached(): Uint8Array {
    const ab = new ArrayBuffer(16);
    const v = new Uint8Array(ab);
    structuredClone(ab, { transfer: [ab] });
    return v;
  }

  test.each([
    ['first', () => [detached()]],
    ['after the header', () => [new StreamBuilder().header().build(), detached()]],
  ])('a detached Uint8Array yielded %s', async (_when, make) => {
    const err = await failure(make());
    expect(err).toMatchObject({ reason: 'bad-input' });
    expect(err.message).toMatch(/detached/);
  });

  test.each([
    ['a number', [42]],
    ['a string', ['QEVM']],
    ['null', [null]],
  ])('a chunk that is %s', async (_what, chunks) => {
    const err = await failure(chunks as unknown as Uint8Array[]);
    expect(err).toMatchObject({ reason: 'bad-input' });
  });
});

describe('issue 18: arguments are checked at call time', () => {
  test.each([123, null, undefined, {}, true, ''])('readMigration(%p) throws TypeError before any iteration', (input) => {
    expect(() => readMigration(input as never)).toThrow(TypeError);
  });

  test('bad options: TypeError/RangeError at the call', () => {
    const s = new StreamBuilder().header().build();
    expect(() => readMigration(s, null as never)).toThrow(TypeError);
    expect(() => readMigration(s, { pageSize: '4096' as never })).toThrow(TypeError);
    expect(() => readMigration(s, { pageSize: 0 })).toThrow(RangeError);
    expect(() => readMigration(s, { pageSize: 1.5 })).toThrow(RangeError);
  });

  test('inspectStream rejects a bad input or option with TypeError', async () => {
    await expect(inspectStream(123 as never)).rejects.toThrow(TypeError);
    await expect(inspectStream(Buffer.alloc(1), { extractRam: 5 as never })).rejects.toThrow(TypeError);
  });

  test('`xbzrle inspect junk.bin` prints only the error, exit 1', () => {
    const file = path.join(tmp, 'junk.bin');
    fs.writeFileSync(file, 'this is not a migration stream at all');
    const r = cli([file]);
    expect(r.status).toBe(1);
    expect(r.out).toBe('');
    expect(r.err.trim().split('\n')).toEqual([expect.stringMatching(/^xbzrle inspect: .*junk\.bin: not a QEMU migration stream.*byte 0/)]);
  });
});
