// The harness behind `xbzrle bench`: what each row measures and is held
// against, workload data that does not depend on the selection, file
// workloads that use every page, and the operator's answer.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { kernels, native } from '../lib';
import { floorOf, runBench, NOISY_RME, type Row } from '../lib/bench/harness';
import { fileWorkload, makePages, seedOf, WORKLOADS } from '../lib/bench/workloads';
import { DEFAULT_LINK_BPS, formatLink, operatorAnswer } from '../lib/bench/answer';

const byName = (n: string) => WORKLOADS.find((w) => w.name === n)!;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xbzrle-bench-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const nativeKernel = kernels().find((k) => k !== 'js');
const withAddon = native && nativeKernel ? describe : describe.skip; // the twin-only build has no native kernel to select

withAddon('rows measure what their label says', () => {
  let rows: Row[];
  beforeAll(async () => {
    const r = await runBench({
      pageSize: 4096,
      quick: true,
      regimes: ['hot', 'l2'],
      workloads: [byName('sparse-16')],
      kernels: [nativeKernel!, 'js'],
    });
    rows = r.rows;
  }, 120_000);

  test('every selected kernel encodes in every regime', () => {
    for (const regime of ['hot', 'l2']) {
      for (const k of [nativeKernel!, 'js']) {
        expect(rows.find((r) => r.regime === regime && r.op === 'encode' && r.kernel === k && r.workload === 'sparse-16')).toBeDefined();
      }
    }
  });

  test('decode rows name the decoder that ran, not an encoder kernel, and have no compare floor', () => {
    const dec = rows.filter((r) => r.op === 'decode');
    expect(dec.map((r) => `${r.regime}/${r.kernel}`).sort()).toEqual(['hot/native', 'hot/twin', 'l2/native', 'l2/twin']);
    for (const r of dec) {
      expect(r.floor).toBeNull();
      expect(r.xCompare).toBeNull();
    }
  });

  test('HOT has its per-call row, and its batch rows are not dominated by the call', () => {
    const call = rows.find((r) => r.regime === 'hot' && r.op === 'call');
    expect(call).toMatchObject({ workload: 'unchanged', path: 'batch', pages: 4 });
    expect(rows.find((r) => r.regime === 'hot' && r.op === 'encode')!.pages).toBe(4);
  });

  test('every row carries its margin of error and the noisy flag follows it', () => {
    for (const r of rows) {
      expect(r.rme).toBeGreaterThanOrEqual(0);
      expect(r.noisy).toBe(r.rme > NOISY_RME);
    }
  });
});

describe('floors', () => {
  test('a multi-core row is held against the floor per core', () => {
    expect(floorOf('encode', 50, 2, 100, 80)).toEqual({ floor: 'compare-per-core', xCompare: 1, xCopy: 50 / 80 });
    expect(floorOf('encode', 50, 1, 100, 80).floor).toBe('compare');
  });
  test('work that is not a read of both pages gets no compare floor', () => {
    expect(floorOf('decode', 10, 1, 100, 80)).toMatchObject({ floor: null, xCompare: null });
    expect(floorOf('compress', 10, 1, 100, 80)).toEqual({ floor: null, xCompare: null, xCopy: null });
  });
});

describe('workload data', () => {
  test('each workload is seeded by its own name', () => {
    const w = byName('scattered-10');
    const a = makePages(w, 8, 4096);
    const b = makePages(w, 8, 4096, seedOf('scattered-10'));
    expect(a.newMem.equals(b.newMem)).toBe(true);
    expect(seedOf('scattered-10')).not.toBe(seedOf('random-50'));
  });

  withAddon('scattered-10 gives the same bytes/page alone and among others', () => {
    test('same figure', async () => {
      const one = async (names: string[]) => {
        const r = await runBench({ pageSize: 4096, quick: true, regimes: ['l2'], workloads: names.map(byName), kernels: [nativeKernel!], filter: /scattered-10\/encode/ });
        return r.rows.find((x) => x.workload === 'scattered-10' && x.op === 'encode')!.bytesPerPage;
      };
      expect(await one(['scattered-10'])).toBe(await one(['unchanged', 'last-byte', 'scattered-10']));
    }, 60_000);
  });

  withAddon('a file workload', () => {
    test('uses every page of the images in every regime, and says how many', async () => {
      const pages = 200; // more than L2's 128
      const a = Buffer.alloc(pages * 4096, 3);
      const b = Buffer.from(a);
      for (let p = 0; p < pages; p++) b[p * 4096 + 7] = 4;
      fs.writeFileSync(path.join(tmp, 'a'), a);
      fs.writeFileSync(path.join(tmp, 'b'), b);
      const w = fileWorkload(`file:${path.join(tmp, 'a')},${path.join(tmp, 'b')}`);
      const r = await runBench({ pageSize: 4096, quick: true, regimes: ['hot', 'l2'], workloads: [w], kernels: [nativeKernel!], filter: /encode/ });
      for (const regime of ['hot', 'l2']) {
        expect(r.pagesUsed[regime][w.name]).toBe(pages);
        expect(r.rows.find((x) => x.regime === regime && x.op === 'encode')!.pages).toBe(pages);
      }
    }, 60_000);
  });
});

describe("the operator's answer", () => {
  const row = (workload: string, ns: number, bytes: number): Row =>
    ({ op: 'encode', path: 'batch', kernel: 'k', regime: 'cold', workload, nsPerPage: ns, bytesPerPage: bytes } as Row);
  test('pays when encoding plus sending the delta beats sending the page raw', () => {
    const a = operatorAnswer([row('small', 500, 100), row('slow', 3000, 2048), row('over', 900, 4096), { ...row('hot-only', 1, 1), regime: 'hot' }], 4096, 'k', DEFAULT_LINK_BPS)!;
    expect(a.regime).toBe('cold');
    expect(a.verdicts.map((v) => v.workload)).toEqual(['small', 'slow', 'over']);
    const [small, slow, over] = a.verdicts;
    expect(small.rawNs).toBeCloseTo(3276.8, 6); // 4096 bytes at 10 Gbit/s
    expect(small.deltaNs).toBeCloseTo(80, 6);
    expect(small).toMatchObject({ pays: true, savedPercent: expect.closeTo(97.56, 1) });
    expect(slow.pays).toBe(false); // 3000 + 1638 > 3277
    expect(over).toMatchObject({ pays: false, savedPercent: 0 });
    // On a slow link the same encode pays.
    expect(operatorAnswer([row('slow', 3000, 2048)], 4096, 'k', 1e9)!.verdicts[0].pays).toBe(true);
  });
  test('link speeds read back as sold', () => {
    expect(formatLink(10e9)).toBe('10 Gbit/s');
    expect(formatLink(2.5e9)).toBe('2.5 Gbit/s');
    expect(formatLink(100e6)).toBe('100 Mbit/s');
  });
});

describe('bench/ scripts', () => {
  test('every benchmark in bench/ has exactly one package.json script', () => {
    const root = path.join(__dirname, '..');
    const scripts: Record<string, string> = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).scripts;
    const entries = [
      ...fs.readdirSync(path.join(root, 'bench')).filter((f) => f.endsWith('.js')).map((f) => `bench/${f}`),
      'bench/native/run.sh',
    ];
    for (const e of entries) expect([e, Object.values(scripts).filter((s) => s.split(/\s+/).includes(e)).length]).toEqual([e, 1]);
    expect(scripts.bench).toMatch(/bin\/xbzrle\.js bench$/);
  });
});
