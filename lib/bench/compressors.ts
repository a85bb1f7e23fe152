// bench/compressors.ts: what a user might run instead of XBZRLE on the XOR of
// two pages: node's zlib (deflate level 1) always; LZ4 and zstd when one of
// the known packages is installed (optional, never a dependency).
import * as zlib from 'node:zlib';

export interface Compressor {
  name: string;
  /** Compressed length of `data`. */
  compress(data: Buffer): number;
}

type Loader = () => Compressor;

function tryRequire(name: string): unknown {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(name);
  } catch {
    return undefined;
  }
}

const OPTIONAL: { kind: string; packages: [string, Loader][] }[] = [
  {
    kind: 'lz4',
    packages: [
      [
        'lz4-napi',
        () => {
          const m = tryRequire('lz4-napi') as { compressSync(b: Buffer): Buffer };
          return { name: 'lz4 (lz4-napi)', compress: (b) => m.compressSync(b).length };
        },
      ],
      [
        'lz4',
        () => {
          const m = tryRequire('lz4') as { encodeBlock(i: Buffer, o: Buffer): number; encodeBound(n: number): number };
          const out = Buffer.alloc(m.encodeBound(16384));
          return { name: 'lz4 (lz4)', compress: (b) => m.encodeBlock(b, out) || b.length };
        },
      ],
    ],
  },
  {
    kind: 'zstd',
    packages: [
      [
        'zstd-napi',
        () => {
          const m = tryRequire('zstd-napi') as { compress(b: Buffer, p?: object): Buffer };
          return { name: 'zstd (zstd-napi)', compress: (b) => m.compress(b).length };
        },
      ],
    ],
  },
];

export interface CompressorSet {
  available: Compressor[];
  /** Human notes on what is missing, e.g. "lz4: not installed (npm i lz4-napi)". */
  absent: string[];
}

export function loadCompressors(): CompressorSet {
  const available: Compressor[] = [
    { name: 'deflate-1 (node zlib)', compress: (b) => zlib.deflateRawSync(b, { level: 1 }).length },
  ];
  const absent: string[] = [];
  for (const { kind, packages } of OPTIONAL) {
    const found = packages.find(([pkg]) => tryRequire(pkg) !== undefined);
    if (found) {
      try {
        available.push(found[1]());
        continue;
      } catch {
        /* fall through to absent */
      }
    }
    absent.push(`${kind}: no package found (optional: npm install ${packages.map(([p]) => p).join(' or ')})`);
  }
  return { available, absent };
}
