// The package as users get it: `npm pack`, then installs of the tarball into
// empty projects, with install scripts denied or approved, with and without a
// compiler on PATH, used from CommonJS, ES modules and TypeScript.
//
// The repository is only read: the tarball is packed with --ignore-scripts
// (dist/ must be built: `npm test` runs build:ts first), then unpacked into a
// staging directory where scripts/build-prebuilds.js builds (or reuses, when
// the repository's prebuilds/ matches the sources) the linux-x64 and
// linux-arm64 prebuilds and checks them, so no other test sees build/ or dist/ change under it. Everything lives in
// one temporary directory, removed at the end.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ts from 'typescript';
import { readPairs } from './helpers/vectors';

const ROOT = path.join(__dirname, '..');
const FIXTURES = path.join(__dirname, 'fixtures');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const registry = require(path.join(ROOT, 'scripts', 'registry-node.js')) as {
  registryNode(key: string): { bin: string; dir: string };
  registryNpm(key: string): string;
};
// The oldest TypeScript the package's declarations are checked against
// with skipLibCheck false: 5.2 is the first to accept tuples that name some
// members and not others (dist/backend/addon.d.ts has them).
const MIN_TYPESCRIPT = '5.2.2';
const TYPES_NODE = '20.19.25';
const CONSUMER = path.join(__dirname, 'packaging', 'consumer');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const COMPILERS = ['g++', 'gcc', 'cc', 'c++', 'clang', 'clang++', 'make', 'python3', 'python'];

// POSIX only: the compiler-free PATH is built from symlinks.
const describeHere = process.platform === 'win32' ? describe.skip : describe;

let work = '';
let fullTgz = ''; // with prebuilds/
let sourceTgz = ''; // the same package without prebuilds/
let packed: { files: { path: string }[]; size: number; unpackedSize: number; filename: string };
let pairDir = '';
let binFull = ''; // PATH with the compiler
let binBare = ''; // PATH with node, npm and a few basic tools only

/** The environment children get: no npm_* from an outer `npm test`, no XBZRLE_*. */
function baseEnv(pathVar: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) || /^XBZRLE_/.test(k) || k === 'NODE_OPTIONS' || k === 'INIT_CWD') continue;
    env[k] = v;
  }
  return { ...env, PATH: pathVar, XBZRLE_PAIR: pairDir, ...extra };
}

function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): SpawnSyncReturns<string> & { all: string } {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 180_000 });
  if (r.error) throw r.error;
  return Object.assign(r, { all: `${r.stdout}\n${r.stderr}` });
}

function ok(r: SpawnSyncReturns<string> & { all: string }, what: string): string {
  if (r.status !== 0) throw new Error(`${what} exited with ${r.status}:\n${r.all.slice(-4000)}`);
  return r.stdout;
}

function which(name: string, pathVar: string): string | null {
  for (const dir of pathVar.split(path.delimiter)) {
    if (!dir) continue;
    const f = path.join(dir, name);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      if (fs.statSync(f).isFile()) return f;
    } catch {
      /* not here */
    }
  }
  return null;
}

/** A bin directory holding only node, npm and the basic tools npm's scripts use. */
function makeBareBin(dir: string): string {
  fs.mkdirSync(dir);
  const hostPath = process.env.PATH ?? '';
  const link = (name: string, target: string | null) => {
    if (!target) throw new Error(`packaging test: ${name} not found on PATH`);
    fs.symlinkSync(fs.realpathSync(target), path.join(dir, name));
  };
  link('node', process.execPath);
  // npm from PATH, skipping node_modules/.bin (an outer `npm test` puts
  // the project's bins first).
  const npmPath = hostPath
    .split(path.delimiter)
    .filter((d) => d && !d.includes('node_modules'))
    .join(path.delimiter);
  link('npm', which('npm', npmPath));
  for (const tool of ['sh', 'env', 'cat', 'ls', 'rm', 'mkdir', 'cp', 'mv', 'uname']) {
    const t = which(tool, hostPath);
    if (t) link(tool, t);
  }
  return dir;
}

function packJson(out: string) {
  const list = JSON.parse(out) as (typeof packed)[];
  return list[0];
}

interface Project {
  dir: string;
  installLog: string;
}

/**
 * An empty project that depends only on the tarball; `scripts` writes the
 * allowScripts entry `npm install-scripts approve|deny xbzrle` would write
 * for a tarball dependency (its resolved file: spec).
 */
function install(name: string, tgz: string, scripts: 'approve' | 'deny', pathVar: string): Project {
  const dir = path.join(work, name);
  fs.mkdirSync(dir);
  const pkg = {
    name: `consumer-${name}`,
    version: '1.0.0',
    private: true,
    dependencies: { xbzrle: `file:${tgz}` },
    allowScripts: { [`file:${tgz}`]: scripts === 'approve' },
  };
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  const r = run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--no-update-notifier', '--loglevel=info'],
    dir,
    baseEnv(pathVar),
  );
  ok(r, `npm install in ${name}`);
  return { dir, installLog: r.all };
}

const scriptRan = (p: Project) => /run xbzrle@[^ ]+ install node_modules\/xbzrle/.test(p.installLog);

interface Report {
  face: string;
  native: boolean;
  status: { native: boolean; source: string; path: string | null; reason: string | null; platform: string };
  page: boolean;
  pair: boolean;
}

function use(p: Project, file: string, pathVar: string, env: Record<string, string> = {}) {
  const r = run('node', [file], p.dir, baseEnv(pathVar, env));
  const stdout = ok(r, `node ${file}`);
  return { report: JSON.parse(stdout.trim().split('\n').pop() ?? '') as Report, stderr: r.stderr };
}

function copyConsumers(p: Project) {
  for (const f of fs.readdirSync(CONSUMER)) fs.copyFileSync(path.join(CONSUMER, f), path.join(p.dir, f));
}

const pkgDir = (p: Project) => path.join(p.dir, 'node_modules', 'xbzrle');

describeHere('the packed package', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) {
      throw new Error('dist/ is not built: run `npm run build:ts` (npm test does it first)');
    }
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'xbzrle-packaging-'));
    binFull = process.env.PATH ?? '';
    binBare = makeBareBin(path.join(work, 'bare-bin'));

    // One QEMU-made pair with a non-trivial delta.
    const v = readPairs().find((p) => p.scalarRet > 16 && p.scalarRet < 4096);
    if (!v) throw new Error('no suitable pair in test/fixtures/pairs.bin');
    pairDir = path.join(work, 'pair');
    fs.mkdirSync(pairDir);
    fs.writeFileSync(path.join(pairDir, 'old.bin'), v.oldPage);
    fs.writeFileSync(path.join(pairDir, 'new.bin'), v.newPage);
    fs.writeFileSync(path.join(pairDir, 'enc.bin'), v.scalarEnc);

    // npm pack of the repository, unpacked into a staging directory.
    const env = baseEnv(binFull);
    for (const d of ['repo', 'stage', 'source', 'full']) fs.mkdirSync(path.join(work, d));
    const first = packJson(
      ok(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', path.join(work, 'repo')], ROOT, env), 'npm pack'),
    );
    ok(run('tar', ['xzf', path.join(work, 'repo', first.filename), '-C', path.join(work, 'stage')], work, env), 'tar');
    const stage = path.join(work, 'stage', 'package');
    fs.rmSync(path.join(stage, 'prebuilds'), { recursive: true, force: true }); // a developer's local prebuild
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(stage, 'node_modules'), 'dir');

    // The tarball without prebuilds (a platform we ship no binary for).
    const src = packJson(ok(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', path.join(work, 'source')], stage, env), 'npm pack (source)'));
    sourceTgz = path.join(work, 'source', src.filename);

    // The release tarball: the release build (both prebuilds, checked), then
    // pack. The repository's prebuilds/ is reused when its source stamp
    // matches the staged sources, as prepack's --if-stale does.
    fs.mkdirSync(path.join(stage, 'scripts'));
    for (const f of ['build-prebuilds.js', 'check-prebuilds.js', 'registry-node.js', 'probe-addon.js']) {
      fs.copyFileSync(path.join(ROOT, 'scripts', f), path.join(stage, 'scripts', f));
    }
    if (fs.existsSync(path.join(ROOT, 'prebuilds', '.source-hash'))) {
      fs.cpSync(path.join(ROOT, 'prebuilds'), path.join(stage, 'prebuilds'), { recursive: true });
    }
    ok(run('node', [path.join(stage, 'scripts', 'build-prebuilds.js'), '--if-stale'], stage, env), 'release build');
    fs.rmSync(path.join(stage, 'build'), { recursive: true, force: true });
    packed = packJson(ok(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', path.join(work, 'full')], stage, env), 'npm pack (full)'));
    fullTgz = path.join(work, 'full', packed.filename);
  }, 240_000);

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test('the compiler-free PATH has node and npm and no compiler', () => {
    for (const c of COMPILERS) expect([c, which(c, binBare)]).toEqual([c, null]);
    expect(which('node', binBare)).not.toBeNull();
    expect(which('npm', binBare)).not.toBeNull();
    expect(ok(run('npm', ['--version'], work, baseEnv(binBare)), 'npm --version').trim()).toMatch(/^\d+\./);
  });

  test('the tarball holds only what a user needs, and declares no install script', () => {
    const files = packed.files.map((f) => f.path).sort();
    const allowed = [
      /^package\.json$/,
      /^README\.md$/,
      /^SECURITY\.md$/,
      /^CHANGELOG\.md$/,
      /^docs\/[A-Z-]+\.md$/,
      /^examples\/[a-z-]+\.js$/,
      /^LICENSE$/,
      /^bin\/xbzrle\.js$/,
      /^binding\.gyp$/,
      /^dist\/([a-z0-9_-]+\/)*[a-z0-9_-]+\.(js|mjs|d\.ts|d\.mts)$/,
      /^native\/(core|addon)\/([a-z0-9_]+\/)?[a-z0-9_]+\.(cc|h)$/,
      /^native\/core\/kernel-sources\.sh$/,
      /^prebuilds\/[a-z0-9]+-[a-z0-9]+\/xbzrle(\.[a-z0-9]+)*\.node$/,
    ];
    expect(files.filter((f) => !allowed.some((re) => re.test(f)))).toEqual([]);
    // The pages README.md and `profile --help` link to ship with it.
    expect(files).toEqual(expect.arrayContaining(['docs/API.md', 'docs/FORMAT.md', 'docs/TRACE-FORMAT.md', 'SECURITY.md', 'examples/roundtrip.js', 'examples/migration.js']));
    for (const f of ['dist/index.js', 'dist/index.mjs', 'dist/index.d.ts', 'dist/index.d.mts', 'binding.gyp', 'native/addon/init.cc']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.startsWith(`prebuilds/${process.platform}-${process.arch}/`))).toHaveLength(1);
    // The release tarball carries both prebuilds, stripped, no maps shipped.
    expect(files).toEqual(expect.arrayContaining(['prebuilds/linux-x64/xbzrle.glibc.node', 'prebuilds/linux-arm64/xbzrle.glibc.node']));
    expect(files.filter((f) => /\.map$|(^|\/)test\//.test(f))).toEqual([]);
    const manifest = JSON.parse(fs.readFileSync(path.join(work, 'stage', 'package', 'package.json'), 'utf8'));
    // node-gyp-build finds the binary; node-addon-api's headers serve a build
    // from source; the bench's timing, table and progress packages are ordinary
    // dependencies, so `npx xbzrle bench` needs one install.
    expect(Object.keys(manifest.dependencies ?? {}).sort()).toEqual(['benchmark', 'cli-progress', 'cli-table3', 'node-addon-api', 'node-gyp-build']);
    expect(manifest.optionalDependencies ?? {}).toEqual({});
    expect(manifest.peerDependencies ?? {}).toEqual({});
    // No script of ours runs at install: none declared, and no binding.gyp rebuild.
    expect(manifest.scripts?.install).toBeUndefined();
    expect(manifest.scripts?.postinstall).toBeUndefined();
    expect(manifest.gypfile).toBe(false);
  });

  describe('install scripts denied, no compiler', () => {
    let p: Project;
    beforeAll(() => {
      p = install('denied', fullTgz, 'deny', binBare);
      copyConsumers(p);
    }, 120_000);

    test('the install script does not run and nothing is compiled', () => {
      expect(scriptRan(p)).toBe(false);
      expect(fs.existsSync(path.join(pkgDir(p), 'build'))).toBe(false);
    });

    test('CommonJS and ES modules load the prebuild, and the vectors round-trip', () => {
      for (const file of ['consumer.cjs', 'consumer.mjs']) {
        const { report, stderr } = use(p, file, binBare);
        expect(report).toMatchObject({ native: true, page: true, pair: true });
        expect(report.status).toMatchObject({ native: true, source: 'prebuild', reason: null });
        expect(report.status.path).toMatch(/[/\\]node_modules[/\\]xbzrle[/\\]prebuilds[/\\][^/\\]+[/\\]xbzrle\..*node$/);
        expect(stderr).toBe('');
      }
    });

    test('TypeScript: every export is declared, typed, and used (strict; commonjs, nodenext, bundler)', () => {
      // Every name the package exports, values and types, from its declarations...
      const dts = path.join(pkgDir(p), 'dist', 'index.d.ts');
      const program = ts.createProgram([dts], { noEmit: true, types: [], typeRoots: [path.join(ROOT, 'node_modules', '@types')] });
      const checker = program.getTypeChecker();
      const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(dts)!)!;
      const declared = checker.getExportsOfModule(moduleSymbol).map((s) => s.name).sort();
      const runtime = JSON.parse(
        ok(run('node', ['-e', "console.log(JSON.stringify(Object.keys(require('xbzrle'))))"], p.dir, baseEnv(binBare)), 'keys'),
      ) as string[];
      // ...each runtime export is declared, and consumer.ts names every one.
      expect(runtime.filter((n) => !declared.includes(n))).toEqual([]);
      // consumer.ts imports every one (noUnusedLocals below makes it use them).
      const consumer = ts.createSourceFile('consumer.ts', fs.readFileSync(path.join(p.dir, 'consumer.ts'), 'utf8'), ts.ScriptTarget.ES2022);
      const imported: string[] = [];
      for (const st of consumer.statements) {
        if (!ts.isImportDeclaration(st) || (st.moduleSpecifier as ts.StringLiteral).text !== 'xbzrle') continue;
        const bindings = st.importClause?.namedBindings;
        if (bindings && ts.isNamedImports(bindings)) {
          for (const el of bindings.elements) imported.push((el.propertyName ?? el.name).text);
        }
      }
      expect(declared.filter((n) => !imported.includes(n))).toEqual([]);

      fs.copyFileSync(path.join(p.dir, 'consumer.ts'), path.join(p.dir, 'consumer.mts'));
      // The package's own declarations are type-checked (skipLibCheck false)
      // once, under nodenext, which reads both index.d.ts and index.d.mts.
      const common = {
        strict: true,
        noUnusedLocals: true,
        skipLibCheck: true,
        target: 'ES2022',
        lib: ['ES2022'],
        types: ['node'],
        typeRoots: [path.join(ROOT, 'node_modules', '@types')],
      };
      const configs: Record<string, object> = {
        'tsconfig.commonjs.json': { compilerOptions: { ...common, module: 'commonjs', moduleResolution: 'node10', outDir: 'out-commonjs' }, files: ['consumer.ts'] },
        'tsconfig.nodenext.json': {
          compilerOptions: { ...common, skipLibCheck: false, module: 'nodenext', moduleResolution: 'nodenext', outDir: 'out-nodenext' },
          files: ['consumer.ts', 'consumer.mts', 'default-import.mts'],
        },
        'tsconfig.bundler.json': { compilerOptions: { ...common, module: 'preserve', moduleResolution: 'bundler', noEmit: true }, files: ['consumer.ts'] },
      };
      for (const [file, config] of Object.entries(configs)) {
        fs.writeFileSync(path.join(p.dir, file), JSON.stringify(config, null, 2));
        ok(run('node', [TSC, '-p', file], p.dir, baseEnv(binBare)), `tsc -p ${file}`);
      }
      for (const out of ['out-commonjs/consumer.js', 'out-nodenext/consumer.js', 'out-nodenext/consumer.mjs']) {
        const { report, stderr } = use(p, out, binBare);
        expect(report).toMatchObject({ face: 'ts', native: true, page: true, pair: true });
        expect(report.status.source).toBe('prebuild');
        expect(stderr).toBe('');
      }
      const { report } = use(p, 'out-nodenext/default-import.mjs', binBare);
      expect(report).toMatchObject({ face: 'ts-default', native: true, source: 'prebuild' });
    }, 180_000);

    test('a prebuild that does not load: the twin serves and the reason names it', () => {
      const dir = path.join(pkgDir(p), 'prebuilds', `${process.platform}-${process.arch}`);
      const [file] = fs.readdirSync(dir);
      const good = fs.readFileSync(path.join(dir, file));
      fs.writeFileSync(path.join(dir, file), 'not an ELF file');
      try {
        const { report, stderr } = use(p, 'consumer.cjs', binBare);
        expect(report).toMatchObject({ native: false, page: true, pair: true });
        expect(report.status.reason).toMatch(/^the prebuild .*prebuilds.* failed to load \(/);
        expect(stderr.match(/Warning: xbzrle:/g)).toHaveLength(1);
      } finally {
        fs.writeFileSync(path.join(dir, file), good);
      }
    });

    test('without the prebuild the twin serves, warns exactly once, and XBZRLE_NO_NATIVE=1 silences it', () => {
      fs.rmSync(path.join(pkgDir(p), 'prebuilds'), { recursive: true });
      const copy = path.join(p.dir, 'xbzrle-copy');
      fs.cpSync(pkgDir(p), copy, { recursive: true });
      const env = { XBZRLE_COPY: copy };
      const r = run('node', ['twin.cjs'], p.dir, baseEnv(binBare, env));
      const o = JSON.parse(ok(r, 'twin.cjs'));
      expect(o).toMatchObject({ native: [false, false, false], kernel: 'js', ok: true });
      expect(o.status).toMatchObject({ native: false, source: 'twin', path: null });
      expect(o.status.reason).toMatch(/no prebuild for .* and no local build/);
      const warnings = r.stderr.match(/Warning: xbzrle:/g) ?? [];
      expect(warnings).toHaveLength(1);
      expect(r.stderr).toContain('node-gyp@11 rebuild');
      expect(r.stderr).toContain('runs no install script');
      expect(r.stderr).toContain('XBZRLE_NO_NATIVE=1');

      const { report, stderr } = use(p, 'consumer.cjs', binBare);
      expect(report).toMatchObject({ native: false, page: true, pair: true });
      expect(stderr.match(/Warning: xbzrle:/g)).toHaveLength(1);

      const quiet = run('node', ['twin.cjs'], p.dir, baseEnv(binBare, { ...env, XBZRLE_NO_NATIVE: '1' }));
      expect(JSON.parse(ok(quiet, 'twin.cjs')).status.reason).toMatch(/XBZRLE_NO_NATIVE=1/);
      expect(quiet.stderr).toBe('');
    });
  });

  test('install scripts approved, no compiler: no script of ours runs, the prebuild loads', () => {
    const p = install('approved-bare', fullTgz, 'approve', binBare);
    copyConsumers(p);
    expect(scriptRan(p)).toBe(false);
    expect(fs.existsSync(path.join(pkgDir(p), 'build'))).toBe(false);
    const { report, stderr } = use(p, 'consumer.cjs', binBare);
    expect(report).toMatchObject({ native: true, page: true, pair: true });
    expect(report.status.source).toBe('prebuild');
    expect(stderr).toBe('');
  }, 120_000);

  test('no prebuild, a compiler: the twin serves until the documented build from source, then the local build loads', () => {
    const p = install('approved-source', sourceTgz, 'approve', binFull);
    copyConsumers(p);
    expect(scriptRan(p)).toBe(false);
    expect(fs.existsSync(path.join(pkgDir(p), 'prebuilds'))).toBe(false);
    expect(use(p, 'consumer.cjs', binFull).report.status.source).toBe('twin');
    // README "Building from source": node-gyp rebuild inside the package (the
    // project's pinned node-gyp, as `npx node-gyp@11` would fetch).
    const gyp = path.join(ROOT, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    // npx passes npm's config on (nodedir: the headers this machine builds against).
    const nodedir = ok(run('npm', ['config', 'get', 'nodedir'], p.dir, baseEnv(binFull)), 'npm config').trim();
    const dirArg = nodedir && nodedir !== 'undefined' && nodedir !== 'null' ? [`--nodedir=${nodedir}`] : [];
    ok(run('node', [gyp, 'rebuild', '-j', '2', ...dirArg], pkgDir(p), baseEnv(binFull)), 'node-gyp rebuild');
    expect(fs.existsSync(path.join(pkgDir(p), 'build', 'Release', 'xbzrle.node'))).toBe(true);
    for (const file of ['consumer.cjs', 'consumer.mjs']) {
      const { report, stderr } = use(p, file, binBare);
      expect(report).toMatchObject({ native: true, page: true, pair: true });
      expect(report.status).toMatchObject({ source: 'local-build', reason: null });
      expect(report.status.path).toMatch(/[/\\]build[/\\]Release[/\\]xbzrle\.node$/);
      expect(stderr).toBe('');
    }
  }, 240_000);

  test('no prebuild, no compiler: the install succeeds and the twin serves with one warning', () => {
    const p = install('approved-nothing', sourceTgz, 'approve', binBare);
    copyConsumers(p);
    expect(scriptRan(p)).toBe(false);
    const { report, stderr } = use(p, 'consumer.cjs', binBare);
    expect(report).toMatchObject({ native: false, page: true, pair: true });
    expect(report.status).toMatchObject({ source: 'twin', path: null });
    expect(stderr.match(/Warning: xbzrle:/g)).toHaveLength(1);
  }, 120_000);
  // The install matrix: every Node line, npm major, script policy and module
  // face appears in at least one cell; each cell is a fresh project that
  // installs the same release tarball with that Node and npm.
  interface Cell {
    node: 20 | 22 | 24;
    npm: 11 | 12;
    scripts: 'default' | 'denied';
    face: 'CJS' | 'ESM' | 'TypeScript';
  }
  const CELLS: Cell[] = [
    { node: 20, npm: 11, scripts: 'default', face: 'CJS' },
    { node: 22, npm: 12, scripts: 'denied', face: 'ESM' },
    { node: 24, npm: 12, scripts: 'default', face: 'TypeScript' },
    { node: 24, npm: 11, scripts: 'denied', face: 'CJS' },
  ];
  const cellName = (c: Cell) => `Node ${c.node}, npm ${c.npm}, scripts ${c.scripts}, ${c.face}`;

  /** node and npm paths of a cell: the machine's for Node 20 / npm 11, else the registry's. */
  function toolchain(c: Cell): { node: string; npmCli: string } {
    const node = c.node === 20 ? process.execPath : registry.registryNode(c.node === 22 ? 'node22' : 'node24').bin;
    let npmCli: string;
    if (c.npm === 12) npmCli = registry.registryNpm('npm12');
    else {
      const npmPath = (process.env.PATH ?? '').split(path.delimiter).filter((d) => d && !d.includes('node_modules')).join(path.delimiter);
      const npm = which('npm', npmPath);
      if (!npm) throw new Error('packaging test: npm not found on PATH');
      npmCli = path.join(path.dirname(fs.realpathSync(npm)), 'npm-cli.js');
    }
    return { node, npmCli };
  }

  /** A bin directory with the cell's node, npm and npx and no compiler. */
  function cellBin(name: string, t: { node: string; npmCli: string }): string {
    const dir = path.join(work, `bin-${name}`);
    fs.mkdirSync(dir);
    fs.symlinkSync(fs.realpathSync(t.node), path.join(dir, 'node'));
    const npx = path.join(path.dirname(t.npmCli), 'npx-cli.js');
    fs.writeFileSync(path.join(dir, 'npm'), `#!/bin/sh\nexec "${t.node}" "${t.npmCli}" "$@"\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(dir, 'npx'), `#!/bin/sh\nexec "${t.node}" "${npx}" "$@"\n`, { mode: 0o755 });
    for (const tool of fs.readdirSync(binBare)) {
      if (!['node', 'npm'].includes(tool)) fs.symlinkSync(fs.readlinkSync(path.join(binBare, tool)), path.join(dir, tool));
    }
    return dir;
  }

  for (const c of CELLS) {
    test(`matrix: ${cellName(c)}: installs the tarball, loads the prebuild, passes the vectors, runs xbzrle info and bench --quick`, () => {
      const name = `n${c.node}-npm${c.npm}-${c.scripts}-${c.face.toLowerCase()}`;
      const t = toolchain(c);
      const bin = cellBin(name, t);
      const env = baseEnv(bin, { XBZRLE_FIXTURES: FIXTURES });
      expect(ok(run('node', ['--version'], work, env), 'node --version')).toMatch(new RegExp(`^v${c.node}\\.`));
      expect(ok(run('npm', ['--version'], work, env), 'npm --version')).toMatch(new RegExp(`^${c.npm}\\.`));

      const dir = path.join(work, name);
      fs.mkdirSync(dir);
      const pkg: Record<string, unknown> = { name: `consumer-${name}`, version: '1.0.0', private: true };
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
      const flags = ['--prefer-offline', '--no-audit', '--no-fund', '--no-update-notifier', '--loglevel=info'];
      if (c.scripts === 'denied') flags.push('--ignore-scripts');
      const deps = [fullTgz];
      if (c.face === 'TypeScript') deps.push(`typescript@${MIN_TYPESCRIPT}`, `@types/node@${TYPES_NODE}`);
      const inst = run('npm', ['install', ...flags, ...deps], dir, env);
      ok(inst, `npm install (${cellName(c)})`);
      const p: Project = { dir, installLog: inst.all };
      copyConsumers(p);
      expect(scriptRan(p)).toBe(false);
      expect(fs.existsSync(path.join(pkgDir(p), 'build'))).toBe(false);

      // The module face: the consumer prints which binary serves and whether
      // a page and a QEMU pair round-trip.
      const files: string[] = [];
      if (c.face === 'CJS') files.push('consumer.cjs');
      if (c.face === 'ESM') files.push('consumer.mjs');
      if (c.face === 'TypeScript') {
        fs.copyFileSync(path.join(dir, 'consumer.ts'), path.join(dir, 'consumer.mts'));
        const config = {
          compilerOptions: {
            strict: true,
            noUnusedLocals: true,
            skipLibCheck: false,
            target: 'ES2022',
            lib: ['ES2022'],
            types: ['node'],
            module: 'nodenext',
            moduleResolution: 'nodenext',
            outDir: 'out',
          },
          files: ['consumer.ts', 'consumer.mts'],
        };
        fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(config, null, 2));
        const tsc = path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
        expect(ok(run('node', [tsc, '--version'], dir, env), 'tsc --version').trim()).toBe(`Version ${MIN_TYPESCRIPT}`);
        ok(run('node', [tsc, '-p', 'tsconfig.json'], dir, env), `tsc ${MIN_TYPESCRIPT}`);
        files.push('out/consumer.js', 'out/consumer.mjs');
      }
      for (const file of files) {
        const { report, stderr } = use(p, file, bin);
        expect(report).toMatchObject({ native: true, page: true, pair: true });
        expect(report.status).toMatchObject({ native: true, source: 'prebuild', reason: null });
        expect(report.status.path).toMatch(/[/\\]node_modules[/\\]xbzrle[/\\]prebuilds[/\\]linux-x64[/\\]xbzrle\.glibc\.node$/);
        expect(stderr).toBe('');
      }

      // QEMU's vectors, through every kernel the prebuild lists.
      const v = JSON.parse(ok(run('node', ['vectors.cjs'], dir, env), 'vectors.cjs').trim());
      expect(v.source).toBe('prebuild');
      expect(v.pairs).toBeGreaterThan(50);
      expect(v.kernels).toEqual(expect.arrayContaining(['portable', 'sse2', 'js']));
      for (const k of v.kernels) {
        expect([k, v.failures[k], v.equalsPortable[k]]).toEqual([k, 0, true]);
      }

      // The shipped CLI through npx, as an operator runs it.
      const info = ok(run('npx', ['--no-install', 'xbzrle', 'info'], dir, env), 'npx xbzrle info');
      expect(info).toMatch(/engine:\s+native addon, prebuilt: .*node_modules[/\\]xbzrle[/\\]prebuilds[/\\]linux-x64[/\\]xbzrle\.glibc\.node/);
      expect(info).toContain(`Node v${c.node}.`);
      const bench = run('npx', ['--no-install', 'xbzrle', 'bench', '--quick', '--json', '-', '--no-progress'], dir, env);
      const result = JSON.parse(ok(bench, 'npx xbzrle bench --quick --json -'));
      expect(result).toMatchObject({ native: true, quick: true, package: { name: 'xbzrle' } });
      expect(result.node).toMatch(new RegExp(`^v${c.node}\\.`));
      expect(result.kernels).toContain('portable');
      expect(result.rows.length).toBeGreaterThan(0);
    }, 180_000);
  }
  // linux-arm64: the registry's arm64 Node under qemu-user loads the arm64
  // prebuild from an install of the same tarball and runs the NEON kernel.
  const qemu = which('qemu-aarch64', process.env.PATH ?? '');
  const armSysroot = '/usr/aarch64-linux-gnu';
  const armReady = qemu !== null && fs.existsSync(armSysroot);
  const testArm = armReady || process.env.CI === 'true' ? test : test.skip;
  testArm(`matrix: linux-arm64 Node 24 under qemu-aarch64${armReady ? '' : ' (skipped: qemu-aarch64 or ' + armSysroot + ' missing)'}: the arm64 prebuild loads, passes the vectors, NEON is selected and equals portable`, () => {
    if (!qemu) throw new Error('qemu-aarch64 not on PATH (apt-get install qemu-user)');
    const armNode = registry.registryNode('arm64').bin;
    const p = install('arm64', fullTgz, 'deny', binBare);
    copyConsumers(p);
    expect(fs.existsSync(path.join(pkgDir(p), 'prebuilds', 'linux-arm64', 'xbzrle.glibc.node'))).toBe(true);
    const r = run(qemu, ['-L', armSysroot, armNode, 'vectors.cjs'], p.dir, baseEnv(binBare, { XBZRLE_FIXTURES: FIXTURES }));
    const v = JSON.parse(ok(r, 'qemu-aarch64 node vectors.cjs').trim());
    expect(v).toMatchObject({ source: 'prebuild', arch: 'arm64', selected: 'neon' });
    expect(v.node).toMatch(/^v24\./);
    expect(v.path).toMatch(/[/\\]node_modules[/\\]xbzrle[/\\]prebuilds[/\\]linux-arm64[/\\]xbzrle\.glibc\.node$/);
    expect(v.kernels).toEqual(['neon', 'portable', 'js']);
    for (const k of v.kernels) expect([k, v.failures[k], v.equalsPortable[k]]).toEqual([k, 0, true]);
    expect(r.stderr).toBe('');
  }, 180_000);
});
