// cli/info.ts: `xbzrle info`: what runs here and why.
import type { ParseArgsConfig } from 'node:util';
import * as api from '../index';
import { JSON_HELP, JSON_OPTION, jsonTarget, writeOutput } from './options';

export const INFO_HELP = `Usage: xbzrle info [--json [FILE]]

Prints the package version, the kernel in use, every kernel this CPU runs,
and whether the native addon or the TypeScript twin is loaded (and why).

Options:
  ${JSON_HELP}`;

export const INFO_OPTIONS: ParseArgsConfig['options'] = { ...JSON_OPTION };

export function infoCommand(values: Record<string, unknown>): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require('../../package.json') as { version: string };
  const status = api.nativeStatus();
  const info = {
    version: pkg.version,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    native: status.native,
    serving: status.serving,
    source: status.source,
    path: status.path,
    reason: status.reason,
    wants: status.platform,
    kernel: api.kernel(),
    kernels: api.kernels(),
  };
  const json = jsonTarget(values);
  if (json) {
    writeOutput(json, JSON.stringify(info, null, 2) + '\n');
  }
  // With the JSON on stdout, the text goes to stderr.
  const log = json === '-' ? console.error : console.log;
  log(`xbzrle ${info.version} (Node ${info.node}, ${info.platform})`);
  const engine = info.native ? `native addon, ${info.source === 'prebuild' ? 'prebuilt' : 'built on this machine'}: ${info.path}` : `TypeScript twin (${info.reason})`;
  log(`engine:  ${engine}`);
  log(`target:  ${info.wants}`);
  log(`kernel:  ${info.kernel}${info.native && info.serving === 'twin' ? ' (the twin serves: XBZRLE_KERNEL=js or useKernel(\'js\'))' : ''}`);
  log(`kernels: ${info.kernels.join(', ')} (best first; 'js' is the twin)`);
  if (!info.native) {
    log('NOTE:    no native addon: every codec call, and `xbzrle bench`, runs the TypeScript twin');
  }
  return 0;
}
