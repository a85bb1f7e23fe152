// receiver.ts: the destination side (docs/FORMAT.md §3). It needs no cache: each
// XBZRLE record is decoded onto the destination's own copy of the page.
import { decodeInto } from '../codec/page';
import { MAX_PAGE_SIZE, checkBytes, checkOptions, checkPage, checkWhole, describe } from '../util/checks';
import { RecordError } from '../util/errors';
import { checkXbzrleBody, type RamRecord } from './record';

export interface ReceiverOptions {
  /** Default 4096. */
  pageSize?: number;
}

/** The destination side: applies records to the destination's pages. */
export class Receiver {
  readonly pageSize: number;

  constructor(options: ReceiverOptions = {}) {
    checkOptions(options);
    const pageSize = options.pageSize ?? 4096;
    checkWhole(pageSize, 'pageSize', 1, MAX_PAGE_SIZE, 'option');
    this.pageSize = pageSize;
  }

  /**
   * Applies an XBZRLE record body (0x01, be16 length, delta) to `page` in
   * place and returns the bytes the delta covers. A wrong encoding flag, a
   * length over the page size, or a body shorter or longer than its length
   * throws a RecordError (offset in the body); a malformed delta an
   * XbzrleError (offset in the delta). The page is untouched on any error.
   */
  applyRecord(page: Uint8Array, body: Uint8Array): number {
    checkPage(page, 'page');
    if (page.length !== this.pageSize) {
      throw new RangeError(`The "page" argument must be ${this.pageSize} bytes long, received ${page.length} bytes`);
    }
    checkBytes(body, 'body');
    checkXbzrleBody(body, this.pageSize);
    return decodeInto(body.subarray(3), page);
  }

  /**
   * Applies a record from RecordReader to `memory`, the destination's image
   * of the record's block (ZERO fills the page, PAGE copies it, XBZRLE
   * decodes onto it; EOS and MEM_SIZE change nothing). Returns true when the
   * record changed or could have changed memory.
   */
  receive(memory: Uint8Array, record: RamRecord): boolean {
    checkBytes(memory, 'memory');
    if (record === null || typeof record !== 'object') {
      throw new TypeError(`The "record" argument must be a record from RecordReader, received ${describe(record)}`);
    }
    if (record.type === 'eos' || record.type === 'mem-size') return false;
    const P = this.pageSize;
    const off = typeof record.offset === 'bigint' ? Number(record.offset) : record.offset;
    // A page record covers exactly one page: at an offset between two pages
    // it would write across both (QEMU's receiver masks such offsets).
    if (off >= 0 && off % P !== 0) {
      throw new RecordError('unaligned-offset', off, `${record.type} record at 0x${off.toString(16)} with ${P}-byte pages`);
    }
    if (!(off >= 0) || off + P > memory.length) {
      throw new RangeError(`The record's offset ${String(record.offset)} is outside the ${memory.length}-byte memory`);
    }
    const page = memory.subarray(off, off + P);
    const body = record.body;
    if (!body) throw new RecordError('body-short', 0, 'the record has no body');
    if (record.type === 'zero') page.fill(body[0]);
    else if (record.type === 'page') {
      if (body.length !== P) throw new RangeError(`A page record's body must be ${P} bytes, received ${body.length} bytes`);
      page.set(body);
    }
    else if (record.type === 'xbzrle') this.applyRecord(page, body);
    else throw new TypeError(`The record's type must be a RecordType, received ${describe(record.type)}`);
    return true;
  }
}
