// A plain model of QEMU's XBZRLE sender and cache, written from docs/FORMAT.md §3
// with maps and arrays: what the library's Sender must reproduce exactly.
import { referenceEncode } from './reference';

export interface ModelEntry {
  addr: number;
  age: number;
  data: Buffer;
}

export class ModelCache {
  slots: (ModelEntry | undefined)[];
  constructor(readonly pageSize: number, readonly slotsCount: number) {
    this.slots = new Array(slotsCount).fill(undefined);
  }
  slot(addr: number): number {
    return Math.floor(addr / this.pageSize) % this.slotsCount;
  }
  lookup(addr: number, gen: number): ModelEntry | undefined {
    const e = this.slots[this.slot(addr)];
    if (e && e.addr === addr) {
      e.age = gen;
      return e;
    }
    return undefined;
  }
  insert(addr: number, page: Uint8Array, gen: number): boolean {
    const s = this.slot(addr);
    const e = this.slots[s];
    if (e && e.addr !== addr && e.age + 2 > gen) return false;
    this.slots[s] = { addr, age: gen, data: Buffer.from(page) };
    return true;
  }
  get(addr: number): Buffer | undefined {
    const e = this.slots[this.slot(addr)];
    return e && e.addr === addr ? e.data : undefined;
  }
}

export interface ModelResult {
  kind: 'xbzrle' | 'raw' | 'skip' | 'zero';
  body?: Buffer;
}

export class ModelSender {
  gen = 0;
  started = false;
  bytes = 0;
  pages = 0;
  cacheMiss = 0;
  overflow = 0;
  handled = 0;
  missRate = 0;
  encodingRate = 0;
  private at = { miss: 0, pages: 0, bytes: 0 };

  constructor(readonly cache: ModelCache, readonly limit = cache.pageSize) {}

  sendPage(addr: number, page: Uint8Array, lastStage = false, detectZero = false): ModelResult {
    const P = this.cache.pageSize;
    this.handled++;
    if (detectZero && page.every((b) => b === 0)) {
      if (this.started) this.cache.insert(addr, Buffer.alloc(P), this.gen);
      return { kind: 'zero', body: Buffer.from([0]) };
    }
    const snapshot = Buffer.from(page);
    if (!this.started) return { kind: 'raw', body: snapshot };
    const e = this.cache.lookup(addr, this.gen);
    if (!e) {
      this.cacheMiss++;
      if (!lastStage) this.cache.insert(addr, snapshot, this.gen);
      return { kind: 'raw', body: snapshot };
    }
    this.pages++;
    const delta = referenceEncode(e.data, snapshot);
    if (delta.length === 0) return { kind: 'skip' };
    if (!lastStage) e.data = Buffer.from(snapshot);
    if (delta.length > this.limit) {
      this.overflow++;
      this.bytes += P;
      return { kind: 'raw', body: snapshot };
    }
    this.bytes += delta.length + 3;
    const body = Buffer.concat([Buffer.from([1, delta.length >> 8, delta.length & 0xff]), delta]);
    return { kind: 'xbzrle', body };
  }

  zeroPage(addr: number): void {
    if (this.started) this.cache.insert(addr, Buffer.alloc(this.cache.pageSize), this.gen);
  }

  nextGeneration(): void {
    const miss = this.cacheMiss - this.at.miss;
    const pages = this.pages - this.at.pages;
    const bytes = this.bytes - this.at.bytes;
    this.missRate = this.handled ? miss / this.handled : 0;
    this.encodingRate = pages && bytes ? (pages * this.cache.pageSize) / bytes : 0;
    this.at = { miss: this.cacheMiss, pages: this.pages, bytes: this.bytes };
    this.handled = 0;
    this.gen++;
    this.started = true;
  }
}
