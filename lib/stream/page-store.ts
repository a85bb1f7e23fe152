// page-store.ts: where a rebuilt RAM image lives. In memory (only pages that
// are not all zero are kept), or in one sparse file per RAM block.
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

/** A file name for a block name such as "/rom@etc/acpi/tables". */
export function blockFileName(name: string): string {
  const safe = name
    .replace(/^\/+/, '')
    .replace(/\//g, '_')
    .replace(/[^A-Za-z0-9@._+-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `${safe || 'block'}.ram`;
}

export class FilePageStore implements PageStore {
  private readonly fds = new Map<string, number>();
  readonly files = new Map<string, string>();

  constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  addBlock(block: RamBlock): void {
    if (this.fds.has(block.name)) return;
    const file = path.join(this.dir, blockFileName(block.name));
    const fd = fs.openSync(file, 'w+');
    fs.ftruncateSync(fd, block.length); // sparse: unsent pages are holes of zeros
    this.fds.set(block.name, fd);
    this.files.set(block.name, file);
  }

  read(block: RamBlock, addr: number, into: Buffer): void {
    const n = fs.readSync(this.fds.get(block.name)!, into, 0, into.length, addr);
    if (n < into.length) into.fill(0, n);
  }

  write(block: RamBlock, addr: number, page: Uint8Array): void {
    fs.writeSync(this.fds.get(block.name)!, page, 0, page.length, addr);
  }

  close(): void {
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
  }
}
