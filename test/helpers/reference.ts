// A deliberately naive encoder written from docs/FORMAT.md §1, byte by byte and with
// no limit: the canonical delta every kernel must reproduce.
export function referenceEncode(oldPage: Uint8Array, newPage: Uint8Array): Buffer {
  const out: number[] = [];
  const uleb = (v: number): void => {
    if (v < 128) out.push(v);
    else out.push((v & 0x7f) | 0x80, v >> 7);
  };
  let i = 0;
  const size = newPage.length;
  while (i < size) {
    let z = 0;
    while (i + z < size && oldPage[i + z] === newPage[i + z]) z++;
    if (i + z === size) break;
    let n = 0;
    while (i + z + n < size && oldPage[i + z + n] !== newPage[i + z + n]) n++;
    uleb(z);
    uleb(n);
    for (let k = 0; k < n; k++) out.push(newPage[i + z + k]);
    i += z + n;
  }
  return Buffer.from(out);
}
