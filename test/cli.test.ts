// The `xbzrle` command: bench --quick --json, the HTML report, info, and
// helpful failures. Runs the built CLI (dist/, rebuilt by `pretest`).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { kernels, kernel, native, nativeStatus, useKernel } from '../lib';
import { report } from '../lib/cli/main';
import { CliError } from '../lib/cli/options';

const root = path.join(__dirname, '..');
const bin = path.join(root, 'bin', 'xbzrle.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xbzrle-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

const WORKLOADS = ['unchanged', 'last-byte', 'sparse-16', 'run-512', 'scattered-10', 'random-50', 'alternate', 'full'];

describe('xbzrle bench --quick', () => {
  const json = path.join(tmp, 'bench.json');
  const report = path.join(tmp, 'report');
  let run: ReturnType<typeof cli>;
  beforeAll(() => {
    run = cli(['bench', '--quick', '--json', json, '--report', report]);
  }, 120_000);

  test('exits 0 and prints a table per regime', () => {
    expect(run.err).not.toMatch(/Error/);
    expect(run.status).toBe(0);
    expect(run.out).toMatch(/L2 \(128 page pairs\)/);
    expect(run.out).toMatch(/ns\/page/);
  });

  test('the JSON has host facts and a row per kernel and workload, with numbers > 0', () => {
    const j = JSON.parse(fs.readFileSync(json, 'utf8'));
    expect(j.package.name).toBe('xbzrle');
    expect(j.node).toBe(process.version);
    expect(typeof j.host.cpu).toBe('string');
    expect(j.kernels).toEqual(kernels());
    for (const k of kernels()) {
      for (const w of WORKLOADS) {
        const row = j.rows.find((r: { op: string; kernel: string; workload: string }) => r.op === 'encode' && r.kernel === k && r.workload === w);
        expect(row).toBeDefined();
        for (const f of ['nsPerPage', 'gbPerSec', 'pagesPerSec', 'xCompare', 'xCopy']) expect(row[f]).toBeGreaterThan(0);
        expect(row.bytesPerPage).toBeGreaterThanOrEqual(w === 'unchanged' ? 0 : 1);
      }
    }
    // Floors and a general compressor are measured in the same run.
    expect(j.rows.some((r: { op: string }) => r.op === 'compare')).toBe(true);
    expect(j.rows.some((r: { op: string }) => r.op === 'copy')).toBe(true);
    expect(j.rows.some((r: { op: string; kernel: string }) => r.op === 'compress' && /deflate/.test(r.kernel))).toBe(true);
  });

  test('the HTML report is self-contained: SVG charts, no network resource', () => {
    const html = fs.readFileSync(path.join(report, 'index.html'), 'utf8');
    expect(html).toMatch(/<svg/);
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(2);
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import|url\(/i);
    expect(html).not.toMatch(/<script/i);
  });
});

describe('xbzrle bench with a file workload', () => {
  test('encodes the pages of two images', () => {
    const a = Buffer.alloc(64 * 4096, 1);
    const b = Buffer.from(a);
    for (let i = 0; i < b.length; i += 4096 * 2) b[i + 100] = 9;
    fs.writeFileSync(path.join(tmp, 'a.img'), a);
    fs.writeFileSync(path.join(tmp, 'b.img'), b);
    const spec = `file:${path.join(tmp, 'a.img')},${path.join(tmp, 'b.img')}`;
    const json = path.join(tmp, 'file.json');
    const r = cli(['bench', '--quick', '--workload', spec, '--kernel', kernels()[0], '--json', json]);
    expect(r.status).toBe(0);
    const rows = JSON.parse(fs.readFileSync(json, 'utf8')).rows.filter((x: { op: string }) => x.op === 'encode');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0].pages).toBe(64);
    // Half the pages changed byte 100 (a 3-byte delta: 64 01 xx), half unchanged.
    expect(rows[0].bytesPerPage).toBeCloseTo(1.5, 5);
  });
});

describe('xbzrle bench --json -', () => {
  test('writes the JSON to stdout and the table to stderr, usage errors exit 2', () => {
    const r = cli(['bench', '--quick', '--workload', 'unchanged', '--kernel', kernels()[0], '--link', '25G', '--json', '-']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.rows.some((x: { op: string; workload: string }) => x.op === 'encode' && x.workload === 'unchanged')).toBe(true);
    expect(r.err).toMatch(/L2 \(\d+ page pairs\)/);
    // The header names the CPU and the load; the run ends with the operator's answer, also in the JSON.
    expect(r.err).toMatch(/load average [\d.]+ [\d.]+ [\d.]+ at start/);
    expect(r.err).toContain(j.host.cpu);
    expect(j.host.loadavg.start).toHaveLength(3);
    expect(r.err).toMatch(/Does XBZRLE pay on a 25 Gbit\/s link\?/);
    expect(r.err).toMatch(/xbzrle profile --pid/);
    expect(j.answer).toMatchObject({ linkBitsPerSecond: 25e9, kernel: kernels()[0] });
    expect(j.answer.verdicts[0]).toMatchObject({ workload: 'unchanged', pays: true, savedPercent: 100 });
    expect(fs.existsSync(path.join(root, '-'))).toBe(false);
    for (const bad of [['--page-size', '0'], ['--regime', 'warm'], ['--kernel', 'avx9000'], ['--filter', '('], ['--link', 'fast'], ['--workload', 'file:/nonexistent/a,/nonexistent/b']]) {
      const u = cli(['bench', ...bad]);
      expect(u.status).toBe(2);
      expect(u.err).not.toMatch(/xbzrle: xbzrle/);
    }
  });
});

describe('helpful failures', () => {
  test.each([
    [['bench', '--no-such-option'], /Unknown option '--no-such-option'/],
    [['bench', '--page-size', '0'], /--page-size must be an integer from 1 to 16384/],
    [['bench', '--regime', 'warm'], /--regime warm: expected hot, l2 or cold/],
    [['bench', '--workload', 'nope'], /--workload nope: expected one of/],
    [['bench', '--workload', 'file:/nonexistent/a,/nonexistent/b'], /no such file/],
    [['bench', '--kernel', 'avx9000'], /--kernel avx9000: this machine runs/],
    [['bench', '--filter', '('], /--filter/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ])('%j', (args, message) => {
    const r = cli(args as string[]);
    expect(r.status).not.toBe(0);
    expect(r.err).toMatch(message);
  });
});

describe('xbzrle info', () => {
  test('prints version, kernels and the engine', () => {
    const r = cli(['info', '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.out);
    expect(j).toMatchObject({ native: true, source: nativeStatus().source, kernels: kernels(), kernel: kernels()[0] });
    const twin = JSON.parse(cli(['info', '--json'], { XBZRLE_NO_NATIVE: '1' }).out);
    expect(twin).toMatchObject({ native: false, kernel: 'js', reason: expect.stringMatching(/XBZRLE_NO_NATIVE/) });
    expect(cli(['info']).out).toMatch(/kernels: .*js/);
  });
});

describe('native, nativeStatus() and useKernel agree', () => {
  const withAddon = native ? test : test.skip; // without the addon there is no kernel but 'js' to switch from
  withAddon("native stays true after useKernel('js') (the addon loaded); serving says the twin serves", () => {
    const before = kernel();
    try {
      expect(nativeStatus()).toMatchObject({ native: true, serving: 'addon' });
      useKernel('js');
      expect(native).toBe(true);
      expect(nativeStatus()).toMatchObject({ native: true, serving: 'twin' });
      useKernel(kernels()[0]);
      expect(nativeStatus().serving).toBe('addon');
    } finally {
      useKernel(before);
    }
    const j = JSON.parse(cli(['info', '--json'], { XBZRLE_KERNEL: 'js' }).out);
    expect(j).toMatchObject({ native: true, serving: 'twin', kernel: 'js' });
  });
});

describe('errors are prefixed once', () => {
  test.each([
    [new CliError('xbzrle bench needs a page size'), 'xbzrle bench needs a page size'],
    [new CliError('--regime x: expected hot, l2 or cold'), 'xbzrle bench: --regime x: expected hot, l2 or cold'],
    [Object.assign(new Error('xbzrle profile runs on Linux only'), { code: 'ERR_XBZRLE_PROFILE' }), 'xbzrle profile runs on Linux only'],
    [Object.assign(new Error('no such file'), { code: 'ENOENT' }), 'xbzrle bench: no such file'],
  ])('%s', (err, line) => {
    const spy = jest.spyOn(console, 'error').mockImplementation(() => {});
    try {
      report(/profile/.test((err as Error).message) ? 'profile' : 'bench', err);
      const first = String(spy.mock.calls[0][0]).split('\n')[0];
      expect(first).toBe(line);
      expect(first).not.toMatch(/xbzrle[^:]*: xbzrle/);
    } finally {
      spy.mockRestore();
    }
  });
});
