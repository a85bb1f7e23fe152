// Visible skips. A test or suite that cannot run here (a tool or the addon is
// missing) is registered as skipped with its reason in the title, as
// "name [skipped: reason]"; test/helpers/skip-reporter.js lists every such
// title at the end of the run. Under CI=true a missing tool is a failure, so
// the test runs anyway and fails on what is missing.
import { spawnSync } from 'node:child_process';

export const ci = !!process.env.CI;

type TestFn = (name: string, fn: jest.ProvidesCallback, timeout?: number) => void;
type SuiteFn = (name: string, fn: () => void) => void;

export interface SkipOptions {
  /** Run (and so fail) under CI=true even when `cond` is false. Default true. */
  requiredInCi?: boolean;
}

/** The title a skipped test or suite carries; the reporter reads the reason back from it. */
export function skippedTitle(name: string, reason: string): string {
  return `${name} [skipped: ${reason}]`;
}

function runs(cond: boolean, options: SkipOptions): boolean {
  return cond || (ci && options.requiredInCi !== false);
}

/** `test` when `cond` holds (or under CI), else a skipped test that says why. */
export function testIf(cond: boolean, reason: string, options: SkipOptions = {}): TestFn {
  if (runs(cond, options)) return (name, fn, timeout) => test(name, fn, timeout);
  return (name, fn, timeout) => test.skip(skippedTitle(name, reason), fn, timeout);
}

/** `describe` when `cond` holds (or under CI), else a skipped suite that says why. */
export function describeIf(cond: boolean, reason: string, options: SkipOptions = {}): SuiteFn {
  if (runs(cond, options)) return (name, fn) => describe(name, fn);
  return (name, fn) => describe.skip(skippedTitle(name, reason), fn);
}

/** True when `cmd` is on PATH. */
export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/**
 * `test` when the addon loaded, else a visible skip. Under CI the addon is
 * built, so its absence fails, unless XBZRLE_NO_NATIVE=1 asked for the twin.
 */
export function testIfAddon(loaded: boolean): TestFn {
  const reason = process.env.XBZRLE_NO_NATIVE === '1' ? 'XBZRLE_NO_NATIVE=1: the twin only' : 'the addon did not load';
  return testIf(loaded, reason, { requiredInCi: process.env.XBZRLE_NO_NATIVE !== '1' });
}
