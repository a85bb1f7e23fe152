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

  static inline bool quiet256(const uint8_t* a, const uint8_t* b, bool changed,
                              uint64_t m[4]) {
    return quiet_by_masks<Neon>(a, b, changed, m);
  }
};

}  // namespace

long encode_neon(const uint8_t* oldp, const uint8_t* newp, size_t size, uint8_t* out,
                 size_t limit) {
  return encode_walk<Neon>(oldp, newp, size, out, limit);
}

}  // namespace xbzrle

#endif
