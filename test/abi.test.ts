// abi.test.ts: lib/backend/abi.ts is what scripts/gen-abi.js makes of
// native/core/abi.h today (regenerate with `node scripts/gen-abi.js`), and
// the lib/ tables keyed by those numbers agree with them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as abi from '../lib/backend/abi';
import { packRejection, rejection } from '../lib/util/errors';
import { SEND_KINDS } from '../lib/migration/sender';
import { RecordFlag } from '../lib/migration/record';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const gen = require('../scripts/gen-abi.js') as {
  generate(text?: string): string;
  header: string;
  target: string;
};

describe('abi.ts is generated from native/core/abi.h', () => {
  test('the committed lib/backend/abi.ts equals a fresh generation', () => {
    expect(fs.readFileSync(gen.target, 'utf8')).toBe(gen.generate());
  });

  test('a change to the header changes the output (the comparison can fail)', () => {
    const text = fs.readFileSync(gen.header, 'utf8');
    const edited = text.replace('X(INSERT, CLOSED, -3)', 'X(INSERT, CLOSED, -4)');
    expect(edited).not.toBe(text);
    const out = gen.generate(edited);
    expect(out).toContain('export const INSERT_CLOSED = -4;');
    expect(out).not.toBe(gen.generate());
  });

  test('an unreadable table line is an error, not a silent gap', () => {
    const text = fs.readFileSync(gen.header, 'utf8').replace('X(KIND, RAW, 1)', 'X(KIND RAW 1)');
    expect(() => gen.generate(text)).toThrow(/cannot read table line/);
  });

  test('every X(...) entry of the header is exported', () => {
    const entries = [...fs.readFileSync(gen.header, 'utf8').matchAll(/X\((\w+), (\w+), (-?(?:0x[0-9a-f]+|\d+))\)/gi)];
    expect(entries.length).toBeGreaterThan(60);
    for (const [, g, n, v] of entries) expect((abi as Record<string, number>)[`${g}_${n}`]).toBe(Number(v));
  });
});

describe('lib/ tables keyed by abi numbers', () => {
  test('reject codes map to their reasons (lib/util/errors.ts cannot import backend/)', () => {
    const want: [number, string][] = [
      [abi.REJECT_TRUNCATED, 'truncated'],
      [abi.REJECT_ULEB_TOO_LONG, 'uleb128-too-long'],
      [abi.REJECT_EMPTY_ZERO_RUN, 'empty-zero-run'],
      [abi.REJECT_EMPTY_DATA_RUN, 'empty-changed-run'],
      [abi.REJECT_PAST_PAGE, 'run-past-page'],
      [abi.REJECT_PAST_INPUT, 'run-past-input'],
      [abi.REJECT_OVERLAP, 'delta-overlaps-page'],
    ];
    for (const [code, reason] of want) {
      const e = rejection(packRejection(code, 77));
      expect([e.reason, e.offset]).toEqual([reason, 77]);
    }
  });

  test('send kinds and record flags', () => {
    expect(SEND_KINDS[abi.KIND_SKIP]).toBe('skip');
    expect(SEND_KINDS[abi.KIND_RAW]).toBe('raw');
    expect(SEND_KINDS[abi.KIND_XBZRLE]).toBe('xbzrle');
    expect(SEND_KINDS[abi.KIND_ZERO]).toBe('zero');
    expect(RecordFlag.XBZRLE).toBe(abi.RECORD_XBZRLE);
  });

  test('no file in lib/ but abi.ts spells the stats slots as bare indexes', () => {
    const bad: string[] = [];
    const walk = (dir: string): void => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (/(migration|twin|backend)\/\w[\w-]*\.ts$/.test(p) && !p.endsWith('abi.ts')) {
          const t = fs.readFileSync(p, 'utf8');
          for (const m of t.matchAll(/\b(?:s|o|info)\[\d+\]/g)) bad.push(`${path.relative(dir, p)}: ${m[0]}`);
        }
      }
    };
    walk(path.join(__dirname, '..', 'lib'));
    expect(bad).toEqual([]);
  });
});
