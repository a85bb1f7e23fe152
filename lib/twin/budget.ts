// lib/twin/budget.ts: the twin of native/core/page_cache.h MemoryBudget.
import type { BudgetBackend } from '../backend/cache-backend';

export class TwinBudget implements BudgetBackend {
  readonly handle = null;
  private used = 0;

  constructor(private readonly size: number) {}

  take(bytes: number): boolean {
    if (bytes > this.size - this.used) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= Math.min(bytes, this.used);
  }

  available(): number {
    return this.size - this.used;
  }
}
