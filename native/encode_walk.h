// encode_walk.h: the run walker every SIMD kernel shares. A kernel supplies
// a 64-bit "differs" mask per 64-byte block; the walker turns mask bits into
// run boundaries and writes the canonical delta (FORMAT.md 1).
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

// The pair (z, n, src[0..n)) written exactly; false when it does not fit.
// The slow path: long runs, and short ones near the limit or the page end.
inline bool put_pair_exact(uint8_t* out, size_t* o, size_t limit, size_t z, size_t n,
                           const uint8_t* src) {
  size_t at = *o;
  if (uleb_size(z) + uleb_size(n) + n > limit - at) return false;
  at += uleb_put(out + at, z);
  at += uleb_put(out + at, n);
  std::memcpy(out + at, src, n);
  *o = at + n;
  return true;
}

// A short pair (n <= 16) with room to spare: a 4-byte header store (ULEB128
// of z, then n; the bytes past it are scratch) and one 16-byte copy that may
// run past n into the slack the caller checked. Both lengths need no branch.
XBZRLE_WALK_TARGET inline size_t put_short_pair(uint8_t* out, size_t o, size_t z, size_t n,
                                                const uint8_t* src) {
  const uint32_t two = z >= 128;
  const uint32_t zlow = static_cast<uint32_t>(z) | (two << 7);  // low 7 bits + continuation
  const uint32_t head = (zlow & 0xff) | (static_cast<uint32_t>(z >> 7) << 8);
  // z < 128: [z, n]; z >= 128: [z | 0x80, z >> 7, n]
  const uint32_t word = two ? head | (static_cast<uint32_t>(n) << 16)
                            : (zlow & 0xff) | (static_cast<uint32_t>(n) << 8);
  std::memcpy(out + o, &word, 4);  // little-endian hosts only (arch.h)
  const size_t hs = 2 + two;
  std::memcpy(out + o + hs, src, 16);
  return o + hs + n;
}

// The output side of the walk.
struct Writer {
  uint8_t* out;
  const uint8_t* b;  // the new page
  size_t limit;
  size_t o;      // bytes written
  size_t run;    // where the run in progress starts
  size_t z;      // the zero run before the changed run in progress

  // Ends the changed run in progress at `pos`; false on overflow. Short
  // runs take the fast path while o < o_lim (callers make o_lim 0 where
  // the 19 bytes of slack or the 16-byte read are not available).
  XBZRLE_WALK_TARGET inline bool end_changed(size_t pos, size_t o_lim) {
    const size_t n = pos - run;
    if (n <= 16 && o < o_lim) {
      o = put_short_pair(out, o, z, n, b + run);
      return true;
    }
    return put_pair_exact(out, &o, limit, z, n, b + run);
  }
};

template <class V>
XBZRLE_WALK_TARGET inline long encode_walk(const uint8_t* a, const uint8_t* b, size_t size,
                                           uint8_t* out, size_t limit) {
  const size_t full = size & ~static_cast<size_t>(63);
  // 19 bytes of room: 3 header bytes and 16 copied.
  const size_t o_fast = limit >= 19 ? limit - 18 : 0;
  Writer w{out, b, limit, 0, 0, 0};
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
    } else {
      ne = V::diff_tail(a + base, b + base, size - base);
    }
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
      if (!w.end_changed(end, o_lim)) return -1;
      w.run = end;
      changed = false;
    }
    // Boundaries alternate: a changed run starts, then ends.
    while (t) {
      const size_t start = base + ctz64(t);
      t &= t - 1;
      w.z = start - w.run;
      w.run = start;
      if (!t) {
        changed = true;
        break;
      }
      const size_t end = base + ctz64(t);
      t &= t - 1;
      if (!w.end_changed(end, o_lim)) return -1;
      w.run = end;
    }
    if (changed) {
      // The changed run goes on: give up as soon as even its known part
      // cannot fit, so hopeless pages stop early.
      const size_t end = base + 64 < size ? base + 64 : size;
      const size_t n = end - w.run;
      if (uleb_size(w.z) + uleb_size(n) + n > limit - w.o) return -1;
    }
  }
  if (changed && !w.end_changed(size, 0)) return -1;
  return static_cast<long>(w.o);
}

}  // namespace
}  // namespace xbzrle
