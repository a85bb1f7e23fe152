// reader.ts: readMigration(), a streaming parser of QEMU's migration stream.
// It reads the input once, front to back, holding only the record at hand,
// and yields one event per record with its byte offset.
import * as zlib from 'node:zlib';
import { MAX_RAM_BLOCKS, RecordError, checkPageOffset, checkXbzrleEncoding, checkXbzrleLength, recordKind, recordWord } from '../migration/record';
import { MAX_PAGE_SIZE, checkOptions, checkWhole } from '../util/checks';
import { ByteReader } from './byte-reader';
import { COMMAND_NAMES, PAGE_FLAGS, RamFlag, Section, STREAM_MAGIC, STREAM_VERSION } from './constants';
import { StreamError, type StreamErrorCode } from './errors';
import type { ConfigurationEvent, MigrationEvent, RamBlock, SectionType } from './events';
import { checkStreamInput, inputChunks, type StreamInput } from './input';

export interface ReadOptions {
  /** Target page size when the stream does not say (x86, s390x: 4096). */
  pageSize?: number;
}

const TYPE_NAMES: Record<number, SectionType> = {
  [Section.START]: 'start',
  [Section.PART]: 'part',
  [Section.END]: 'end',
  [Section.FULL]: 'full',
};

const hex = (v: number | bigint) => `0x${v.toString(16)}`;

/**
 * The largest RAM block and RAM total the reader accepts: 2^52 bytes, the
 * x86-64 physical address limit. Offsets stay exact JavaScript numbers with
 * room to spare, and bookkeeping is per page sent, never per page declared.
 */
export const MAX_RAM_BYTES = 2 ** 52;

/** Every RAM record kind a stream may carry (RecordReader knows fewer). */
const STREAM_KINDS =
  RamFlag.ZERO | RamFlag.MEM_SIZE | RamFlag.PAGE | RamFlag.EOS | RamFlag.XBZRLE | RamFlag.HOOK | RamFlag.COMPRESS_PAGE | RamFlag.MULTIFD_FLUSH;

/** The stream's code for a RAM record defect that record.ts found. */
const RECORD_CODES: Partial<Record<string, StreamErrorCode>> = {
  'unknown-flags': 'bad-ram-flags',
  'bad-eos': 'bad-ram-flags',
  'bad-encoding-flag': 'bad-xbzrle',
  'length-over-page': 'bad-xbzrle',
  'unaligned-offset': 'unaligned-offset',
};

/** Runs one of record.ts's checks; its RecordError becomes a StreamError (cause: the RecordError). */
function recordCheck<T>(check: () => T, message: (e: RecordError) => string, unalignedAt = 0): T {
  try {
    return check();
  } catch (e) {
    if (!(e instanceof RecordError)) throw e;
    // For 'unaligned-offset' the RecordError's offset is the page's; the
    // stream's error gives where the record starts (`at`, passed to the check).
    const at = e.reason === 'unaligned-offset' ? unalignedAt : e.offset;
    throw new StreamError(RECORD_CODES[e.reason] ?? 'bad-ram-flags', at, message(e), { cause: e });
  }
}

function unsupportedPageSize(size: number, offset: number, where: string): StreamError {
  return new StreamError(
    'unsupported-page-size',
    offset,
    `${where} gives ${size}-byte pages: pages above ${MAX_PAGE_SIZE} bytes are not supported (XBZRLE's run lengths, and this package, stop at ${MAX_PAGE_SIZE})`,
  );
}

/**
 * Yields every record of a migration stream (a path, .gz or not, or a
 * Readable). Throws a StreamError, with the byte offset, on a malformed or
 * truncated stream; yields a 'stop' event where the stream gives no length to
 * skip by (device state after RAM).
 */
export function readMigration(input: StreamInput, options: ReadOptions = {}): AsyncGenerator<MigrationEvent, void, undefined> {
  // Checked here, at the call, not at the first next().
  checkStreamInput(input);
  return read(input, checkReadOptions(options));
}

/** The page size of ReadOptions; TypeError/RangeError for a bad one. */
export function checkReadOptions(options: ReadOptions | undefined): number {
  checkOptions(options);
  const pageSize = options?.pageSize;
  if (pageSize === undefined) return 4096;
  // Above 16384 the stream is refused as unsupported (a StreamError), as a
  // stream that says so itself; a page size no QEMU target has is wrong use.
  checkWhole(pageSize, 'pageSize', 1, MAX_TARGET_PAGE, 'option');
  return pageSize;
}

/** 2^30: the largest page target-page-bits may give. */
const MAX_TARGET_PAGE = 2 ** 30;

async function* read(input: StreamInput, pageSize: number): AsyncGenerator<MigrationEvent, void, undefined> {
  const r = new ByteReader(inputChunks(input)[Symbol.asyncIterator]());
  try {
    yield* new Parser(r, pageSize).run();
  } finally {
    await r.close();
  }
}

class Parser {
  private readonly sections = new Map<number, string>();
  private readonly blocks = new Map<string, RamBlock>();
  private capabilities: string[] = [];
  private lastBlock: RamBlock | undefined;
  private ramComplete = false;

  constructor(
    private readonly r: ByteReader,
    private pageSize: number,
  ) {}

  async *run(): AsyncGenerator<MigrationEvent> {
    const r = this.r;
    await r.need(8, 'the stream header', 0);
    const magic = r.be32();
    if (magic !== STREAM_MAGIC) {
      throw new StreamError('bad-magic', 0, `not a QEMU migration stream: it starts with ${hex(magic)}, not "QEVM" (0x5145564d)`);
    }
    const version = r.be32();
    if (version !== STREAM_VERSION) {
      throw new StreamError('bad-version', 4, `stream version ${version} is not supported (only 3)`);
    }
    yield { kind: 'header', offset: 0, size: 8, version };

    for (;;) {
      const start = r.offset;
      if (!(await r.fill(1))) {
        throw new StreamError('truncated', start, 'stream ends before its EOF marker (the migration did not finish writing)');
      }
      const type = r.u8();
      switch (type) {
        case Section.CONFIGURATION: {
          const { ev, unknown } = await this.configuration(start);
          yield ev;
          if (unknown) {
            yield this.stop(r.offset, `unknown configuration subsection "${unknown}": its length is not known, so reading stops here`);
            return;
          }
          break;
        }
        case Section.START:
        case Section.FULL: {
          await r.need(5, 'a section header', start);
          const id = r.be32();
          const n = r.peek8();
          await r.need(1 + n + 8, 'a section header', start);
          const name = r.str8();
          const instance = r.be32();
          const version = r.be32();
          this.sections.set(id, name);
          yield { kind: 'section', type: TYPE_NAMES[type], offset: start, size: r.offset - start, id, name, instance, version };
          if (name !== 'ram') {
            yield this.deviceStop(r.offset, name, id, TYPE_NAMES[type]);
            return;
          }
          yield* this.ramSection(id);
          break;
        }
        case Section.PART:
        case Section.END: {
          await r.need(4, 'a section header', start);
          const id = r.be32();
          const name = this.sections.get(id);
          if (name === undefined) {
            throw new StreamError('bad-section', start, `section ${TYPE_NAMES[type]} for id ${id}, which no section start declared`);
          }
          yield { kind: 'section', type: TYPE_NAMES[type], offset: start, size: 5, id, name };
          if (name !== 'ram') {
            yield this.deviceStop(r.offset, name, id, TYPE_NAMES[type]);
            return;
          }
          yield* this.ramSection(id);
          if (type === Section.END) this.ramComplete = true;
          break;
        }
        case Section.COMMAND: {
          await r.need(4, 'a command', start);
          const command = r.be16();
          const len = r.be16();
          await r.skip(len, 'a command');
          yield { kind: 'command', offset: start, size: r.offset - start, command, name: COMMAND_NAMES[command] ?? `command ${command}` };
          break;
        }
        case Section.EOF: {
          yield { kind: 'eof', offset: start, size: 1 };
          yield* this.afterEof();
          return;
        }
        default:
          throw new StreamError('bad-section', start, `unknown section type ${hex(type)}`);
      }
    }
  }

  private stop(offset: number, reason: string) {
    return { kind: 'stop' as const, offset, size: 0, reason, ramComplete: this.ramComplete };
  }

  private deviceStop(offset: number, name: string, id: number, type: SectionType) {
    const where = this.ramComplete ? 'device state follows RAM' : 'a non-RAM iterative section';
    return this.stop(
      offset,
      `section "${name}" (id ${id}, ${type}): ${where}, and the stream does not give its length, so reading stops here`,
    );
  }

  /** The configuration section; `unknown` names a subsection it cannot skip. */
  private async configuration(start: number): Promise<{ ev: ConfigurationEvent; unknown?: string }> {
    const r = this.r;
    await r.need(4, 'the configuration section', start);
    const len = r.be32();
    await r.need(len, 'the configuration section', start);
    const machine = r.bytes(len).toString('latin1');
    const ev: ConfigurationEvent = { kind: 'configuration', offset: start, size: 0, machine, capabilities: [], subsections: [] };
    // Subsections follow with no count: each starts with the SUBSECTION byte.
    while ((await r.fill(1)) && r.peek8() === Section.SUBSECTION) {
      const sub = r.offset;
      await r.need(2, 'a configuration subsection', sub);
      r.u8();
      const n = r.peek8();
      await r.need(1 + n + 4, 'a configuration subsection', sub);
      const name = r.str8();
      r.be32(); // subsection version
      if (name === 'configuration/capabilities') {
        await r.need(4, name, sub);
        const count = r.be32();
        for (let i = 0; i < count; i++) {
          await r.need(1, name, sub);
          await r.need(1 + r.peek8(), name, sub);
          ev.capabilities.push(r.str8());
        }
      } else if (name === 'configuration/target-page-bits') {
        await r.need(4, name, sub);
        const bits = r.be32();
        if (bits < 9 || bits > 30) throw new StreamError('bad-configuration', sub, `target page bits ${bits} out of range`);
        if (2 ** bits > MAX_PAGE_SIZE) throw unsupportedPageSize(2 ** bits, sub, `target-page-bits ${bits}`);
        this.pageSize = 2 ** bits;
        ev.targetPageSize = this.pageSize;
      } else if (name === 'configuration/uuid') {
        await r.skip(16, name);
      } else if (name === 'configuration/clear-bitmap-shift') {
        await r.skip(4, name);
      } else {
        ev.size = r.offset - start;
        return { ev, unknown: name };
      }
      ev.subsections.push(name);
    }
    this.capabilities = ev.capabilities;
    ev.size = r.offset - start;
    return { ev };
  }

  /** The records of one part of the 'ram' section, up to EOS and the footer. */
  private async *ramSection(id: number): AsyncGenerator<MigrationEvent> {
    const r = this.r;
    const P = this.pageSize;
    const ignoreShared = this.capabilities.includes('x-ignore-shared');
    if (P > MAX_PAGE_SIZE) throw unsupportedPageSize(P, r.offset, 'the page size option');
    for (;;) {
      const start = r.offset;
      await r.need(8, 'a RAM record header', start);
      const [hi, lo] = r.be64();
      // One parser for the header word: record.ts's (flags in the low ten bits).
      const word = recordWord(hi, lo);
      const flags = word.flags;
      recordCheck(
        () => recordKind(flags, word.offset, STREAM_KINDS, start),
        (e) => (e.reason === 'bad-eos' ? 'end-of-section word with an offset or other flags' : `unknown RAM record flags ${hex(flags)}`),
      );
      // Past 2^53 an offset is a bigint; no block is that large, so the
      // page-past-block check below refuses it.
      const addr = typeof word.offset === 'bigint' ? Number.MAX_SAFE_INTEGER : word.offset;
      let block: RamBlock | undefined;
      if (flags & PAGE_FLAGS) {
        recordCheck(
          () => checkPageOffset(word.offset, P, start),
          () => `page record at offset ${hex(word.offset)}, which is not a multiple of the ${P}-byte page`,
          start,
        );
        if (flags & RamFlag.CONTINUE) {
          block = this.lastBlock;
          if (!block) throw new StreamError('no-block', start, 'a RAM record continues a block, but no block was named before');
        } else {
          await r.need(1, 'a RAM block name', start);
          await r.need(1 + r.peek8(), 'a RAM block name', start);
          const name = r.str8();
          block = this.blocks.get(name);
          if (!block) throw new StreamError('unknown-block', start, `RAM record names block "${name}", which the block list does not have`);
          this.lastBlock = block;
        }
        if (addr + P > block.length) {
          throw new StreamError('page-past-block', start, `page at ${hex(word.offset)} is past the end of block "${block.name}" (${hex(block.length)} bytes)`);
        }
      }
      const continued = (flags & RamFlag.CONTINUE) !== 0;
      switch (flags & ~RamFlag.CONTINUE) {
        case RamFlag.MEM_SIZE: {
          if (addr > MAX_RAM_BYTES) {
            throw new StreamError('unsupported-size', start, `RAM total of ${word.offset} bytes: more than the 2^52 bytes this reader supports`);
          }
          const blocks: RamBlock[] = [];
          let left = addr;
          while (left > 0) {
            const at = r.offset;
            if (blocks.length >= MAX_RAM_BLOCKS) {
              throw new StreamError('unsupported-size', at, `the RAM block list is longer than the ${MAX_RAM_BLOCKS} blocks this reader supports`);
            }
            await r.need(1, 'the RAM block list', start);
            await r.need(1 + r.peek8() + 8 + (ignoreShared ? 8 : 0), 'the RAM block list', start);
            const name = r.str8();
            const [h, l] = r.be64();
            const b: RamBlock = { name, length: h * 2 ** 32 + l };
            if (ignoreShared) {
              const [ah, al] = r.be64();
              b.addr = ah * 2 ** 32 + al;
            }
            if (b.length > left || b.length % P !== 0) {
              throw new StreamError(
                'bad-mem-size',
                at,
                `block "${name}" of ${b.length} bytes does not fit the ${left} bytes the RAM total leaves (blocks with postcopy host page sizes are not supported)`,
              );
            }
            left -= b.length;
            blocks.push(b);
            this.blocks.set(name, b);
          }
          yield { kind: 'mem-size', offset: start, size: r.offset - start, total: addr, blocks };
          break;
        }
        case RamFlag.ZERO: {
          await r.need(1, 'a zero page record', start);
          const fill = r.u8();
          yield { kind: 'zero', offset: start, size: r.offset - start, block: block!.name, addr, continued, fill };
          break;
        }
        case RamFlag.PAGE: {
          await r.need(P, 'a page record', start);
          const data = r.bytes(P);
          yield { kind: 'page', offset: start, size: r.offset - start, block: block!.name, addr, continued, data };
          break;
        }
        case RamFlag.COMPRESS_PAGE: {
          await r.need(4, 'a compressed page record', start);
          const len = r.be32();
          if (len > 2 * P) throw new StreamError('bad-page', start, `compressed page of ${len} bytes is longer than twice the page`);
          await r.need(len, 'a compressed page record', start);
          const compressed = Buffer.from(r.bytes(len));
          let data: Buffer;
          try {
            data = zlib.inflateSync(compressed);
          } catch (err) {
            throw new StreamError('bad-page', start, `compressed page does not inflate: ${(err as Error).message}`);
          }
          if (data.length !== P) throw new StreamError('bad-page', start, `compressed page inflates to ${data.length} bytes, not ${P}`);
          yield { kind: 'compressed-page', offset: start, size: r.offset - start, block: block!.name, addr, continued, compressed, data };
          break;
        }
        case RamFlag.XBZRLE: {
          await r.need(3, 'an XBZRLE record', start);
          const at = r.offset;
          const encoding = r.u8();
          recordCheck(
            () => checkXbzrleEncoding(encoding, at),
            () => `XBZRLE record with encoding byte ${hex(encoding)}, not 0x1`,
          );
          const n = r.be16();
          const len = recordCheck(
            () => checkXbzrleLength(n, P, at),
            () => `XBZRLE delta of ${n} bytes is longer than the ${P}-byte page`,
          );
          await r.need(len, 'an XBZRLE record', start);
          const deltaOffset = r.offset;
          const delta = r.bytes(len);
          yield { kind: 'xbzrle', offset: start, size: r.offset - start, block: block!.name, addr, continued, delta, deltaOffset };
          break;
        }
        case RamFlag.MULTIFD_FLUSH:
          yield { kind: 'multifd-flush', offset: start, size: 8 };
          break;
        case RamFlag.EOS: {
          yield { kind: 'eos', offset: start, size: 8 };
          yield* this.footer(id);
          return;
        }
        case RamFlag.HOOK:
          throw new StreamError('bad-ram-flags', start, 'RAM hook record (RDMA migration) cannot be read from a byte stream');
        default:
          throw new StreamError('bad-ram-flags', start, `unknown RAM record flags ${hex(flags)}`);
      }
    }
  }

  /** The optional section footer: 0x7e and the section id again. */
  private async *footer(id: number): AsyncGenerator<MigrationEvent> {
    const r = this.r;
    if (!(await r.fill(1)) || r.peek8() !== Section.FOOTER) return;
    const start = r.offset;
    await r.need(5, 'a section footer', start);
    r.u8();
    const got = r.be32();
    if (got !== id) throw new StreamError('bad-footer', start, `section footer names section ${got}, expected ${id}`);
    yield { kind: 'footer', offset: start, size: 5, id };
  }

  /** After EOF: the VM description JSON, if any; then the input must end. */
  private async *afterEof(): AsyncGenerator<MigrationEvent> {
    const r = this.r;
    if (!(await r.fill(1))) return;
    const start = r.offset;
    if (r.peek8() === Section.VMDESCRIPTION) {
      await r.need(5, 'the VM description', start);
      r.u8();
      const len = r.be32();
      await r.need(len, 'the VM description', start);
      const text = r.bytes(len).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw new StreamError('bad-section', start + 5, `VM description is not JSON: ${(err as Error).message}`);
      }
      yield { kind: 'vmdesc', offset: start, size: r.offset - start, json };
    }
    if (await r.fill(1)) {
      yield this.stop(r.offset, 'bytes after the end of the stream are ignored (QEMU does not read them either)');
    }
  }
}
