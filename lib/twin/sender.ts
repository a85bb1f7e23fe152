// lib/twin/sender.ts: the pure-TypeScript twin of native/core/sender.cc: QEMU's
// per-page sender steps (docs/FORMAT.md §3) and the batch loop that frames RAM
// records (docs/FORMAT.md §2), with the same outputs and counters.
import type { SendPagesArgs } from '../backend/addon';
import type { SenderBackend } from '../backend/cache-backend';
import * as abi from '../backend/abi';
import { FLAG_CONTINUED, FLAG_DETECT_ZERO, FLAG_LAST_STAGE, FLAG_MEMORY, KIND_RAW, KIND_SKIP, KIND_XBZRLE, KIND_ZERO } from '../backend/abi';
import { addressAt, type Address, type AddressArray } from '../util/checks';
import type { TwinPageCache } from './cache';
import { decodeInto, encodeInto } from './codec';

/** The record header flag of each KIND_*. */
const FLAG_BITS = [0, abi.RECORD_PAGE, abi.RECORD_XBZRLE, abi.RECORD_ZERO];
const CONTINUE = abi.RECORD_CONTINUE;
const TWO32 = 4294967296;

const zeroPages = new Map<number, Buffer>();
function isZero(page: Uint8Array): boolean {
  let z = zeroPages.get(page.length);
  if (!z) zeroPages.set(page.length, (z = Buffer.alloc(page.length)));
  return page[0] === 0 && z.equals(page);
}

/**
 * Index of the first address a header cannot carry or, with a memory image
 * (pageSize > 0), whose page is not inside it; -1 when all are fine
 * (native: Sender::bad_address).
 */
function badAddress(a: AddressArray, pageSize = 0, memorySize = 0): number {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (typeof v === 'number') {
      if (!(Number.isSafeInteger(v) && v >= 0) || v % 1024 !== 0) return i;
      if (pageSize && v + pageSize > memorySize) return i;
    } else if ((v & 0x3ffn) !== 0n || (pageSize && v + BigInt(pageSize) > BigInt(memorySize))) {
      return i;
    }
  }
  return -1;
}

export class TwinSender implements SenderBackend {
  readonly cache: TwinPageCache;
  readonly pageSize: number;
  private readonly limit: number;
  private gen = 0;
  private started = false;
  // Counters, in the order of the stats array.
  private bytes = 0;
  private pages = 0;
  private cacheMiss = 0;
  private overflow = 0;
  private missRate = 0;
  private encodingRate = 0;
  private raw = 0;
  private records = 0;
  private skipped = 0;
  private zero = 0;
  private handled = 0;
  private missAtStart = 0;
  private pagesAtStart = 0;
  private bytesAtStart = 0;

  constructor(cache: TwinPageCache, limit: number) {
    this.cache = cache;
    this.pageSize = cache.pageSize;
    this.limit = Math.min(limit, this.pageSize);
  }

  /** One page (native: Sender::send_page). Returns kind + 4 * body length. */
  sendPage(addr: Address, page: Uint8Array, body: Uint8Array, flags: number): number {
    const P = this.pageSize;
    const last = (flags & FLAG_LAST_STAGE) !== 0;
    this.handled++;
    if (flags & FLAG_DETECT_ZERO && isZero(page)) {
      this.zeroPage(addr);
      body[0] = 0;
      this.zero++;
      return KIND_ZERO + 4;
    }
    if (!this.started) {
      body.set(page);
      this.raw++;
      return KIND_RAW + 4 * P;
    }
    const idx = this.cache.lookupIndex(addr, this.gen);
    if (idx < 0) {
      this.cacheMiss++;
      body.set(page);
      if (!last) this.cache.insert(addr, body.subarray(0, P), this.gen);
      this.raw++;
      return KIND_RAW + 4 * P;
    }
    this.pages++;
    const cached = this.cache.view(idx);
    const n = encodeInto(cached, page, body.subarray(3), this.limit);
    if (n === 0) {
      this.skipped++;
      return KIND_SKIP;
    }
    if (n < 0) {
      this.overflow++;
      this.bytes += P;
      body.set(page);
      if (!last) cached.set(body.subarray(0, P));
      this.raw++;
      return KIND_RAW + 4 * P;
    }
    body[0] = abi.RECORD_ENCODING_XBZRLE;
    body[1] = n >>> 8;
    body[2] = n & 0xff;
    if (!last) decodeInto(body.subarray(3, 3 + n), cached);
    this.bytes += n + 3;
    this.records++;
    return KIND_XBZRLE + 4 * (n + 3);
  }

  zeroPage(addr: Address): void {
    if (this.started) this.cache.insert(addr, null, this.gen);
  }

  nextGeneration(): void {
    const miss = this.cacheMiss - this.missAtStart;
    const pages = this.pages - this.pagesAtStart;
    const bytes = this.bytes - this.bytesAtStart;
    this.missRate = this.handled ? miss / this.handled : 0;
    this.encodingRate = pages && bytes ? (pages * this.pageSize) / bytes : 0;
    this.missAtStart = this.cacheMiss;
    this.pagesAtStart = this.pages;
    this.bytesAtStart = this.bytes;
    this.handled = 0;
    this.gen++;
    this.started = true;
  }

  /** A batch (native: Sender::send_pages); the caller checked sizes and overlaps. */
  sendPages(...[addrs, pages, out, kinds, offsets, lengths, flags, block]: SendPagesArgs): number {
    const P = this.pageSize;
    const byMemory = (flags & FLAG_MEMORY) !== 0;
    const bad = badAddress(addrs, byMemory ? P : 0, byMemory ? (pages as Uint8Array).length : 0);
    if (bad >= 0) return -bad - 1;
    let pos = 0;
    let named = (flags & FLAG_CONTINUED) !== 0;
    const byAddress = (flags & FLAG_MEMORY) !== 0;
    for (let i = 0; i < addrs.length; i++) {
      const addr = addressAt(addrs, i);
      const page = Array.isArray(pages)
        ? pages[i]
        : byAddress
          ? pages.subarray(Number(addr), Number(addr) + P)
          : pages.subarray(i * P, (i + 1) * P);
      const hdr = named ? 8 : 9 + block.length;
      const r = this.sendPage(addr, page, out.subarray(pos + hdr), flags);
      const kind = r & 3;
      const len = (r - kind) / 4;
      kinds[i] = kind;
      offsets[i] = pos;
      if (kind === KIND_SKIP) {
        lengths[i] = 0;
        continue;
      }
      const bits = FLAG_BITS[kind] | (named ? CONTINUE : 0);
      if (typeof addr === 'number') {
        writeU32(out, pos, Math.floor(addr / TWO32));
        writeU32(out, pos + 4, (addr >>> 0) | bits);
      } else {
        writeU32(out, pos, Number(addr >> 32n));
        writeU32(out, pos + 4, Number(addr & 0xffff_ffffn) | bits);
      }
      if (!named) {
        out[pos + 8] = block.length;
        out.set(block, pos + 9);
        named = true;
      }
      lengths[i] = hdr + len;
      pos += hdr + len;
    }
    return pos;
  }

  /** Fills the stats array (layout: native/addon/addon.cc SenderStats). */
  stats(o: Float64Array): void {
    o[abi.SENDER_STAT_CACHE_SIZE] = this.cache.size;
    o[abi.SENDER_STAT_BYTES] = this.bytes;
    o[abi.SENDER_STAT_PAGES] = this.pages;
    o[abi.SENDER_STAT_CACHE_MISS] = this.cacheMiss;
    o[abi.SENDER_STAT_CACHE_MISS_RATE] = this.missRate;
    o[abi.SENDER_STAT_ENCODING_RATE] = this.encodingRate;
    o[abi.SENDER_STAT_OVERFLOW] = this.overflow;
    o[abi.SENDER_STAT_GENERATION] = this.gen;
    o[abi.SENDER_STAT_RAW] = this.raw;
    o[abi.SENDER_STAT_RECORDS] = this.records;
    o[abi.SENDER_STAT_SKIPPED] = this.skipped;
    o[abi.SENDER_STAT_ZERO] = this.zero;
  }
}

function writeU32(o: Uint8Array, at: number, v: number): void {
  o[at] = v >>> 24;
  o[at + 1] = (v >>> 16) & 0xff;
  o[at + 2] = (v >>> 8) & 0xff;
  o[at + 3] = v & 0xff;
}
