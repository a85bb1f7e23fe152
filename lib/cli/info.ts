// cli/info.ts: `xbzrle info`: what runs here and why.
import * as api from '../index';

export const INFO_HELP = `Usage: xbzrle info [--json]

Prints the package version, the kernel in use, every kernel this CPU runs,
and whether the native addon or the TypeScript twin is loaded (and why).`;

export function infoCommand(values: Record<string, unknown>): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require('../../package.json') as { version: string };
  const status = api.nativeStatus();
  const info = {
    version: pkg.version,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    native: status.native,
    source: status.source,
    path: status.path,
    reason: status.reason,
    wants: status.platform,
    kernel: api.kernel(),
    kernels: api.kernels(),
  };
  if (values.json) {
    console.log(JSON.stringify(info, null, 2));
    return 0;
  }
  console.log(`xbzrle ${info.version} (Node ${info.node}, ${info.platform})`);
  const engine = info.native ? `native addon, ${info.source === 'prebuild' ? 'prebuilt' : 'built on this machine'}: ${info.path}` : `TypeScript twin (${info.reason})`;
  console.log(`engine:  ${engine}`);
  console.log(`target:  ${info.wants}`);
  console.log(`kernel:  ${info.kernel}`);
  console.log(`kernels: ${info.kernels.join(', ')} (best first; 'js' is the twin)`);
  if (!info.native) {
    console.log('NOTE:    no native addon: every codec call, and `xbzrle bench`, runs the TypeScript twin');
  }
  return 0;
}
