// Native caches dropped without close() stay bounded without gc(): the addon
// reports their memory to V8 (so it collects), and the next cache or sender
// created closes the caches the collection found dead (native/addon/cache.cc
// reclaim), so even a synchronous loop that never yields stays bounded; the
// finalizers, on the event loop's next turn, free the rest. 200 rounds of
// filled 64 MiB caches would hold 12.5 GiB if nothing ran; the bound is 8.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { nativeStatus } from '../lib';
import { describeIf } from './helpers/skip';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const registry = require('../scripts/registry-node.js') as { registryNode(key: string): { bin: string } };

// Each sender round sends 64 MiB twice, so fewer rounds (3.1 GiB if nothing ran).
const ROUNDS: Record<string, number> = { cache: 200, sender: 50 };
const MIB = 64;
const BOUND = 8 * MIB * 2 ** 20;

const nodes: [string, () => string][] = [
  [`node ${process.versions.node} (this one)`, () => process.execPath],
  ['node 22 (registry)', () => registry.registryNode('node22').bin],
  ['node 24 (registry)', () => registry.registryNode('node24').bin],
];

function runJson(bin: string, script: string, args: string[], flags: string[] = []): Record<string, unknown> {
  const r = spawnSync(bin, [...flags, path.join(__dirname, 'helpers', script), ...args], { encoding: 'utf8', timeout: 120_000 });
  expect(r.signal).toBeNull();
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describeIf(nativeStatus().native, 'the native addon is not loaded')('caches dropped without close() stay bounded', () => {
  for (const [name, bin] of nodes) {
    for (const [mode, loop] of [['cache', 'sync'], ['sender', 'sync'], ['cache', 'yield']]) {
      const how = loop === 'sync' ? 'a synchronous loop' : 'a loop yielding each round';
      test(`${name}: ${ROUNDS[mode]} filled ${MIB} MiB ${mode}s, ${how}, no gc()`, () => {
        const rep = runJson(bin(), 'drop-caches.js', [mode, String(ROUNDS[mode]), String(MIB), loop]) as {
          rounds: number; start: number; peak: number; source: string; loop: string;
        };
        expect(rep.loop).toBe(loop);
        expect(rep.rounds).toBe(ROUNDS[mode]);
        expect(rep.source).not.toBe('twin');
        expect(rep.peak - rep.start).toBeLessThanOrEqual(BOUND);
      }, 150_000);
    }

    // Within one synchronous stretch: a dropped cache's budget comes back
    // when the next cache is created; a sender keeps its cache open after
    // the cache's own handle is collected.
    test(`${name}: the sweep frees dropped caches and keeps a live sender's`, () => {
      const rep = runJson(bin(), 'reclaim.js', [], ['--expose-gc']);
      expect(rep).toMatchObject({ usedDropped: 64 * 2 ** 20, usedAfter: 0, kind: 2 });
    }, 150_000);

    // Sweeps, finalizers and worker teardown racing over handles dropped in
    // every order (the ASan run is in test/asan-binding.test.ts).
    test(`${name}: handles dropped in every order, a live sender's cache stays open`, () => {
      const stress = path.join(__dirname, '..', 'native', 'test', 'reclaim-stress.js');
      const r = spawnSync(bin(), ['--expose-gc', stress], { encoding: 'utf8', timeout: 120_000 });
      expect(r.signal).toBeNull();
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const rep = JSON.parse(r.stdout) as { rounds: number; closedErrors: number; workers: { closedErrors: number }[] };
      expect(rep.rounds).toBe(600);
      expect([rep.closedErrors, ...rep.workers.map((w) => w.closedErrors)]).toEqual([0, 0, 0, 0, 0]);
    }, 150_000);

    // Collections that start while an addon callback's exception is being
    // rethrown, with sweeps among them: with finalizers inside the
    // collections (the experimental Node-API version) Node 20.20, 22.23 and
    // 24.22 abort here; at Node-API 8 they must not.
    test(`${name}: a million throws while handles are collected, no abort`, () => {
      const rep = runJson(bin(), 'throw-while-collecting.js', ['1000000']);
      expect(rep).toMatchObject({ n: 1e6, thrown: 1e6 });
    }, 150_000);

    // Every raw function with every handle kind and junk, five times, under
    // each Node (test/raw-binding.test.ts checks the answers).
    test(`${name}: the raw-binding matrix, five runs, no crash`, () => {
      const matrix = path.join(__dirname, '..', 'native', 'test', 'raw-binding-matrix.js');
      for (let i = 0; i < 5; i++) {
        const r = spawnSync(bin(), [matrix], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 });
        expect(r.signal).toBeNull();
        expect(r.status).toBe(0);
        expect((JSON.parse(r.stdout) as unknown[]).length).toBeGreaterThan(500);
      }
    }, 150_000);
  }
});
