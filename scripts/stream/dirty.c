/* dirty.c: runs inside the guest and dirties memory in mixed ways, forever,
 * so that every pre-copy pass finds pages of every XBZRLE regime:
 *   hot      a small set rewritten a few bytes at a time (tiny deltas)
 *   counters one 32-bit counter bumped per page (1 to 4 changed bytes)
 *   runs     a run of 16..1500 bytes rewritten at a random place
 *   scatter  ~10% of the bytes changed, spread out (large deltas)
 *   zeros    pages that flip between all-zero and a few bytes set
 *   full     pages rewritten entirely with noise (overflow: sent raw)
 *   static   written once (raw in the first pass, then never again)
 * Usage: dirty [scale] [round-ms]; scale multiplies every region (default 1).
 * Written for this project; static, no library beyond libc. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define PAGE 4096

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static uint8_t *region(size_t pages) {
  uint8_t *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(1); }
  return p;
}

static void noise(uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = next();
    memcpy(p + i, &v, n - i < 8 ? n - i : 8);
  }
}

static void sleep_ms(long ms) {
  struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
  nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
  int scale = argc > 1 ? atoi(argv[1]) : 1;
  long round_ms = argc > 2 ? atol(argv[2]) : 50;
  if (scale < 1) scale = 1;
  size_t n_hot = 32 * scale, n_cnt = 256 * scale, n_runs = 64 * scale,
         n_scat = 16 * scale, n_zero = 64 * scale, n_full = 8 * scale,
         n_static = 128 * scale;
  uint8_t *hot = region(n_hot), *cnt = region(n_cnt), *runs = region(n_runs),
          *scat = region(n_scat), *zero = region(n_zero), *full = region(n_full),
          *stat = region(n_static);

  /* Text-like content (not zero, compressible), so changes land on data. */
  for (size_t i = 0; i < n_hot * PAGE; i++) hot[i] = (uint8_t)("hot page "[i % 9]);
  for (size_t i = 0; i < n_runs * PAGE; i++) runs[i] = (uint8_t)(i * 7);
  noise(scat, n_scat * PAGE);
  noise(full, n_full * PAGE);
  for (size_t i = 0; i < n_static * PAGE; i++) stat[i] = (uint8_t)(i >> 12) ^ (uint8_t)i;
  struct { uint8_t *p; size_t n; } regions[] = {
    { hot, n_hot }, { cnt, n_cnt }, { runs, n_runs }, { scat, n_scat }, { zero, n_zero }, { full, n_full } };
  printf("dirty: running scale=%d round=%ldms\n", scale, round_ms);
  fflush(stdout);

  for (uint64_t round = 1;; round++) {
    for (size_t p = 0; p < n_hot; p++) {          /* 8 bytes in each hot page */
      uint64_t v = round * 0x0101010101010101ull;
      memcpy(hot + p * PAGE + (next() % (PAGE / 8)) * 8, &v, 8);
    }
    for (size_t p = 0; p < n_cnt; p++) {          /* one counter per page */
      uint32_t *c = (uint32_t *)(cnt + p * PAGE + (p * 68) % (PAGE - 4));
      (*c)++;
    }
    for (int k = 0; k < 4 * scale; k++) {         /* a few runs */
      uint8_t *pg = runs + (next() % n_runs) * PAGE;
      size_t len = 16 + next() % 1500, at = next() % (PAGE - len);
      memset(pg + at, (int)(round & 0xff) | 1, len);
    }
    for (int k = 0; k < 2 * scale; k++) {         /* 10% scattered */
      uint8_t *pg = scat + (next() % n_scat) * PAGE;
      for (int j = 0; j < PAGE / 10; j++) pg[next() % PAGE] ^= 0x5a;
    }
    for (size_t p = 0; p < n_zero; p++) {         /* zero / not zero */
      uint8_t *pg = zero + p * PAGE;
      if ((round + p) % 3 == 0) memset(pg, 0, PAGE);
      else pg[(round * 16 + p) % PAGE] = (uint8_t)round | 1;
    }
    for (int k = 0; k < scale; k++)               /* a whole page of noise */
      noise(full + (next() % n_full) * PAGE, PAGE);
    /* Drop the TLB entries of what we wrote: QEMU's TCG tracks a write to a
     * page only while the page's TLB entry is marked not-dirty, and a small
     * working set would otherwise stay in the TLB across bitmap syncs. */
    for (size_t i = 0; i < sizeof regions / sizeof *regions; i++) {
      mprotect(regions[i].p, regions[i].n * PAGE, PROT_READ);
      mprotect(regions[i].p, regions[i].n * PAGE, PROT_READ | PROT_WRITE);
    }
    if (round % 500 == 0) { printf("dirty: round %llu\n", (unsigned long long)round); fflush(stdout); }
    sleep_ms(round_ms);
  }
}
