// errors.ts: what a malformed or truncated migration stream raises. The
// class lives with every other error class in lib/util/errors.ts.
export { StreamError, type StreamErrorReason } from '../util/errors';
/** The old name of StreamErrorReason (the value is now `reason`; `code` is ERR_XBZRLE_STREAM). */
export type { StreamErrorReason as StreamErrorCode } from '../util/errors';
