// constants.ts: the numbers of QEMU's migration stream (format version 3), as
// observed in streams QEMU writes. The RAM record flags come from
// lib/migration/record.ts (the sender's framing), plus the ones only a reader meets.
import { ENCODING_XBZRLE, RecordFlag } from '../migration/record';

/** "QEVM", the first four bytes of every stream. */
export const STREAM_MAGIC = 0x5145564d;
/** The only stream version QEMU has written since 2012. */
export const STREAM_VERSION = 3;

/** The byte that starts each top-level record. */
export const Section = {
  EOF: 0x00,
  START: 0x01,
  PART: 0x02,
  END: 0x03,
  FULL: 0x04,
  SUBSECTION: 0x05,
  VMDESCRIPTION: 0x06,
  CONFIGURATION: 0x07,
  COMMAND: 0x08,
  FOOTER: 0x7e,
} as const;

/** Flags in the low bits of a RAM record's address word. */
export const RamFlag = {
  ...RecordFlag, // ZERO, MEM_SIZE, PAGE, EOS, CONTINUE, XBZRLE: one definition, in record.ts
  HOOK: 0x80,
  COMPRESS_PAGE: 0x100,
  MULTIFD_FLUSH: 0x200,
} as const;

/** The only encoding byte an XBZRLE record body may start with. */
export const XBZRLE_ENCODING = ENCODING_XBZRLE;

/** Flags that name a page, hence carry a block name unless CONTINUE is set. */
export const PAGE_FLAGS = RamFlag.ZERO | RamFlag.PAGE | RamFlag.XBZRLE | RamFlag.COMPRESS_PAGE;

/** Names of the QEMU_VM_COMMAND codes (they carry their own length). */
export const COMMAND_NAMES: Record<number, string> = {
  1: 'open-return-path',
  2: 'ping',
  3: 'postcopy-advise',
  4: 'postcopy-listen',
  5: 'postcopy-run',
  6: 'postcopy-ram-discard',
  7: 'packaged',
  8: 'recv-bitmap',
  9: 'postcopy-resume',
  10: 'enable-colo',
};
