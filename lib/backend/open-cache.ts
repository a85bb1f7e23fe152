// open-cache.ts: which backend a new budget or cache gets. A cache is native
// when the addon loaded and the codec is not the twin (useKernel('js')
// makes later caches twins, so one process can test both); a budget is
// native whenever the addon loaded, since native and twin caches can share it.
import { backend } from './kernels';
import { twinBackend } from './binding';
import { cacheAddon } from './native-cache';
import { NativeBudget, NativeCache } from './native-cache-backend';
import type { BudgetBackend, CacheBackend, CacheGeometry } from './cache-backend';
import { TwinBudget } from '../twin/budget';
import { TwinPageCache } from '../twin/cache';

export function openBudget(bytes: number): BudgetBackend {
  return cacheAddon ? new NativeBudget(cacheAddon, bytes) : new TwinBudget(bytes);
}

/** A native budget with a twin cache works (the cache calls take/give); the reverse cannot. */
export function openCache(g: CacheGeometry, budget: BudgetBackend | null): CacheBackend {
  if (cacheAddon && backend() !== twinBackend) return new NativeCache(cacheAddon, g, budget);
  return new TwinPageCache(g, budget);
}
