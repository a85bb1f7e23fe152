// The committed QEMU stream, cut short or corrupted at chosen records: each
// damage is reported with the byte offset where it is, and what was read
// before it is kept.
import { inspectStream, readMigration, StreamError, type XbzrleEvent } from '../lib';
import { fixtureBytes } from './helpers/streams';

const bytes = fixtureBytes('small-xbzrle');

interface Landmarks {
  /** An XBZRLE record (QEMU names the block only when it changes, so it is a CONTINUE one). */
  xbzrle: XbzrleEvent;
  /** The offset of a record that names its block. */
  named: number;
  /** A section part header (type byte) and a page record. */
  part: number;
  page: number;
  /** XBZRLE records before `xbzrle`. */
  xbzrleBefore: number;
}

let marks: Landmarks;
beforeAll(async () => {
  const found: Partial<Landmarks> = { xbzrleBefore: 0 };
  for await (const ev of readMigration(bytes)) {
    if (ev.kind === 'xbzrle' && !found.xbzrle && ev.delta.length <= 10) found.xbzrleBefore!++;
    if (ev.kind === 'xbzrle' && ev.delta.length > 10 && !found.xbzrle) found.xbzrle = { ...ev, delta: Buffer.from(ev.delta) };
    if ((ev.kind === 'page' || ev.kind === 'zero') && !ev.continued && found.named === undefined) found.named = ev.offset;
    if (ev.kind === 'section' && ev.type === 'part' && found.xbzrle && !found.part) found.part = ev.offset;
    if (ev.kind === 'page' && found.part && !found.page) found.page = ev.offset;
  }
  marks = found as Landmarks;
});

async function readError(input: Buffer): Promise<StreamError> {
  try {
    for await (const ev of readMigration(input)) void ev;
  } catch (err) {
    return err as StreamError;
  }
  throw new Error('read without error');
}

function damaged(at: number, value: number): Buffer {
  const b = Buffer.from(bytes);
  b[at] = value;
  return b;
}

describe('a truncated QEMU stream', () => {
  test.each([
    ['inside the header', () => 5, /inside the stream header/],
    ['inside an XBZRLE delta', () => marks.xbzrle.deltaOffset + 5, /inside an XBZRLE record that starts at byte/],
    ['inside an XBZRLE record header', () => marks.xbzrle.offset + 4, /inside a RAM record header/],
    ['inside a page', () => marks.page + 1000, /inside a page record that starts at byte/],
    ['right before a section part', () => marks.part, /before its EOF marker/],
  ])('%s: the error is at the cut', async (_what, at, message) => {
    const cut = at();
    const err = await readError(bytes.subarray(0, cut));
    expect(err).toBeInstanceOf(StreamError);
    expect(err).toMatchObject({ code: 'ERR_XBZRLE_STREAM', reason: 'truncated' });
    expect(err.offset).toBe(cut);
    expect(err.message).toMatch(message);
  });

  test('inspect keeps the counts up to the cut and reports RAM incomplete', async () => {
    const r = await inspectStream(bytes.subarray(0, marks.xbzrle.deltaOffset + 5));
    expect(r.errors).toEqual([expect.objectContaining({ code: 'ERR_XBZRLE_STREAM', reason: 'truncated', offset: marks.xbzrle.deltaOffset + 5 })]);
    expect(r.ramComplete).toBe(false);
    expect(r.xbzrle.records).toBe(marks.xbzrleBefore);
    expect(r.records.zero.count).toBeGreaterThan(30000);
  });
});

describe('a corrupted QEMU stream', () => {
  test('a wrong magic is reported at byte 0', async () => {
    const err = await readError(damaged(0, 0x51 ^ 0xff));
    expect([err.reason, err.offset]).toEqual(['bad-magic', 0]);
  });

  test("an XBZRLE record's encoding byte", async () => {
    const at = marks.xbzrle.deltaOffset - 3;
    const err = await readError(damaged(at, 0x02));
    expect([err.reason, err.offset]).toEqual(['bad-xbzrle', at]);
  });

  test("an XBZRLE record's length over the page size", async () => {
    const at = marks.xbzrle.deltaOffset - 2;
    const err = await readError(damaged(at, 0x10)); // 0x10xx > 4096
    expect([err.reason, err.offset]).toEqual(['bad-xbzrle', at]);
    expect(err.message).toMatch(/longer than the 4096-byte page/);
  });

  test("a block name's letter", async () => {
    const at = marks.named + 9; // first letter after the address word and length byte
    const err = await readError(damaged(at, 0x21));
    expect([err.reason, err.offset]).toEqual(['unknown-block', marks.named]);
  });

  test("a record's flags", async () => {
    const at = marks.xbzrle.offset + 7; // low byte of the address word: the flags
    const err = await readError(damaged(at, 0x61)); // XBZRLE | CONTINUE | 0x01
    expect([err.reason, err.offset]).toEqual(['bad-ram-flags', marks.xbzrle.offset]);
  });

  test('a section type byte', async () => {
    const err = await readError(damaged(marks.part, 0x09));
    expect([err.reason, err.offset]).toEqual(['bad-section', marks.part]);
  });

  test('a delta the decoder rejects: reported at its bad byte, reading goes on, the page is kept', async () => {
    const b = Buffer.from(bytes);
    const at = marks.xbzrle.deltaOffset;
    b[at] = 0xff; // a first run length that needs three ULEB128 bytes
    b[at + 1] = 0xff;
    const r = await inspectStream(b);
    expect(r.errors).toEqual([expect.objectContaining({ code: 'ERR_XBZRLE_STREAM', reason: 'bad-xbzrle', offset: at })]);
    expect(r.errors[0].message).toMatch(/more than two ULEB128 bytes/);
    expect(r.ramComplete).toBe(true);
    const clean = await inspectStream(bytes);
    expect(r.xbzrle.records).toBe(clean.xbzrle.records - 1);
  });
});
