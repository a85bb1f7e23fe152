// profile/page-hash.ts: a fast 64-bit fingerprint of a page, to tell which
// pages changed between two scans when the kernel keeps no soft-dirty bits.
// Four independent lanes keep the multiplier pipelines busy (about as fast
// as reading the page from /proc/PID/mem); the rotation carries changes in
// high bits down, so two edits of the same high bit cannot cancel out.

/**
 * Hashes `words` 32-bit words of `u` from index `at` (words a multiple of 4)
 * into out[0] and out[1].
 */
export function hashPage(u: Int32Array, at: number, words: number, out: Int32Array): void {
  let a = 0x9e3779b1 | 0;
  let b = 0x85ebca77 | 0;
  let c = 0xc2b2ae3d | 0;
  let d = 0x27d4eb2f | 0;
  for (let i = at, e = at + words; i < e; i += 4) {
    a = Math.imul(((a << 5) | (a >>> 27)) ^ u[i], 0x01000193);
    b = Math.imul(((b << 5) | (b >>> 27)) ^ u[i + 1], 0x01000193);
    c = Math.imul(((c << 5) | (c >>> 27)) ^ u[i + 2], 0x01000193);
    d = Math.imul(((d << 5) | (d >>> 27)) ^ u[i + 3], 0x01000193);
  }
  // Mix so that every lane reaches both halves.
  out[0] = Math.imul(a ^ (b >>> 15) ^ (c << 7), 0x85ebca6b) ^ d;
  out[1] = Math.imul(c ^ (d >>> 13) ^ (a << 11), 0xc2b2ae35) ^ b;
}

const zeroHashes = new Map<number, [number, number]>();

/** The fingerprint of a page of zeros (what an absent anonymous page reads as). */
export function zeroHash(pageSize: number): [number, number] {
  let h = zeroHashes.get(pageSize);
  if (!h) {
    const out = new Int32Array(2);
    hashPage(new Int32Array(pageSize / 4), 0, pageSize / 4, out);
    h = [out[0], out[1]];
    zeroHashes.set(pageSize, h);
  }
  return h;
}
