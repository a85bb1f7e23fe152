// The page cache and sender core without Node, under AddressSanitizer and
// UndefinedBehaviorSanitizer (native/test/page_cache_test.cc: QEMU's rules,
// the budget, the sender's steps, random use against a plain model with
// resizes). Skipped with a warning when g++ is missing outside CI.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.join(__dirname, '..');
const hasCxx = spawnSync('sh', ['-c', 'command -v g++']).status === 0;

if (!hasCxx && !process.env.CI) {
  test.skip('the page cache core under ASan and UBSan (needs g++)', () => {});
  console.warn('native-cache.test: skipped, g++ missing (CI installs it)');
} else {
  test('the page cache core under ASan and UBSan', () => {
    const r = spawnSync('sh', [path.join(root, 'native/test/run-cache.sh')], {
      cwd: root,
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(`${r.stdout}\n${r.stderr}`).toMatch(/^ok$/m);
    expect(r.status).toBe(0);
  }, 300_000);
}
