// docs-examples.test.ts: every ```js and ```ts block of README.md and docs/*.md
// runs against the built package, as a reader would copy it. Each block is
// written into a scratch project whose node_modules/xbzrle links to this
// repository, so require('xbzrle') and import 'xbzrle' resolve through the
// package's own "exports". TypeScript blocks are transpiled first. A block
// with <!-- not-run: reason --> on the line before it is a visible
// skip that names the reason. Needs `npm run build:ts` (npm test runs it).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as ts from 'typescript';

const root = path.join(__dirname, '..');

export interface Block {
  file: string;
  line: number;
  lang: 'js' | 'ts';
  code: string;
  notRun: string | null;
}

const NOT_RUN = /^<!--\s*not-run:\s*(.+?)\s*-->\s*$/;

export function blocksOf(file: string, text: string): Block[] {
  const lines = text.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    const lang = ({ js: 'js', javascript: 'js', ts: 'ts', typescript: 'ts' } as const)[open[1] as 'js'];
    if (lang) {
      const prev = lines.slice(0, i).reverse().find((l) => l.trim() !== '') ?? '';
      const reason = NOT_RUN.exec(prev.trim())?.[1] ?? null;
      out.push({ file, line: i + 1, lang, code: lines.slice(i + 1, end).join('\n') + '\n', notRun: reason });
    }
    i = end;
  }
  return out;
}

const ESM = /^\s*(import\s[^(]|export\s)|^\s*await\s|[^\w.]await\s/m;

/** The file to run: CommonJS unless the block uses import/export or top-level await. */
export function program(block: Block): { name: string; source: string } {
  let source = block.code;
  if (block.lang === 'ts') {
    source = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText;
  }
  const esm = ESM.test(source);
  return { name: `block-${block.line}.${esm ? 'mjs' : 'cjs'}`, source };
}

function run(dir: string, name: string, source: string) {
  fs.writeFileSync(path.join(dir, name), source);
  return spawnSync(process.execPath, [name], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
}

const docs = ['README.md', ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const blocks = docs.flatMap((f) => blocksOf(f, fs.readFileSync(path.join(root, f), 'utf8')));

let scratch = '';
beforeAll(() => {
  if (!fs.existsSync(path.join(root, 'dist', 'index.js'))) throw new Error('dist/ is missing: run `npm run build:ts` first');
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'xbzrle-docs-'));
  fs.mkdirSync(path.join(scratch, 'node_modules'));
  fs.symlinkSync(root, path.join(scratch, 'node_modules', 'xbzrle'), 'dir');
});
afterAll(() => {
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

describe('code blocks of the docs run', () => {
  test('the docs have code blocks to run', () => {
    expect(blocks.filter((b) => b.notRun === null).length).toBeGreaterThanOrEqual(5);
  });

  for (const b of blocks) {
    const title = `${b.file}:${b.line} (${b.lang})`;
    if (b.notRun !== null) {
      test.skip(`${title}: not-run: ${b.notRun}`, () => {});
      continue;
    }
    test(title, () => {
      const dir = fs.mkdtempSync(path.join(scratch, 'run-'));
      const { name, source } = program(b);
      const r = run(dir, name, source);
      if (r.status !== 0) throw new Error(`${title} exited ${r.status ?? r.signal}:\n${r.stderr || r.stdout}`);
      expect(r.status).toBe(0);
    });
  }
});

describe('the extractor and the runner', () => {
  const md = [
    'text',
    '```js',
    "require('xbzrle');",
    '```',
    '<!-- not-run: needs a QEMU -->',
    '```ts',
    "import { encode } from 'xbzrle';",
    'const n: number = encode(Buffer.alloc(8), Buffer.alloc(8))!.length;',
    '```',
    '```sh',
    'npm test',
    '```',
  ].join('\n');

  test('finds js and ts blocks with their line and not-run reason, and leaves other languages', () => {
    const found = blocksOf('x.md', md);
    expect(found.map((b) => [b.line, b.lang, b.notRun])).toEqual([
      [2, 'js', null],
      [6, 'ts', 'needs a QEMU'],
    ]);
  });

  test('a ts block with import runs as ESM against the package; a throwing block fails', () => {
    const [, tsBlock] = blocksOf('x.md', md);
    const p = program(tsBlock);
    expect(p.name).toMatch(/\.mjs$/);
    const dir = fs.mkdtempSync(path.join(scratch, 'self-'));
    expect(run(dir, p.name, p.source).status).toBe(0);
    expect(run(dir, 'bad.cjs', "require('xbzrle').decodeInto(Buffer.from([1]), Buffer.alloc(8));").status).not.toBe(0);
  });
});
