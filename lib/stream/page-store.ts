// page-store.ts: where a rebuilt RAM image lives. In memory (only pages that
// are not all zero are kept), or in one sparse file per RAM block.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RamBlock } from './events';

export interface PageStore {
  /** Copies the page at `addr` of `block` into `into`; never-written pages read as zeros. */
  read(block: RamBlock, addr: number, into: Buffer): void;
  write(block: RamBlock, addr: number, page: Uint8Array): void;
  /** Declares a block before its pages are written (files are sized here). */
  addBlock(block: RamBlock): void;
  close(): void;
}

function isZero(page: Uint8Array): boolean {
  for (let i = 0; i < page.length; i++) if (page[i] !== 0) return false;
  return true;
}

export class MemoryPageStore implements PageStore {
  private readonly blocks = new Map<string, Map<number, Buffer>>();

  addBlock(block: RamBlock): void {
    if (!this.blocks.has(block.name)) this.blocks.set(block.name, new Map());
  }

  read(block: RamBlock, addr: number, into: Buffer): void {
    const page = this.blocks.get(block.name)?.get(addr);
    if (page) page.copy(into);
    else into.fill(0);
  }

  write(block: RamBlock, addr: number, page: Uint8Array): void {
    const pages = this.blocks.get(block.name)!;
    if (isZero(page)) {
      pages.delete(addr);
      return;
    }
    const kept = pages.get(addr);
    if (kept) kept.set(page);
    else pages.set(addr, Buffer.from(page));
  }

  close(): void {
    this.blocks.clear();
  }
}

/** Longest file name blockFileName gives (most file systems allow 255 bytes). */
export const MAX_FILE_NAME = 200;

/**
 * The file name for a RAM block, unique per name and bounded: letters,
 * digits and "@._+-" kept (a leading "." too is encoded), any other
 * character percent-encoded, "%XX" up to 0xFF (stream block names are bytes)
 * and "%uXXXX" above, then ".ram". So "/rom@etc/acpi/tables" is
 * "%2From@etc%2Facpi%2Ftables.ram", and "a/b", "a_b", "/x" and "x" differ.
 * Such a name decodes back to the block name. One whose encoding would pass
 * MAX_FILE_NAME is cut and given "~" and 16 hex digits of the SHA-256 of
 * the name ("~" is otherwise always encoded, so the forms never meet); the
 * report lists every block's file.
 */
export function blockFileName(name: string): string {
  let enc = '';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const ch = name[i];
    if (/[A-Za-z0-9@._+-]/.test(ch) && !(i === 0 && ch === '.')) enc += ch;
    else if (c <= 0xff) enc += `%${c.toString(16).toUpperCase().padStart(2, '0')}`;
    else enc += `%u${c.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  if (enc.length + 4 <= MAX_FILE_NAME) return `${enc}.ram`;
  let cut = MAX_FILE_NAME - 4 - 17;
  // Never cut inside an escape.
  const pct = enc.lastIndexOf('%', cut - 1);
  if (pct >= 0 && pct > cut - (enc[pct + 1] === 'u' ? 6 : 3)) cut = pct;
  const hash = createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 16);
  return `${enc.slice(0, cut)}~${hash}.ram`;
}

/** The block name a blockFileName gives back, or null for a cut (hashed) one. */
export function blockNameOf(file: string): string | null {
  if (!file.endsWith('.ram') || file.includes('~')) return null;
  return file.slice(0, -4).replace(/%u([0-9A-F]{4})|%([0-9A-F]{2})/g, (_m, u: string, x: string) => String.fromCharCode(parseInt(u ?? x, 16)));
}

/**
 * An --extract-ram file that could not be made or written: an Error saying
 * which file and block, with the system's error (EEXIST, ELOOP...) as cause.
 */
function extractError(message: string, cause: unknown): Error {
  return new Error(message, { cause });
}

// A new file only: never one that exists, nor through a symbolic link.
const CREATE = fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0);

export class FilePageStore implements PageStore {
  private readonly fds = new Map<string, number>();
  /** Block name -> the file holding it. */
  readonly files = new Map<string, string>();

  constructor(private readonly dir: string) {
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw extractError(`--extract-ram: cannot make the directory ${dir}: ${(err as Error).message}`, err);
    }
  }

  addBlock(block: RamBlock): void {
    if (this.fds.has(block.name)) return;
    const file = path.join(this.dir, blockFileName(block.name));
    let fd: number;
    try {
      fd = fs.openSync(file, CREATE, 0o644);
    } catch (err) {
      const why =
        (err as { code?: string }).code === 'EEXIST'
          ? 'it already exists (RAM files are made new, never overwritten nor followed through a link): give a new or empty directory'
          : (err as Error).message;
      throw extractError(`--extract-ram: cannot create ${file} for block "${block.name}": ${why}`, err);
    }
    this.fds.set(block.name, fd);
    this.files.set(block.name, file);
    try {
      fs.ftruncateSync(fd, block.length); // sparse: unsent pages are holes of zeros
    } catch (err) {
      throw extractError(`--extract-ram: cannot size ${file} to the ${block.length} bytes of block "${block.name}": ${(err as Error).message}`, err);
    }
  }

  read(block: RamBlock, addr: number, into: Buffer): void {
    const n = fs.readSync(this.fds.get(block.name)!, into, 0, into.length, addr);
    if (n < into.length) into.fill(0, n);
  }

  write(block: RamBlock, addr: number, page: Uint8Array): void {
    try {
      fs.writeSync(this.fds.get(block.name)!, page, 0, page.length, addr);
    } catch (err) {
      throw extractError(`--extract-ram: cannot write ${this.files.get(block.name)}: ${(err as Error).message}`, err);
    }
  }

  close(): void {
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
  }
}
