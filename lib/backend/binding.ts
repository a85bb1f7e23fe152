// binding.ts: loads the addon (a prebuild for this platform, else a local
// build, through node-gyp-build), or the TypeScript twin when none loads, and
// records which one serves and why (lib/backend/status.ts reports it).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { markAsUntransferable } from 'node:worker_threads';
import * as twin from '../twin/codec';
import * as twinBatch from '../twin/batch';

import type { Backend, NativeAddon } from './addon';

export type { Backend, Handle, JobDone, NativeAddon, NativeJob } from './addon';

export const twinBackend: Backend = {
  encodeInto: twin.encodeInto,
  decodeInto: twin.decodeInto,
  encodePages: twinBatch.encodePages,
  decodePages: twinBatch.decodePages,
};

/**
 * Where the codec comes from: `'prebuild'` (a binary shipped in the package's
 * prebuilds/), `'local-build'` (compiled on this machine into build/), or
 * `'twin'` (the TypeScript codec).
 */
export type BinarySource = 'prebuild' | 'local-build' | 'twin';

/** The package root: this file sits in dist/backend/ or lib/backend/. */
const root = path.join(__dirname, '..', '..');

/**
 * The prebuild tuple node-gyp-build looks for on this machine, e.g.
 * 'linux-x64-glibc', 'linux-arm64-musl', 'darwin-arm64', 'win32-x64'.
 * The libc rule is node-gyp-build's: LIBC, else musl when /etc/alpine-release
 * exists, else glibc.
 */
export const platformTag: string = (() => {
  const base = `${process.platform}-${process.arch}`;
  if (process.platform !== 'linux') return base;
  let libc = process.env.LIBC;
  if (!libc) {
    try {
      libc = fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc';
    } catch {
      libc = 'glibc';
    }
  }
  return `${base}-${libc}`;
})();

/** Which binary loaded, or why the twin serves. */
export interface LoadInfo {
  source: BinarySource;
  /** Absolute path of the loaded .node file; null when the twin serves. */
  path: string | null;
  /** Why the twin serves; null when the addon loaded. */
  reason: string | null;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0].trim();
}

/** A binary under .../build/Release or .../build/Debug is a local build. */
function sourceOf(file: string): BinarySource {
  const dir = path.basename(path.dirname(file));
  const up = path.basename(path.dirname(path.dirname(file)));
  return up === 'build' && (dir === 'Release' || dir === 'Debug') ? 'local-build' : 'prebuild';
}

function load(): { addon: NativeAddon | null; info: LoadInfo } {
  const twinInfo = (reason: string) => ({ addon: null, info: { source: 'twin' as const, path: null, reason } });
  if (process.env.XBZRLE_NO_NATIVE === '1') {
    return twinInfo('XBZRLE_NO_NATIVE=1 selects the TypeScript twin');
  }
  // node-gyp-build's own order: a local build (build/Release, build/Debug),
  // which exists only when the install script compiled one because no
  // prebuild loaded (or a developer built it), then prebuilds/<platform>-<arch>.
  let file: string;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const gypBuild = require('node-gyp-build') as { resolve(dir: string): string };
    file = gypBuild.resolve(root);
  } catch (err) {
    const msg = firstLine(err);
    if (/^No native build was found/.test(msg)) {
      return twinInfo(`no prebuild for ${platformTag} in this package and no local build`);
    }
    return twinInfo(`node-gyp-build could not look for the addon (${msg})`);
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const addon = require(file) as NativeAddon;
    // Async batches mark the ArrayBuffers they use untransferable, so a
    // transfer during the job copies instead of freeing memory the threads read.
    if (typeof addon.setUntransferable === 'function') addon.setUntransferable(markAsUntransferable);
    return { addon, info: { source: sourceOf(file), path: file, reason: null } };
  } catch (err) {
    const kind = sourceOf(file) === 'prebuild' ? 'the prebuild' : 'the local build';
    return twinInfo(`${kind} ${file} failed to load (${firstLine(err)})`);
  }
}

const loaded = load();

/** The addon, or null when the twin serves. */
export const addon: NativeAddon | null = loaded.addon;

/** Which binary loaded, or why the twin serves. */
export const loadInfo: Readonly<LoadInfo> = Object.freeze(loaded.info);

/** Why the twin runs instead of the addon, or null when the addon loaded. */
export const fallbackReason: string | null = loaded.info.reason;

// One warning per process, even if two copies of the package load in it (a
// symbol on globalThis, not module state). Worker threads have their own
// globals, so a worker that loads the package warns once more.
const WARNED = Symbol.for('xbzrle.twin-warning');
if (addon === null && process.env.XBZRLE_NO_NATIVE !== '1') {
  const g = globalThis as { [WARNED]?: boolean };
  if (!g[WARNED]) {
    g[WARNED] = true;
    process.emitWarning(
      `xbzrle: ${loadInfo.reason}; the TypeScript twin serves instead (same results, 5-60x slower). ` +
        `To build the native addon here: cd ${JSON.stringify(root)} && npx --yes node-gyp@11 rebuild ` +
        '(needs python3, make and a C++17 compiler; the package runs no install script). ' +
        'Set XBZRLE_NO_NATIVE=1 to use the twin without this warning.',
      { code: 'XBZRLE_NO_NATIVE' },
    );
  }
}
