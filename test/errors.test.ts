// One error scheme: every error class of the library lives in
// lib/util/errors.ts, has a stable ERR_XBZRLE_* code (AbortError keeps
// Node's ABORT_ERR), a kebab-case reason and, where one applies, a byte
// offset; the old module paths still export the same classes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lib from '../lib';
import * as errors from '../lib/util/errors';
import { StreamError as StreamErrorOld } from '../lib/stream/errors';
import { ProfileError as ProfileErrorOld, noPermission, noProcess, procError } from '../lib/profile/errors';
import { RecordError as RecordErrorOld } from '../lib/migration/record';

const KEBAB = /^[a-z0-9]+(-[a-z0-9]+)*$/;

const samples: [string, errors.CodedError, string, boolean][] = [
  ['XbzrleError', new errors.XbzrleError('run-past-page', 12, 3), 'ERR_XBZRLE_MALFORMED', true],
  ['RecordError', new errors.RecordError('unaligned-offset', 0x400), 'ERR_XBZRLE_RECORD', true],
  ['StreamError', new errors.StreamError('bad-xbzrle', 99, 'a bad delta'), 'ERR_XBZRLE_STREAM', true],
  ['ProfileError', noProcess(123456), 'ERR_XBZRLE_PROFILE', false],
  ['ClosedError', new errors.ClosedError(), 'ERR_XBZRLE_CLOSED', false],
  ['NoMemoryError', new errors.NoMemoryError('slot-table', 'the slot table'), 'ERR_XBZRLE_NO_MEMORY', false],
  ['BatchError', new errors.BatchError('the pool failed'), 'ERR_XBZRLE_BATCH', false],
  ['AbortError', new errors.AbortError(), 'ABORT_ERR', false],
];

test.each(samples)('%s: code, kebab-case reason, name, offset', (name, err, code, hasOffset) => {
  expect(err).toBeInstanceOf(Error);
  expect(err).toBeInstanceOf(errors.CodedError);
  expect(err.name).toBe(name);
  expect(err.code).toBe(code);
  expect(err.reason).toMatch(KEBAB);
  if (hasOffset) expect(Number.isInteger((err as unknown as { offset: number }).offset)).toBe(true);
  expect(err.message.length).toBeGreaterThan(10);
});

test('every code but AbortError is ERR_XBZRLE_*', () => {
  for (const [, err] of samples) if (err.name !== 'AbortError') expect(err.code).toMatch(/^ERR_XBZRLE_[A-Z_]+$/);
});

test('the old paths and the package export the same classes', () => {
  expect(StreamErrorOld).toBe(errors.StreamError);
  expect(ProfileErrorOld).toBe(errors.ProfileError);
  expect(RecordErrorOld).toBe(errors.RecordError);
  expect(lib.StreamError).toBe(errors.StreamError);
  expect(lib.RecordError).toBe(errors.RecordError);
  expect(lib.XbzrleError).toBe(errors.XbzrleError);
  expect(lib.AbortError).toBe(errors.AbortError);
  expect(lib.ClosedError).toBe(errors.ClosedError);
  expect(lib.NoMemoryError).toBe(errors.NoMemoryError);
  expect(lib.ProfileError).toBe(errors.ProfileError);
});

test('StreamError: the old codes are its reason', () => {
  const e = new lib.StreamError('truncated', 7, 'the stream ends inside a section');
  expect(e).toMatchObject({ code: 'ERR_XBZRLE_STREAM', reason: 'truncated', offset: 7 });
  expect(e.message).toBe('the stream ends inside a section (at byte 7)');
});

test('ProfileError reasons from /proc failures', () => {
  const fail = (code: string) => {
    try {
      procError(Object.assign(new Error(code), { code }), 42, '/proc/42/pagemap');
    } catch (e) {
      return e as errors.ProfileError;
    }
    throw new Error('procError returned');
  };
  expect(fail('ENOENT')).toMatchObject({ code: 'ERR_XBZRLE_PROFILE', reason: 'no-process' });
  expect(fail('ESRCH')).toMatchObject({ reason: 'no-process' });
  expect(fail('EACCES')).toMatchObject({ reason: 'no-permission' });
  expect(noPermission(42, '/proc/42/mem').message).toMatch(/CAP_SYS_PTRACE/);
  const other = Object.assign(new Error('disk'), { code: 'EIO' });
  expect(() => procError(other, 42, 'x')).toThrow(other);
});

test('a closed cache raises ClosedError', () => {
  const c = new lib.PageCache({ size: 4096 });
  c.close();
  expect(() => c.lookup(0, 0)).toThrow(expect.objectContaining({ name: 'ClosedError', code: 'ERR_XBZRLE_CLOSED', reason: 'cache-closed' }));
});

// The library's error classes live in one module: no other file of lib/
// declares one or sets an ad-hoc code. lib/cli is outside the rule: its
// errors carry an exit status for the command line, not a library contract.
test('no error class or ad-hoc code outside lib/util/errors.ts', () => {
  const root = path.join(__dirname, '..', 'lib');
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (p !== path.join(root, 'cli')) walk(p);
      } else if (p.endsWith('.ts') && p !== path.join(root, 'util', 'errors.ts')) {
        const text = fs.readFileSync(p, 'utf8');
        for (const re of [/extends Error\b/, /Object\.assign\(new Error/, /\.code = '/, /as Error & \{ code/]) {
          if (re.test(text)) found.push(`${path.relative(root, p)}: ${re}`);
        }
      }
    }
  };
  walk(root);
  expect(found).toEqual([]);
});
