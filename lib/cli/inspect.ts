// cli/inspect.ts: `xbzrle inspect STREAM`: what a QEMU migration stream holds,
// record by record, and (with --extract-ram) the guest RAM it rebuilds.
import * as fs from 'node:fs';
import type { ParseArgsConfig } from 'node:util';
import { inspectStream, type InspectReport } from '../stream/inspect';
import { JSON_HELP, JSON_OPTION, checkOutputDir, failed, jsonTarget, parsePageSize, usage, writeOutput } from './options';

export const INSPECT_HELP = `Usage: xbzrle inspect STREAM [options]

Reads a QEMU migration stream (a file, a .gz of one, or "-" for standard
input) once, front to back, without holding it in memory, and reports:
records and bytes per kind, per pass and per RAM section part; XBZRLE's share
and saving, each XBZRLE record decoded and re-encoded with this package;
pages sent raw again (overflow evidence); errors with their byte offset.
Reading ends at the device state after RAM, whose length the stream does not
give. Offsets count bytes of the decompressed stream.

Options:
  --extract-ram DIR   write each RAM block's final content to DIR/<block>.ram
                      (PAGE, ZERO and XBZRLE records applied in stream order);
                      <block> is the name percent-encoded ("/" is %2F), cut
                      with a hash suffix past 200 bytes; files are made new,
                      never overwritten or followed through a link; the
                      report lists each block's file
  ${JSON_HELP}
  --parts             list every part of the RAM section (text output)
  --page-size N       target page size if the stream does not say (default 4096;
                      1..16384, the codec's range; a larger power of two is
                      read as the stream's and refused as unsupported, exit 1)

Exit status: 0 when the stream reads without error, 1 when it is truncated or
malformed (the error gives the byte offset), 2 on bad usage.`;

export const INSPECT_OPTIONS: ParseArgsConfig['options'] = {
  'extract-ram': { type: 'string' },
  ...JSON_OPTION,
  parts: { type: 'boolean' },
  'page-size': { type: 'string' },
};

const n = (v: number) => v.toLocaleString('en-US');
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

function size(bytes: number): string {
  for (const [unit, k] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (bytes >= k && bytes % (k / 16) === 0) return `${bytes / k} ${unit}`;
  }
  return `${n(bytes)} B`;
}

/** Left-aligns the first column, right-aligns the others. */
function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? n(c) : c)));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => '  ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()).join('\n');
}

export function formatReport(name: string, r: InspectReport, showParts: boolean): string {
  const out: string[] = [];
  out.push(`${name}: QEMU migration stream${r.version ? `, version ${r.version}` : ''}${r.machine ? `, machine ${r.machine}` : ''}`);
  out.push(`  ${n(r.bytes)} bytes read; page size ${r.pageSize}; capabilities: ${r.capabilities.join(', ') || 'none listed'}`);

  if (r.blocks.length) {
    out.push('', 'RAM blocks');
    const ignored = r.capabilities.includes('x-ignore-shared');
    out.push(
      table([
        ['block', 'size', 'pages sent', ...(ignored ? ['address'] : [])],
        ...r.blocks.map((b) => [b.name, size(b.length), b.pagesSent, ...(ignored ? [`0x${(b.addr ?? 0).toString(16)}`] : [])]),
      ]),
    );
    if (ignored) out.push('  (with x-ignore-shared, blocks in shared memory are not sent: the destination maps the same memory)');
  }

  out.push('', 'Records');
  const kinds = Object.entries(r.records).sort((a, b) => b[1].bytes - a[1].bytes);
  out.push(table([['kind', 'count', 'bytes'], ...kinds.map(([k, t]) => [k, t.count, t.bytes])]));

  if (r.passes.length) {
    out.push('', `Passes (${r.passes.length}; a new pass starts where the page address goes back down or a page comes again)`);
    out.push(
      table([
        ['pass', 'offset', 'bytes', 'zero', 'page', 'xbzrle', 'resent'],
        ...r.passes.map((p) => [String(p.pass), p.offset, p.bytes, p.records.zero, p.records.page + p.records['compressed-page'], p.records.xbzrle, p.resent]),
      ]),
    );
  }
  out.push(`  RAM section parts: ${r.parts.length}${showParts ? '' : ' (--parts lists them)'}`);
  if (showParts && r.parts.length) {
    out.push(
      table([
        ['part', 'type', 'offset', 'bytes', 'pass', 'zero', 'page', 'xbzrle'],
        ...r.parts.map((p) => [String(p.index), p.type, p.offset, p.bytes, p.pass, p.records.zero, p.records.page + p.records['compressed-page'], p.records.xbzrle]),
      ]),
    );
  }

  const x = r.xbzrle;
  out.push('', 'XBZRLE');
  if (x.records === 0) out.push('  no XBZRLE records');
  else {
    out.push(`  ${n(x.records)} records, ${pct(x.shareOfPages)} of the records carrying page content`);
    out.push(`  ${n(x.deltaBytes)} delta bytes; ${n(x.qemuBytes)} with the 3-byte record bodies (what QEMU's "bytes" statistic counts, plus the page size per overflow)`);
    out.push(`  the same pages raw: ${n(x.rawBytes)} bytes; saving ${pct(x.saving)}`);
    out.push(`  re-encoded with this package: ${n(x.identical)} identical, ${n(x.different)} different`);
    for (const d of x.differences) out.push(`    byte ${d.offset} (${d.block} ${d.addr}): ${d.why}`);
    if (x.unsentBase) out.push(`  ${n(x.unsentBase)} records for pages no earlier record sent (no cache could hold them)`);
  }

  const s = r.resent;
  out.push('', 'Pages sent raw again (overflow evidence)');
  out.push(`  ${n(s.raw)} raw pages for pages sent before: ${n(s.wouldOverflow)} would not fit as a delta (overflow),`);
  out.push(`  ${n(s.wouldFit)} would fit (cache misses), ${n(s.unchanged)} unchanged; ${n(s.zero)} zero-page records for pages sent before`);

  out.push('');
  if (r.stop) out.push(`Stopped at byte ${r.stop.offset}: ${r.stop.reason}.`);
  else if (r.eof) out.push('Read to the end of the stream.');
  out.push(r.ramComplete ? 'RAM is complete (the RAM section ended).' : 'RAM is NOT complete: the RAM section did not end.');
  if (r.commands.length) out.push(`Commands: ${r.commands.join(', ')}`);
  if (r.errors.length) {
    out.push('', 'Errors');
    for (const e of r.errors) out.push(`  byte ${e.offset}: ${e.message} [${e.code} ${e.reason}]`);
  }
  const files = r.blocks.filter((b) => b.file);
  if (files.length) {
    out.push('', 'RAM written');
    for (const b of files) out.push(`  ${b.name} -> ${b.file}`);
  }
  return out.join('\n');
}

/**
 * --page-size: the codec's range, or a larger power of two (up to 2^30, as
 * target-page-bits allows), which the reader refuses as unsupported with a
 * StreamError: such a stream exists, this package cannot read it.
 */
function inspectPageSize(text: unknown): number {
  const s = String(text).trim();
  const v = /^\d+$/.test(s) ? Number(s) : NaN;
  if (v > 16384 && v <= 2 ** 30 && (v & (v - 1)) === 0) return v;
  return parsePageSize(text);
}

export async function inspectCommand(values: Record<string, unknown>, positionals: string[]): Promise<number> {
  if (positionals.length !== 1) throw usage('give exactly one STREAM (a path, or - for standard input)');
  const [name] = positionals;
  const pageSize = values['page-size'] === undefined ? undefined : inspectPageSize(values['page-size']);
  if (name !== '-' && !fs.existsSync(name)) throw usage(`no such file: ${name}`);
  if (name !== '-' && fs.statSync(name).isDirectory()) throw usage(`${name} is a directory, not a stream`);
  const json = jsonTarget(values);
  const extractRam = values['extract-ram'] as string | undefined;
  if (extractRam !== undefined) checkOutputDir(extractRam, '--extract-ram');
  const report = await inspectStream(name === '-' ? process.stdin : name, { extractRam, pageSize });
  if (json) writeOutput(json, JSON.stringify({ input: name, ...report }, null, 2) + '\n');
  // Not a migration stream at all (no header read): the error alone, no empty report.
  if (report.version === undefined && report.errors.length) {
    const e = report.errors[0];
    throw failed(`${name}: ${e.message.replace(/ \(at byte \d+\)$/, '')} (byte ${e.offset}) [${e.code}]`);
  }
  const text = formatReport(name, report, !!values.parts);
  if (json === '-') console.error(text);
  else console.log(text);
  return report.errors.length ? 1 : 0;
}
