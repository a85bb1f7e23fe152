// inspect.ts: inspectStream() reads a migration stream once and reports what it
// holds: records and bytes per kind, per section part and per pass, XBZRLE's
// share and saving, pages sent raw again, and errors with their byte offset.
import { encode } from '../codec/page';
import { describe } from '../util/checks';
import { StreamError } from './errors';
import type { MigrationEvent, RamBlock } from './events';
import { checkStreamInput, type StreamInput } from './input';
import { FilePageStore, MemoryPageStore, type PageStore } from './page-store';
import { RamImage, hexAddr } from './ram-image';
import { checkReadOptions, readMigration } from './reader';
import { reencode } from './reencode';

export interface InspectOptions {
  /** Writes each RAM block's final content to DIR/<block>.ram. */
  extractRam?: string;
  /** Target page size when the stream does not say (default 4096). */
  pageSize?: number;
  /** Called with each event after it is accounted for (tests use it). */
  onEvent?: (ev: MigrationEvent, image: RamImage) => void;
}

export interface Tally {
  count: number;
  bytes: number;
}

type PageKind = 'zero' | 'page' | 'compressed-page' | 'xbzrle';

export interface PartReport {
  index: number;
  type: 'start' | 'part' | 'end' | 'full';
  offset: number;
  bytes: number;
  pass: number;
  records: Record<PageKind, number>;
}

export interface PassReport {
  pass: number;
  /** Offset of the pass's first record. */
  offset: number;
  bytes: number;
  records: Record<PageKind, number>;
  /** Page records (any kind) for pages an earlier record had sent. */
  resent: number;
}

export interface XbzrleReport {
  records: number;
  /** Delta bytes, and what QEMU counts: delta + 3 per record. */
  deltaBytes: number;
  qemuBytes: number;
  /** Bytes the same pages would have taken raw (page size each). */
  rawBytes: number;
  /** 1 - qemuBytes / rawBytes. */
  saving: number;
  /** XBZRLE records / records carrying page content (raw, compressed, XBZRLE). */
  shareOfPages: number;
  /** Re-encoding each record's pages with our encoder. */
  identical: number;
  different: number;
  differences: { offset: number; block: string; addr: string; why: string }[];
  /** Records for pages no earlier record had sent (cannot come from a cache hit). */
  unsentBase: number;
}

export interface ResendReport {
  /** Raw pages sent for a page that an earlier record had sent. */
  raw: number;
  /** ... whose canonical delta against the previous content would not fit the page: overflow. */
  wouldOverflow: number;
  /** ... that would have fit as a delta: a cache miss (or QEMU's border case near the limit). */
  wouldFit: number;
  /** ... identical to what the receiver had: a cache miss on a page dirtied without change. */
  unchanged: number;
  /** Zero-page records for pages sent before. */
  zero: number;
}

export interface InspectReport {
  /** Bytes read (of the decompressed stream). */
  bytes: number;
  version?: number;
  machine?: string;
  capabilities: string[];
  pageSize: number;
  blocks: (RamBlock & { pagesSent: number; file?: string })[];
  records: Record<string, Tally>;
  sections: { name: string; id: number; count: number }[];
  parts: PartReport[];
  passes: PassReport[];
  xbzrle: XbzrleReport;
  resent: ResendReport;
  commands: string[];
  /** True when the stream's EOF marker was read. */
  eof: boolean;
  /** True when the 'ram' section ended (its END part was read). */
  ramComplete: boolean;
  stop?: { offset: number; reason: string };
  errors: { offset: number; code: string; reason: string; message: string }[];
}

const emptyKinds = (): Record<PageKind, number> => ({ zero: 0, page: 0, 'compressed-page': 0, xbzrle: 0 });

/** Reads a stream to its end (or first fatal error) and reports on it. */
export async function inspectStream(input: StreamInput, options: InspectOptions = {}): Promise<InspectReport> {
  checkStreamInput(input);
  let pageSize = checkReadOptions(options);
  if (options?.extractRam !== undefined && (typeof options.extractRam !== 'string' || options.extractRam === '')) {
    throw new TypeError(`The "extractRam" option must be a directory path, received ${describe(options.extractRam)}`);
  }
  if (options?.onEvent !== undefined && typeof options.onEvent !== 'function') {
    throw new TypeError(`The "onEvent" option must be a function, received ${describe(options.onEvent)}`);
  }
  options = options ?? {};
  const report: InspectReport = {
    bytes: 0,
    capabilities: [],
    pageSize,
    blocks: [],
    records: {},
    sections: [],
    parts: [],
    passes: [],
    xbzrle: {
      records: 0,
      deltaBytes: 0,
      qemuBytes: 0,
      rawBytes: 0,
      saving: 0,
      shareOfPages: 0,
      identical: 0,
      different: 0,
      differences: [],
      unsentBase: 0,
    },
    resent: { raw: 0, wouldOverflow: 0, wouldFit: 0, unchanged: 0, zero: 0 },
    commands: [],
    eof: false,
    ramComplete: false,
    errors: [],
  };
  let store: PageStore | undefined;
  let image: RamImage | undefined;
  const blockIndex = new Map<string, number>();
  let part: PartReport | undefined;
  let pass: PassReport | undefined;
  let lastBlock = Infinity; // position (block index, page address) of the last page record
  let lastAddr = Infinity;
  let compressed = false; // compression threads flush pages out of order
  const passOf = new Map<string, Map<number, number>>(); // per block, page index -> the last pass that sent it (sparse)
  let contentRecords = 0;
  const sections = new Map<number, { name: string; id: number; count: number }>();

  const tally = (kind: string, bytes: number) => {
    const t = (report.records[kind] ??= { count: 0, bytes: 0 });
    t.count++;
    t.bytes += bytes;
  };

  try {
    for await (const ev of readMigration(input, { pageSize })) {
      report.bytes = ev.offset + ev.size;
      if (ev.kind !== 'stop') tally(ev.kind, ev.size);
      if (part && ev.kind !== 'section') part.bytes += ev.size;
      switch (ev.kind) {
        case 'header':
          report.version = ev.version;
          break;
        case 'configuration':
          report.machine = ev.machine;
          report.capabilities = ev.capabilities;
          if (ev.targetPageSize) report.pageSize = pageSize = ev.targetPageSize;
          break;
        case 'section': {
          const s = sections.get(ev.id) ?? { name: ev.name, id: ev.id, count: 0 };
          s.count++;
          sections.set(ev.id, s);
          part = undefined;
          if (ev.name === 'ram') {
            part = { index: report.parts.length, type: ev.type, offset: ev.offset, bytes: ev.size, pass: pass?.pass ?? 1, records: emptyKinds() };
            report.parts.push(part);
            if (ev.type === 'end') report.ramComplete = true;
          }
          break;
        }
        case 'mem-size':
          if (!store) {
            store = options.extractRam ? new FilePageStore(options.extractRam) : new MemoryPageStore();
            image = new RamImage(store, pageSize);
          }
          image!.addBlocks(ev.blocks);
          for (const b of ev.blocks) {
            blockIndex.set(b.name, blockIndex.size);
            passOf.set(b.name, new Map());
          }
          break;
        case 'zero':
        case 'page':
        case 'compressed-page':
        case 'xbzrle': {
          // A pass walks the blocks in order, pages ascending, and sends a page
          // at most once: going back, or a page sent again, starts a new pass.
          // (With compression, pages come out of order; only repeats count.)
          if (ev.kind === 'compressed-page') compressed = true;
          const bi = blockIndex.get(ev.block)!;
          const back = bi < lastBlock || (bi === lastBlock && ev.addr <= lastAddr);
          const sentIn = passOf.get(ev.block)!;
          const index = ev.addr / pageSize;
          if (!pass || (!compressed && back) || sentIn.get(index) === pass.pass) {
            pass = { pass: (pass?.pass ?? 0) + 1, offset: ev.offset, bytes: 0, records: emptyKinds(), resent: 0 };
            report.passes.push(pass);
            if (part && part.records.zero + part.records.page + part.records.xbzrle + part.records['compressed-page'] === 0) part.pass = pass.pass;
          }
          lastBlock = bi;
          lastAddr = ev.addr;
          sentIn.set(index, pass.pass);
          pass.records[ev.kind]++;
          pass.bytes += ev.size;
          part!.records[ev.kind]++;
          if (ev.kind !== 'zero') contentRecords++;
          let applied;
          try {
            applied = image!.apply(ev);
          } catch (err) {
            if (!(err instanceof StreamError)) throw err;
            report.errors.push({ offset: err.offset, code: err.code, reason: err.reason, message: err.message });
            break;
          }
          const { before, after, sentBefore } = applied;
          if (sentBefore) pass.resent++;
          if (ev.kind === 'xbzrle') {
            const x = report.xbzrle;
            x.records++;
            x.deltaBytes += ev.delta.length;
            x.qemuBytes += ev.delta.length + 3;
            x.rawBytes += pageSize;
            if (!sentBefore) x.unsentBase++;
            const check = reencode(before, after, ev.delta);
            if (check.identical) x.identical++;
            else {
              x.different++;
              if (x.differences.length < 20) x.differences.push({ offset: ev.offset, block: ev.block, addr: hexAddr(ev.addr), why: check.why! });
            }
          } else if (sentBefore && ev.kind === 'zero') {
            report.resent.zero++;
          } else if (sentBefore) {
            const r = report.resent;
            r.raw++;
            if (before.equals(after)) r.unchanged++;
            else if (encode(before, after) === null) r.wouldOverflow++;
            else r.wouldFit++;
          }
          break;
        }
        case 'command':
          report.commands.push(ev.name);
          break;
        case 'eof':
          report.eof = true;
          break;
        case 'stop':
          report.stop = { offset: ev.offset, reason: ev.reason };
          break;
        default:
          break;
      }
      options.onEvent?.(ev, image!);
    }
  } catch (err) {
    if (!(err instanceof StreamError)) throw err;
    report.errors.push({ offset: err.offset, code: err.code, reason: err.reason, message: err.message });
  } finally {
    if (image) {
      report.blocks = image.blockList().map((b) => ({ ...b, pagesSent: image!.pagesSent(b.name) }));
      if (store instanceof FilePageStore) for (const b of report.blocks) b.file = store.files.get(b.name);
    }
    store?.close();
  }
  const x = report.xbzrle;
  x.saving = x.rawBytes ? 1 - x.qemuBytes / x.rawBytes : 0;
  x.shareOfPages = contentRecords ? x.records / contentRecords : 0;
  report.sections = [...sections.values()];
  return report;
}

