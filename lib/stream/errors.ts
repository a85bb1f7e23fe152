// errors.ts: what a malformed or truncated migration stream raises.

export type StreamErrorCode =
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
  | 'bad-input'
  | 'misaligned-offset' // a page record's offset is not a multiple of the page size
  | 'too-large' // one element longer than the reader holds at once (MAX_ELEMENT_BYTES)
  | 'unsupported-size' // RAM sizes past MAX_RAM_BYTES, or more blocks than MAX_RAM_BLOCKS
  | 'unsupported-page-size'; // pages above 16384 bytes (the codec's limit)

/** A stream that cannot be read further. `offset` is where the bad bytes start. */
export class StreamError extends Error {
  readonly code: StreamErrorCode;
  /** Byte offset in the (decompressed) stream. */
  readonly offset: number;

  constructor(code: StreamErrorCode, offset: number, detail: string) {
    super(`${detail} (at byte ${offset})`);
    this.name = 'StreamError';
    this.code = code;
    this.offset = offset;
  }
}
