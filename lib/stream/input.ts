// input.ts: turns a path, a Readable or any async byte source into chunks,
// gunzipping transparently when the input starts with the gzip magic.
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { describe } from '../util/checks';

/** A path, a stream's bytes in memory, or a source of chunks (a Readable is one). */
export type StreamInput = string | Uint8Array | Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

const GZIP = [0x1f, 0x8b];

/** TypeError, at call time, unless `input` is one of the StreamInput forms. */
export function checkStreamInput(input: unknown): asserts input is StreamInput {
  if (typeof input === 'string') {
    if (input === '') throw new TypeError('The "input" argument must be a path, not an empty string');
    return;
  }
  if (input instanceof Uint8Array) return;
  const o = input as { [Symbol.asyncIterator]?: unknown; [Symbol.iterator]?: unknown } | null;
  if (o !== null && typeof o === 'object' && (typeof o[Symbol.asyncIterator] === 'function' || typeof o[Symbol.iterator] === 'function')) {
    return;
  }
  throw new TypeError(
    `The "input" argument must be a path, a Uint8Array, a Readable or an (async) iterable of Uint8Array chunks, received ${describe(input)}`,
  );
}

/** What an input threw, in words, whatever it threw (null, a string, an Error). */
export function describeThrown(err: unknown): string {
  try {
    if (err === null || err === undefined) return `it threw ${String(err)}`;
    // Errors from another realm (a vm context, a worker) fail instanceof.
    const message = typeof err === 'object' ? (err as { message?: unknown }).message : undefined;
    if (typeof message === 'string' && message) return message;
    if (err instanceof Error) return err.name;
    return `it threw ${typeof err === 'object' ? Object.prototype.toString.call(err) : String(err)}`;
  } catch {
    return 'it threw a value that cannot be printed';
  }
}

function isDetached(v: Uint8Array): boolean {
  if (v.byteLength !== 0) return false;
  try {
    new Uint8Array(v.buffer);
    return false;
  } catch {
    return true;
  }
}

/**
 * A chunk as a Buffer over the same memory; Error (with a message for the
 * caller's StreamError) for anything but a Uint8Array with its memory.
 */
export function chunkBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) {
    if (isDetached(value)) throw new Error('the input yielded a Buffer whose memory was detached (transferred)');
    return value;
  }
  if (!(value instanceof Uint8Array)) {
    const what = value === null ? 'null' : typeof value === 'object' ? Object.prototype.toString.call(value) : typeof value;
    throw new Error(`the input yielded ${what}, not a Uint8Array of stream bytes`);
  }
  if (isDetached(value)) throw new Error('the input yielded a Uint8Array whose memory was detached (transferred)');
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function iterate(input: StreamInput): AsyncIterator<Uint8Array> | Iterator<Uint8Array> {
  if (typeof input === 'string') return fs.createReadStream(input, { highWaterMark: 1 << 16 })[Symbol.asyncIterator]();
  if (input instanceof Uint8Array) return [input][Symbol.iterator]();
  if (Symbol.asyncIterator in input) return input[Symbol.asyncIterator]();
  return input[Symbol.iterator]();
}

/** The input's bytes, decompressed if gzip; a path is read in 64 KiB chunks. */
export async function* inputChunks(input: StreamInput): AsyncGenerator<Uint8Array> {
  const it = iterate(input);
  // Gather two bytes to decide; chunks may be as small as one byte.
  const head: Buffer[] = [];
  let headLength = 0;
  try {
    while (headLength < 2) {
      const r = await it.next();
      if (r.done) break;
      const c = Buffer.from(chunkBuffer(r.value)); // a copy: the source may reuse its chunk
      head.push(c);
      headLength += c.length;
    }
    const first = Buffer.concat(head);
    if (first[0] !== GZIP[0] || first[1] !== GZIP[1]) {
      if (first.length) yield first;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
      return;
    }
    const gunzip = zlib.createGunzip();
    const compressed = Readable.from(
      (async function* () {
        yield first;
        for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
      })(),
    );
    compressed.on('error', (err) => gunzip.destroy(err));
    compressed.pipe(gunzip);
    try {
      for await (const c of gunzip) yield c as Buffer;
    } finally {
      compressed.destroy();
      gunzip.destroy();
    }
  } finally {
    await it.return?.();
  }
}
