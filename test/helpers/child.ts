// Runs an exported function of a test helper module in a fresh node process,
// so a crash (a signal, an abort) fails one test instead of killing jest.
// The child loads the TypeScript sources (lib/, test/helpers/) through a
// require hook that transpiles with the project's own typescript, so it
// tests the working tree, not a stale dist/.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..');

const preamble = `
const fs = require('node:fs');
const ts = require(${JSON.stringify(require.resolve('typescript'))});
require.extensions['.ts'] = (m, file) => m._compile(ts.transpileModule(fs.readFileSync(file, 'utf8'), {
  compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  fileName: file,
}).outputText, file);
`;

export interface ChildRun<T> {
  result: T;
  stderr: string;
}

/** Calls `fn` exported by the module `file` in a child node; returns its JSON result. */
export function runInChild<T>(file: string, fn: string, env: Record<string, string> = {}): ChildRun<T> {
  const code = `${preamble}
const out = require(${JSON.stringify(file)})[${JSON.stringify(fn)}]();
process.stdout.write('\\nRESULT ' + JSON.stringify(out) + '\\n');
`;
  const p = spawnSync(process.execPath, ['-e', code], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (p.error) throw p.error;
  if (p.status !== 0 || p.signal) {
    throw new Error(`child ${fn} died: exit status ${p.status}, signal ${p.signal}\n${p.stderr.slice(-4000)}`);
  }
  const line = p.stdout.split('\n').reverse().find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`child ${fn} printed no result\n${p.stdout.slice(-2000)}\n${p.stderr.slice(-2000)}`);
  return { result: JSON.parse(line.slice('RESULT '.length)) as T, stderr: p.stderr };
}
