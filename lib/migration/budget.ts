// budget.ts: one byte budget shared by several page caches (several
// concurrent migrations on a host). Caches take page memory from it as they
// grow and give it back on resize(), clear() and close() (and when a dropped
// cache is garbage-collected); an insert it cannot fund is refused and
// counted, never fatal; `used` never exceeds `size`.
//
// Threads: a budget and the caches drawing from it belong to the JavaScript
// thread that created them (the main thread or one worker). Nothing locks.
import { checkWhole } from '../util/checks';
import type { BudgetBackend } from '../backend/cache-backend';
import { openBudget } from '../backend/open-cache';

/** Internal access for the caches (not exported from the package). */
export const BUDGET = Symbol('xbzrle.budget');

export class MemoryBudget {
  readonly [BUDGET]: BudgetBackend;
  /** The budget in bytes. */
  readonly size: number;

  /** A budget of `bytes` bytes of page memory (an integer up to 2^53 - 1). */
  constructor(bytes: number) {
    checkWhole(bytes, 'bytes', 0, Number.MAX_SAFE_INTEGER);
    this.size = bytes;
    this[BUDGET] = openBudget(bytes);
  }

  /** Bytes of page memory the caches drawing from this budget hold now. */
  get used(): number {
    return this.size - this[BUDGET].available();
  }

  /** size - used. */
  get available(): number {
    return this[BUDGET].available();
  }
}
