// Bad arguments, as a table: the right error class and a message naming the
// argument, for the addon and the twin alike.
import { decode, decodeInto, encode, encodeInto, useKernel } from '../lib';
import { eachKernel } from './helpers/kernels';

function detached(size: number): Uint8Array {
  const buf = new ArrayBuffer(size);
  const view = new Uint8Array(buf);
  structuredClone(buf, { transfer: [buf] });
  return view;
}

const page = (n = 4096): Buffer => Buffer.alloc(n);

type Case = [string, () => unknown, ErrorConstructor, RegExp];

const cases: Case[] = [
  ['encode: oldPage a string', () => encode('abc' as never, page()), TypeError, /"oldPage".*string/],
  ['encode: newPage null', () => encode(page(), null as never), TypeError, /"newPage".*null/],
  ['encode: newPage a number', () => encode(page(), 7 as never), TypeError, /"newPage"/],
  ['encode: oldPage an ArrayBuffer', () => encode(new ArrayBuffer(8) as never, page(8)), TypeError, /"oldPage".*ArrayBuffer/],
  ['encode: oldPage a Uint16Array', () => encode(new Uint16Array(4) as never, page(8)), TypeError, /"oldPage".*Uint16Array/],
  ['encode: oldPage a DataView', () => encode(new DataView(new ArrayBuffer(8)) as never, page(8)), TypeError, /"oldPage"/],
  ['encode: mismatched lengths', () => encode(page(4096), page(4095)), RangeError, /same length.*4096 and 4095/],
  ['encode: zero lengths', () => encode(page(0), page(0)), RangeError, /"oldPage".*1 to 16384.*0 bytes/],
  ['encode: pages over 16384', () => encode(page(16385), page(16385)), RangeError, /"oldPage".*16385/],
  ['encode: detached oldPage', () => encode(detached(4096), page()), TypeError, /"oldPage".*detached/],
  ['encode: detached newPage', () => encode(page(), detached(4096)), TypeError, /"newPage".*detached/],
  ['encode: options a string', () => encode(page(), page(), 'x' as never), TypeError, /"options"/],
  ['encode: limit a string', () => encode(page(), page(), { limit: '5' as never }), TypeError, /"limit".*string/],
  ['encode: limit a bigint', () => encode(page(), page(), { limit: 5n as never }), TypeError, /"limit".*bigint/],
  ['encode: limit NaN', () => encode(page(), page(), { limit: NaN }), RangeError, /"limit".*NaN/],
  ['encode: limit negative', () => encode(page(), page(), { limit: -1 }), RangeError, /"limit".*0 to 4096/],
  ['encode: limit past the page', () => encode(page(), page(), { limit: 4097 }), RangeError, /"limit".*4097/],
  ['encode: limit fractional', () => encode(page(), page(), { limit: 1.5 }), RangeError, /"limit"/],
  ['encodeInto: out missing', () => encodeInto(page(), page(), undefined as never), TypeError, /"out".*undefined/],
  ['encodeInto: out detached', () => encodeInto(page(), page(), detached(64)), TypeError, /"out".*detached/],
  ['encodeInto: out a plain array', () => encodeInto(page(), page(), [] as never), TypeError, /"out".*Array/],
  ['decodeInto: delta a string', () => decodeInto('0102' as never, page()), TypeError, /"delta".*string/],
  ['decodeInto: page empty', () => decodeInto(Buffer.alloc(0), page(0)), RangeError, /"page".*0 bytes/],
  ['decodeInto: page over 16384', () => decodeInto(Buffer.alloc(0), page(20000)), RangeError, /"page".*20000/],
  ['decodeInto: detached delta', () => decodeInto(detached(4), page()), TypeError, /"delta".*detached/],
  ['decode: delta a string', () => decode(page(), 'ff1f01aa' as never), TypeError, /"delta".*string/],
  ['decode: oldPage undefined', () => decode(undefined as never, Buffer.alloc(0)), TypeError, /"oldPage"/],
  ['useKernel: unknown name', () => useKernel('sse9'), RangeError, /sse9.*available/],
  ['useKernel: not a string', () => useKernel(3 as never), TypeError, /"name"/],
];

eachKernel(() => {
  test.each(cases)('%s', (_name, call, cls, message) => {
    expect(call).toThrow(cls);
    expect(call).toThrow(message);
  });

  test('encodeInto with a short out never writes past it', () => {
    const a = page();
    const b = Buffer.alloc(4096, 1);
    const backing = Buffer.alloc(64, 0xee);
    expect(encodeInto(a, b, backing.subarray(0, 32))).toBe(-1);
    expect(backing.subarray(32).every((x) => x === 0xee)).toBe(true);
  });

  test('SharedArrayBuffer views and odd offsets are valid pages', () => {
    const sab = new Uint8Array(new SharedArrayBuffer(8193), 1, 4096);
    const other = Buffer.from(sab);
    other[4095] = 9;
    const d = encode(sab, other)!;
    expect([...d]).toEqual([0xff, 0x1f, 0x01, 9]);
    decodeInto(d, sab);
    expect(sab[4095]).toBe(9);
  });
});
