// A TypeScript user of the installed package. It names every export of
// 'xbzrle' (test/packaging.test.ts checks that against the package's
// declarations), with the types a user would write, and is compiled with
// strict under module commonjs, nodenext (as .ts and copied to .mts) and
// preserve (bundler resolution). The @ts-expect-error lines prove the
// typings reject wrong calls instead of accepting anything.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  PAGE_SIZE,
  MAX_PAGE_SIZE,
  encode,
  encodeInto,
  decodeInto,
  decode,
  XbzrleError,
  kernels,
  kernel,
  useKernel,
  native,
  nativeStatus,
  type EncodeOptions,
  type XbzrleReason,
  type NativeStatus,
  encodePages,
  decodePages,
  encodePagesAsync,
  decodePagesAsync,
  AbortError,
  ClosedError,
  NoMemoryError,
  BatchError,
  ProfileError,
  type XbzrleErrorCode,
  type StreamErrorReason,
  type ProfileErrorReason,
  type ClosedReason,
  type NoMemoryReason,
  type BatchReason,
  type PagesOptions,
  type EncodePagesOptions,
  type DecodePagesOptions,
  type EncodedPages,
  type AsyncPagesOptions,
  type EncodePagesAsyncOptions,
  type DecodePagesAsyncOptions,
  MemoryBudget,
  PageCache,
  Sender,
  Receiver,
  SEND_KINDS,
  sendPagesCapacity,
  RecordFlag,
  ENCODING_XBZRLE,
  FLAG_MASK,
  RecordError,
  RecordWriter,
  RecordReader,
  xbzrleBody,
  pageHeader,
  type CachePolicy,
  type PageCacheOptions,
  type PageCacheStats,
  type CacheMemoryUsage,
  type SendKind,
  type SenderOptions,
  type SendPageOptions,
  type SendResult,
  type SendPagesOptions,
  type SendPagesResult,
  type SenderStats,
  type SenderStatsQmp,
  type ReceiverOptions,
  type RamRecord,
  type RecordType,
  type RecordErrorReason,
  type RecordWriterOptions,
  type RecordReaderOptions,
  type Address,
  readMigration,
  inspectStream,
  StreamError,
  type ReadOptions,
  type InspectOptions,
  type InspectReport,
  type StreamErrorCode,
  type StreamInput,
  type MigrationEvent,
  type RamEvent,
  type RamBlock,
  type HeaderEvent,
  type ConfigurationEvent,
  type SectionEvent,
  type SectionType,
  type FooterEvent,
  type MemSizeEvent,
  type ZeroEvent,
  type PageEvent,
  type CompressedPageEvent,
  type XbzrleEvent,
  type MarkEvent,
  type CommandEvent,
  type VmDescriptionEvent,
  type StopEvent,
  CacheAdvisor,
  PAYS_AT,
  parseBytes,
  parseBudget,
  formatBytes,
  type CacheAdvisorOptions,
  type PageSampleSpec,
  type AddPassOptions,
  type CurvePoint,
  type RecommendOptions,
  type Recommendation,
  type LimitedBy,
  type TraceStats,
  SAVING_TOLERANCE,
  type TradeoffRow,
  Governor,
  cacheCost,
  largestCacheWithin,
  type GovernorOptions,
  type MigrateOptions,
  type Decision,
  type Progress,
  type VmReport,
  type VmStatus,
  QmpClient,
  QmpError,
  type QmpConnectOptions,
  type QmpExecuteOptions,
  type QmpReason,
} from 'xbzrle';

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`consumer.ts: ${what}`);
}

const pageSize: number = PAGE_SIZE;
const maxPageSize: number = MAX_PAGE_SIZE;
check(pageSize === 4096 && maxPageSize === 16384, 'page sizes');

// One page with one changed byte: encode, encodeInto, decodeInto, decode.
const oldPage: Uint8Array = new Uint8Array(pageSize);
const newPage: Buffer = Buffer.alloc(pageSize);
newPage[pageSize - 1] = 7;
const options: EncodeOptions = { limit: pageSize };
const delta: Buffer | null = encode(oldPage, newPage, options);
check(delta !== null && delta.equals(Buffer.from([0xff, 0x1f, 1, 7])), 'encode');
if (delta === null) throw new Error('unreachable');
const out: Uint8Array = new Uint8Array(16);
const written: number = encodeInto(oldPage, newPage, out, { limit: 16 });
check(written === 4, 'encodeInto');
const overflow: number = encodeInto(oldPage, newPage, out, { limit: 3 });
check(overflow === -1, 'encodeInto overflow');
const page = new Uint8Array(oldPage);
const covered: number = decodeInto(delta, page);
check(covered === pageSize && page[pageSize - 1] === 7, 'decodeInto');
const rebuilt: Buffer = decode(oldPage, delta);
check(rebuilt.equals(newPage), 'decode');

// A malformed delta: an XbzrleError with a reason and an offset.
let reason: XbzrleReason | null = null;
let offset = -1;
try {
  decodeInto(Uint8Array.of(0), page);
} catch (err) {
  if (err instanceof XbzrleError) {
    const code: 'ERR_XBZRLE_MALFORMED' = err.code;
    const inBatch: number | undefined = err.page;
    check(code === 'ERR_XBZRLE_MALFORMED' && inBatch === undefined, 'XbzrleError fields');
    reason = err.reason;
    offset = err.offset;
  }
}
check(reason === 'truncated' && offset === 0, 'XbzrleError');

// The kernels and the status.
const available: string[] = kernels();
const inUse: string = kernel();
useKernel(available[0]);
check(kernel() === available[0] && inUse.length > 0, 'useKernel');
const isNative: boolean = native;
const status: NativeStatus = nativeStatus();
const source: 'prebuild' | 'local-build' | 'twin' = status.source;
const binary: string | null = status.path;
const why: string | null = status.reason;
const platform: string = status.platform;
check(status.native === isNative && (binary === null) === (source === 'twin'), 'nativeStatus');
check(isNative ? why === null : why !== null, 'nativeStatus reason');

// Batches: two pages per call, sync and async, back onto the old pages.
{
  const olds = Buffer.alloc(2 * pageSize);
  const news = Buffer.from(olds);
  news[10] = 1;
  news[pageSize + 20] = 2;
  const common: PagesOptions = { pageSize };
  const encOptions: EncodePagesOptions = { ...common, limit: pageSize };
  const enc: EncodedPages = encodePages(olds, news, encOptions);
  check(enc.lengths[0] === 3 && enc.lengths[1] === 3 && enc.offsets[1] === 3, 'encodePages');
  const target = Buffer.from(olds);
  const decOptions: DecodePagesOptions = { pageSize };
  decodePages(enc.data, enc.offsets, enc.lengths, target, decOptions);
  check(target.equals(news), 'decodePages');
  const asyncBase: AsyncPagesOptions = { signal: new AbortController().signal };
  const encAsync: EncodePagesAsyncOptions = { ...asyncBase, pageSize };
  const decAsync: DecodePagesAsyncOptions = { ...asyncBase, pageSize };
  const again = Buffer.from(olds);
  void encodePagesAsync(olds, news, encAsync)
    .then((r: EncodedPages) => decodePagesAsync(r.data, r.offsets, r.lengths, again, decAsync))
    .then(() => check(again.equals(news), 'async batch'));
  const aborted = new AbortController();
  aborted.abort();
  void encodePagesAsync(olds, news, { pageSize, signal: aborted.signal }).catch((e: unknown) =>
    check(e instanceof AbortError && e.name === 'AbortError', 'abort'),
  );
}

// A two-page migration: page cache and budget, sender, records, receiver.
const policy: CachePolicy = 'qemu';
const cacheOptions: PageCacheOptions = { size: 4 * pageSize, policy, budget: new MemoryBudget(1 << 20) };
const cache = new PageCache(cacheOptions);
const senderOptions: SenderOptions = { cache };
const sender = new Sender(senderOptions);
const ram = Buffer.alloc(2 * pageSize, 1);
const addrs: Address[] = [0, pageSize];
const writerOptions: RecordWriterOptions = { pageSize };
const writer = new RecordWriter(writerOptions);
const batchOptions: SendPagesOptions = { detectZero: true, out: Buffer.alloc(sendPagesCapacity(2, pageSize, 6)) };
let batch: SendPagesResult = sender.sendPagesFrom(ram, addrs, batchOptions); // the first pass: raw
writer.framed(batch.data, 'pc.ram');
sender.nextGeneration();
batch = sender.sendPages(addrs, ram, { continued: writer.continues('pc.ram') }); // misses: raw, cached
writer.framed(batch.data, 'pc.ram');
ram[5] = 9;
const pageOptions: SendPageOptions = { lastStage: true };
const sent: SendResult = sender.sendPage(0, ram.subarray(0, pageSize), pageOptions); // a hit: a record
const kind: SendKind = sent.kind;
if (sent.body && kind === 'xbzrle') writer.xbzrle(0, 'pc.ram', sent.body);
writer.eos();
const readerOptions: RecordReaderOptions = { pageSize };
const records: RamRecord[] = new RecordReader(readerOptions).push(writer.take());
const receiverOptions: ReceiverOptions = { pageSize };
const receiver = new Receiver(receiverOptions);
const dest = Buffer.alloc(2 * pageSize);
for (const record of records) receiver.receive(dest, record);
const recordTypes: RecordType[] = records.map((r) => r.type);
const senderStats: SenderStats = sender.stats;
const qmp: SenderStatsQmp = sender.statsQmp();
const cacheStats: PageCacheStats = cache.stats;
const cacheMemory: CacheMemoryUsage = cache.memoryUsage;
check(
  dest.equals(ram) && kind === 'xbzrle' && SEND_KINDS[batch.kinds[0]] === 'raw' && recordTypes.length === 6,
  'migration',
);
check(qmp.pages === senderStats.pages && cacheStats.pages === 2 && cacheMemory.pages <= cache.size, 'migration stats');
let recordReason: RecordErrorReason | null = null;
try {
  receiver.applyRecord(Buffer.alloc(pageSize), Uint8Array.of(2, 0, 0));
} catch (err) {
  if (err instanceof RecordError) recordReason = err.reason;
}
check(recordReason === 'bad-encoding-flag', 'RecordError');
check(xbzrleBody(Uint8Array.of())[0] === ENCODING_XBZRLE && FLAG_MASK === 0x3ff, 'record constants');
check(pageHeader(1024, RecordFlag.ZERO, 'a').length === 10, 'pageHeader');
cache.close();

// The stream reader's exports (lib/stream), named so that this file covers
// every export of the package.
export type StreamTypes = [
  ReadOptions,
  InspectOptions,
  InspectReport,
  StreamErrorCode,
  StreamInput,
  MigrationEvent,
  RamEvent,
  RamBlock,
  HeaderEvent,
  ConfigurationEvent,
  SectionEvent,
  SectionType,
  FooterEvent,
  MemSizeEvent,
  ZeroEvent,
  PageEvent,
  CompressedPageEvent,
  XbzrleEvent,
  MarkEvent,
  CommandEvent,
  VmDescriptionEvent,
  StopEvent,
];
check([readMigration, inspectStream, StreamError].every((f) => typeof f === 'function'), 'stream reader exports');
// The error module: every class is an Error with a stable ERR_XBZRLE_* code.
export type ErrorTypes = [XbzrleErrorCode, StreamErrorReason, ProfileErrorReason, ClosedReason, NoMemoryReason, BatchReason];
check([ClosedError, NoMemoryError, BatchError, ProfileError].every((c) => c.prototype instanceof Error), 'error classes');
// The cache advisor: two pages dirtied in three passes, their hit costs,
// the curve and the advice.
const advisorPolicy: CachePolicy = 'qemu';
const advisorOptions: CacheAdvisorOptions = { pageSize, policies: [advisorPolicy, 'associative'], sampling: 'auto' };
const advisor = new CacheAdvisor(advisorOptions);
const passOptions: AddPassOptions = { hitBytes: [0, 103], costSampleRate: 1 };
for (let g = 0; g < 3; g++) advisor.addPass([0, pageSize], passOptions);
const curve: CurvePoint[] = advisor.curve([16 * pageSize], [advisorPolicy]);
check(curve[0].hitRate === 4 / 6 && curve[0].saving !== null, 'advisor curve');
// A trace of sampled pages (here every page: rate 1) gives the same curve.
const everyPage: PageSampleSpec = { rate: 1 };
const sampledAdvisor = new CacheAdvisor({ pageSize, policies: [advisorPolicy], pageSample: everyPage });
for (let g = 0; g < 3; g++) sampledAdvisor.addPass([0, pageSize], passOptions);
check(sampledAdvisor.curve([16 * pageSize], [advisorPolicy])[0].hitRate === 4 / 6, 'page-sampled advisor');
const stats: TraceStats = advisor.stats();
check(stats.events === 6 && stats.distinctPages === 2, 'advisor stats');
const budget: number = parseBudget('50%', parseBytes(formatBytes(2 * 2 ** 20)));
const recommendOptions: RecommendOptions = { target: 0.5, budget, concurrent: 1 };
const advice: Recommendation = advisor.recommend(recommendOptions);
const limitedBy: LimitedBy = advice.limitedBy;
check(limitedBy === 'target' && advice.size === 16 * pageSize && advice.pays && (advice.saving ?? 0) >= PAYS_AT, 'advisor recommend');
const tradeoff: TradeoffRow[] = advice.tradeoff;
check(Array.isArray(tradeoff) && SAVING_TOLERANCE > 0 && SAVING_TOLERANCE < 0.1, 'advisor trade-off');

// The governor: the cost model, and a governor that is made and closed
// without a QEMU (tests against real QEMU are in the repository).
check(cacheCost(64 * 2 ** 20) > 64 * 2 ** 20 && largestCacheWithin(cacheCost(2 ** 20)) === 2 ** 20, 'governor cost model');
const govOptions: GovernorOptions = { budget: '64M', target: 0.9, interval: 1 };
const gov = new Governor(govOptions);
const seen: Array<Decision | Progress | VmReport> = [];
gov.on('decision', (d: Decision) => seen.push(d));
gov.on('progress', (p: Progress) => seen.push(p));
gov.on('done', (r: VmReport) => seen.push(r));
const vmStatus: VmStatus = 'completed';
const migrateOptions: MigrateOptions = { qmp: '/nonexistent/qmp.sock', uri: 'unix:/nonexistent', name: 'vm', start: false };
check(gov.budget === 64 * 2 ** 20 && vmStatus === 'completed' && migrateOptions.start === false && seen.length === 0, 'governor options');
gov.close();
const qmpOptions: QmpConnectOptions = { timeout: 100 };
const qmpExec: QmpExecuteOptions = { timeout: 100 };
const qmpReason: QmpReason = 'closed';
check(typeof QmpClient.connect === 'function' && new QmpError(qmpReason, 'x').code === 'ERR_XBZRLE_QMP' && qmpOptions.timeout === qmpExec.timeout, 'QMP exports');

// A QEMU-made pair (XBZRLE_PAIR: old.bin, new.bin, enc.bin).
const dir = process.env.XBZRLE_PAIR ?? '.';
const [pairOld, pairNew, pairEnc] = ['old.bin', 'new.bin', 'enc.bin'].map((f) =>
  fs.readFileSync(path.join(dir, f)),
);
const pairDelta = encode(pairOld, pairNew);
const pair = pairDelta !== null && pairDelta.equals(pairEnc) && decode(pairOld, pairEnc).equals(pairNew);

console.log(JSON.stringify({ face: 'ts', native: isNative, status, source, platform, page: true, pair }));

// Never called: each line must fail to compile.
export function wrongCalls(): void {
  // @ts-expect-error a string is not a page
  encode('old', newPage);
  // @ts-expect-error the limit is a number
  encode(oldPage, newPage, { limit: '4096' });
  // @ts-expect-error encode may return null
  const d: Buffer = encode(oldPage, newPage);
  // @ts-expect-error decodeInto needs the page
  decodeInto(d);
  // @ts-expect-error not a reason
  const r: XbzrleReason = 'bad-reason';
  // @ts-expect-error a kernel is named by a string
  useKernel(1);
  // @ts-expect-error native is read-only
  native = false;
  // @ts-expect-error not a source
  const s: NativeStatus['source'] = 'wasm';
  // @ts-expect-error not a policy
  const p: CachePolicy = 'lru';
  // @ts-expect-error a cache needs its size
  new PageCache({ pageSize: 4096 });
  // @ts-expect-error a record has a type
  const t: RecordType = 'compressed';
  // @ts-expect-error not a cache policy
  new CacheAdvisor({ policies: ['lru'] });
  // @ts-expect-error addresses are numbers
  advisor.addPass(['0x1000']);
  void r;
  void s;
  void p;
  void t;
}
