// budget.ts: one byte budget shared by several page caches (several
// concurrent migrations on a host). Caches take page memory from it as they
// grow and give it back on resize(), clear() and close(); an insert it cannot
// fund is refused and counted, never fatal; `used` never exceeds `size`.
//
// Threads: a budget and the caches drawing from it belong to the JavaScript
// thread that created them (the main thread or one worker). Nothing locks.
import { checkWhole } from '../util/checks';
import { cacheAddon, type Handle } from '../backend/native-cache';

/** Internal access for the caches (not exported from the package). */
export const BUDGET = Symbol('xbzrle.budget');

export interface BudgetAccess {
  /** The native budget, when the addon serves. */
  handle: Handle | null;
  /** Takes `bytes` if available; false (nothing taken) otherwise. */
  take(bytes: number): boolean;
  give(bytes: number): void;
  available(): number;
}

const info = new Float64Array(2);

export class MemoryBudget {
  readonly [BUDGET]: BudgetAccess;
  /** The budget in bytes. */
  readonly size: number;

  /** A budget of `bytes` bytes of page memory (an integer up to 2^53 - 1). */
  constructor(bytes: number) {
    checkWhole(bytes, 'bytes', 0, Number.MAX_SAFE_INTEGER);
    this.size = bytes;
    if (cacheAddon) {
      const addon = cacheAddon;
      const handle = addon.budgetNew(bytes);
      this[BUDGET] = {
        handle,
        take: (n) => addon.budgetTake(handle, n),
        give: (n) => addon.budgetGive(handle, n),
        available: () => {
          addon.budgetInfo(handle, info);
          return info[0] - info[1];
        },
      };
    } else {
      let used = 0;
      this[BUDGET] = {
        handle: null,
        take: (n) => {
          if (n > bytes - used) return false;
          used += n;
          return true;
        },
        give: (n) => {
          used -= Math.min(n, used);
        },
        available: () => bytes - used,
      };
    }
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
