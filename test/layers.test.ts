// The layers of lib/ (docs/ARCHITECTURE.md): an import may stay in its layer
// or go down, never up. The graph is read from the sources: every relative
// specifier of import/export ... from, import(), require() and typeof import().
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..');
const lib = path.join(root, 'lib');

/** Top to bottom. index.ts is the public surface: it may import any layer below the CLI. qmp is low: it needs only util. */
const LAYERS: readonly (readonly string[])[] = [
  ['cli'],
  ['index'],
  ['govern'],
  ['advisor', 'profile', 'stream', 'bench'],
  ['migration', 'codec'],
  ['backend', 'twin'],
  ['qmp'],
  ['util'],
];

/**
 * Upward imports the code still has, each to be removed (the test fails when
 * one is gone, so the list only shrinks). None is left.
 */
const KNOWN: readonly string[] = [];

/** Data files lib/ may read through an import. */
const DATA = new Set([path.join(root, 'package.json')]);

const rank = new Map<string, number>();
LAYERS.forEach((names, i) => names.forEach((n) => rank.set(n, i)));

/** The layer of a file under lib/: its folder, or 'index' for lib/index.ts. */
function layerOf(file: string): string {
  const rel = path.relative(lib, file).split(path.sep);
  return rel.length === 1 ? path.basename(rel[0], '.ts') : rel[0];
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

export interface Edge {
  file: string;
  line: number;
  specifier: string;
  target: string;
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)(['"])([^'"]+)\1/g;

/** Relative imports of one file, comments stripped first so commented-out code does not count. */
export function importsOf(file: string, text = fs.readFileSync(file, 'utf8')): Edge[] {
  const edges: Edge[] = [];
  const lines = text.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).split('\n');
  lines.forEach((raw, i) => {
    const line = raw.replace(/(^|[^:'"`])\/\/.*$/, '$1');
    for (const m of line.matchAll(SPECIFIER)) {
      const specifier = m[2];
      if (!specifier.startsWith('.')) continue;
      edges.push({ file, line: i + 1, specifier, target: path.resolve(path.dirname(file), specifier) });
    }
  });
  return edges;
}

function violations(edges: Edge[]): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const where = `${path.relative(root, e.file)}:${e.line}`;
    if (DATA.has(e.target)) continue;
    if (!e.target.startsWith(lib + path.sep)) {
      out.push(`${where}: imports '${e.specifier}', outside lib/`);
      continue;
    }
    const from = layerOf(e.file);
    const to = layerOf(e.target.endsWith('.ts') ? e.target : `${e.target}.ts`);
    const rf = rank.get(from);
    const rt = rank.get(to);
    if (rf === undefined) out.push(`${where}: lib/${from} is in no layer (add it to LAYERS)`);
    else if (rt === undefined) out.push(`${where}: imports '${e.specifier}' in lib/${to}, which is in no layer`);
    else if (rt < rf) out.push(`${where}: ${from} imports '${e.specifier}' from ${to}, a layer above it`);
  }
  return out;
}

describe('layers of lib/', () => {
  const files = sources(lib);
  const edges = files.flatMap((f) => importsOf(f));

  test('every folder of lib/ is in the layer table', () => {
    const folders = fs.readdirSync(lib, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(folders.filter((f) => !rank.has(f))).toEqual([]);
  });

  test('the parser sees the imports (sanity: the graph is not empty)', () => {
    expect(edges.length).toBeGreaterThan(50);
    expect(edges.some((e) => e.file.endsWith(path.join('cli', 'bench.ts')) && e.specifier === '../bench/harness')).toBe(true);
  });

  test('no import runs upward (beyond the known ones listed in KNOWN)', () => {
    const found = violations(edges);
    const key = (v: string) => v.replace(/:\d+: /, ': ').replace(/, a layer above it$/, '');
    expect(found.filter((v) => !KNOWN.includes(key(v)))).toEqual([]);
    // A known violation that was fixed leaves the list.
    expect(KNOWN.filter((k) => !found.some((v) => key(v) === k))).toEqual([]);
  });

  test('the check catches an upward import, with its file and line', () => {
    const file = path.join(lib, 'util', 'example.ts');
    const fake = importsOf(file, "// import { x } from '../cli/main';\nimport { y } from './sizes';\nconst z = require('../codec/page');\n");
    expect(violations(fake)).toEqual([`lib/util/example.ts:3: util imports '../codec/page' from codec, a layer above it`]);
  });
});
