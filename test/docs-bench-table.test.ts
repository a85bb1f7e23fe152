// README.md shows the answer table of a default `xbzrle bench` run. It must
// keep the structure a fresh run prints: the same columns in the same order,
// and one row per built-in workload, in the bench's order.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ANSWER_HEAD } from '../lib/bench/answer';
import { WORKLOADS } from '../lib/bench/workloads';

const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
const cells = (line: string): string[] => line.split('│').slice(1, -1).map((c) => c.trim());

test("README's bench answer table has the columns and rows a fresh run prints", () => {
  const lines = readme.split('\n');
  const head = lines.findIndex((l) => l.startsWith('│ workload'));
  expect(head).toBeGreaterThan(0);
  expect(lines[head - 2]).toMatch(/^Does XBZRLE pay on a .* link/);
  expect(cells(lines[head])).toEqual([...ANSWER_HEAD]);
  const rows: string[][] = [];
  for (let i = head + 2; lines[i].startsWith('│'); i++) rows.push(cells(lines[i]));
  expect(rows.map((r) => r[0])).toEqual(WORKLOADS.map((w) => w.name));
  for (const r of rows) {
    expect(r).toHaveLength(ANSWER_HEAD.length);
    expect(r[6]).toMatch(/^(yes|no): /);
    expect(r[5]).toMatch(/^\d+\.\d%$/);
  }
});
