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
//   bool     quiet256(a, b, changed, m)  true when nothing happens in the
//                                    256 bytes: all equal (!changed) or all
//                                    different (changed); else fills m[0..4)
//                                    with the four blocks' diff64 masks
//                                    (quiet_by_masks below does it from diff64)
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

// quiet256 from four diff64 masks, for kernels with nothing cheaper.
template <class V>
XBZRLE_WALK_TARGET inline bool quiet_by_masks(const uint8_t* a, const uint8_t* b, bool changed,
                                              uint64_t m[4]) {
  for (int j = 0; j < 4; j++) m[j] = V::diff64(a + 64 * j, b + 64 * j);
  // No branch on `changed`: on a busy page it flips from chunk to chunk.
  const uint64_t c = 0 - static_cast<uint64_t>(changed);
  const uint64_t any = m[0] | m[1] | m[2] | m[3], all = m[0] & m[1] & m[2] & m[3];
  return ((any & ~c) | (~all & c)) == 0;
}

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
  // 19 bytes of room: 3 header bytes and 16 copied.
  const size_t o_fast = limit >= 19 ? limit - 18 : 0;
  size_t o = 0;          // bytes written
  size_t run = 0;        // where the run in progress starts
  size_t z = 0;          // the zero run before the changed run in progress
  bool changed = false;  // is the run in progress a changed run?

  for (size_t chunk = 0; chunk < size; chunk += 256) {
    // Four blocks a step, their masks computed once. A chunk where nothing
    // happens (equal while no changed run is open, or differing everywhere
    // while one is) starts a tight loop over the like of it, one test each;
    // the chunk that stops it is walked from the same masks, so no block is
    // compared twice.
    uint64_t m[4];
    if (chunk + 256 <= size && quiet_by_masks<V>(a + chunk, b + chunk, changed, m)) {
      chunk += 256;
      if (!changed) {
        while (chunk + 256 <= size && V::quiet256(a + chunk, b + chunk, false, m)) chunk += 256;
      } else {
        // The run grows by whole chunks only while it surely fits (n plus
        // three length bytes at most); the chunk where that may end is
        // walked block by block below, which stops exactly where the run
        // no longer fits.
        const size_t zs = uleb_size(z), room = limit - o;
        const size_t stop = room > zs + 3 ? run + (room - zs - 3) : run;
        while (chunk + 256 <= size && chunk + 256 <= stop &&
               V::quiet256(a + chunk, b + chunk, true, m))
          chunk += 256;
        if (chunk + 256 <= size && chunk + 256 > stop)
          for (int j = 0; j < 4; j++) m[j] = V::diff64(a + chunk + 64 * j, b + chunk + 64 * j);
      }
    }
    if (chunk >= size) break;
    if (chunk + 256 > size) {
      // The last, short chunk: blocks past the page read as equal.
      for (int j = 0; j < 4; j++) {
        const size_t at = chunk + 64 * static_cast<size_t>(j);
        m[j] = at + 64 <= size ? V::diff64(a + at, b + at)
               : at < size     ? V::diff_tail(a + at, b + at, size - at)
                               : 0;
      }
    }
    for (size_t base = chunk; base < chunk + 256 && base < size; base += 64) {
      const uint64_t ne = m[(base - chunk) / 64];
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
  }
  if (changed) {
    o = put_pair(out, o, 0, limit, z, b, run, size);
    if (o == kOverflow) return -1;
  }
  return static_cast<long>(o);
}

}  // namespace
}  // namespace xbzrle
