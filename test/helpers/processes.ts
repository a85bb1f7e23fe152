// helpers/processes.ts: real processes for the profile tests: the dirtier
// (test/fixtures/dirtier.c, the ground truth), redis, and the CLI; every
// process started here is remembered so that killAll() can end it.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

export const root = path.join(__dirname, '..', '..');
export const bin = path.join(root, 'bin', 'xbzrle.js');

const started: ChildProcess[] = [];

/** Spawns and remembers a process (see killAll). */
export function start(cmd: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  started.push(c);
  return c;
}

/** The process started most recently (e.g. the CLI run by cli()). */
export function lastStarted(): ChildProcess {
  return started[started.length - 1];
}

/** Kills every process started here that is still running. */
export function killAll(): void {
  for (const c of started) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}

/** Resolves when the process exits, with its code and signal. */
export function exited(c: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve({ code: c.exitCode, signal: c.signalCode });
  return new Promise((resolve) => c.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Compiles the dirtier into dir (cc is there wherever the addon builds). */
export function buildDirtier(dir: string): string {
  const exe = path.join(dir, 'dirtier');
  execFileSync('cc', ['-O2', '-o', exe, path.join(root, 'test', 'fixtures', 'dirtier.c')]);
  return exe;
}

/** A running dirtier: its process and its memory. */
export interface Dirtier {
  proc: ChildProcess;
  pid: number;
  start: number;
  pages: number;
  pageSize: number;
  /** "START-END" for --region. */
  region: string;
}

/** Starts the dirtier (HOT pages rewritten at RATE pages/s, COLD written once) and waits until it is ready. */
export async function startDirtier(exe: string, hot: number, rate: number, cold = 0, shuffle = true, memfd = false): Promise<Dirtier> {
  const proc = start(exe, [String(hot), String(rate), String(cold), shuffle ? '1' : '0', memfd ? '1' : '0']);
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('the dirtier did not start in 20 s')), 20_000);
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(buf.slice(0, nl));
      }
    });
    proc.once('exit', () => reject(new Error('the dirtier exited')));
  });
  const [, addr, pages, pageSize] = line.split(' ');
  const s = parseInt(addr, 16);
  const p = Number(pages);
  const ps = Number(pageSize);
  return { proc, pid: proc.pid!, start: s, pages: p, pageSize: ps, region: `${s.toString(16)}-${(s + p * ps).toString(16)}` };
}

/** Runs the CLI; resolves with its exit code and output. */
export function cli(args: string[], options: { timeout?: number; env?: Record<string, string>; cmd?: string[]; cwd?: string; onErr?: (all: string) => void } = {}): Promise<{ code: number | null; out: string; err: string }> {
  const [cmd, ...pre] = options.cmd ?? [process.execPath, bin];
  const c = start(cmd, [...pre, ...args], { cwd: options.cwd ?? root, env: { ...process.env, ...options.env } });
  let out = '';
  let err = '';
  c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    options.onErr?.(err);
  });
  const timer = setTimeout(() => c.kill('SIGKILL'), options.timeout ?? 60_000);
  return exited(c).then(({ code }) => {
    clearTimeout(timer);
    return { code, out, err };
  });
}

/** A TCP port free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port: number, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on port ${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The first executable found among these paths, or null. */
export function which(...paths: string[]): string | null {
  return paths.find((p) => fs.existsSync(p)) ?? null;
}
