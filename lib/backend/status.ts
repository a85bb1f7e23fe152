// status.ts: whether the addon or the twin serves, which binary, and why.
import { addon, loadInfo, platformTag } from './binding';

/** True when the native addon loaded; false when the TypeScript twin serves. */
export const native: boolean = addon !== null;

/** What `nativeStatus()` reports. */
export interface NativeStatus {
  /** True when the native addon loaded. */
  native: boolean;
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
    source: loadInfo.source,
    path: loadInfo.path,
    reason: loadInfo.reason,
    platform: platformTag,
  };
}
