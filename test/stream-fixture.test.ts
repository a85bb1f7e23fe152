// The committed stream, made by QEMU (scripts/make-stream.js): every XBZRLE
// record decodes with each kernel and re-encodes to QEMU's exact bytes; the
// RAM we rebuild equals what the destination QEMU held after loading it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inspectStream } from '../lib';
import { eachKernel } from './helpers/kernels';
import { checkXbzrleRecords, fixtureBytes, fixturePath, hashRanges, loadMeta, STREAMS } from './helpers/streams';

const NAME = 'small-xbzrle';
const stream = fixturePath(NAME);
const meta = loadMeta(path.join(STREAMS, `${NAME}.meta.json`));

describe('the committed QEMU stream', () => {
  test('is what meta.json says: QEMU 7.2, under 2 MiB stored, hundreds of XBZRLE records', () => {
    expect(meta.qemu).toMatch(/QEMU emulator version 7\.2/);
    expect(fs.statSync(stream).size).toBe(meta.stream.storedBytes);
    expect(meta.stream.storedBytes).toBeLessThan(1 << 20);
    expect(meta.reader.xbzrle.records).toBeGreaterThan(500);
    expect(meta.destination.allEqual).toBe(true);
  });

  eachKernel(() => {
    test('every XBZRLE record decodes and re-encodes to the bytes QEMU sent', async () => {
      const r = await checkXbzrleRecords(stream);
      expect(r.differences).toEqual([]);
      expect(r.records).toBe(meta.reader.xbzrle.records);
      expect(r.identical).toBe(r.records);
    });
  });

  test("QEMU's own counters agree: bytes = sum(delta + 3) + page size x overflow", async () => {
    const r = await checkXbzrleRecords(fixtureBytes(NAME));
    const q = meta.qemuStats.xbzrle;
    expect(r.qemuBytes + 4096 * q.overflow).toBe(q.bytes);
    // Every record and every overflow was a cache hit; hits also count unchanged pages.
    expect(r.records + q.overflow).toBeLessThanOrEqual(q.pages);
  });

  describe('inspectStream with --extract-ram', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xbzrle-fixture-'));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    let report: Awaited<ReturnType<typeof inspectStream>>;
    beforeAll(async () => {
      report = await inspectStream(stream, { extractRam: dir });
    });

    test('reads the stream without error up to the device state', () => {
      expect(report.errors).toEqual([]);
      expect(report.ramComplete).toBe(true);
      expect(report.stop?.reason).toMatch(/device state follows RAM/);
      expect(report.bytes).toBe(meta.stream.readBytes);
      expect(report.bytes).toBeLessThan(fixtureBytes(NAME).length);
    });

    test('counts what the generation script counted', () => {
      expect(report.records).toEqual(meta.reader.records);
      expect(report.passes.length).toBe(meta.reader.passes);
      expect(report.parts.length).toBe(meta.reader.parts);
      expect(report.resent).toEqual(meta.reader.resent);
      // Overflows are among the raw resends whose delta would not fit.
      expect(report.resent.wouldOverflow).toBeGreaterThanOrEqual(meta.qemuStats.xbzrle.overflow);
    });

    test("the rebuilt RAM equals the destination QEMU's, range by range", () => {
      expect(meta.destination.blocks.length).toBeGreaterThan(0);
      for (const b of meta.destination.blocks) {
        const file = report.blocks.find((x) => x.name === b.name)?.file;
        expect(file).toBeDefined();
        expect({ block: b.name, sha256: hashRanges(file!, b.ranges) }).toEqual({ block: b.name, sha256: b.destSha256 });
      }
    });
  });
});
