// The JavaScript fuzz loop over the stream reader and RecordReader
// (native/fuzz/stream-fuzz.js): its regression inputs, then a short run with
// a fixed seed and one with a random seed it prints. Failures print the
// input in base64 (see native/fuzz/README.md). Needs dist/ (npm run build:ts).
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.join(__dirname, '..');
const script = path.join(root, 'native', 'fuzz', 'stream-fuzz.js');
const regressions = path.join(root, 'test', 'fixtures', 'fuzz-regressions');
const SECONDS = 8; // per run; two runs

function run(args: string[]) {
  const r = spawnSync(process.execPath, [script, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) console.error(`${r.stdout}\n${r.stderr}`.slice(-4000));
  return { status: r.status, out: r.stdout };
}

test('regression inputs replay with coded errors only', () => {
  const r = run(['--replay', path.join(regressions, 'js-stream'), '--replay', path.join(regressions, 'js-record')]);
  expect(r.out).toMatch(/replay js-stream: [1-9]\d* executions/);
  expect(r.out).toMatch(/replay js-record: [1-9]\d* executions/);
  expect(r.status).toBe(0);
}, 60_000);

test.each([['fixed', 1], ['random', 1 + Math.floor(Math.random() * 2 ** 31)]])(
  `mutated streams and records, ${SECONDS} s, %s seed (%d)`,
  (_kind, seed) => {
    const r = run(['--seconds', String(SECONDS), '--seed', String(seed)]);
    expect(r.out).toMatch(/stream: [1-9]\d* executions/);
    expect(r.out).toMatch(/record: [1-9]\d* executions/);
    expect(r.out).toMatch(/0 failed/);
    expect(r.status).toBe(0);
  },
  120_000,
);
