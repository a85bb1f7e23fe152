// encode_sse2.cc: the SSE2 kernel (every x86-64 CPU has SSE2). Four 16-byte
// compares make one 64-bit mask for the shared run walker.
#include "../arch.h"

#if defined(XBZRLE_X86_64)
#include <emmintrin.h>

#define XBZRLE_WALK_TARGET XBZRLE_TARGET("sse2")
#include "../encode_walk.h"

namespace xbzrle {
namespace {

struct Sse2 {
  XBZRLE_WALK_TARGET static inline __m128i eq16v(const uint8_t* a, const uint8_t* b) {
    return _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a)),
                          _mm_loadu_si128(reinterpret_cast<const __m128i*>(b)));
  }

  XBZRLE_WALK_TARGET static inline uint32_t eq16(const uint8_t* a, const uint8_t* b) {
    return static_cast<uint32_t>(_mm_movemask_epi8(eq16v(a, b)));
  }

  XBZRLE_WALK_TARGET static inline uint64_t diff64(const uint8_t* a, const uint8_t* b) {
    uint64_t eq = eq16(a, b) | (eq16(a + 16, b + 16) << 16) |
                  (static_cast<uint64_t>(eq16(a + 32, b + 32)) << 32) |
                  (static_cast<uint64_t>(eq16(a + 48, b + 48)) << 48);
    return ~eq;
  }

  XBZRLE_WALK_TARGET static inline uint64_t diff_tail(const uint8_t* a, const uint8_t* b,
                                                       size_t len) {
    TailBlock t(a, b, len);
    return diff64(t.a, t.b);
  }

  XBZRLE_WALK_TARGET static inline bool quiet256(const uint8_t* a, const uint8_t* b, bool changed,
                                                 uint64_t m[4]) {
    return quiet_by_masks<Sse2>(a, b, changed, m);
  }
};

}  // namespace

long encode_sse2(const uint8_t* oldp, const uint8_t* newp, size_t size, uint8_t* out,
                 size_t limit) {
  return encode_walk<Sse2>(oldp, newp, size, out, limit);
}

}  // namespace xbzrle

#endif
