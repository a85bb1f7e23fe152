// soak.test.ts: the quick soak (1/50 of `npm run soak`) in a child process.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

test('quick soak exits 0 and reports its figures', () => {
  const root = path.join(__dirname, '..');
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(root, 'bench/soak.js'), '--quick'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const line = r.stdout.split('\n').find((l) => l.startsWith('SOAK '));
  expect(line).toBeDefined();
  const rep = JSON.parse(line!.slice(5));
  expect(rep.ok).toBe(true);
  expect(rep.scale).toBeCloseTo(0.02);
  expect(rep.pageOps).toBeGreaterThanOrEqual(190_000);
  expect(rep.counts.cacheCycles).toBeGreaterThanOrEqual(20);
  expect(rep.counts.senderCycles).toBeGreaterThanOrEqual(20);
  expect(rep.rssAfter - rep.rssBefore).toBe(rep.rssGrowth);
  expect(rep.rssGrowth).toBeLessThanOrEqual(rep.boundBytes);
  expect(r.stdout).toMatch(/rss grew [-\d.]+ MiB \(bound 16 MiB\)/);
  expect(r.stdout).toContain('soak: OK');
});
