// `xbzrle inspect`: text and JSON reports of the committed QEMU stream, RAM
// extraction, standard input, and the exit status of a damaged stream.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { blockFileName } from '../lib/stream/page-store';
import { fixtureBytes, fixturePath, hashRanges, loadMeta, STREAMS } from './helpers/streams';

const root = path.join(__dirname, '..');
const bin = path.join(root, 'bin', 'xbzrle.js');
const stream = fixturePath('small-xbzrle');
const meta = loadMeta(path.join(STREAMS, 'small-xbzrle.meta.json'));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xbzrle-inspect-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[], input?: Buffer) {
  const r = spawnSync(process.execPath, [bin, 'inspect', ...args], { cwd: root, input, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

describe('xbzrle inspect', () => {
  test('prints blocks, records, passes, XBZRLE share and saving, resends and where it stopped', () => {
    const r = cli([stream]);
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/QEMU migration stream, version 3, machine pc-i440fx-7\.2/);
    expect(r.out).toMatch(/capabilities: x-ignore-shared/);
    expect(r.out).toMatch(/dimm0\s+128 MiB\s+32,768/);
    expect(r.out).toMatch(new RegExp(`xbzrle\\s+${meta.reader.xbzrle.records.toLocaleString('en-US')}\\s`));
    expect(r.out).toMatch(new RegExp(`Passes \\(${meta.reader.passes};`));
    expect(r.out).toMatch(/saving \d+\.\d%/);
    expect(r.out).toMatch(new RegExp(`re-encoded with this package: ${meta.reader.xbzrle.records.toLocaleString('en-US')} identical, 0 different`));
    expect(r.out).toMatch(/would not fit as a delta \(overflow\)/);
    expect(r.out).toMatch(/Stopped at byte \d+: section "timer".*device state follows RAM/);
    expect(r.out).toMatch(/RAM is complete/);
  });

  test('--json gives the report to tools', () => {
    const r = cli([stream, '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.input).toBe(stream);
    expect(j.records).toEqual(meta.reader.records);
    expect(j.xbzrle.identical).toBe(meta.reader.xbzrle.records);
    expect(j.passes).toHaveLength(meta.reader.passes);
    expect(j.parts).toHaveLength(meta.reader.parts);
    expect(j.errors).toEqual([]);
  });

  test('--parts lists every RAM section part', () => {
    const r = cli([stream, '--parts']);
    expect(r.out.match(/^\s+\d+\s+(start|part|end)\s/gm)).toHaveLength(meta.reader.parts);
  });

  test('--extract-ram writes each block; the migrated ranges hash as in the destination QEMU', () => {
    const dir = path.join(tmp, 'ram');
    const r = cli([stream, '--extract-ram', dir]);
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/RAM written/);
    expect(fs.statSync(path.join(dir, 'dimm0.ram')).size).toBe(128 << 20);
    expect(fs.statSync(path.join(dir, '%2From@etc%2Facpi%2Ftables.ram')).size).toBe(128 << 10);
    for (const b of meta.destination.blocks) {
      expect(hashRanges(path.join(dir, blockFileName(b.name)), b.ranges)).toBe(b.destSha256);
    }
  });

  test('reads standard input ("-"), here uncompressed', () => {
    const r = cli(['-', '--json'], fixtureBytes('small-xbzrle'));
    expect(r.status).toBe(0);
    expect(JSON.parse(r.out).records).toEqual(meta.reader.records);
  });

  test('a truncated stream exits 1 and names the byte', () => {
    const file = path.join(tmp, 'cut.bin');
    fs.writeFileSync(file, fixtureBytes('small-xbzrle').subarray(0, 3_000_001));
    const r = cli([file]);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/Errors\n\s+byte 3000001: stream ends inside .* that starts at byte \d+/);
    expect(r.out).toMatch(/RAM is NOT complete/);
  });

  test('pages above 16 KiB are a stream the package cannot read: a StreamError, exit 1', () => {
    const r = cli([stream, '--page-size', '32768']);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/32768-byte pages: pages above 16384 bytes are not supported.*\[ERR_XBZRLE_STREAM unsupported-page-size\]/);
  });

  test('usage errors exit 2', () => {
    expect(cli([]).status).toBe(2);
    expect(cli([path.join(tmp, 'missing')]).err).toMatch(/no such file/);
    expect(cli([stream, '--page-size', '0']).status).toBe(2);
    expect(cli([stream, '--page-size', '40000']).status).toBe(2); // not a page size at all
    expect(cli([stream, '--bogus']).status).toBe(2);
  });
});
