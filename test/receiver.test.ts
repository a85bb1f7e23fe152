// Receiver: applies XBZRLE record bodies with no cache; every bad record is a
// clear error and leaves the page untouched. On the addon and the twin.
import { Receiver, RecordError, RecordReader, RecordWriter, XbzrleError, xbzrleBody, type RamRecord } from '../lib';
import { eachBackend } from './helpers/backends';

const P = 4096;

eachBackend(() => {
  const rx = new Receiver({ pageSize: P });

  test('applies a record body in place and returns the bytes covered', () => {
    const page = Buffer.alloc(P, 1);
    expect(rx.applyRecord(page, Buffer.from([1, 0, 5, 2, 3, 7, 8, 9]))).toBe(5);
    expect([...page.subarray(0, 6)]).toEqual([1, 1, 7, 8, 9, 1]);
    expect(rx.applyRecord(page, xbzrleBody(Buffer.alloc(0)))).toBe(0); // an empty delta
  });

  type Bad = [string, number[], typeof RecordError | typeof XbzrleError, object];
  const bad: Bad[] = [
    ['an empty body', [], RecordError, { reason: 'body-short', offset: 0 }],
    ['a wrong encoding flag', [2, 0, 2, 0, 1], RecordError, { reason: 'bad-encoding-flag', offset: 0 }],
    ['a zero encoding flag', [0, 0, 0], RecordError, { reason: 'bad-encoding-flag', offset: 0 }],
    ['no length field', [1, 0], RecordError, { reason: 'body-short', offset: 2 }],
    ['a length over the page size', [1, 0x10, 0x01, ...new Array(4097).fill(0)], RecordError, { reason: 'length-over-page', offset: 1 }],
    ['a body shorter than its length', [1, 0, 5, 0, 3, 1, 2], RecordError, { reason: 'body-short', offset: 7 }],
    ['a body longer than its length', [1, 0, 2, 0, 1, 9], RecordError, { reason: 'body-long', offset: 5 }],
    ['a truncated run pair', [1, 0, 1, 0], XbzrleError, { reason: 'truncated', offset: 0 }],
    ['a three-byte ULEB128', [1, 0, 3, 0x80, 0x80, 1], XbzrleError, { reason: 'uleb128-too-long', offset: 0 }],
    ['an empty changed run', [1, 0, 3, 0, 0, 5], XbzrleError, { reason: 'empty-changed-run', offset: 1 }],
    ['a run past the page', [1, 0, 4, 0xff, 0x1f, 2, 0], XbzrleError, { reason: 'run-past-page', offset: 2 }],
  ];
  test.each(bad)('rejects %s, the page untouched', (_n, body, cls, fields) => {
    const page = Buffer.alloc(P, 0x5a);
    let err: unknown;
    try {
      rx.applyRecord(page, Buffer.from(body));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(cls);
    expect(err).toMatchObject(fields);
    expect((err as Error).message).toMatch(/malformed/);
    expect(page.every((b) => b === 0x5a)).toBe(true);
  });

  test('record errors carry a code', () => {
    expect(() => rx.applyRecord(Buffer.alloc(P), Buffer.from([9, 0, 0]))).toThrow(
      expect.objectContaining({ code: 'ERR_XBZRLE_RECORD', name: 'RecordError' }),
    );
    expect(() => rx.applyRecord(Buffer.alloc(P), Buffer.from([1, 0, 1, 0]))).toThrow(
      expect.objectContaining({ code: 'ERR_XBZRLE_MALFORMED' }),
    );
  });

  test('receive() applies reader records to a memory image', () => {
    const w = new RecordWriter();
    w.memSize([{ name: 'm', length: 4 * P }]);
    w.page(0, 'm', Buffer.alloc(P, 3));
    w.zero(P, 'm', 0);
    w.xbzrle(0, 'm', xbzrleBody(Buffer.from([1, 1, 9])));
    w.eos();
    const mem = Buffer.alloc(4 * P, 0xff);
    const recs = new RecordReader().push(w.take());
    expect(recs.map((r) => rx.receive(mem, r))).toEqual([false, true, true, true, false]);
    expect([...mem.subarray(0, 3)]).toEqual([3, 9, 3]);
    expect(mem.subarray(P, 2 * P).every((b) => b === 0)).toBe(true);
    expect(mem.subarray(2 * P).every((b) => b === 0xff)).toBe(true);
  });

  // Built by hand: RecordReader refuses such records itself.
  const at = (type: 'page' | 'zero' | 'xbzrle', offset: number | bigint, body: Buffer): RamRecord =>
    ({ type, flags: { page: 0x08, zero: 0x02, xbzrle: 0x40 }[type], offset, block: 'm', body, at: 0, length: 0 }) as RamRecord;

  test.each([
    ['PAGE', () => at('page', 0x400, Buffer.alloc(P, 3))],
    ['ZERO', () => at('zero', 0x400, Buffer.from([7]))],
    ['XBZRLE', () => at('xbzrle', P + 0xc00, xbzrleBody(Buffer.from([0, 1, 9])))],
    ['bigint PAGE', () => at('page', 0x400n, Buffer.alloc(P, 3))],
  ])('a %s record between two pages is refused with its offset, memory untouched', (_n, make) => {
    const rec = make();
    const mem = Buffer.alloc(4 * P, 0xee);
    let err: unknown;
    try {
      rx.receive(mem, rec);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RecordError);
    expect(err).toMatchObject({ code: 'ERR_XBZRLE_RECORD', reason: 'unaligned-offset', offset: Number(rec.offset) });
    expect((err as Error).message).toMatch(/not a multiple of the page size/);
    expect(mem.every((b) => b === 0xee)).toBe(true);
  });

  test('bad arguments', () => {
    expect(() => rx.applyRecord(Buffer.alloc(100), Buffer.from([1, 0, 0]))).toThrow(/"page".*4096.*100/);
    expect(() => rx.applyRecord(Buffer.alloc(P), 'x' as never)).toThrow(/"body"/);
    expect(() => rx.applyRecord(null as never, Buffer.from([1, 0, 0]))).toThrow(TypeError);
    expect(() => new Receiver({ pageSize: 0 })).toThrow(/"pageSize"/);
    const rec = new RecordReader().push(new RecordWriter().zero(8 * P, 'm').take())[0];
    expect(() => rx.receive(Buffer.alloc(4 * P), rec)).toThrow(/outside the 16384-byte memory/);
  });
});
