// profile/procfs.ts: one target process seen through /proc: its maps, its
// page table flags (pagemap), its memory (mem) and its soft-dirty bits
// (clear_refs). Failures become ProfileErrors that say what to do.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { noMemory, noProcess, procError } from './errors';
import { hugetlbfsMounts, parseMaps, type Mapping } from './maps';

/** Flags of a pagemap entry, in its high 32-bit word. */
export const PM_PRESENT = 1 << 31; // bit 63
export const PM_SWAPPED = 1 << 30; // bit 62
export const PM_SOFT_DIRTY = 1 << 23; // bit 55

/** A process being profiled, through procRoot/PID (procRoot is "/proc" but for tests). */
export class ProcTarget {
  readonly dir: string;
  private memFd = -1;
  private pagemapFd = -1;

  constructor(
    readonly pid: number,
    readonly procRoot = '/proc',
  ) {
    if (!Number.isSafeInteger(pid) || pid < 1) throw new RangeError(`--pid must be a positive integer, received ${pid}`);
    this.dir = path.join(procRoot, String(pid));
    if (!fs.existsSync(this.dir)) throw noProcess(pid);
  }

  /** The mappings now. An empty list means the process has exited (a zombie has no memory). */
  maps(): Mapping[] {
    const file = path.join(this.dir, 'maps');
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      procError(err, this.pid, file);
    }
    const maps = parseMaps(text);
    if (!maps.length) throw noMemory(this.pid, this.dir);
    return maps;
  }

  /** The command name (comm), or '' when unreadable. */
  command(): string {
    try {
      return fs.readFileSync(path.join(this.dir, 'comm'), 'utf8').trim();
    } catch {
      return '';
    }
  }

  /** Where hugetlbfs is mounted in the process's mount namespace. */
  hugetlbfsMounts(): string[] {
    try {
      return hugetlbfsMounts(fs.readFileSync(path.join(this.dir, 'mounts'), 'utf8'));
    } catch {
      return [];
    }
  }

  /** The executable's path, or null when unreadable. */
  exe(): string | null {
    try {
      return fs.readlinkSync(path.join(this.dir, 'exe'));
    } catch {
      return null;
    }
  }

  /** The kernel page size of the process's mappings (from smaps), 4096 when unknown. */
  pageSize(): number {
    try {
      const fd = fs.openSync(path.join(this.dir, 'smaps'), 'r');
      try {
        const b = Buffer.alloc(8192);
        const n = fs.readSync(fd, b, 0, b.length, 0);
        const m = /KernelPageSize:\s+(\d+) kB/.exec(b.toString('latin1', 0, n));
        if (m) return Number(m[1]) * 1024;
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      // fall through: maps() reports access problems with advice
    }
    return 4096;
  }

  /** Opens mem and pagemap (once). */
  open(): void {
    if (this.memFd < 0) this.memFd = this.openFile('mem', 'r');
    if (this.pagemapFd < 0) this.pagemapFd = this.openFile('pagemap', 'r');
  }

  /**
   * Reads the pagemap entries of `count` pages from virtual page `vpage` into
   * `out` (2 words per page: low, high). Returns the entries read.
   */
  readPagemap(vpage: number, count: number, out: Uint32Array): number {
    const buf = Buffer.from(out.buffer, out.byteOffset, count * 8);
    let got = 0;
    while (got < count * 8) {
      let n: number;
      try {
        n = fs.readSync(this.pagemapFd, buf, got, count * 8 - got, vpage * 8 + got);
      } catch (err) {
        procError(err, this.pid, path.join(this.dir, 'pagemap'));
      }
      if (n === 0) break;
      got += n;
    }
    return got >>> 3;
  }

  /**
   * Reads [addr, addr + len) of the process's memory into buf. Pages that
   * cannot be read (I/O mappings, a range unmapped meanwhile: EIO or a short
   * read) are reported to `unreadable(byteOffset)` and left as they were in buf.
   */
  readMem(addr: number, buf: Uint8Array, len: number, pageSize: number, unreadable: (at: number) => void): void {
    let at = 0;
    while (at < len) {
      let n: number;
      try {
        n = fs.readSync(this.memFd, buf, at, len - at, addr + at);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EIO' && code !== 'EFAULT' && code !== 'ENOMEM') procError(err, this.pid, path.join(this.dir, 'mem'));
        n = -1;
      }
      // mem reads 0 bytes only once the process has no memory left: it exited.
      if (n === 0) throw noProcess(this.pid);
      if (n > 0) {
        at += n;
        // A short read ends inside a page: that page is unreadable from there.
        const partial = at % pageSize;
        if (partial && at < len) {
          unreadable(at - partial);
          at += pageSize - partial;
        }
      } else {
        unreadable(at);
        at += pageSize;
      }
    }
  }

  /** Clears the process's soft-dirty bits (writes 4 to clear_refs). False when refused. */
  clearSoftDirty(): boolean {
    try {
      fs.writeFileSync(path.join(this.dir, 'clear_refs'), '4');
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ESRCH') throw noProcess(this.pid);
      return false;
    }
  }

  /** True while the process exists and has memory (not a zombie). */
  alive(): boolean {
    try {
      const stat = fs.readFileSync(path.join(this.dir, 'stat'), 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      return state !== 'Z' && state !== 'X';
    } catch {
      return false;
    }
  }

  close(): void {
    for (const fd of [this.memFd, this.pagemapFd]) if (fd >= 0) fs.closeSync(fd);
    this.memFd = this.pagemapFd = -1;
  }

  private openFile(name: string, flags: string): number {
    const file = path.join(this.dir, name);
    try {
      return fs.openSync(file, flags);
    } catch (err) {
      procError(err, this.pid, file);
    }
  }
}
