// status.ts: whether the addon or the twin serves, which binary, and why.
import { addon, loadInfo, platformTag, twinBackend } from './binding';
import { backend } from './kernels';

/**
 * True when the native addon loaded, false when it did not (the TypeScript
 * twin then serves everything). A fact of the load: it stays true after
 * useKernel('js'), which routes new codec calls and caches to the twin;
 * `kernel() === 'js'` or `nativeStatus().serving` say which serves now.
 */
export const native: boolean = addon !== null;

/** What `nativeStatus()` reports. */
export interface NativeStatus {
  /** True when the native addon loaded (as `native`). */
  native: boolean;
  /** Which serves codec calls and new caches now: `'twin'` without the addon or after useKernel('js'). */
  serving: 'addon' | 'twin';
  /**
   * `'prebuild'`: a binary shipped in the package (prebuilds/);
   * `'local-build'`: compiled on this machine (build/Release);
   * `'twin'`: the TypeScript codec serves.
   */
  source: 'prebuild' | 'local-build' | 'twin';
  /** Absolute path of the loaded .node file; null when the twin serves. */
  path: string | null;
  /** Why the twin serves; null when the addon loaded. */
  reason: string | null;
  /** The prebuild this machine looks for, e.g. 'linux-x64-glibc', 'darwin-arm64'. */
  platform: string;
}

/** Which binary loaded (prebuild or local build) or why the twin serves. */
export function nativeStatus(): NativeStatus {
  return {
    native,
    serving: backend() === twinBackend ? 'twin' : 'addon',
    source: loadInfo.source,
    path: loadInfo.path,
    reason: loadInfo.reason,
    platform: platformTag,
  };
}
