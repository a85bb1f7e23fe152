// open-cache.ts: which backend a new budget or cache gets. A cache is native
// when the addon loaded and the codec is not the twin (useKernel('js')
// makes later caches twins, so one process can test both); a budget is
// native whenever the addon loaded, since native and twin caches can share it.
import { backend } from './kernels';
import { addon, twinBackend } from './binding';
import { NativeBudget, NativeCache } from './native-cache-backend';
import type { BudgetBackend, CacheBackend, CacheGeometry } from './cache-backend';
import { TwinBudget } from '../twin/budget';
import { TwinPageCache } from '../twin/cache';

export function openBudget(bytes: number): BudgetBackend {
  return addon ? new NativeBudget(addon, bytes) : new TwinBudget(bytes);
}

/** A native budget with a twin cache works (the cache calls take/give); the reverse cannot. */
export function openCache(g: CacheGeometry, budget: BudgetBackend | null): CacheBackend {
  if (addon && backend() !== twinBackend) return new NativeCache(addon, g, budget);
  return new TwinPageCache(g, budget);
}
