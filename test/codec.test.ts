// QEMU's own unit cases and every QEMU-made vector, once per kernel.
import { PAGE_SIZE, XbzrleError, decode, decodeInto, encode, encodeInto } from '../lib';
import { rng } from '../lib/bench/traces';
import { eachKernel } from './helpers/kernels';
import { readMalformed, readPairs } from './helpers/vectors';

const pairs = readPairs();
const malformed = readMalformed();

function randomPage(rand: () => number, size = PAGE_SIZE): Buffer {
  const p = Buffer.alloc(size);
  for (let i = 0; i < size; i++) p[i] = Math.floor(rand() * 256);
  return p;
}

eachKernel(() => {
  describe("QEMU's unit cases", () => {
    test('ULEB128 lengths 0..16383 round-trip as zero runs and changed runs', () => {
      const size = 16384;
      const oldPage = Buffer.alloc(size);
      const newPage = Buffer.alloc(size);
      const out = Buffer.alloc(size);
      const bad: number[] = [];
      for (let v = 0; v < 16384; v++) {
        newPage[v] = 1; // a zero run of exactly v bytes, then one changed byte
        const n = encodeInto(oldPage, newPage, out);
        const want = Buffer.from(v < 128 ? [v, 1, 1] : [(v & 0x7f) | 0x80, v >> 7, 1, 1]);
        const back = Buffer.from(oldPage);
        decodeInto(out.subarray(0, n), back);
        if (!out.subarray(0, n).equals(want) || !back.equals(newPage)) bad.push(v);
        newPage[v] = 0;
      }
      expect(bad).toEqual([]);
      // Changed runs of every length, read by the decoder.
      for (let v = 1; v < 16384; v += v < 300 ? 1 : 97) {
        const len = v < 128 ? [v] : [(v & 0x7f) | 0x80, v >> 7];
        const delta = Buffer.concat([Buffer.from([0, ...len]), Buffer.alloc(v, 7)]);
        const page = Buffer.alloc(size);
        expect(decodeInto(delta, page)).toBe(v);
        expect(page.subarray(0, v).every((b) => b === 7)).toBe(true);
      }
    });

    test('a length of 80 80 (a third ULEB128 byte) is rejected', () => {
      const page = Buffer.alloc(PAGE_SIZE);
      expect(() => decodeInto(Buffer.from([0x80, 0x80]), page)).toThrow(XbzrleError);
      try {
        decodeInto(Buffer.from([0x80, 0x80]), page);
      } catch (e) {
        expect(e).toMatchObject({ code: 'ERR_XBZRLE_MALFORMED', reason: 'uleb128-too-long', offset: 0 });
      }
    });

    test('zero page against zero page encodes to nothing', () => {
      const z = Buffer.alloc(PAGE_SIZE);
      expect(encode(z, Buffer.alloc(PAGE_SIZE))).toEqual(Buffer.alloc(0));
      expect(encodeInto(z, z, Buffer.alloc(PAGE_SIZE))).toBe(0);
    });

    test('an unchanged page encodes to nothing', () => {
      const p = randomPage(rng(1));
      expect(encode(p, Buffer.from(p))!.length).toBe(0);
    });

    test('one byte changed at the end gives ff 1f 01 xx', () => {
      const a = randomPage(rng(2));
      const b = Buffer.from(a);
      b[PAGE_SIZE - 1] ^= 0x5a;
      const d = encode(a, b)!;
      expect([...d]).toEqual([0xff, 0x1f, 0x01, b[PAGE_SIZE - 1]]);
      expect(decode(a, d).equals(b)).toBe(true);
    });

    test("QEMU's overflow pattern (every other byte of the first 4094) overflows", () => {
      const a = Buffer.alloc(PAGE_SIZE);
      const b = Buffer.alloc(PAGE_SIZE);
      for (let i = 0; i < 4094; i += 2) b[i] = 1;
      expect(encode(a, b)).toBeNull();
      expect(encodeInto(a, b, Buffer.alloc(PAGE_SIZE))).toBe(-1);
    });

    test('10,000 random ranges round-trip', () => {
      const rand = rng(3);
      const a = randomPage(rand);
      const out = Buffer.alloc(PAGE_SIZE);
      const bad: number[] = [];
      const page = Buffer.alloc(PAGE_SIZE);
      const b = Buffer.alloc(PAGE_SIZE);
      for (let k = 0; k < 10000; k++) {
        a.copy(b);
        const start = Math.floor(rand() * PAGE_SIZE);
        const len = 1 + Math.floor(rand() * (PAGE_SIZE - start));
        for (let i = start; i < start + len; i++) b[i] = ~a[i] & 0xff;
        const n = encodeInto(a, b, out);
        a.copy(page);
        const covered = n > 0 ? decodeInto(out.subarray(0, n), page) : -1;
        if (covered !== start + len || !page.equals(b)) bad.push(k);
      }
      expect(bad).toEqual([]);
    });
  });

  describe("QEMU's page pairs (vectors/pairs.bin)", () => {
    test.each(pairs.map((v) => [v.id, v] as const))('pair %i', (_id, v) => {
      const want = v.unboundedRet <= PAGE_SIZE ? v.unboundedEnc : null;
      expect(encode(v.oldPage, v.newPage)).toEqual(want);
      if (v.scalarRet >= 0) expect(encode(v.oldPage, v.newPage)).toEqual(v.scalarEnc);
      // Overflow exactly past the canonical length, at the limits around it.
      for (const limit of [v.unboundedRet - 1, v.unboundedRet, v.unboundedRet + 1]) {
        if (limit < 0 || limit > PAGE_SIZE) continue;
        const out = Buffer.alloc(limit);
        const n = encodeInto(v.oldPage, v.newPage, out);
        expect(n).toBe(v.unboundedRet <= limit ? v.unboundedRet : -1);
      }
      // The canonical delta, even one longer than a page, decodes to the new page.
      const page = Buffer.from(v.oldPage);
      decodeInto(v.unboundedEnc, page);
      expect(page.equals(v.newPage)).toBe(true);
    });
  });

  describe("QEMU's decoder verdicts (vectors/malformed.bin)", () => {
    test.each(malformed.map((v) => [v.id, v] as const))('delta %i', (_id, v) => {
      const page = Buffer.alloc(PAGE_SIZE);
      if (v.qemuRet < 0) {
        let err: unknown;
        try {
          decodeInto(v.src, page);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(XbzrleError);
        const x = err as XbzrleError;
        expect(x.code).toBe('ERR_XBZRLE_MALFORMED');
        expect(x.offset).toBeGreaterThanOrEqual(0);
        expect(x.offset).toBeLessThanOrEqual(v.src.length);
        expect(x.message).toContain(`byte ${x.offset}`);
        expect(page.equals(Buffer.alloc(PAGE_SIZE))).toBe(true); // untouched
      } else {
        expect(decodeInto(v.src, page)).toBe(v.qemuRet);
        expect(page.equals(v.after)).toBe(true);
      }
    });
  });

  describe('decoder reasons and offsets', () => {
    const cases: [string, number[], string, number][] = [
      ['one byte', [0x00], 'truncated', 0],
      ['zero run with nothing after', [0x05, 0x01, 0x09, 0x03], 'truncated', 3],
      ['three-byte length', [0x80, 0x80, 0x01], 'uleb128-too-long', 0],
      ['empty changed run', [0x00, 0x00, 0x00], 'empty-changed-run', 1],
      ['empty zero run after the first', [0x00, 0x01, 0x07, 0x00, 0x01, 0x07], 'empty-zero-run', 3],
      ['zero run past the page', [0xff, 0x7f, 0x01, 0x01], 'run-past-page', 0],
      ['changed run past the page', [0xff, 0x1f, 0x02, 0x01, 0x02], 'run-past-page', 2],
      ['changed run past the input', [0x00, 0x05, 0x01, 0x02], 'run-past-input', 1],
    ];
    test.each(cases)('%s', (_name, bytes, reason, offset) => {
      const page = Buffer.alloc(PAGE_SIZE, 0xaa);
      expect(() => decodeInto(Buffer.from(bytes), page)).toThrow(
        expect.objectContaining({ reason, offset, code: 'ERR_XBZRLE_MALFORMED' }),
      );
      expect(page.every((b) => b === 0xaa)).toBe(true);
    });

    test('accepts what QEMU accepts: 80 00 and 85 00 are lengths 0 and 5', () => {
      const page = Buffer.alloc(16);
      expect(decodeInto(Buffer.from([0x80, 0x00, 0x85, 0x00, 1, 2, 3, 4, 5]), page)).toBe(5);
      expect([...page.subarray(0, 6)]).toEqual([1, 2, 3, 4, 5, 0]);
      expect(decodeInto(Buffer.alloc(0), page)).toBe(0);
    });
  });
});
