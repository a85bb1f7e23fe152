// docs-skips.test.ts: the skip summary printed at the end of `npm test` (the
// reporter in test/helpers/skip-reporter.js, wired in package.json's jest
// config) names every skipped test with its reason, and no test passes by
// returning early when the addon or a tool is missing.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { skippedTitle } from './helpers/skip';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { summarise } = require('./helpers/skip-reporter.js') as {
  summarise(rootDir: string, results: unknown): string[];
};

const root = path.join(__dirname, '..');

function result(file: string, tests: { titles: string[]; status: string }[]) {
  return {
    testFilePath: path.join(root, file),
    testResults: tests.map((t) => ({ ancestorTitles: t.titles.slice(0, -1), title: t.titles[t.titles.length - 1], status: t.status })),
  };
}

test('the summary lists every skipped test under its file and reason, and nothing that ran', () => {
  const lines = summarise(root, {
    testResults: [
      result('test/a.test.ts', [
        { titles: [skippedTitle('QEMU suite', 'needs qemu-system-x86_64'), 'migrates'], status: 'pending' },
        { titles: [skippedTitle('QEMU suite', 'needs qemu-system-x86_64'), 'stops'], status: 'pending' },
        { titles: ['runs'], status: 'passed' },
      ]),
      result('test/b.test.ts', [
        { titles: ['agree (needs the addon)'], status: 'pending' },
        { titles: ['README.md:9 (js): not-run: a sketch'], status: 'pending' },
        { titles: ['bare'], status: 'pending' },
      ]),
    ],
  });
  expect(lines[0]).toBe('Skipped (5 tests):');
  expect(lines).toContain('  test/a.test.ts: 2 skipped: needs qemu-system-x86_64');
  expect(lines).toContain('      QEMU suite > migrates');
  expect(lines).toContain('  test/b.test.ts: 1 skipped: needs the addon');
  expect(lines).toContain('  test/b.test.ts: 1 skipped: not-run: a sketch');
  expect(lines).toContain('  test/b.test.ts: 1 skipped: no reason given');
  expect(lines.join('\n')).not.toContain('runs');
  expect(summarise(root, { testResults: [result('test/c.test.ts', [{ titles: ['x'], status: 'passed' }])] })).toEqual(['Skipped: none']);
});

test('the reporter is part of the jest config', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  expect(pkg.jest.reporters).toEqual(expect.arrayContaining(['default', '<rootDir>/test/helpers/skip-reporter.js']));
});

test('no test returns early (and passes) when the addon, a kernel or a tool is missing', () => {
  const early = /\bif\s*\(\s*!\s*[\w.]*(addon|native|kernel|Kernel|has\w*|available)\w*(\(\))?\s*\)\s*return\s*;/;
  const bad: string[] = [];
  for (const f of fs.readdirSync(path.join(root, 'test')).filter((f) => f.endsWith('.test.ts') && f !== 'docs-skips.test.ts')) {
    fs.readFileSync(path.join(root, 'test', f), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        if (early.test(line)) bad.push(`test/${f}:${i + 1}: ${line.trim()}`);
      });
  }
  expect(bad).toEqual([]);
  expect(early.test('  if (!addon) return;')).toBe(true);
  expect(early.test('      if (!nativeKernel()) return; // the twin')).toBe(true);
});
