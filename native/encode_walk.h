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
//   bool     kMaskedCopy             true when copy_masked exists
//   void     copy_masked(dst, src, n)  exactly n <= 64 bytes, no byte read or
//                                    written outside [0, n)
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

// Writes the pair (zero run z, changed run n with its bytes at src); false
// on overflow. `src_room` is how many bytes may be read from src.
template <class V>
XBZRLE_WALK_TARGET inline bool put_pair(uint8_t* out, size_t* o, size_t limit, size_t z, size_t n,
                                        const uint8_t* src, size_t src_room) {
  const size_t at = *o;
  const size_t room = limit - at;
  const size_t zs = 1 + (z >= 128);
  if (V::kMaskedCopy) {
    // Masked moves touch exactly n bytes: no slack needed in out or page.
    if (n < 128 && zs + 1 + n <= room) {
      out[at] = static_cast<uint8_t>(z < 128 ? z : (z | 0x80));
      out[at + 1] = static_cast<uint8_t>(z >> 7);  // overwritten when zs == 1
      out[at + zs] = static_cast<uint8_t>(n);
      if (n <= 64) {
        V::copy_masked(out + at + zs + 1, src, n);
      } else {
        std::memcpy(out + at + zs + 1, src, n);
      }
      *o = at + zs + 1 + n;
      return true;
    }
  } else if (n <= 16 && room >= 19 && src_room >= 16) {
    // Short run with slack: one 16-byte move; the bytes past n are scratch
    // that the next pair overwrites (all inside the limit).
    out[at] = static_cast<uint8_t>(z < 128 ? z : (z | 0x80));
    out[at + 1] = static_cast<uint8_t>(z >> 7);
    out[at + zs] = static_cast<uint8_t>(n);
    std::memcpy(out + at + zs + 1, src, 16);
    *o = at + zs + 1 + n;
    return true;
  }
  return put_pair_exact(out, o, limit, z, n, src);
}

template <class V>
XBZRLE_WALK_TARGET inline long encode_walk(const uint8_t* a, const uint8_t* b, size_t size,
                                           uint8_t* out, size_t limit) {
  const size_t full = size & ~static_cast<size_t>(63);
  size_t o = 0;        // bytes written
  size_t run = 0;      // where the run in progress starts
  size_t z = 0;        // the zero run before the changed run in progress
  bool changed = false;  // is the run in progress a changed run?
  for (size_t base = 0; base < size; base += 64) {
    uint64_t ne;
    if (base < full) {
      ne = V::diff64(a + base, b + base);
      if (!ne && !changed) {
        // A zero run goes on over an equal block: skip at memory speed.
        base += 64 + V::skip_equal(a + base + 64, b + base + 64, full - base - 64);
        base -= 64;  // the loop adds it back
        continue;
      }
    } else {
      ne = V::diff_tail(a + base, b + base, size - base);
    }
    // Bit j set: byte base+j starts a new run (its state differs from the
    // byte before; before byte 0 the state is "equal", so a page that
    // differs at byte 0 starts with a zero run of length 0).
    uint64_t t = ne ^ ((ne << 1) | static_cast<uint64_t>(changed));
    while (t) {
      const size_t pos = base + ctz64(t);
      t &= t - 1;
      if (!changed) {
        z = pos - run;
        run = pos;
        changed = true;
        continue;
      }
      if (!put_pair<V>(out, &o, limit, z, pos - run, b + run, size - run)) return -1;
      run = pos;
      changed = false;
    }
    if (changed) {
      // The changed run goes on: give up as soon as even its known part
      // cannot fit, so hopeless pages stop early.
      const size_t end = base + 64 < size ? base + 64 : size;
      const size_t n = end - run;
      if (uleb_size(z) + uleb_size(n) + n > limit - o) return -1;
    }
  }
  if (changed && !put_pair<V>(out, &o, limit, z, size - run, b + run, size - run)) return -1;
  return static_cast<long>(o);
}

}  // namespace
}  // namespace xbzrle
