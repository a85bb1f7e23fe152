// readMigration on synthetic streams: every record kind, every way to feed
// it, where it stops, and each malformed input with the offset it reports.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { encode, inspectStream, readMigration, StreamError, type MigrationEvent, type StreamInput } from '../lib';
import { StreamBuilder } from './helpers/stream-builder';

const P = 4096;
const RAM = [
  { name: 'pc.ram', length: 16 * P },
  { name: 'pc.rom', length: 2 * P },
];

async function events(input: StreamInput): Promise<MigrationEvent[]> {
  const out: MigrationEvent[] = [];
  for await (const ev of readMigration(input)) {
    // Copy the views so the events outlive the reader's buffers.
    if ('data' in ev) ev.data = Buffer.from(ev.data);
    if ('delta' in ev) ev.delta = Buffer.from(ev.delta);
    out.push(ev);
  }
  return out;
}

async function failure(input: StreamInput): Promise<StreamError> {
  try {
    for await (const ev of readMigration(input)) void ev;
  } catch (err) {
    expect(err).toBeInstanceOf(StreamError);
    return err as StreamError;
  }
  throw new Error('the stream read without error');
}

const pageA = Buffer.alloc(P, 0x11);
const pageB = Buffer.from(pageA);
pageB.write('changed', 100);
const delta1 = encode(pageA, pageB)!;
const pageC = Buffer.from(pageB);
pageC[4095] = 0x99;
const delta2 = encode(pageB, pageC)!;

/** A stream with every RAM record kind, a command, and device state after RAM. */
function sample() {
  const b = new StreamBuilder().header().configuration('pc-i440fx-7.2');
  b.start(2, 'ram').memSize(RAM).eos().footer(2);
  b.part(2).zero('pc.ram', 0).full(null, P, pageA).zero('pc.rom', P);
  const x1 = b.offset;
  b.xbzrle('pc.ram', P, delta1).compressed(null, 2 * P, pageC).eos().footer(2);
  b.command(2, Buffer.from([0, 0, 0, 1]));
  const end = b.offset;
  b.part(2, 0x03).xbzrle(null, P, delta2).flags(0x200).eos().footer(2);
  const device = b.offset;
  b.start(0, 'timer', 0x04, 0, 2).raw(randomBytes(40));
  return { bytes: b.build(), x1, end, device };
}

describe('readMigration', () => {
  const s = sample();

  test('yields every record in order, with contiguous offsets and sizes', async () => {
    const evs = await events(s.bytes);
    expect(evs.map((e) => e.kind)).toEqual([
      'header', 'configuration',
      'section', 'mem-size', 'eos', 'footer',
      'section', 'zero', 'page', 'zero', 'xbzrle', 'compressed-page', 'eos', 'footer',
      'command',
      'section', 'xbzrle', 'multifd-flush', 'eos', 'footer',
      'section', 'stop',
    ]);
    let at = 0;
    for (const e of evs.slice(0, -1)) {
      expect(e.offset).toBe(at);
      at += e.size;
    }
    expect(at).toBe(s.device + 1 + 4 + 6 + 8);
  });

  test('decodes the block list, carries block names over CONTINUE, inflates compressed pages', async () => {
    const evs = await events(s.bytes);
    const mem = evs.find((e) => e.kind === 'mem-size');
    expect(mem).toMatchObject({ total: 18 * P, blocks: RAM });
    const pages = evs.filter((e) => ['zero', 'page', 'xbzrle', 'compressed-page'].includes(e.kind));
    expect(pages.map((e) => 'block' in e && [e.block, e.addr, e.continued])).toEqual([
      ['pc.ram', 0, false],
      ['pc.ram', P, true],
      ['pc.rom', P, false],
      ['pc.ram', P, false],
      ['pc.ram', 2 * P, true],
      ['pc.ram', P, true],
    ]);
    const x = evs.find((e) => e.kind === 'xbzrle');
    expect(x).toMatchObject({ offset: s.x1, deltaOffset: s.x1 + 8 + 7 + 3, delta: delta1 });
    const c = evs.find((e) => e.kind === 'compressed-page');
    expect(c && 'data' in c && c.data.equals(pageC)).toBe(true);
    expect(evs.find((e) => e.kind === 'command')).toMatchObject({ name: 'ping', size: 9 });
  });

  test('stops at device state with a reason, RAM complete', async () => {
    const stop = (await events(s.bytes)).at(-1);
    expect(stop).toMatchObject({ kind: 'stop', offset: s.device + 1 + 4 + 6 + 8, ramComplete: true });
    expect(stop && 'reason' in stop && stop.reason).toMatch(/section "timer" \(id 0, full\): device state follows RAM.*does not give its length/);
  });

  test('gives the same events from 1-byte chunks, gzip, a Readable and a file', async () => {
    const want = await events(s.bytes);
    const bytes = [...s.bytes].map((v) => Buffer.from([v]));
    expect(await events(bytes)).toEqual(want);
    expect(await events(zlib.gzipSync(s.bytes))).toEqual(want);
    const gz = zlib.gzipSync(s.bytes);
    expect(await events(Readable.from([...gz].map((v) => Buffer.from([v]))))).toEqual(want);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xbzrle-reader-'));
    try {
      fs.writeFileSync(path.join(dir, 's.bin'), s.bytes);
      expect(await events(path.join(dir, 's.bin'))).toEqual(want);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('pulls its input as it goes: an endless stream can be read record by record', async () => {
    let pulled = 0;
    async function* endless() {
      pulled++;
      yield new StreamBuilder().header().start(2, 'ram').memSize([{ name: 'pc.ram', length: 2 ** 40 }]).eos().build();
      for (let addr = 0; ; addr += P) {
        pulled++;
        yield new StreamBuilder().part(2).full('pc.ram', addr, pageA).eos().build();
      }
    }
    let pages = 0;
    for await (const ev of readMigration(endless())) if (ev.kind === 'page' && ++pages === 1000) break;
    expect(pages).toBe(1000);
    expect(pulled).toBeLessThanOrEqual(1002);
  });

  test('after EOF: parses the VM description, and stops at trailing bytes', async () => {
    const json = { page_size: 4096, devices: [{ name: 'timer', instance_id: 0 }] };
    const b = new StreamBuilder().header().start(2, 'ram').memSize(RAM).eos().part(2, 0x03).eos().eof().vmdesc(json);
    const evs = await events(b.build());
    expect(evs.slice(-2)).toEqual([
      { kind: 'eof', offset: b.offset - 5 - JSON.stringify(json).length - 1, size: 1 },
      expect.objectContaining({ kind: 'vmdesc', json }),
    ]);
    const trailing = await events(Buffer.concat([b.build(), Buffer.from('xx')]));
    expect(trailing.at(-1)).toMatchObject({ kind: 'stop', offset: b.offset });
  });

  test('a non-RAM section before the end of RAM stops reading, RAM incomplete', async () => {
    const b = new StreamBuilder().header().start(2, 'ram').memSize(RAM).eos().start(3, 'block', 0x01, 0, 1).raw([1, 2, 3]);
    const stop = (await events(b.build())).at(-1);
    expect(stop).toMatchObject({ kind: 'stop', ramComplete: false });
  });

  test('configuration: x-ignore-shared adds block addresses; target-page-bits sets the page size', async () => {
    const caps = StreamBuilder.capabilities(['x-ignore-shared']);
    const bits = { name: 'configuration/target-page-bits', body: new StreamBuilder().be32(13).build() };
    const uuid = { name: 'configuration/uuid', body: randomBytes(16) };
    const blocks = [{ name: 'ram0', length: 4 * 8192, addr: 0x100000000 }];
    const b = new StreamBuilder().header().configuration('virt-7.2', [caps, bits, uuid]);
    b.start(2, 'ram').memSize(blocks, true).full('ram0', 8192, Buffer.alloc(8192, 1)).eos().eof();
    const evs = await events(b.build());
    expect(evs[1]).toMatchObject({ capabilities: ['x-ignore-shared'], targetPageSize: 8192, subsections: [caps.name, bits.name, uuid.name] });
    expect(evs.find((e) => e.kind === 'mem-size')).toMatchObject({ blocks });
    expect(evs.find((e) => e.kind === 'page')).toMatchObject({ addr: 8192, size: 8 + 5 + 8192 });
  });

  test('an unknown configuration subsection stops reading (its length is unknown)', async () => {
    const b = new StreamBuilder().header().configuration('pc', [{ name: 'configuration/new-thing', body: Buffer.from([1, 2]) }]);
    const evs = await events(b.build());
    expect(evs.at(-1)).toMatchObject({ kind: 'stop' });
    expect((evs.at(-1) as { reason: string }).reason).toMatch(/configuration\/new-thing/);
  });
});

describe('readMigration errors carry the offset of the bad bytes', () => {
  const ram = () => new StreamBuilder().header().start(2, 'ram').memSize(RAM).eos();

  const cases: [string, () => { bytes: Buffer; offset: number }, string, RegExp][] = [
    ['not a stream', () => ({ bytes: Buffer.from('ELF and more bytes'), offset: 0 }), 'bad-magic', /not a QEMU migration stream/],
    ['version 2', () => ({ bytes: new StreamBuilder().header(2).build(), offset: 4 }), 'bad-version', /version 2/],
    ['unknown section type', () => { const b = ram(); const o = b.offset; return { bytes: b.u8(0x09).build(), offset: o }; }, 'bad-section', /type 0x9/],
    ['part of an undeclared section', () => { const b = ram(); const o = b.offset; return { bytes: b.part(7).build(), offset: o }; }, 'bad-section', /id 7/],
    ['CONTINUE with no block yet', () => { const b = ram().part(2); const o = b.offset; return { bytes: b.zero(null, 0).build(), offset: o }; }, 'no-block', /no block was named/],
    ['unknown block', () => { const b = ram().part(2); const o = b.offset; return { bytes: b.zero('pc.nope', 0).build(), offset: o }; }, 'unknown-block', /"pc.nope"/],
    ['page past the block', () => { const b = ram().part(2); const o = b.offset; return { bytes: b.zero('pc.rom', 2 * P).build(), offset: o }; }, 'page-past-block', /past the end of block "pc.rom"/],
    ['unknown RAM flags', () => { const b = ram().part(2); const o = b.offset; return { bytes: b.flags(0x01).build(), offset: o }; }, 'bad-ram-flags', /0x1/],
    ['RDMA hook', () => { const b = ram().part(2); const o = b.offset; return { bytes: b.flags(0x80).build(), offset: o }; }, 'bad-ram-flags', /RDMA/],
    ['XBZRLE encoding byte', () => { const b = ram().part(2); const o = b.offset + 8 + 7; return { bytes: b.xbzrle('pc.ram', 0, delta1, 2).build(), offset: o }; }, 'bad-xbzrle', /encoding byte 0x2/],
    ['XBZRLE longer than a page', () => { const b = ram().part(2); const o = b.offset + 8 + 7 + 1; return { bytes: b.xbzrle('pc.ram', 0, Buffer.alloc(P + 1)).build(), offset: o }; }, 'bad-xbzrle', /4097 bytes/],
    ['footer of another section', () => { const b = ram(); const o = b.offset; return { bytes: b.footer(3).build(), offset: o }; }, 'bad-footer', /section 3, expected 2/],
    ['block list over the total', () => { const b = new StreamBuilder().header().start(2, 'ram'); const o = b.offset + 8; return { bytes: b.memSize(RAM, false, P).build(), offset: o }; }, 'bad-mem-size', /"pc.ram"/],
    ['cut inside a page', () => { const b = ram().part(2); const o = b.offset; const bytes = b.full('pc.ram', 0, pageA).build(); return { bytes: bytes.subarray(0, o + 100), offset: o + 100 }; }, 'truncated', /inside a page record that starts at byte \d+/],
    ['cut inside a record header', () => { const b = ram().part(2); const o = b.offset; return { bytes: b.build().subarray(0, o - 3), offset: o - 3 }; }, 'truncated', /inside a section header/],
    ['cut between records', () => { const b = ram(); return { bytes: b.build(), offset: b.offset }; }, 'truncated', /before its EOF marker/],
  ];

  test.each(cases)('%s', async (_name, make, reason, message) => {
    const { bytes, offset } = make();
    const err = await failure(bytes);
    expect({ code: err.code, reason: err.reason, offset: err.offset }).toEqual({ code: 'ERR_XBZRLE_STREAM', reason, offset });
    expect(err.message).toMatch(message);
    expect(err.message).toMatch(new RegExp(`at byte ${offset}\\)$`));
  });

  test('a truncated gzip file is an input error at the last byte it gave', async () => {
    const { bytes } = sample();
    const gz = zlib.gzipSync(bytes);
    const err = await failure(gz.subarray(0, gz.length >> 1));
    expect(err).toMatchObject({ code: 'ERR_XBZRLE_STREAM', reason: 'bad-input' });
    expect(err.message).toMatch(/unexpected end of file/);
    expect(err.offset).toBeLessThanOrEqual(bytes.length);
  });
});

describe('inspectStream on synthetic streams', () => {
  test('a malformed delta is reported at its byte and reading goes on', async () => {
    const b = new StreamBuilder().header().start(2, 'ram').memSize(RAM).eos().part(2).full('pc.ram', P, pageA);
    const bad = b.offset + 8 + 3; // a CONTINUE record: no block name
    b.xbzrle(null, P, [0x81, 0x81, 0x01, 0x01]).xbzrle(null, P, delta1).eos().part(2, 0x03).eos().eof();
    const r = await inspectStream(b.build());
    expect(r.errors).toEqual([{ offset: bad, code: 'ERR_XBZRLE_STREAM', reason: 'bad-xbzrle', message: expect.stringMatching(/more than two ULEB128 bytes/) }]);
    expect(r.xbzrle.records).toBe(1);
    expect(r.xbzrle.identical).toBe(1);
    expect(r.eof).toBe(true);
  });

  test('classifies raw resends, counts passes, flags XBZRLE on never-sent pages', async () => {
    const noise = randomBytes(P);
    const b = new StreamBuilder().header().start(2, 'ram').memSize(RAM).eos();
    b.part(2).full('pc.ram', 0, pageA).full(null, P, pageA).full(null, 2 * P, pageA).eos(); // pass 1
    b.part(2).full('pc.ram', 0, pageA).full(null, P, pageB).full(null, 2 * P, noise).zero(null, 3 * P).eos(); // pass 2
    b.part(2, 0x03).xbzrle('pc.ram', P, encode(pageB, pageC)!).xbzrle(null, 5 * P, delta1).eos().eof(); // pass 3
    const r = await inspectStream(b.build());
    expect(r.passes.map((p) => p.resent)).toEqual([0, 3, 1]);
    expect(r.resent).toEqual({ raw: 3, unchanged: 1, wouldFit: 1, wouldOverflow: 1, zero: 0 });
    expect(r.xbzrle.unsentBase).toBe(1);
    expect(r.parts.map((p) => [p.type, p.pass])).toEqual([['start', 1], ['part', 1], ['part', 2], ['end', 3]]);
  });

  test('compressed pages come out of order: only a page sent again starts a pass', async () => {
    const b = new StreamBuilder().header().start(2, 'ram').memSize(RAM).eos();
    b.part(2).compressed('pc.ram', 3 * P, pageA).compressed(null, P, pageA).zero(null, 0).compressed(null, 2 * P, pageB).eos();
    b.part(2, 0x03).compressed('pc.ram', 2 * P, pageC).compressed(null, P, pageB).eos().eof();
    const r = await inspectStream(b.build());
    expect(r.passes.map((p) => p.records['compressed-page'] + p.records.zero)).toEqual([4, 2]);
    expect(r.resent).toMatchObject({ raw: 2, wouldFit: 2 });
  });
});
