// Native caches dropped without close() are collected in a synchronous loop:
// the addon reports their memory to V8 (so it collects) and frees it in a
// finalizer that runs during the collection itself (a basic finalizer, so it
// needs no turn of the event loop). 200 rounds of filled 64 MiB caches would
// hold 12.5 GiB if nothing ran; the bound below is 8 of them.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { nativeStatus } from '../lib';
import { describeIf } from './helpers/skip';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const registry = require('../scripts/registry-node.js') as { registryNode(key: string): { bin: string } };

const script = path.join(__dirname, 'helpers', 'drop-caches.js');
// Each sender round sends 64 MiB twice, so fewer rounds (3.1 GiB if nothing ran).
const ROUNDS: Record<string, number> = { cache: 200, sender: 50 };
const MIB = 64;
const BOUND = 8 * MIB * 2 ** 20;

const nodes: [string, () => string][] = [
  [`node ${process.versions.node} (this one)`, () => process.execPath],
  ['node 22 (registry)', () => registry.registryNode('node22').bin],
  ['node 24 (registry)', () => registry.registryNode('node24').bin],
];

describeIf(nativeStatus().native, 'the native addon is not loaded')('caches dropped without close() stay bounded', () => {
  for (const [name, bin] of nodes) {
    for (const mode of ['cache', 'sender']) {
      test(`${name}: ${ROUNDS[mode]} filled ${MIB} MiB ${mode}s, synchronous loop, no gc()`, () => {
        const r = spawnSync(bin(), [script, mode, String(ROUNDS[mode]), String(MIB)], { encoding: 'utf8', timeout: 120_000 });
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        const rep = JSON.parse(r.stdout) as { rounds: number; start: number; peak: number; source: string };
        expect(rep.rounds).toBe(ROUNDS[mode]);
        expect(rep.source).not.toBe('twin');
        expect(rep.peak - rep.start).toBeLessThanOrEqual(BOUND);
      }, 150_000);
    }
  }
});
