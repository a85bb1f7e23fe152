// encode_neon.cc: the NEON kernel (AArch64). NEON has no movemask: four
// 16-byte compares are weighted by bit and summed pairwise into one 64-bit
// mask for the shared run walker.
#include "../arch.h"

#if defined(XBZRLE_ARM64)
#include <arm_neon.h>

#define XBZRLE_WALK_TARGET
#include "../encode_walk.h"

namespace xbzrle {
namespace {

struct Neon {
  static inline uint64_t diff64(const uint8_t* a, const uint8_t* b) {
    static const uint8_t kBits[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t bits = vld1q_u8(kBits);
    // Equal lanes are 0xff; weighting and three pairwise adds pack 64
    // lanes into 64 bits, lane j into bit j.
    uint8x16_t e0 = vandq_u8(vceqq_u8(vld1q_u8(a), vld1q_u8(b)), bits);
    uint8x16_t e1 = vandq_u8(vceqq_u8(vld1q_u8(a + 16), vld1q_u8(b + 16)), bits);
    uint8x16_t e2 = vandq_u8(vceqq_u8(vld1q_u8(a + 32), vld1q_u8(b + 32)), bits);
    uint8x16_t e3 = vandq_u8(vceqq_u8(vld1q_u8(a + 48), vld1q_u8(b + 48)), bits);
    uint8x16_t s = vpaddq_u8(vpaddq_u8(e0, e1), vpaddq_u8(e2, e3));
    s = vpaddq_u8(s, s);
    return ~vgetq_lane_u64(vreinterpretq_u64_u8(s), 0);
  }

  static inline uint64_t diff_tail(const uint8_t* a, const uint8_t* b, size_t len) {
    TailBlock t(a, b, len);
    return diff64(t.a, t.b);
  }

  static inline uint8x16_t xor16(const uint8_t* a, const uint8_t* b) {
    return veorq_u8(vld1q_u8(a), vld1q_u8(b));
  }

  static inline bool zero(uint8x16_t x) {
    uint64x2_t w = vreinterpretq_u64_u8(x);
    return (vgetq_lane_u64(w, 0) | vgetq_lane_u64(w, 1)) == 0;
  }

  static inline size_t skip_equal(const uint8_t* a, const uint8_t* b, size_t len) {
    size_t k = 0;
    for (; k + 128 <= len; k += 128) {
      uint8x16_t x =
          vorrq_u8(vorrq_u8(xor16(a + k, b + k), xor16(a + k + 16, b + k + 16)),
                   vorrq_u8(xor16(a + k + 32, b + k + 32), xor16(a + k + 48, b + k + 48)));
      uint8x16_t y = vorrq_u8(
          vorrq_u8(xor16(a + k + 64, b + k + 64), xor16(a + k + 80, b + k + 80)),
          vorrq_u8(xor16(a + k + 96, b + k + 96), xor16(a + k + 112, b + k + 112)));
      if (!zero(vorrq_u8(x, y))) break;
    }
    for (; k + 64 <= len; k += 64) {
      uint8x16_t x =
          vorrq_u8(vorrq_u8(xor16(a + k, b + k), xor16(a + k + 16, b + k + 16)),
                   vorrq_u8(xor16(a + k + 32, b + k + 32), xor16(a + k + 48, b + k + 48)));
      if (!zero(x)) break;
    }
    return k;
  }

  static inline size_t skip_differ(const uint8_t* a, const uint8_t* b, size_t len) {
    size_t k = 0;
    for (; k + 64 <= len; k += 64) {
      uint8x16_t e = vorrq_u8(
          vorrq_u8(vceqq_u8(vld1q_u8(a + k), vld1q_u8(b + k)),
                   vceqq_u8(vld1q_u8(a + k + 16), vld1q_u8(b + k + 16))),
          vorrq_u8(vceqq_u8(vld1q_u8(a + k + 32), vld1q_u8(b + k + 32)),
                   vceqq_u8(vld1q_u8(a + k + 48), vld1q_u8(b + k + 48))));
      if (!zero(e)) break;  // some byte is equal
    }
    return k;
  }
};

}  // namespace

long encode_neon(const uint8_t* oldp, const uint8_t* newp, size_t size, uint8_t* out,
                 size_t limit) {
  return encode_walk<Neon>(oldp, newp, size, out, limit);
}

}  // namespace xbzrle

#endif
