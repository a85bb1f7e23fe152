// binding.ts: loads the addon (a prebuild for this platform, else a local
// build, through node-gyp-build), or the TypeScript twin when none loads.
import * as path from 'node:path';
import * as twin from './fallback/codec';
import * as twinBatch from './fallback/batch';

/** What the codec needs from a backend: the native addon or the twin. */
export interface Backend {
  encodeInto(oldPage: Uint8Array, newPage: Uint8Array, out: Uint8Array, limit: number): number;
  decodeInto(delta: Uint8Array, page: Uint8Array): number;
  /** Encodes lengths.length pages back to back into out; returns the bytes written. */
  encodePages(
    oldPages: Uint8Array,
    newPages: Uint8Array,
    oldIndexes: Uint32Array | null,
    indexes: Uint32Array | null,
    pageSize: number,
    limit: number,
    out: Uint8Array,
    offsets: Uint32Array,
    lengths: Int32Array,
  ): number;
  /** Applies every valid delta; null, or the rejections as [page, packed, ...]. */
  decodePages(
    deltas: Uint8Array,
    offsets: Uint32Array,
    lengths: Int32Array,
    pages: Uint8Array,
    indexes: Uint32Array | null,
    pageSize: number,
  ): number[] | null;
}

/** An async batch running in the addon (an opaque handle for cancelJob). */
export type NativeJob = { readonly __nativeJob: unique symbol };

/**
 * Called once when an async batch ends: state 0 with the result (bytes
 * written, or the rejections), 1 after cancelJob, 2 with an error message.
 */
export type JobDone = (state: number, value: unknown) => void;

/** The addon's surface (native/addon.cc). */
export interface NativeAddon extends Backend {
  kernels(): string[];
  kernel(): string;
  useKernel(name: string): boolean;
  encodePagesStart(
    ...args: [...Parameters<Backend['encodePages']>, works: number, chunkPages: number, done: JobDone]
  ): NativeJob;
  decodePagesStart(
    ...args: [...Parameters<Backend['decodePages']>, works: number, chunkPages: number, done: JobDone]
  ): NativeJob;
  cancelJob(job: NativeJob): void;
  /** [jobs still holding their inputs, jobs not yet freed], process-wide. */
  jobCounts(): [number, number];
}

export const twinBackend: Backend = {
  encodeInto: twin.encodeInto,
  decodeInto: twin.decodeInto,
  encodePages: twinBatch.encodePages,
  decodePages: twinBatch.decodePages,
};

/** Why the twin runs instead of the addon, or null when the addon loaded. */
export let fallbackReason: string | null = null;

function load(): NativeAddon | null {
  if (process.env.XBZRLE_NO_NATIVE === '1') {
    fallbackReason = 'XBZRLE_NO_NATIVE=1 selects the TypeScript twin';
    return null;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const gypBuild = require('node-gyp-build') as (dir: string) => NativeAddon;
    return gypBuild(path.join(__dirname, '..'));
  } catch (err) {
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    fallbackReason = `no native build loaded (${why})`;
    process.emitWarning(
      `xbzrle: ${fallbackReason}; using the TypeScript twin, which is slower. ` +
        'To build the addon, allow install scripts for xbzrle (npm install-scripts approve) ' +
        'and run `npm rebuild xbzrle`; set XBZRLE_NO_NATIVE=1 to choose the twin silently.',
      { code: 'XBZRLE_NO_NATIVE' },
    );
    return null;
  }
}

/** The addon, or null when the twin serves. */
export const addon: NativeAddon | null = load();
