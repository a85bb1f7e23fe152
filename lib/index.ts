// index.ts: the public surface. Re-exports only.
export { PAGE_SIZE, encode, encodeInto, decodeInto, decode } from './codec';
export type { EncodeOptions } from './codec';
export { XbzrleError, MAX_PAGE_SIZE } from './errors';
export type { XbzrleReason } from './errors';
export { kernels, kernel, useKernel } from './kernels';
export { native, nativeStatus } from './status';
export type { NativeStatus } from './status';
export { CacheAdvisor, PAYS_AT } from './advisor';
export type { CacheAdvisorOptions, AddPassOptions, CurvePoint, RecommendOptions, Recommendation, LimitedBy, TraceStats, CachePolicy } from './advisor';
export { parseBytes, parseBudget, formatBytes } from './sizes';
