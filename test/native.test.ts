// The native core without Node, under sanitizers (native/test/run.sh): every
// x86 kernel against the portable one; the page cache, budget and sender
// against a plain model (QEMU's rules, the sender's steps, random use with
// resizes); the batch jobs on real threads under ThreadSanitizer; the NEON
// kernel cross-built for arm64 and run under qemu-user; and a short libFuzzer
// run of every fuzz target. Missing tools skip visibly outside CI and fail
// under CI=true (.ci/run installs them).
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { hasCommand, testIf } from './helpers/skip';

const root = path.join(__dirname, '..');

function run(script: string, args: string[] = [], env: Record<string, string> = {}) {
  const r = spawnSync('bash', [path.join(root, script), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 600_000,
  });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

function needs(tools: string[]) {
  const missing = tools.filter((t) => !hasCommand(t));
  return testIf(missing.length === 0, `needs ${missing.join(', ')}`);
}

needs(['g++'])('every x86 kernel equals the portable one, under ASan and UBSan', () => {
  const r = run('native/test/run.sh');
  expect(r.out).toMatch(/ok: \d+ checks/);
  expect(r.status).toBe(0);
}, 600_000);

needs(['g++'])('the page cache, budget and sender core against a model, under ASan and UBSan', () => {
  const r = run('native/test/run.sh', ['cache']);
  expect(r.out).toMatch(/^ok$/m);
  expect(r.status).toBe(0);
}, 300_000);

needs(['g++'])('batch jobs on real threads equal the one-thread loops, under TSan and UBSan', () => {
  const r = run('native/test/run.sh', ['batch']);
  expect(r.out).toMatch(/^batch_test: ok$/m);
  expect(r.out).not.toMatch(/ThreadSanitizer/);
  expect(r.status).toBe(0);
}, 300_000);

needs(['aarch64-linux-gnu-g++', 'qemu-aarch64'])('the NEON kernel equals the portable one on arm64 (qemu-user), under ASan and UBSan', () => {
  const r = run('native/test/run-neon.sh');
  expect(r.out).toMatch(/neon/);
  expect(r.out).toMatch(/ok: \d+ checks/);
  expect(r.status).toBe(0);
}, 900_000);

needs(['clang', 'clang++'])('fuzz targets: a short run each (fixed seed, then a random one it prints)', () => {
  const r = run('native/fuzz/run.sh', ['--ci']);
  if (r.status !== 0) console.error(r.out.slice(-4000));
  expect(r.out).toMatch(/fuzz: \d+ passed, 0 failed/);
  expect(r.status).toBe(0);
}, 900_000);
