// --extract-ram (issue 16, item 13): files are made new, never through a
// link; every block gets its own bounded, reversible file name; the report
// lists which file holds which block.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inspectStream } from '../lib';
import { MAX_FILE_NAME, blockFileName, blockNameOf } from '../lib/stream/page-store';
import { StreamBuilder } from './helpers/stream-builder';

const P = 4096;
const root = path.join(__dirname, '..');
const bin = path.join(root, 'bin', 'xbzrle.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xbzrle-extract-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const freshDir = () => path.join(tmp, `out${n++}`);

/** A complete small stream: each block gets one full page of its own byte value. */
function stream(names: string[]): Buffer {
  const b = new StreamBuilder().header().start(2, 'ram').memSize(names.map((name) => ({ name, length: 2 * P }))).eos();
  b.part(2);
  names.forEach((name, i) => b.full(name, P, Buffer.alloc(P, i + 1)));
  return b.eos().part(2, 0x03).eos().eof().build();
}

describe('file names', () => {
  test.each([
    ['a/b', 'a_b'],
    ['/x', 'x'],
    ['%41', 'A'],
    ['.hidden', '%2Ehidden'],
    ['~', '%7E'],
  ])('%p and %p map to different files, each decoding back', (a, b) => {
    expect(blockFileName(a)).not.toBe(blockFileName(b));
    expect(blockNameOf(blockFileName(a))).toBe(a);
    expect(blockNameOf(blockFileName(b))).toBe(b);
  });

  test('names are bounded, and long ones differ by their hash', () => {
    const long1 = 'x'.repeat(254) + '1';
    const long2 = 'x'.repeat(254) + '2';
    for (const name of [long1, long2, '/'.repeat(255), '\u00ff'.repeat(255), '\u4e2d'.repeat(100)]) {
      const f = blockFileName(name);
      expect(f.length).toBeLessThanOrEqual(MAX_FILE_NAME);
      expect(f).toMatch(/~[0-9a-f]{16}\.ram$/);
      expect(f).not.toMatch(/%.?$|%u.{0,3}~/); // never cut inside an escape
    }
    expect(blockFileName(long1)).not.toBe(blockFileName(long2));
  });
});

describe('extracting', () => {
  test('colliding names of old (a/b and a_b, /x and x) each get their own file with their own page', async () => {
    const names = ['a/b', 'a_b', '/x', 'x'];
    const dir = freshDir();
    const r = await inspectStream(stream(names), { extractRam: dir });
    expect(r.errors).toEqual([]);
    const files = r.blocks.map((b) => b.file!);
    expect(new Set(files).size).toBe(4);
    expect(fs.readdirSync(dir).sort()).toEqual(files.map((f) => path.basename(f)).sort());
    r.blocks.forEach((b) => {
      const content = fs.readFileSync(b.file!);
      expect(content.length).toBe(2 * P);
      expect(content[P]).toBe(names.indexOf(b.name) + 1);
      expect(blockNameOf(path.basename(b.file!))).toBe(b.name);
    });
  });

  test('a 255-character block name: a bounded file, no ENAMETOOLONG; the CLI report gives the mapping', () => {
    const name = 'n'.repeat(255);
    const file = path.join(tmp, 'long.bin');
    fs.writeFileSync(file, stream([name, 'pc.ram']));
    const dir = freshDir();
    const r = spawnSync(process.execPath, [bin, 'inspect', file, '--extract-ram', dir], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const written = path.join(dir, blockFileName(name));
    expect(fs.readFileSync(written)[P]).toBe(1);
    expect(r.stdout).toContain(`${name} -> ${written}`);
    expect(r.stdout).toContain(`pc.ram -> ${path.join(dir, 'pc.ram.ram')}`);
  });

  test('a planted symbolic link is not followed: an error, the victim untouched', async () => {
    const dir = freshDir();
    fs.mkdirSync(dir);
    const victim = path.join(tmp, 'victim');
    fs.writeFileSync(victim, 'precious');
    fs.symlinkSync(victim, path.join(dir, 'pc.ram.ram'));
    await expect(inspectStream(stream(['pc.ram']), { extractRam: dir })).rejects.toThrow(/cannot create .*pc\.ram\.ram for block "pc\.ram": it already exists/);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
    const file = path.join(tmp, 'one.bin');
    fs.writeFileSync(file, stream(['pc.ram']));
    const r = spawnSync(process.execPath, [bin, 'inspect', file, '--extract-ram', dir], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/already exists/);
    expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
  });

  test('a dangling link is not followed either, nor an existing file overwritten', async () => {
    const dir = freshDir();
    fs.mkdirSync(dir);
    const target = path.join(tmp, 'would-be-created');
    fs.symlinkSync(target, path.join(dir, 'pc.ram.ram'));
    await expect(inspectStream(stream(['pc.ram']), { extractRam: dir })).rejects.toThrow(/already exists/);
    expect(fs.existsSync(target)).toBe(false);
    const dir2 = freshDir();
    fs.mkdirSync(dir2);
    fs.writeFileSync(path.join(dir2, 'pc.ram.ram'), 'old');
    await expect(inspectStream(stream(['pc.ram']), { extractRam: dir2 })).rejects.toThrow(/already exists/);
    expect(fs.readFileSync(path.join(dir2, 'pc.ram.ram'), 'utf8')).toBe('old');
  });
});
