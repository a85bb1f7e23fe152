// index.ts: the public surface. Re-exports only.
export { PAGE_SIZE, encode, encodeInto, decodeInto, decode } from './codec/page';
export type { EncodeOptions } from './codec/page';
export { encodePages, decodePages } from './codec/batch';
export type { PagesOptions, EncodePagesOptions, DecodePagesOptions, EncodedPages } from './codec/batch';
export { encodePagesAsync, decodePagesAsync } from './codec/async';
export type { AsyncPagesOptions, EncodePagesAsyncOptions, DecodePagesAsyncOptions } from './codec/async';
export { MAX_PAGE_SIZE } from './util/checks';
export { XbzrleError, AbortError, ClosedError, NoMemoryError, BatchError, ProfileError } from './util/errors';
export type {
  XbzrleErrorCode,
  XbzrleReason,
  StreamErrorReason,
  ProfileErrorReason,
  ClosedReason,
  NoMemoryReason,
  BatchReason,
} from './util/errors';
export { kernels, kernel, useKernel } from './backend/kernels';
export { native, nativeStatus } from './backend/status';
export type { NativeStatus } from './backend/status';
export { readMigration, type ReadOptions } from './stream/reader';
export { inspectStream } from './stream/inspect';
export type { InspectOptions, InspectReport } from './stream/inspect';
export { StreamError } from './stream/errors';
export type { StreamErrorCode } from './stream/errors';
export type { StreamInput } from './stream/input';
export type * from './stream/events';
export { MemoryBudget } from './migration/budget';
export { PageCache } from './migration/cache';
export type { CachePolicy, PageCacheOptions, PageCacheStats, CacheMemoryUsage } from './migration/cache';
export { Sender, SEND_KINDS, sendPagesCapacity } from './migration/sender';
export { Receiver } from './migration/receiver';
export type { ReceiverOptions } from './migration/receiver';
export type {
  SendKind,
  SenderOptions,
  SendPageOptions,
  SendResult,
  SendPagesOptions,
  SendPagesResult,
  SenderStats,
  SenderStatsQmp,
} from './migration/sender';
export { RecordFlag, ENCODING_XBZRLE, FLAG_MASK, RecordError, RecordWriter, RecordReader, xbzrleBody, pageHeader } from './migration/record';
export type { RamRecord, RecordType, RecordErrorReason, RecordWriterOptions, RecordReaderOptions } from './migration/record';
export type { Address } from './util/checks';
export { CacheAdvisor, PAYS_AT, SAVING_TOLERANCE } from './advisor/advisor';
export type { CacheAdvisorOptions, AddPassOptions, CurvePoint, RecommendOptions, Recommendation, LimitedBy, TraceStats, TradeoffRow } from './advisor/advisor';
export type { PageSampleSpec } from './advisor/page-sample';
export { parseBytes, parseBudget, formatBytes } from './util/sizes';
export { Governor, cacheCost, largestCacheWithin } from './govern';
export type { GovernorOptions, MigrateOptions, Decision, Progress, VmReport, VmStatus } from './govern';
export { QmpClient, QmpError } from './qmp';
export type { QmpConnectOptions, QmpExecuteOptions, QmpReason } from './qmp';
