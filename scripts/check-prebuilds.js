// Release check: the tarball `npm pack` would make holds a prebuild for every
// platform we ship (docs/RELEASING.md), each a non-empty file, and nothing
// under prebuilds/ we did not expect. Run: node scripts/check-prebuilds.js
// (exit 1 and a list when something is missing).
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const EXPECTED = [
  'linux-x64/xbzrle.glibc.node',
  'linux-x64/xbzrle.musl.node',
  'linux-arm64/xbzrle.glibc.node',
  'linux-arm64/xbzrle.musl.node',
  'darwin-x64/xbzrle.glibc.node',
  'darwin-arm64/xbzrle.glibc.node',
  'win32-x64/xbzrle.glibc.node',
].map((f) => `prebuilds/${f}`);
const OPTIONAL = ['prebuilds/win32-arm64/xbzrle.glibc.node'];

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], {
  cwd: path.join(__dirname, '..'),
  encoding: 'utf8',
  shell: process.platform === 'win32',
});
const [pack] = JSON.parse(out);
const sizes = new Map(pack.files.map((f) => [f.path, f.size]));
const prebuilds = [...sizes.keys()].filter((f) => f.startsWith('prebuilds/'));

const missing = EXPECTED.filter((f) => !sizes.has(f));
const empty = prebuilds.filter((f) => !(sizes.get(f) > 0));
const unexpected = prebuilds.filter((f) => !EXPECTED.includes(f) && !OPTIONAL.includes(f));
for (const f of prebuilds) console.log(`${String(sizes.get(f)).padStart(8)}  ${f}`);
console.log(`${pack.filename}: ${pack.size} bytes packed, ${pack.unpackedSize} unpacked, ${pack.entryCount} files`);
if (missing.length || empty.length || unexpected.length) {
  if (missing.length) console.error(`missing: ${missing.join(', ')}`);
  if (empty.length) console.error(`empty: ${empty.join(', ')}`);
  if (unexpected.length) console.error(`unexpected: ${unexpected.join(', ')}`);
  process.exit(1);
}
