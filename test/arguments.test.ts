// Bad arguments, as a table: the right error class and a message naming the
// argument, for the addon and the twin alike.
import { MemoryBudget, PageCache, Receiver, Sender, decode, decodeInto, encode, encodeInto, useKernel } from '../lib';
import { describe as describeValue } from '../lib/util/checks';
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

// One message style everywhere: `The "NAME" argument|option|element must be
// WHAT, received DESCRIPTION`, the received value described by one function.
const styled: [string, () => unknown, ErrorConstructor, RegExp][] = [
  ['PageCache: options a number', () => new PageCache(5 as never), TypeError, /^The "options" argument must be an object, received type number \(5\)$/],
  ['PageCache: size a string', () => new PageCache({ size: '4096' as never }), TypeError, /^The "size" option must be a number, received type string \("4096"\)$/],
  ['PageCache: policy unknown', () => new PageCache({ size: 4096, policy: 'lru' as never }), RangeError, /^The "policy" option must be 'qemu' or 'associative', received type string \("lru"\)$/],
  ['PageCache: budget an object', () => new PageCache({ size: 4096, budget: {} as never }), TypeError, /^The "budget" option must be a MemoryBudget, received an instance of Object$/],
  ['PageCache.lookup: addr negative', () => new PageCache({ size: 4096 }).lookup(-1, 0), RangeError, /^The "addr" argument must be an integer from 0 to 2\^53 - 1 .*received type number \(-1\)$/],
  ['PageCache.insert: page short', () => new PageCache({ size: 4096 }).insert(0, page(10), 0), RangeError, /^The "page" argument must be 4096 bytes long, received 10 bytes$/],
  ['MemoryBudget: bytes fractional', () => new MemoryBudget(1.5), RangeError, /^The "bytes" argument must be an integer from 0 to \d+, received type number \(1.5\)$/],
  ['Sender: cache missing', () => new Sender({} as never), TypeError, /^The "cache" option must be a PageCache, received undefined$/],
  ['Sender.sendPages: addrs element a string', () => new Sender({ cache: new PageCache({ size: 4096 }) }).sendPages(['0' as never], page()), TypeError, /^The "addrs\[0\]" element must be a number or a bigint, received type string \("0"\)$/],
  ['Sender.sendPages: block a number', () => new Sender({ cache: new PageCache({ size: 4096 }) }).sendPages([0], page(), { block: 5 as never }), TypeError, /^The "block" option must be a string, received type number \(5\)$/],
  ['Sender.sendPages: pages[0] short', () => new Sender({ cache: new PageCache({ size: 4096 }) }).sendPages([0], [page(8)]), RangeError, /^The "pages\[0\]" element must be 4096 bytes long, received 8 bytes$/],
  ['Receiver.receive: record null', () => new Receiver().receive(page(), null as never), TypeError, /^The "record" argument must be a record from RecordReader, received null$/],
];

test.each(styled)('%s', (_name, call, cls, message) => {
  expect(call).toThrow(cls);
  expect(call).toThrow(message);
});

test('describe() names values as Node does', () => {
  expect([null, undefined, 5, 5n, 'ab', {}, new Uint16Array(1), Object.create(null), () => 0, function f() {}].map(describeValue)).toEqual([
    'null',
    'undefined',
    'type number (5)',
    'type bigint (5n)',
    'type string ("ab")',
    'an instance of Object',
    'an instance of Uint16Array',
    'an object',
    'a function',
    'function f',
  ]);
  expect(describeValue('x'.repeat(100))).toBe(`type string ("${'x'.repeat(25)}...")`);
});

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
