// events.ts: what readMigration() yields, one event per record, in stream order.
// Every event has `offset` (its first byte in the decompressed stream) and
// `size` (its bytes on the wire, headers included).

export interface RamBlock {
  name: string;
  /** Bytes of the block (QEMU's used_length). */
  length: number;
  /** Guest address of the block's memory region, sent with x-ignore-shared. */
  addr?: number;
  /** Host page size, sent only with postcopy on a block with larger pages. */
  pageSize?: number;
}

interface At {
  offset: number;
  size: number;
}

export type SectionType = 'start' | 'part' | 'end' | 'full';

export interface HeaderEvent extends At {
  kind: 'header';
  version: number;
}

export interface ConfigurationEvent extends At {
  kind: 'configuration';
  machine: string;
  /** Capabilities the source requires of the destination (x-ignore-shared...). */
  capabilities: string[];
  /** Target page size when the stream says so, else undefined (4096 assumed). */
  targetPageSize?: number;
  subsections: string[];
}

export interface SectionEvent extends At {
  kind: 'section';
  type: SectionType;
  id: number;
  name: string;
  instance?: number;
  version?: number;
}

export interface FooterEvent extends At {
  kind: 'footer';
  id: number;
}

export interface MemSizeEvent extends At {
  kind: 'mem-size';
  total: number;
  blocks: RamBlock[];
}

interface PageAt extends At {
  block: string;
  /** Byte offset of the page inside its block. */
  addr: number;
  /** The CONTINUE flag: the block name was carried over from the last record. */
  continued: boolean;
}

export interface ZeroEvent extends PageAt {
  kind: 'zero';
  /** The byte the page is filled with (QEMU only ever sends 0). */
  fill: number;
}

export interface PageEvent extends PageAt {
  kind: 'page';
  /** The page; a view valid until the next event is requested. */
  data: Buffer;
}

export interface CompressedPageEvent extends PageAt {
  kind: 'compressed-page';
  /** The zlib stream as sent, and the page it inflates to. */
  compressed: Buffer;
  data: Buffer;
}

export interface XbzrleEvent extends PageAt {
  kind: 'xbzrle';
  /** The delta; a view valid until the next event is requested. */
  delta: Buffer;
  /** Offset of the delta's first byte (after the 4-byte body header). */
  deltaOffset: number;
}

export interface MarkEvent extends At {
  kind: 'eos' | 'multifd-flush' | 'eof';
}

export interface CommandEvent extends At {
  kind: 'command';
  command: number;
  name: string;
}

export interface VmDescriptionEvent extends At {
  kind: 'vmdesc';
  /** The JSON QEMU appends after EOF, describing each device section. */
  json: unknown;
}

/** Reading ended without an error where the stream has no lengths to go on. */
export interface StopEvent extends At {
  kind: 'stop';
  reason: string;
  /** Whether the RAM section had ended (all of RAM was read). */
  ramComplete: boolean;
}

export type RamEvent = ZeroEvent | PageEvent | CompressedPageEvent | XbzrleEvent;

export type MigrationEvent =
  | HeaderEvent
  | ConfigurationEvent
  | SectionEvent
  | FooterEvent
  | MemSizeEvent
  | RamEvent
  | MarkEvent
  | CommandEvent
  | VmDescriptionEvent
  | StopEvent;
