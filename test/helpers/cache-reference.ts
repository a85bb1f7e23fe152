// helpers/cache-reference.ts: the two cache policies written as literally
// as their definitions, with no speed tricks, to check lib/advisor/cache-sim.ts.
//   qemu: N slots, slot = page & (N - 1); a hit refreshes the age; an insert
//     is refused when the slot holds a different page with age + 2 > gen.
//   associative: N slots in sets of min(8, N) ways, set = page & (sets - 1);
//     a hit refreshes the age; an insert takes an empty way, else the oldest
//     way with age + 2 <= gen (lowest index on a tie), else is refused.
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
  passes.forEach((pass, i) => {
    const gen = i + 1;
    for (const page of [...new Set(pass)].sort((a, b) => a - b)) {
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
        let oldest = Infinity;
        set.forEach((w, k) => {
          if (w!.age + 2 <= gen && w!.age < oldest) {
            oldest = w!.age;
            victim = k;
          }
        });
      }
      if (victim < 0) out.refused++;
      else set[victim] = { page, age: gen };
    }
  });
  return out;
}
