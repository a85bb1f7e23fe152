// cli/options.ts: the one place the CLI turns argument text into values.
// Every parser throws a CliError (exit 2) that names the option and says what
// it accepts, so every command checks its options the same way before any
// work starts. Built on node:util parseArgs (no dependency).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { formatBytes, parseBudget, parseBytes, parseFraction } from '../util/sizes';

/** Exit statuses of every command. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * An error the CLI reports as a message, without a stack, and exits with
 * `status`: 2 for bad usage (the default), 1 when the work failed. Any other
 * error reaching the CLI is reported with exit 1, never as usage.
 */
export class CliError extends Error {
  readonly code: 'ERR_XBZRLE_USAGE' | 'ERR_XBZRLE_FAILED';
  readonly status: number;
  constructor(message: string, status: number = EXIT.usage) {
    super(message);
    this.name = 'CliError';
    this.status = status;
    this.code = status === EXIT.usage ? 'ERR_XBZRLE_USAGE' : 'ERR_XBZRLE_FAILED';
  }
}

/** A usage error (exit 2). */
export const usage = (message: string): CliError => new CliError(message, EXIT.usage);
/** The work failed (exit 1). */
export const failed = (message: string): CliError => new CliError(message, EXIT.failed);

const show = (text: unknown): string => JSON.stringify(String(text));

/** Runs a parser from lib/util (which throws RangeError) and reports its message as usage. */
function asUsage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof RangeError) throw usage(err.message);
    throw err;
  }
}

export interface Range {
  min?: number;
  max?: number;
}

function within(v: number, name: string, text: unknown, r: Range, unit = ''): number {
  if (r.min !== undefined && v < r.min) throw usage(`${name} must be at least ${r.min}${unit}, received ${show(text)}`);
  if (r.max !== undefined && v > r.max) throw usage(`${name} must be at most ${r.max}${unit}, received ${show(text)}`);
  return v;
}

/** A whole number in [min, max] (decimal digits only: no "1e3", no "0x10"). */
export function parseInteger(text: unknown, name: string, r: Range = {}): number {
  const s = String(text).trim();
  if (!/^[+-]?\d+$/.test(s) || !Number.isSafeInteger(Number(s))) throw usage(`${name} must be a whole number, received ${show(text)}`);
  return within(Number(s), name, text, r);
}

/** A finite decimal number in [min, max]; `above` excludes the lower bound. */
export function parseNumber(text: unknown, name: string, r: Range & { above?: number } = {}): number {
  const s = String(text).trim();
  const v = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s) ? Number(s) : NaN;
  if (!Number.isFinite(v)) throw usage(`${name} must be a finite number, received ${show(text)}`);
  if (r.above !== undefined && !(v > r.above)) throw usage(`${name} must be above ${r.above}, received ${show(text)}`);
  return within(v, name, text, r);
}

/** Bytes as operators write them ("512M", "2GiB", "1048576"), in [min, max]. */
export function parseSize(text: unknown, name: string, r: Range = {}): number {
  const v = asUsage(() => parseBytes(String(text), name));
  if (!Number.isSafeInteger(v)) throw usage(`${name} is too large${r.max !== undefined ? ` (at most ${formatBytes(r.max)})` : ''}, received ${show(text)}`);
  return withinBytes(v, name, text, r);
}

/** A memory budget: bytes, or a percentage of `hostMemory` ("10%"), in [min, max]. */
export function parseBudgetSize(text: unknown, name: string, hostMemory: number, r: Range = {}): number {
  const v = asUsage(() => parseBudget(String(text), hostMemory, name));
  if (!Number.isSafeInteger(v)) throw usage(`${name} is too large${r.max !== undefined ? ` (at most ${formatBytes(r.max)})` : ''}, received ${show(text)}`);
  return withinBytes(v, name, text, r);
}

function withinBytes(v: number, name: string, text: unknown, r: Range): number {
  if (r.min !== undefined && v < r.min) {
    throw usage(`${name} must be ${r.min <= 1 ? 'above 0' : `at least ${formatBytes(r.min)}`}, received ${show(text)}`);
  }
  if (r.max !== undefined && v > r.max) throw usage(`${name} must be at most ${formatBytes(r.max)}, received ${show(text)}`);
  return v;
}

/** A fraction in [0, 1] written "0.9" or "90%"; `above` excludes the lower bound. */
export function parseRate(text: unknown, name: string, r: Range & { above?: number } = {}): number {
  const v = asUsage(() => parseFraction(String(text), name));
  if (r.above !== undefined && !(v > r.above)) throw usage(`${name} must be above ${r.above}, received ${show(text)}`);
  return within(v, name, text, r);
}

const DURATION_UNITS: Record<string, number> = { ms: 1e-3, s: 1, m: 60, h: 3600 };

/**
 * Seconds, written "10", "2.5", "500ms", "10s", "2m" or "1h", strictly
 * positive and at most `max` (default one day, well inside what a Node
 * timer can wait: 2^31-1 ms).
 */
export function parseDuration(text: unknown, name: string, r: Range = {}): number {
  const m = /^\s*(\d+\.?\d*|\.\d+)\s*(ms|s|m|h)?\s*$/i.exec(String(text));
  const v = m ? Number(m[1]) * DURATION_UNITS[(m[2] ?? 's').toLowerCase()] : NaN;
  if (!Number.isFinite(v)) throw usage(`${name} must be a duration such as 10, 2.5s, 500ms or 2m, received ${show(text)}`);
  const max = r.max ?? 86400;
  const min = r.min ?? 0.001;
  if (v < min) throw usage(`${name} must be at least ${min} s, received ${show(text)}`);
  if (v > max) throw usage(`${name} must be at most ${max} s, received ${show(text)}`);
  return v;
}

/** One of `values`. */
export function parseEnum<T extends string>(text: unknown, name: string, values: readonly T[]): T {
  const s = String(text);
  if (!(values as readonly string[]).includes(s)) throw usage(`${name} must be one of ${values.join(', ')}, received ${show(text)}`);
  return s as T;
}

/** The codec's page sizes: 1..16384 bytes. */
export const PAGE_SIZE_RANGE = { min: 1, max: 16384 } as const;

/** `--page-size N`: an integer from 1 to 16384 (the codec's range), in every command. */
export function parsePageSize(text: unknown, name = '--page-size'): number {
  const s = String(text).trim();
  const v = /^\d+$/.test(s) ? Number(s) : NaN;
  if (!Number.isSafeInteger(v) || v < PAGE_SIZE_RANGE.min || v > PAGE_SIZE_RANGE.max) {
    throw usage(`${name} must be an integer from 1 to 16384, received ${show(text)}`);
  }
  return v;
}

const LINK_UNITS: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };

/** A link speed in bits per second: "10G", "25Gbit", "100M", "1e9" (decimal units, as links are sold). */
export function parseLinkSpeed(text: unknown, name = '--link'): number {
  const m = /^\s*(\d+\.?\d*|\.\d+)(e\d+)?\s*([kmgt]?)(?:bit\/s|bps|bit|b)?\s*$/i.exec(String(text));
  const v = m ? Number(m[1] + (m[2] ?? '')) * LINK_UNITS[m[3].toLowerCase()] : NaN;
  if (!Number.isFinite(v) || v < 1e3 || v > 1e13) throw usage(`${name} must be a link speed from 1K to 10T bits per second such as 10G or 100M, received ${show(text)}`);
  return v;
}

/** A compiled --filter. */
export function parseRegExp(text: unknown, name: string): RegExp {
  try {
    return new RegExp(String(text));
  } catch (err) {
    throw usage(`${name}: ${(err as Error).message}`);
  }
}

// ---- --json [FILE] ------------------------------------------------------

/** The `--json [FILE]` option every command takes. */
export const JSON_OPTION: NonNullable<ParseArgsConfig['options']> = { json: { type: 'string' } };

export const JSON_HELP = `--json [FILE]        write the result as JSON to FILE; no FILE or "-" means
                       standard output (the text report then goes to stderr)`;

/** Where --json goes: null (not asked), '-' (stdout) or a path. */
export function jsonTarget(v: Record<string, unknown>): string | null {
  const j = v.json;
  if (j === undefined) return null;
  if (j === '' || j === '-' || j === true) return '-';
  return String(j);
}

/**
 * Gives `--json` its value when it has none: "--json" followed by nothing,
 * another option, or a word the command needs as its positional becomes
 * "--json=-". So `inspect --json S` still reads S, and `advise T --json F`
 * writes F.
 */
export function normaliseJsonArgs(args: string[], options: ParseArgsConfig['options'], positionals: number): string[] {
  const out: string[] = [];
  // Words that are not options or option values: the positionals so far.
  let free = 0;
  const takesValue = (a: string): boolean => {
    if (!a.startsWith('--') || a.includes('=')) return false;
    const o = options?.[a.slice(2)];
    return !!o && o.type === 'string' && a !== '--json';
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    if (a === '--json') {
      const next = args[i + 1];
      const rest = args.slice(i + 2);
      const freeAfter = countFree(rest, takesValue);
      const isValue = next !== undefined && (next === '-' || !next.startsWith('-')) && free + freeAfter >= positionals;
      if (isValue) {
        out.push(`--json=${next}`);
        i++;
      } else out.push('--json=-');
      continue;
    }
    out.push(a);
    if (takesValue(a)) {
      if (i + 1 < args.length) out.push(args[++i]);
    } else if (a === '-' || !a.startsWith('-')) free++;
  }
  return out;
}

function countFree(args: string[], takesValue: (a: string) => boolean): number {
  let n = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') return n + args.length - i - 1;
    if (takesValue(a)) i++;
    else if (a === '--json') continue;
    else if (a === '-' || !a.startsWith('-')) n++;
  }
  return n;
}

/** parseArgs with the shared --json handling; parse failures are usage errors. */
export function parseCommandLine(
  args: string[],
  options: ParseArgsConfig['options'],
  positionals = 0,
): { values: Record<string, unknown>; positionals: string[] } {
  const argv = options && 'json' in options ? normaliseJsonArgs(args, options, positionals) : args;
  try {
    const r = parseArgs({ args: argv, options, allowPositionals: positionals > 0, strict: true });
    return { values: r.values as Record<string, unknown>, positionals: r.positionals };
  } catch (err) {
    throw usage((err as Error).message);
  }
}

// ---- outputs ------------------------------------------------------------

/**
 * Checks, before any work, that `file` can be written: it is not a
 * directory and its directory exists or can be made.
 */
export function checkOutputFile(file: string, name: string): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(file);
  } catch {
    /* absent: fine */
  }
  if (st?.isDirectory()) throw usage(`${name} ${file}: is a directory; give a file name`);
  checkParentDir(path.dirname(path.resolve(file)), `${name} ${file}`);
}

/** Checks, before any work, that `dir` is (or can become) a directory. */
export function checkOutputDir(dir: string, name: string): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(dir);
  } catch {
    /* absent: made later */
  }
  if (st && !st.isDirectory()) throw usage(`${name} ${dir}: exists and is not a directory; give a directory (index.html is written inside)`);
  if (!st) checkParentDir(path.dirname(path.resolve(dir)), `${name} ${dir}`);
}

function checkParentDir(dir: string, what: string): void {
  // Walk up to the first part that exists: it must be a directory.
  let d = dir;
  for (;;) {
    try {
      const st = fs.statSync(d);
      if (!st.isDirectory()) throw usage(`${what}: ${d} is not a directory`);
      return;
    } catch (err) {
      if (err instanceof CliError) throw err;
      const up = path.dirname(d);
      if (up === d) return;
      d = up;
    }
  }
}

/**
 * Writes `text` to `target` ('-' is stdout). A file is written to a
 * temporary name beside it and renamed, so a reader never sees half of it
 * and an existing file is replaced whole.
 */
export function writeOutput(target: string, text: string): void {
  if (target === '-') {
    process.stdout.write(text);
    return;
  }
  fs.mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, text, { flag: 'wx' });
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw failed(`cannot write ${target}: ${(err as Error).message}`);
  }
}

/** Writes `text` as DIR/index.html (see writeOutput); returns the file written. */
export function writeReportDir(dir: string, text: string): string {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw failed(`cannot create ${dir}: ${(err as Error).message}`);
  }
  const file = path.join(dir, 'index.html');
  writeOutput(file, text);
  return file;
}
