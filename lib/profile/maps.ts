// profile/maps.ts: the mappings of /proc/PID/maps, which of them to profile,
// and the RAM-offset layout of the chosen ones.
//
// Pages are numbered by their offset in the concatenation of the chosen
// ranges, in the order they were first chosen, as QEMU numbers guest RAM by
// ram_addr (block offset + offset in block). A direct-mapped cache then sees
// dense page numbers, as it would in QEMU, not the sparse addresses of a
// process.

/** One line of /proc/PID/maps. */
export interface Mapping {
  start: number;
  end: number;
  /** e.g. "rw-p" */
  perms: string;
  path: string;
}

/** A range being profiled: [start, end) in the process, from page `offset` on. */
export interface Region {
  start: number;
  end: number;
  /** Page number (in the RAM-offset space) of `start`. */
  offset: number;
  /** Pathname of the mapping it came from ('' for anonymous). */
  path: string;
}

/** A part of a region mapped right now, with how to read absent pages. */
export interface LiveRange {
  start: number;
  end: number;
  /** Page number of `start` in the RAM-offset space. */
  offset: number;
  /** Private anonymous memory: an absent page reads as zeros (else its content is unknown). */
  anonymous: boolean;
}

/** Parses /proc/PID/maps text. Addresses above 2^53 (the vsyscall page) are dropped. */
export function parseMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S{4})\s+\S+\s+\S+\s+\S+\s*(.*)$/.exec(line);
    if (!m) continue;
    const start = parseInt(m[1], 16);
    const end = parseInt(m[2], 16);
    if (!Number.isSafeInteger(end)) continue;
    out.push({ start, end, perms: m[3], path: m[4].replace(/ \(deleted\)$/, '') });
  }
  return out;
}

const SPECIAL = /^\[(vvar|vvar_vclock|vdso|vsyscall|uprobes)\]$/;

/** Anonymous memory in the kernel's sense: no file behind it. */
export function isAnonymous(m: Mapping): boolean {
  return m.path === '' || m.path === '[heap]' || m.path.startsWith('[stack') || m.path.startsWith('[anon');
}

/** Private anonymous: absent pages read as zeros. */
export function isPrivateAnonymous(m: Mapping): boolean {
  return isAnonymous(m) && m.perms[3] === 'p';
}

function readableWritable(m: Mapping): boolean {
  return m.perms[0] === 'r' && m.perms[1] === 'w' && !SPECIAL.test(m.path);
}

/**
 * Where guest RAM of a QEMU process can live: anonymous memory, a memfd, a
 * file on hugetlbfs (under /dev/hugepages or any of `hugeMounts`) or on
 * /dev/shm.
 */
export function isGuestRamCandidate(m: Mapping, hugeMounts: readonly string[] = []): boolean {
  if (!readableWritable(m)) return false;
  if (m.path === '' || m.path.startsWith('/memfd:') || m.path.startsWith('/dev/hugepages') || m.path.startsWith('/dev/shm/')) return true;
  return hugeMounts.some((dir) => m.path.startsWith(dir.endsWith('/') ? dir : `${dir}/`));
}

/** Mount points of hugetlbfs in a /proc/PID/mounts text. */
export function hugetlbfsMounts(mounts: string): string[] {
  return mounts
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[2] === 'hugetlbfs')
    .map((f) => f[1].replace(/\\040/g, ' '));
}

/** True when the command or executable looks like QEMU (qemu-system-*, qemu-kvm, kvm). */
export function looksLikeQemu(command: string, exe: string | null): boolean {
  const name = (exe ?? '').split('/').pop() ?? '';
  return /^(qemu-system-|qemu-kvm|kvm$)/.test(command) || /^(qemu-system-|qemu-kvm)/.test(name);
}

/**
 * QEMU's guest RAM: its largest guest-RAM candidates (anonymous, memfd,
 * hugetlbfs): every one at least 1/8 of the largest and at least 1 MiB.
 */
export function selectQemuRam(maps: Mapping[], hugeMounts: readonly string[] = []): Mapping[] {
  const c = maps.filter((m) => isGuestRamCandidate(m, hugeMounts));
  const largest = Math.max(0, ...c.map((m) => m.end - m.start));
  return c.filter((m) => m.end - m.start >= Math.max(largest / 8, 1 << 20));
}

/** Every readable, writable private mapping (heap, stacks, anonymous memory, data segments). */
export function selectWritablePrivate(maps: Mapping[]): Mapping[] {
  return maps.filter((m) => readableWritable(m) && m.perms[3] === 'p');
}

/** A --region: an address range "START-END" (hex) or a pathname match. */
export type RegionSpec = { kind: 'range'; start: number; end: number; text: string } | { kind: 'path'; match: string; text: string } | { kind: 'anon'; text: string };

/**
 * Parses a --region value: "7f0000000000-7f0040000000" (hex, optional 0x)
 * for an address range, "anon" for anonymous mappings, anything else for
 * mappings whose pathname contains it ("[heap]", "memfd:pc.ram", "libc").
 */
export function parseRegionSpec(text: string): RegionSpec {
  const r = /^(?:0x)?([0-9a-f]+)-(?:0x)?([0-9a-f]+)$/i.exec(text.trim());
  if (r) {
    const start = parseInt(r[1], 16);
    const end = parseInt(r[2], 16);
    if (!(end > start) || !Number.isSafeInteger(end)) throw new RangeError(`--region ${text}: the end must be above the start`);
    return { kind: 'range', start, end, text };
  }
  if (text === 'anon') return { kind: 'anon', text };
  if (!text) throw new RangeError('--region needs a value');
  return { kind: 'path', match: text, text };
}

/** The parts of the mappings that the specs choose (readable mappings only). */
export function selectBySpecs(maps: Mapping[], specs: RegionSpec[]): Mapping[] {
  const out: Mapping[] = [];
  for (const m of maps) {
    if (m.perms[0] !== 'r' || SPECIAL.test(m.path)) continue;
    for (const s of specs) {
      if (s.kind === 'range') {
        const start = Math.max(m.start, s.start);
        const end = Math.min(m.end, s.end);
        if (end > start) out.push({ ...m, start, end });
      } else if (s.kind === 'anon' ? isAnonymous(m) : m.path.includes(s.match)) {
        out.push(m);
      }
    }
  }
  return out;
}

/**
 * The ranges being profiled. Ranges only get added (the RAM-offset space
 * only grows): a mapping that grows or appears later gets new offsets after
 * the existing ones.
 */
export class RegionSet {
  /** In offset order (the order they were added). */
  readonly regions: Region[] = [];
  private pages = 0;

  constructor(readonly pageSize: number) {}

  /** Pages in the RAM-offset space so far. */
  get totalPages(): number {
    return this.pages;
  }

  /** Bytes of the ranges. */
  get totalBytes(): number {
    return this.pages * this.pageSize;
  }

  /** Adds the page-aligned parts of `chosen` not yet covered; returns the new regions. */
  cover(chosen: Mapping[]): Region[] {
    const P = this.pageSize;
    const added: Region[] = [];
    const covered = [...this.regions].sort((a, b) => a.start - b.start);
    for (const m of [...chosen].sort((a, b) => a.start - b.start)) {
      let s = Math.ceil(m.start / P) * P;
      const e = Math.floor(m.end / P) * P;
      for (const r of covered) {
        if (r.end <= s || r.start >= e) continue;
        if (r.start > s) added.push(this.add(s, r.start, m.path));
        s = Math.max(s, r.end);
        if (s >= e) break;
      }
      if (s < e) added.push(this.add(s, e, m.path));
      covered.push(...added.filter((a) => !covered.includes(a)));
      covered.sort((a, b) => a.start - b.start);
    }
    return added;
  }

  /** The parts of the regions mapped in `maps` now, in offset order. */
  live(maps: Mapping[]): LiveRange[] {
    const sorted = [...maps].sort((a, b) => a.start - b.start);
    const out: LiveRange[] = [];
    for (const r of this.regions) {
      for (const m of sorted) {
        if (m.end <= r.start) continue;
        if (m.start >= r.end) break;
        if (m.perms[0] !== 'r') continue;
        const start = Math.max(r.start, m.start);
        const end = Math.min(r.end, m.end);
        out.push({ start, end, offset: r.offset + (start - r.start) / this.pageSize, anonymous: isPrivateAnonymous(m) });
      }
    }
    return out;
  }

  private add(start: number, end: number, path: string): Region {
    const r = { start, end, offset: this.pages, path };
    this.pages += (end - start) / this.pageSize;
    this.regions.push(r);
    return r;
  }
}
