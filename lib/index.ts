// index.ts: the public surface. Re-exports only.
export { PAGE_SIZE, encode, encodeInto, decodeInto, decode } from './codec';
export type { EncodeOptions } from './codec';
export { encodePages, decodePages } from './batch';
export type { PagesOptions, EncodePagesOptions, DecodePagesOptions, EncodedPages } from './batch';
export { encodePagesAsync, decodePagesAsync } from './batch-async';
export type { AsyncPagesOptions, EncodePagesAsyncOptions, DecodePagesAsyncOptions } from './batch-async';
export { XbzrleError, AbortError, MAX_PAGE_SIZE } from './errors';
export type { XbzrleReason } from './errors';
export { kernels, kernel, useKernel } from './kernels';
export { native, nativeStatus } from './status';
export type { NativeStatus } from './status';
export { readMigration, type ReadOptions } from './stream/reader';
export { inspectStream } from './stream/inspect';
export type { InspectOptions, InspectReport } from './stream/inspect';
export { StreamError } from './stream/errors';
export type { StreamErrorCode } from './stream/errors';
export type { StreamInput } from './stream/input';
export type * from './stream/events';
export { MemoryBudget } from './budget';
export { PageCache } from './cache';
export type { CachePolicy, PageCacheOptions, PageCacheStats, CacheMemoryUsage } from './cache';
export { Sender, Receiver, SEND_KINDS, sendPagesCapacity } from './migration';
export type {
  SendKind,
  SenderOptions,
  SendPageOptions,
  SendResult,
  SendPagesOptions,
  SendPagesResult,
  SenderStats,
  SenderStatsQmp,
  ReceiverOptions,
} from './migration';
export { RecordFlag, ENCODING_XBZRLE, FLAG_MASK, RecordError, RecordWriter, RecordReader, xbzrleBody, pageHeader } from './record';
export type { RamRecord, RecordType, RecordErrorReason, RecordWriterOptions, RecordReaderOptions } from './record';
export type { Address } from './checks';
export { CacheAdvisor, PAYS_AT } from './advisor';
export type { CacheAdvisorOptions, AddPassOptions, CurvePoint, RecommendOptions, Recommendation, LimitedBy, TraceStats } from './advisor';
export { parseBytes, parseBudget, formatBytes } from './sizes';
