// encode_walk.h: the run walker every SIMD kernel shares. A kernel supplies
// a 64-bit "differs" mask per 64-byte block; the walker turns mask bits into
// run boundaries and writes the canonical delta (docs/FORMAT.md §1).
//
// Include it from a kernel's .cc only, after defining XBZRLE_WALK_TARGET to
// that kernel's target attribute: every function here then compiles for the
// kernel's ISA, so the mask functions inline into the loop (GCC and Clang
// refuse to inline an AVX2 function into one compiled for the baseline).
// Everything sits in an anonymous namespace: one private copy per kernel.
//
// The policy V provides, all with the same target:
//   uint64_t diff64(a, b)            bit j set iff a[j] != b[j], j < 64
//   uint64_t diff_tail(a, b, len)    the same for 1 <= len < 64, bits >= len clear
//   size_t   skip_equal(a, b, len)   a multiple of 64, <= len, such that
//                                    a[0..k) == b[0..k); stops at (or before)
//                                    the first 64-byte block that differs
//   size_t   skip_differ(a, b, len)  the same for blocks where every byte
//                                    differs
#ifndef XBZRLE_WALK_TARGET
#error "define XBZRLE_WALK_TARGET before including encode_walk.h"
#endif

#include "uleb128.h"
#include "word.h"
#include "xbzrle.h"

#include <cstring>

namespace xbzrle {
namespace {

// Fills in a 64-byte block past the end of the page with equal bytes, so the
// tail is one more block whose missing bytes read as "unchanged".
struct TailBlock {
  uint8_t a[64];
  uint8_t b[64];
  TailBlock(const uint8_t* pa, const uint8_t* pb, size_t len) {
    std::memset(a, 0, sizeof a);
    std::memset(b, 0, sizeof b);
    std::memcpy(a, pa, len);
    std::memcpy(b, pb, len);
  }
};

constexpr size_t kOverflow = ~static_cast<size_t>(0);
constexpr size_t kPrefetchAhead = 512;

// The pair (z, n, src[0..n)) written exactly at out + o: returns the new
// output length, or kOverflow when it does not fit. The slow path: long
// runs, and short ones near the limit or the page end. Values in and out,
// no pointers, so the caller keeps its state in registers.
XBZRLE_NOINLINE inline size_t put_pair_exact(uint8_t* out, size_t o, size_t limit, size_t z,
                                             size_t n, const uint8_t* src) {
  if (uleb_size(z) + uleb_size(n) + n > limit - o) return kOverflow;
  o += uleb_put(out + o, z);
  o += uleb_put(out + o, n);
  std::memcpy(out + o, src, n);
  return o + n;
}

// Any pair that ends the changed run [run, end) after a zero run of z bytes:
// returns the new output length or kOverflow. A short run (n <= 16) with
// room to spare (o < o_lim: 19 bytes of slack, and 16 bytes readable at
// b + run) is one header store and one 16-byte copy, whose bytes past n are
// scratch that the next pair overwrites, all inside the limit.
XBZRLE_NOINLINE XBZRLE_WALK_TARGET inline size_t put_pair(uint8_t* out, size_t o, size_t o_lim,
                                                          size_t limit, size_t z,
                                                          const uint8_t* b, size_t run,
                                                          size_t end) {
  const size_t n = end - run;
  if (n <= 16 && o < o_lim) {
    // z < 128: [z, n]; else [z | 0x80, z >> 7, n]
    const uint32_t head = z < 128 ? static_cast<uint32_t>(z | n << 8)
                                  : static_cast<uint32_t>((z & 0x7f) | 0x80 | (z >> 7) << 8 |
                                                          n << 16);
    const size_t hs = z < 128 ? 2 : 3;
    std::memcpy(out + o, &head, 4);  // little-endian hosts only (arch.h)
    std::memcpy(out + o + hs, b + run, 16);
    return o + hs + n;
  }
  return put_pair_exact(out, o, limit, z, n, b + run);
}

template <class V>
XBZRLE_WALK_TARGET inline long encode_walk(const uint8_t* a, const uint8_t* b, size_t size,
                                           uint8_t* out, size_t limit) {
  const size_t full = size & ~static_cast<size_t>(63);
  // 19 bytes of room: 3 header bytes and 16 copied.
  const size_t o_fast = limit >= 19 ? limit - 18 : 0;
  size_t o = 0;          // bytes written
  size_t run = 0;        // where the run in progress starts
  size_t z = 0;          // the zero run before the changed run in progress
  bool changed = false;  // is the run in progress a changed run?

  for (size_t base = 0; base < size; base += 64) {
    uint64_t ne;
    if (base < full) {
      ne = V::diff64(a + base, b + base);
      if (!ne && !changed) {
        // A zero run goes on over an equal block: skip at memory speed.
        base += V::skip_equal(a + base + 64, b + base + 64, full - base - 64);
        continue;
      }
      if (!~ne && changed) {
        // A changed run goes on over a block that differs everywhere: skip
        // the like of it, but no further than the limit lets the run grow
        // (plus a block, to see it overflow), then check it as below.
        const size_t zs = uleb_size(z), room = limit - o;
        const size_t max_n = room > zs + 1 ? room - zs - 1 : 0;
        const size_t known = base + 64 - run;
        size_t len = full - base - 64;
        if (max_n < known) len = 0;
        else if (max_n - known + 64 < len) len = max_n - known + 64;
        base += V::skip_differ(a + base + 64, b + base + 64, len);
        const size_t n = base + 64 - run;
        if (zs + uleb_size(n) + n > room) return -1;
        continue;
      }
    } else {
      ne = V::diff_tail(a + base, b + base, size - base);
    }
    // A busy block costs far more than its memory: fetch ahead so that a
    // page coming from DRAM does not stall every block.
    XBZRLE_PREFETCH(a + base + kPrefetchAhead);
    XBZRLE_PREFETCH(b + base + kPrefetchAhead);
    // Runs in this block start before byte base + 64, so a 16-byte read from
    // any of them stays in the page when base + 80 <= size.
    const size_t o_lim = base + 80 <= size ? o_fast : 0;
    // Bit j set: byte base+j starts a new run (its state differs from the
    // byte before; before byte 0 the state is "equal", so a page that
    // differs at byte 0 starts with a zero run of length 0).
    uint64_t t = ne ^ ((ne << 1) | static_cast<uint64_t>(changed));
    if (changed && t) {  // the changed run in progress ends here
      const size_t end = base + ctz64(t);
      t &= t - 1;
      o = put_pair(out, o, o_lim, limit, z, b, run, end);
      if (o == kOverflow) return -1;
      run = end;
      changed = false;
    }
    // Boundaries alternate: a changed run starts, then ends.
    while (t) {
      const size_t start = base + ctz64(t);
      t &= t - 1;
      z = start - run;
      run = start;
      if (!t) {
        changed = true;
        break;
      }
      const size_t end = base + ctz64(t);
      t &= t - 1;
      const size_t n = end - run;
      if (XBZRLE_LIKELY(((n - 1) | (z >> 3)) < 16 && o < o_lim)) {
        // The busy-page case, inline: z < 128 and 1 <= n <= 16, so the
        // header is two bytes [z, n] and one 16-byte copy takes the run
        // (its bytes past n are scratch inside the slack o_lim leaves).
        const uint16_t head = static_cast<uint16_t>(z | n << 8);
        std::memcpy(out + o, &head, 2);  // little-endian hosts only (arch.h)
        std::memcpy(out + o + 2, b + run, 16);
        o += 2 + n;
      } else {
        o = put_pair(out, o, o_lim, limit, z, b, run, end);
        if (o == kOverflow) return -1;
      }
      run = end;
    }
    if (changed) {
      // The changed run goes on: give up as soon as even its known part
      // cannot fit, so hopeless pages stop early.
      const size_t end = base + 64 < size ? base + 64 : size;
      const size_t n = end - run;
      if (uleb_size(z) + uleb_size(n) + n > limit - o) return -1;
    }
  }
  if (changed) {
    o = put_pair(out, o, 0, limit, z, b, run, size);
    if (o == kOverflow) return -1;
  }
  return static_cast<long>(o);
}

}  // namespace
}  // namespace xbzrle
