// How the package loads: the addon or the twin, the variables that choose,
// and the CommonJS and ES module faces of the built package (dist/).
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.join(__dirname, '..');

function run(code: string, env: Record<string, string> = {}, type: 'commonjs' | 'module' = 'commonjs') {
  const r = spawnSync(process.execPath, ['--input-type=' + type, '-e', code], {
    cwd: root,
    env: { ...process.env, XBZRLE_NO_NATIVE: '', XBZRLE_KERNEL: '', ...env },
    encoding: 'utf8',
  });
  return { status: r.status, out: r.stdout.trim(), err: r.stderr };
}

const roundTrip = `
  const a = Buffer.alloc(4096), b = Buffer.alloc(4096); b[4095] = 7;
  const d = x.encode(a, b);
  console.log(JSON.stringify({ native: x.native, kernel: x.kernel(), kernels: x.kernels(),
    delta: [...d], ok: x.decode(a, d).equals(b) }));`;

test('CommonJS require of the package loads the addon', () => {
  const r = run(`const x = require('xbzrle');${roundTrip}`);
  expect(r.status).toBe(0);
  const o = JSON.parse(r.out);
  expect(o).toMatchObject({ native: true, delta: [0xff, 0x1f, 1, 7], ok: true });
  expect(o.kernels[o.kernels.length - 1]).toBe('js');
  expect(o.kernel).toBe(o.kernels[0]);
  expect(r.err).toBe('');
});

test('ES module import of the package works, named and default', () => {
  const r = run(`import * as x from 'xbzrle'; import dflt from 'xbzrle';
    if (dflt.encode !== x.encode) throw new Error('default differs');${roundTrip}`, {}, 'module');
  expect(r.status).toBe(0);
  expect(JSON.parse(r.out)).toMatchObject({ native: true, ok: true });
});

test('XBZRLE_NO_NATIVE=1 selects the twin silently', () => {
  const r = run(`const x = require('xbzrle');${roundTrip}`, { XBZRLE_NO_NATIVE: '1' });
  expect(r.status).toBe(0);
  expect(JSON.parse(r.out)).toMatchObject({ native: false, kernel: 'js', kernels: ['js'], ok: true });
  expect(r.err).toBe('');
});

test('XBZRLE_KERNEL forces a kernel at load', () => {
  const r = run(`const x = require('xbzrle');${roundTrip}`, { XBZRLE_KERNEL: 'portable' });
  expect(JSON.parse(r.out)).toMatchObject({ native: true, kernel: 'portable', ok: true });
  const js = run(`const x = require('xbzrle');${roundTrip}`, { XBZRLE_KERNEL: 'js' });
  expect(JSON.parse(js.out)).toMatchObject({ native: true, kernel: 'js', ok: true });
});

test('an unknown XBZRLE_KERNEL warns once and keeps the best kernel', () => {
  const r = run(`const x = require('xbzrle');${roundTrip}`, { XBZRLE_KERNEL: 'avx9000' });
  expect(r.status).toBe(0);
  const o = JSON.parse(r.out);
  expect(o.kernel).toBe(o.kernels[0]);
  expect(r.err).toMatch(/XBZRLE_KERNEL ignored.*avx9000/);
  expect(r.err.match(/XBZRLE_KERNEL ignored/g)).toHaveLength(1);
});

test('nativeStatus() names the binary that loaded, or why the twin serves', () => {
  const code = `const x = require('xbzrle'); console.log(JSON.stringify(x.nativeStatus()));`;
  const s = JSON.parse(run(code).out);
  expect(s).toMatchObject({ native: true, reason: null });
  expect(['local-build', 'prebuild']).toContain(s.source);
  expect(s.path).toMatch(s.source === 'local-build' ? /[/\\]build[/\\](Release|Debug)[/\\][^/\\]+\.node$/ : /[/\\]prebuilds[/\\]/);
  expect(s.platform).toMatch(new RegExp(`^${process.platform}-${process.arch}`));
  const t = JSON.parse(run(code, { XBZRLE_NO_NATIVE: '1' }).out);
  expect(t).toMatchObject({ native: false, source: 'twin', path: null, reason: expect.stringMatching(/XBZRLE_NO_NATIVE=1/) });
});
