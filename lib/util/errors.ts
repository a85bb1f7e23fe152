// errors.ts: every error class of the package, in one scheme. Each has a
// stable `code` (ERR_XBZRLE_*; AbortError keeps Node's ABORT_ERR), a
// `reason` (a short kebab-case word saying which rule was broken) and, where
// a byte offset applies, `offset`. Wrong arguments are TypeError/RangeError
// (lib/util/checks.ts); these are for data and state.

/** The stable codes, one per error class. */
export type XbzrleErrorCode =
  | 'ERR_XBZRLE_MALFORMED'
  | 'ERR_XBZRLE_RECORD'
  | 'ERR_XBZRLE_STREAM'
  | 'ERR_XBZRLE_PROFILE'
  | 'ERR_XBZRLE_CLOSED'
  | 'ERR_XBZRLE_NO_MEMORY'
  | 'ERR_XBZRLE_BATCH';

/** What every error of this package carries. */
export abstract class CodedError<R extends string = string> extends Error {
  abstract readonly code: string;
  readonly reason: R;

  constructor(reason: R, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

// ---- ERR_XBZRLE_MALFORMED: a delta the decoder refuses ----

/** Why a delta was rejected; the codes match native/core/xbzrle.h `Reject`. */
export type XbzrleReason =
  | 'truncated'
  | 'uleb128-too-long'
  | 'empty-zero-run'
  | 'empty-changed-run'
  | 'run-past-page'
  | 'run-past-input'
  | 'delta-overlaps-page';

const REASONS: readonly XbzrleReason[] = [
  'truncated', // 0 is unused; 1..7 follow the native enum
  'truncated',
  'uleb128-too-long',
  'empty-zero-run',
  'empty-changed-run',
  'run-past-page',
  'run-past-input',
  'delta-overlaps-page',
];

const XBZRLE_EXPLAIN: Record<XbzrleReason, string> = {
  truncated: 'the delta ends inside a run pair',
  'uleb128-too-long': 'a run length needs more than two ULEB128 bytes',
  'empty-zero-run': 'an unchanged run of length 0 after the first pair',
  'empty-changed-run': 'a changed run of length 0',
  'run-past-page': 'a run goes past the end of the page',
  'run-past-input': 'a changed run goes past the end of the delta',
  'delta-overlaps-page': "the delta lies in the page's own memory",
};

/** A malformed delta. The page it was applied to is unchanged. */
export class XbzrleError extends CodedError<XbzrleReason> {
  readonly code = 'ERR_XBZRLE_MALFORMED';
  /** Byte offset in the delta where the bad element starts. */
  readonly offset: number;
  /** Index of the page in a batch, when the delta came from one. */
  readonly page?: number;
  /**
   * From decodePages and decodePagesAsync: every rejected delta of the batch,
   * in page order, each with its `page`. This error repeats the first one.
   */
  readonly errors?: readonly XbzrleError[];

  constructor(reason: XbzrleReason, offset: number, page?: number, errors?: readonly XbzrleError[]) {
    const where = page === undefined ? '' : ` (page ${page})`;
    const more =
      errors && errors.length > 1 ? `; ${errors.length} deltas of the batch were rejected, see .errors` : '';
    super(reason, `malformed XBZRLE delta${where} at byte ${offset}: ${XBZRLE_EXPLAIN[reason]}${more}`);
    this.name = 'XbzrleError';
    this.offset = offset;
    if (page !== undefined) this.page = page;
    if (errors !== undefined) this.errors = errors;
  }
}

/**
 * Backends report a rejection as -(reason + 8 * offset), a number that
 * crosses Node-API without allocating; this turns it into an XbzrleError.
 */
export function rejection(packed: number, page?: number): XbzrleError {
  const v = -packed;
  const code = v % 8;
  return new XbzrleError(REASONS[code] ?? 'truncated', (v - code) / 8, page);
}

export function packRejection(code: number, offset: number): number {
  return -(code + 8 * offset);
}

/**
 * The rejections of a batch, reported by a backend as [page, packed, ...]:
 * an XbzrleError for the first, carrying all of them in `errors`.
 */
export function batchRejection(flat: readonly number[]): XbzrleError {
  const errors: XbzrleError[] = [];
  for (let i = 0; i < flat.length; i += 2) errors.push(rejection(flat[i + 1], flat[i]));
  const first = errors[0];
  return new XbzrleError(first.reason, first.offset, first.page, Object.freeze(errors));
}

// ---- ERR_XBZRLE_RECORD: a malformed RAM record (lib/migration/record.ts) ----

export type RecordErrorReason =
  | 'unknown-flags' // no kind, two kinds, or a bit we do not know
  | 'bad-eos' // an EOS word with an offset or CONTINUE
  | 'no-block' // CONTINUE before any block was named
  | 'empty-block-name'
  | 'bad-encoding-flag' // an XBZRLE body whose first byte is not 0x01
  | 'length-over-page' // an XBZRLE delta length larger than the page
  | 'body-short' // fewer delta bytes than the length says
  | 'body-long' // more delta bytes than the length says
  | 'mem-size-overrun' // MEM_SIZE blocks add up past the total
  | 'too-many-blocks' // a MEM_SIZE record lists more than MAX_RAM_BLOCKS blocks
  | 'unaligned-offset' // a page record at an offset that is not a multiple of the page size
  | 'truncated'; // the stream ended inside a record

const RECORD_EXPLAIN: Record<RecordErrorReason, string> = {
  'unknown-flags': 'the header flags name no record type, several, or unknown bits',
  'bad-eos': 'an end-of-section word carries an offset or other flags',
  'no-block': 'a record continues a block but no block was named before',
  'empty-block-name': 'a block name of length 0',
  'bad-encoding-flag': 'the XBZRLE encoding flag is not 0x01',
  'length-over-page': 'the XBZRLE delta length is larger than the page',
  'body-short': 'the XBZRLE body is shorter than its length field says',
  'body-long': 'the XBZRLE body is longer than its length field says',
  'mem-size-overrun': 'the RAM block lengths add up past the total size',
  'too-many-blocks': 'the RAM block list is longer than 65536 blocks',
  'unaligned-offset': 'the page offset is not a multiple of the page size',
  truncated: 'the stream ends inside a record',
};

/**
 * A malformed record or stream: reason and byte offset (in the body, or in
 * the stream; for 'unaligned-offset', the record's page offset). A reader
 * adds `records` (lib/migration/record.ts declares its type).
 */
export class RecordError extends CodedError<RecordErrorReason> {
  readonly code = 'ERR_XBZRLE_RECORD';
  readonly offset: number;

  constructor(reason: RecordErrorReason, offset: number, detail?: string) {
    const where = reason === 'unaligned-offset' ? `with page offset 0x${offset.toString(16)}` : `at byte ${offset}`;
    super(reason, `malformed RAM record ${where}: ${RECORD_EXPLAIN[reason]}${detail ? ` (${detail})` : ''}`);
    this.name = 'RecordError';
    this.offset = offset;
  }
}

// ---- ERR_XBZRLE_STREAM: a QEMU migration stream that cannot be read further ----

export type StreamErrorReason =
  | 'truncated'
  | 'bad-magic'
  | 'bad-version'
  | 'bad-section'
  | 'bad-footer'
  | 'bad-configuration'
  | 'bad-ram-flags'
  | 'unknown-block'
  | 'page-past-block'
  | 'no-block'
  | 'bad-mem-size'
  | 'bad-xbzrle'
  | 'bad-page'
  | 'bad-input' // the input threw, or yielded something other than bytes
  | 'unaligned-offset' // a page record's offset is not a multiple of the page size
  | 'too-large' // one element longer than the reader holds at once (MAX_ELEMENT_BYTES)
  | 'unsupported-size' // RAM sizes past MAX_RAM_BYTES, or more blocks than MAX_RAM_BLOCKS
  | 'unsupported-page-size'; // pages above 16384 bytes (the codec's limit)

/** A stream that cannot be read further. `offset` is where the bad bytes start. */
export class StreamError extends CodedError<StreamErrorReason> {
  readonly code = 'ERR_XBZRLE_STREAM';
  /** Byte offset in the (decompressed) stream. */
  readonly offset: number;

  constructor(reason: StreamErrorReason, offset: number, detail: string, options?: { cause?: unknown }) {
    super(reason, `${detail} (at byte ${offset})`, options);
    this.name = 'StreamError';
    this.offset = offset;
  }
}

// ---- ERR_XBZRLE_PROFILE: a profiling failure an operator can act on ----

export type ProfileErrorReason =
  | 'no-process' // the PID does not exist or has exited
  | 'no-permission' // /proc/PID/... may not be read (ptrace access)
  | 'not-linux' // profiling reads /proc
  | 'no-region' // no mapping matches the selection
  | 'no-soft-dirty' // the kernel cannot track soft-dirty bits
  | 'bad-trace'; // a trace file that cannot be opened or read

/** A profiling failure with a message that says what to do. */
export class ProfileError extends CodedError<ProfileErrorReason> {
  readonly code = 'ERR_XBZRLE_PROFILE';
  /** Byte offset in a trace file, for 'bad-trace' when one applies. */
  readonly offset?: number;

  constructor(reason: ProfileErrorReason, message: string, offset?: number) {
    super(reason, message);
    this.name = 'ProfileError';
    if (offset !== undefined) this.offset = offset;
  }
}

// ---- ERR_XBZRLE_CLOSED: a call on a closed page cache or its sender ----

export type ClosedReason = 'cache-closed';

/** A page cache (or a sender over it) used after close(). */
export class ClosedError extends CodedError<ClosedReason> {
  readonly code = 'ERR_XBZRLE_CLOSED';

  constructor(message = 'The page cache is closed') {
    super('cache-closed', message);
    this.name = 'ClosedError';
  }
}

// ---- ERR_XBZRLE_NO_MEMORY: an allocation that failed (never an abort) ----

export type NoMemoryReason = 'slot-table' | 'sender' | 'batch';

/** The allocator could not provide memory; nothing was changed. */
export class NoMemoryError extends CodedError<NoMemoryReason> {
  readonly code = 'ERR_XBZRLE_NO_MEMORY';

  constructor(reason: NoMemoryReason, what: string) {
    super(reason, `Out of memory for ${what}`);
    this.name = 'NoMemoryError';
  }
}

// ---- ERR_XBZRLE_BATCH: an async batch the addon could not run ----

export type BatchReason = 'job-failed';

/** An async batch that failed in the addon for a reason other than its data. */
export class BatchError extends CodedError<BatchReason> {
  readonly code = 'ERR_XBZRLE_BATCH';

  constructor(message: string) {
    super('job-failed', message);
    this.name = 'BatchError';
  }
}

// ---- ABORT_ERR: an async batch stopped by its AbortSignal ----

/**
 * `name` is 'AbortError' and `code` 'ABORT_ERR', as for Node's own APIs (so
 * code written for fetch or timers/promises recognises it); `cause` is the
 * signal's reason.
 */
export class AbortError extends CodedError<'aborted'> {
  readonly code = 'ABORT_ERR';

  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super('aborted', message, options);
    this.name = 'AbortError';
  }
}

export function abortError(signal: AbortSignal): AbortError {
  return new AbortError(undefined, { cause: signal.reason });
}

// ---- ERR_XBZRLE_QMP: a QMP call that failed (lib/qmp) ----

/** Why a QMP call failed. */
export type QmpReason =
  | 'command-failed' // QEMU answered with an error (see qmpClass, desc)
  | 'timeout' // no answer in time
  | 'closed' // the socket closed (QEMU exited, or close() was called)
  | 'connect-failed' // no QMP server at the path
  | 'protocol'; // the peer does not speak QMP (bad JSON, no greeting)

export class QmpError extends CodedError<QmpReason> {
  readonly code = 'ERR_XBZRLE_QMP';
  /** The command, when the failure belongs to one. */
  readonly command?: string;
  /** QEMU's error class (e.g. "GenericError", "CommandNotFound"), for 'command-failed'. */
  readonly qmpClass?: string;
  /** QEMU's description, for 'command-failed'. */
  readonly desc?: string;

  constructor(reason: QmpReason, message: string, extra: { command?: string; qmpClass?: string; desc?: string; cause?: unknown } = {}) {
    super(reason, message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.name = 'QmpError';
    if (extra.command !== undefined) this.command = extra.command;
    if (extra.qmpClass !== undefined) this.qmpClass = extra.qmpClass;
    if (extra.desc !== undefined) this.desc = extra.desc;
  }
}
