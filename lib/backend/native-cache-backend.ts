// native-cache-backend.ts: the budget, cache and sender backends over the
// addon's handles (lib/backend/addon.ts types the calls).
import type { Address } from '../util/checks';
import { BUDGET_INFO_SIZE, BUDGET_INFO_USED, BUDGET_INFO_LENGTH, INSERT_CLOSED } from './abi';
import type { BudgetBackend, CacheBackend, CacheGeometry, SenderBackend } from './cache-backend';
import type { NativeAddon, Handle, SendPagesArgs } from './addon';

const info = new Float64Array(BUDGET_INFO_LENGTH);

export class NativeBudget implements BudgetBackend {
  readonly handle: Handle;

  constructor(
    private readonly addon: NativeAddon,
    bytes: number,
  ) {
    this.handle = addon.budgetNew(bytes);
  }

  take(bytes: number): boolean {
    return this.addon.budgetTake(this.handle, bytes);
  }

  give(bytes: number): void {
    this.addon.budgetGive(this.handle, bytes);
  }

  available(): number {
    this.addon.budgetInfo(this.handle, info);
    return info[BUDGET_INFO_SIZE] - info[BUDGET_INFO_USED];
  }
}

export class NativeCache implements CacheBackend {
  readonly native = true;
  readonly handle: Handle;
  // The addon throws ERR_XBZRLE_CLOSED for a closed handle; the backend
  // contract is the twin's INSERT_CLOSED, so insert() checks first.
  private closed = false;

  constructor(
    private readonly addon: NativeAddon,
    g: CacheGeometry,
    budget: BudgetBackend | null,
  ) {
    this.handle = addon.cacheNew(g.pageSize, g.size, g.associative ? 1 : 0, g.ways, budget?.handle ?? null);
  }

  lookup(addr: Address, generation: number): boolean {
    return this.addon.cacheLookup(this.handle, addr, generation);
  }

  insert(addr: Address, page: Uint8Array, generation: number): number {
    if (this.closed) return INSERT_CLOSED;
    return this.addon.cacheInsert(this.handle, addr, page, generation);
  }

  get(addr: Address, out: Uint8Array): boolean {
    return this.addon.cacheGet(this.handle, addr, out);
  }

  resize(size: number): boolean {
    return this.addon.cacheResize(this.handle, size);
  }

  clear(): void {
    this.addon.cacheClear(this.handle, false);
  }

  close(): void {
    this.addon.cacheClear(this.handle, true);
    this.closed = true;
  }

  stats(out: Float64Array): void {
    this.addon.cacheStats(this.handle, out);
  }

  sender(limit: number): SenderBackend {
    return new NativeSender(this.addon, this.addon.senderNew(this.handle, limit));
  }
}

export class NativeSender implements SenderBackend {
  constructor(
    private readonly addon: NativeAddon,
    private readonly handle: Handle,
  ) {}

  sendPage(addr: Address, page: Uint8Array, body: Uint8Array, flags: number): number {
    return this.addon.senderSendPage(this.handle, addr, page, body, flags);
  }

  sendPages(...args: SendPagesArgs): number {
    return this.addon.senderSendPages(this.handle, ...args);
  }

  zeroPage(addr: Address): void {
    this.addon.senderZeroPage(this.handle, addr);
  }

  nextGeneration(): void {
    this.addon.senderNextGeneration(this.handle);
  }

  stats(out: Float64Array): void {
    this.addon.senderStats(this.handle, out);
  }
}
