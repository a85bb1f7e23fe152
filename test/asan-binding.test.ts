// asan-binding.test.ts: the raw-binding matrix (native/test/raw-binding-matrix.js)
// against an addon built with -fsanitize=address (into build/asan/, kept
// between runs while the sources are unchanged), with libasan preloaded into
// node. Any heap overflow, use-after-free or wild access in the glue or the
// core ends the child with an AddressSanitizer report, which fails the test.
// Needs Linux, g++ and its libasan; under CI=true a missing tool is a failure.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..');
const out = path.join(root, 'build', 'asan');
const matrix = path.join(root, 'native', 'test', 'raw-binding-matrix.js');
const FLAGS = '-fsanitize=address -fno-omit-frame-pointer -g';

function libasan(): string | null {
  if (process.platform !== 'linux') return null;
  try {
    const p = execFileSync('g++', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
    return path.isAbsolute(p) && fs.existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(cc|h|sh)$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Copies the addon's sources into build/asan and builds them there with ASan, unless current. */
function build(): string {
  const files = [path.join(root, 'binding.gyp'), ...sources(path.join(root, 'native', 'core')), ...sources(path.join(root, 'native', 'addon'))];
  const h = createHash('sha256').update(FLAGS).update(process.version);
  for (const f of files) h.update(path.relative(root, f)).update(fs.readFileSync(f));
  const stamp = h.digest('hex');
  const node = path.join(out, 'build', 'Release', 'xbzrle.node');
  const stampFile = path.join(out, 'stamp');
  if (fs.existsSync(node) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp) return node;
  fs.rmSync(out, { recursive: true, force: true });
  for (const f of files) {
    const to = path.join(out, path.relative(root, f));
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(f, to);
  }
  // Headers from the running node's own install when it has them (no download).
  const prefix = path.dirname(path.dirname(process.execPath));
  const nodedir = fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))
    ? [`--nodedir=${prefix}`]
    : process.env.npm_config_nodedir
      ? [`--nodedir=${process.env.npm_config_nodedir}`]
      : [];
  const gyp = require.resolve('node-gyp/bin/node-gyp.js');
  const r = spawnSync(process.execPath, [gyp, 'rebuild', '-j', '2', ...nodedir], {
    cwd: out,
    encoding: 'utf8',
    env: { ...process.env, CFLAGS: FLAGS, CXXFLAGS: FLAGS, LDFLAGS: '-fsanitize=address' },
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`ASan build failed (${r.status}):\n${(r.stderr || '').slice(-4000)}`);
  fs.writeFileSync(stampFile, stamp);
  return node;
}

const asan = libasan();
const ci = process.env.CI === 'true';

if (!asan && !ci) {
  describe.skip('raw binding under AddressSanitizer (needs Linux, g++ and libasan)', () => {
    test('skipped', () => undefined);
  });
} else {
  describe('raw binding under AddressSanitizer', () => {
    let addonPath = '';
    beforeAll(() => {
      if (!asan) throw new Error('CI=true: g++ with libasan is required for the ASan run (apt-get install g++)');
      addonPath = build();
    }, 300_000);

    test('every function with every handle kind and junk: no ASan report, no crash', () => {
      const r = spawnSync(process.execPath, [matrix, addonPath], {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
        env: { ...process.env, LD_PRELOAD: asan!, ASAN_OPTIONS: 'detect_leaks=0:halt_on_error=1:abort_on_error=0' },
      });
      expect(r.stderr).not.toMatch(/AddressSanitizer/);
      expect(r.signal).toBeNull();
      expect(r.status).toBe(0);
      const rows = JSON.parse(r.stdout) as { fn: string; k: string; n: number; got: string }[];
      expect(rows.length).toBeGreaterThan(500);
      expect(rows.filter((x) => !['ok', 'TypeError', 'RangeError', 'Error'].includes(x.got))).toEqual([]);
    });

    test('handles dropped in every order while sweeps, finalizers and worker teardown free them: no ASan report', () => {
      const stress = path.join(root, 'native', 'test', 'reclaim-stress.js');
      const r = spawnSync(process.execPath, ['--expose-gc', stress, addonPath, '300'], {
        encoding: 'utf8',
        env: { ...process.env, LD_PRELOAD: asan!, ASAN_OPTIONS: 'detect_leaks=0:halt_on_error=1:abort_on_error=0' },
      });
      expect(r.stderr).not.toMatch(/AddressSanitizer/);
      expect(r.signal).toBeNull();
      expect(r.status).toBe(0);
      const rep = JSON.parse(r.stdout) as { rounds: number; closedErrors: number; workers: { closedErrors: number }[] };
      expect(rep.rounds).toBe(300);
      expect([rep.closedErrors, ...rep.workers.map((w) => w.closedErrors)]).toEqual([0, 0, 0, 0, 0]);
    }, 120_000);

    test('the instrumented addon is the one loaded (it links libasan)', () => {
      const maps = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(addonPath)}); process.stdout.write(require('fs').readFileSync('/proc/self/maps','utf8'))`], {
        encoding: 'utf8',
        env: { ...process.env, LD_PRELOAD: asan!, ASAN_OPTIONS: 'detect_leaks=0' },
      });
      expect(maps.status).toBe(0);
      expect(maps.stdout).toMatch(/libasan/);
      expect(maps.stdout).toContain(addonPath);
    });
  });
}
