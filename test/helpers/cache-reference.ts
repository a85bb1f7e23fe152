// helpers/cache-reference.ts: the two cache policies written as literally
// as their definitions, with no speed tricks, to check lib/advisor/cache-sim.ts.
//   qemu: N slots, slot = page & (N - 1); a hit refreshes the age; an insert
//     is refused when the slot holds a different page with age + 2 > gen.
//   associative: N slots in sets of min(8, N) ways, set = page & (sets - 1);
//     a hit refreshes the age; an insert takes an empty way, else among ways
//     with age + 2 <= gen (age + 3 <= gen when the way is ahead of the walk,
//     whose direction is the sign of a counter, clamped to +-64, that each
//     lookup of a new page moves up or down) the oldest, then one behind the
//     walk, then the farthest page, then the lowest index; else is refused.
// Passes are generations 1, 2, ...; pages in a pass go in ascending order.

export interface RefCounts {
  hits: number;
  misses: number;
  refused: number;
  hitPages: { gen: number; page: number }[];
}

interface Way {
  page: number;
  age: number;
}

export function referenceSim(policy: 'qemu' | 'associative', slots: number, passes: number[][]): RefCounts {
  const ways = policy === 'qemu' ? 1 : Math.min(8, slots);
  const sets = slots / ways;
  const cache: (Way | null)[][] = Array.from({ length: sets }, () => Array.from({ length: ways }, () => null));
  const out: RefCounts = { hits: 0, misses: 0, refused: 0, hitPages: [] };
  let dir = 0;
  let last = 0;
  passes.forEach((pass, i) => {
    const gen = i + 1;
    for (const page of [...new Set(pass)].sort((a, b) => a - b)) {
      if (page !== last) {
        dir = Math.max(-64, Math.min(64, dir + (page > last ? 1 : -1)));
        last = page;
      }
      const set = cache[page % sets];
      const hit = set.find((w) => w !== null && w.page === page);
      if (hit) {
        out.hits++;
        hit.age = gen;
        out.hitPages.push({ gen, page });
        continue;
      }
      out.misses++;
      let victim = set.findIndex((w) => w === null);
      if (victim < 0) {
        const rank = (w: Way): [number, number, number] => [w.age, (dir >= 0 ? w.page < page : w.page > page) ? 0 : 1, -Math.abs(w.page - page)];
        set.forEach((w, k) => {
          const behind = dir >= 0 ? w!.page < page : w!.page > page;
          if (w!.age + (behind || policy === 'qemu' ? 2 : 3) > gen) return;
          if (victim < 0) victim = k;
          else {
            const a = rank(w!);
            const b = rank(set[victim]!);
            if (a[0] < b[0] || (a[0] === b[0] && (a[1] < b[1] || (a[1] === b[1] && a[2] < b[2])))) victim = k;
          }
        });
      }
      if (victim < 0) out.refused++;
      else set[victim] = { page, age: gen };
    }
  });
  return out;
}
