// docs-links.test.ts: every relative link of the docs resolves (the file, and
// the #anchor to a heading of it), and every "docs/X.md" or "see X.md" that
// the code, its comments or the CLI help names is a file of the repository.
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..');

function markdownFiles(): string[] {
  const docs = fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  return ['README.md', 'SECURITY.md', 'native/fuzz/README.md', ...docs].filter((f) => fs.existsSync(path.join(root, f)));
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(file: string): Set<string> {
  const text = fs.readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of text.matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

interface Link {
  from: string;
  target: string;
}

/** Relative links of a markdown file, code blocks and inline code left out. */
function linksOf(rel: string): Link[] {
  const text = fs
    .readFileSync(path.join(root, rel), 'utf8')
    .replace(/^```[\s\S]*?^```/gm, '')
    .replace(/`[^`\n]*`/g, '');
  const out: Link[] = [];
  for (const m of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = m[1];
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
    out.push({ from: rel, target });
  }
  return out;
}

function broken(link: Link): string | null {
  const [file, anchor] = link.target.split('#', 2);
  const resolved = file === '' ? path.join(root, link.from) : path.resolve(path.dirname(path.join(root, link.from)), file);
  if (!fs.existsSync(resolved)) return `${link.from}: ${link.target}: no such file`;
  if (anchor !== undefined && resolved.endsWith('.md') && !anchorsOf(resolved).has(anchor)) {
    return `${link.from}: ${link.target}: no heading with that anchor`;
  }
  return null;
}

function codeFiles(dir: string): string[] {
  const full = path.join(root, dir);
  if (!fs.existsSync(full)) return [];
  return fs.readdirSync(full, { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : codeFiles(rel);
    return /\.(ts|js|mjs|cc|h|sh|md|wat|gyp)$/.test(e.name) ? [rel] : [];
  });
}

/** "docs/X.md", "path/X.md" and "see X.md" in code and its comments; returns the named paths. */
function mentionsOf(rel: string): string[] {
  const text = fs.readFileSync(path.join(root, rel), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?<![\w./-])((?:[\w.-]+\/)*[\w.-]+\.md)\b/g)) {
    const name = m[1];
    const before = text.slice(Math.max(0, m.index - 5), m.index).toLowerCase();
    if (name.includes('/') || before.endsWith('see ')) out.push(name);
  }
  return out;
}

/** A mention resolves from the repository root, or from the mentioning file's folder. */
function mentionResolves(from: string, name: string): boolean {
  return fs.existsSync(path.join(root, name)) || fs.existsSync(path.resolve(path.dirname(path.join(root, from)), name));
}

describe('documentation links', () => {
  const files = markdownFiles();

  test('the pages the README lists exist, and every docs/ page is linked from it', () => {
    const readme = linksOf('README.md').map((l) => l.target.split('#')[0]);
    for (const f of files.filter((f) => f.startsWith('docs/'))) expect(readme).toContain(f);
  });

  test.each(files)('every relative link of %s resolves, anchors included', (rel) => {
    const links = linksOf(rel);
    const bad = links.map(broken).filter((b): b is string => b !== null);
    expect(bad).toEqual([]);
  });

  test('the anchor rule matches GitHub on headings with code, punctuation and sections', () => {
    expect(slug('## `encodePages(oldPages, newPages, options?)` → `{ data }`'.slice(3))).toBe(
      'encodepagesoldpages-newpages-options---data-',
    );
    expect(slug('§1 The delta of one page')).toBe('1-the-delta-of-one-page');
    expect(slug('What loads')).toBe('what-loads');
  });

  test('a broken link and a broken anchor are both reported', () => {
    expect(broken({ from: 'README.md', target: 'docs/NOPE.md' })).toMatch(/no such file/);
    expect(broken({ from: 'README.md', target: 'docs/FORMAT.md#nope' })).toMatch(/no heading/);
    expect(broken({ from: 'README.md', target: 'docs/FORMAT.md#1-the-delta-of-one-page' })).toBeNull();
  });
});

describe('files the code names', () => {
  const code = ['lib', 'native', 'bin', 'scripts', 'test'].flatMap(codeFiles).filter((f) => f !== 'test/docs-links.test.ts');

  test('every "docs/X.md" and "see X.md" in lib/, native/, bin/, scripts/ and test/ is a file of the repository', () => {
    const bad: string[] = [];
    for (const f of code) for (const name of mentionsOf(f)) if (!mentionResolves(f, name)) bad.push(`${f}: ${name}`);
    expect(bad).toEqual([]);
  });

  test('every docs/FORMAT.md citation names a section the page has', () => {
    const sections = new Set(
      [...fs.readFileSync(path.join(root, 'docs/FORMAT.md'), 'utf8').matchAll(/^## §(\d)/gm)].map((m) => m[1]),
    );
    const bad: string[] = [];
    for (const f of code) {
      const text = fs.readFileSync(path.join(root, f), 'utf8');
      for (const m of text.matchAll(/docs\/FORMAT\.md §(\d)/g)) if (!sections.has(m[1])) bad.push(`${f}: §${m[1]}`);
    }
    expect(sections.size).toBe(3);
    expect(bad).toEqual([]);
  });

  test('the files the CLI help points to exist', () => {
    const help = ['lib/cli'].flatMap(codeFiles).flatMap((f) => mentionsOf(f));
    expect(help).toContain('docs/TRACE-FORMAT.md');
    for (const name of help) expect(fs.existsSync(path.join(root, name))).toBe(true);
  });

  test('a mention of a missing file is caught', () => {
    expect(mentionResolves('lib/index.ts', 'docs/NO-SUCH.md')).toBe(false);
    expect(mentionResolves('native/fuzz/run.sh', 'native/fuzz/README.md')).toBe(true);
  });
});
