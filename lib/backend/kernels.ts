// kernels.ts: which encoder runs. The addon's kernels (best first), then 'js'
// for the twin; the choice is per thread (each worker loads its own copy).
import { addon, twinBackend, type Backend } from './binding';
import { describe } from '../util/checks';

let current: Backend = addon ?? twinBackend;
let currentName = addon ? addon.kernel() : 'js';

/** The backend every codec call goes through (internal). */
export function backend(): Backend {
  return current;
}

/** Kernels this machine can run, best first, then 'js' (the TypeScript twin). */
export function kernels(): string[] {
  return [...(addon ? addon.kernels() : []), 'js'];
}

/** The kernel in use. */
export function kernel(): string {
  return currentName;
}

/** Forces a kernel by name; RangeError for an unknown or unsupported one. */
export function useKernel(name: string): void {
  if (typeof name !== 'string') {
    throw new TypeError(`The "name" argument must be a string, received ${describe(name)}`);
  }
  if (name === 'js') {
    current = twinBackend;
    currentName = 'js';
    return;
  }
  // Only exact listed names: the addon reads a C string, which would stop at a NUL.
  if (!addon || !addon.kernels().includes(name) || !addon.useKernel(name)) {
    throw new RangeError(
      `Kernel "${name}" is unknown or not supported here; available: ${kernels().join(', ')}`,
    );
  }
  current = addon;
  currentName = name;
}

const forced = process.env.XBZRLE_KERNEL;
if (forced) {
  try {
    useKernel(forced);
  } catch (err) {
    process.emitWarning(`xbzrle: XBZRLE_KERNEL ignored: ${(err as Error).message}`, {
      code: 'XBZRLE_KERNEL',
    });
  }
}
