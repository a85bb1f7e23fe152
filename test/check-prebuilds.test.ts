// The release check refuses a prebuild that imports a Node-API function newer
// than version 8 (Node 20.0 lacks every node_api_* one), on real ELF files
// built here: a stand-in addon that imports only napi_* functions, and one
// that also imports node_api_post_finalizer.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hasCommand, testIf } from './helpers/skip';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const check = require('../scripts/check-prebuilds.js') as {
  checkAll(root: string, o: { log(s: string): void }): string[];
};

const X64 = 'prebuilds/linux-x64/xbzrle.glibc.node';
const needs = testIf(hasCommand('gcc') && hasCommand('readelf'), 'needs gcc and readelf');

function standIn(dir: string, calls: string[]): string {
  const src = path.join(dir, 'addon.c');
  fs.writeFileSync(src, `${calls.map((f) => `extern int ${f}(void);`).join('\n')}\nint init(void) { return ${calls.map((f) => `${f}()`).join(' + ')}; }\n`);
  const out = path.join(dir, X64);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const r = spawnSync('gcc', ['-shared', '-fPIC', '-s', '-o', out, src], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return dir;
}

function problems(calls: string[]): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xbzrle-check-'));
  try {
    return check.checkAll(standIn(dir, calls), { log: () => {} }).filter((p) => p.startsWith(X64));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

needs('a prebuild importing only napi_* functions passes the Node-API rule', () => {
  const p = problems(['napi_create_function', 'napi_add_finalizer']);
  expect(p.filter((x) => /Node-API|imports/.test(x))).toEqual([]);
  // The stand-in is no addon: the load probe says so, proving the check ran.
  expect(p.some((x) => /does not load/.test(x))).toBe(true);
});

needs('a prebuild importing node_api_post_finalizer is refused, by name', () => {
  const p = problems(['napi_create_function', 'node_api_post_finalizer']);
  expect(p).toContain(`${X64}: imports node_api_post_finalizer, a Node-API function newer than version 8`);
});

needs('a shared object importing no Node-API function is refused', () => {
  expect(problems(['some_library_function'])).toContain(`${X64}: imports no Node-API function: not an addon?`);
});
