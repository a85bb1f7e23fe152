// The native core without Node: the standalone kernel tests under
// AddressSanitizer and UndefinedBehaviorSanitizer (every x86 kernel here; the
// NEON kernel cross-built for arm64 and run under qemu-user), the async batch
// core on real threads under ThreadSanitizer, and a short
// libFuzzer run of every fuzz target. Tools missing outside CI: skipped with a
// warning; in CI (.ci/run installs them) a missing tool fails the test.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.join(__dirname, '..');
const ci = !!process.env.CI;
const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

function run(script: string, args: string[] = [], env: Record<string, string> = {}) {
  const r = spawnSync('bash', [path.join(root, script), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 600_000,
  });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}` };
}

function when(tools: string[], name: string, fn: () => void, timeout: number): void {
  const missing = tools.filter((t) => !has(t));
  if (missing.length && !ci) {
    test.skip(`${name} (needs ${missing.join(', ')})`, () => {});
    console.warn(`native.test: ${name} skipped, ${missing.join(', ')} missing (CI installs them)`);
    return;
  }
  test(name, fn, timeout);
}

when(['g++'], 'every x86 kernel equals the portable one, under ASan and UBSan', () => {
  const r = run('native/test/run.sh');
  expect(r.out).toMatch(/ok: \d+ checks/);
  expect(r.status).toBe(0);
}, 600_000);

when(['g++'], 'the async batch core on real threads equals the one-thread loops, under TSan and UBSan', () => {
  const r = run('native/test/run-batch.sh');
  expect(r.out).toMatch(/batch_test: ok/);
  expect(r.status).toBe(0);
}, 600_000);

when(['aarch64-linux-gnu-g++', 'qemu-aarch64'], 'the NEON kernel equals the portable one on arm64 (qemu-user), under ASan and UBSan', () => {
  const r = run('native/test/run-neon.sh');
  expect(r.out).toMatch(/neon/);
  expect(r.out).toMatch(/ok: \d+ checks/);
  expect(r.status).toBe(0);
}, 900_000);

when(['clang', 'clang++'], 'fuzz targets: a short run each (fixed seed, then a random one it prints)', () => {
  const r = run('native/fuzz/run.sh', ['--ci']);
  if (r.status !== 0) console.error(r.out.slice(-4000));
  expect(r.out).toMatch(/fuzz: \d+ passed, 0 failed/);
  expect(r.status).toBe(0);
}, 900_000);
