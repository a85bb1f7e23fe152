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

  XBZRLE_WALK_TARGET static inline __m128i xor16(const uint8_t* a, const uint8_t* b) {
    return _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a)),
                         _mm_loadu_si128(reinterpret_cast<const __m128i*>(b)));
  }

  XBZRLE_WALK_TARGET static inline bool equal64(const uint8_t* a, const uint8_t* b) {
    __m128i x = _mm_or_si128(_mm_or_si128(xor16(a, b), xor16(a + 16, b + 16)),
                             _mm_or_si128(xor16(a + 32, b + 32), xor16(a + 48, b + 48)));
    return _mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_setzero_si128())) == 0xffff;
  }

  XBZRLE_WALK_TARGET static inline size_t skip_equal(const uint8_t* a, const uint8_t* b,
                                                      size_t len) {
    size_t k = 0;
    // 128 bytes a step, one branch, as memcmp does.
    for (; k + 128 <= len; k += 128) {
      __m128i x = _mm_or_si128(_mm_or_si128(xor16(a + k, b + k), xor16(a + k + 16, b + k + 16)),
                               _mm_or_si128(xor16(a + k + 32, b + k + 32),
                                            xor16(a + k + 48, b + k + 48)));
      __m128i y = _mm_or_si128(
          _mm_or_si128(xor16(a + k + 64, b + k + 64), xor16(a + k + 80, b + k + 80)),
          _mm_or_si128(xor16(a + k + 96, b + k + 96), xor16(a + k + 112, b + k + 112)));
      if (_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_or_si128(x, y), _mm_setzero_si128())) != 0xffff)
        break;
    }
    for (; k + 64 <= len && equal64(a + k, b + k); k += 64) {
    }
    return k;
  }

  XBZRLE_WALK_TARGET static inline size_t skip_differ(const uint8_t* a, const uint8_t* b,
                                                       size_t len) {
    size_t k = 0;
    for (; k + 64 <= len; k += 64) {
      __m128i e = _mm_or_si128(_mm_or_si128(eq16v(a + k, b + k), eq16v(a + k + 16, b + k + 16)),
                               _mm_or_si128(eq16v(a + k + 32, b + k + 32),
                                            eq16v(a + k + 48, b + k + 48)));
      if (_mm_movemask_epi8(e)) break;  // some byte is equal
    }
    return k;
  }
};

}  // namespace

long encode_sse2(const uint8_t* oldp, const uint8_t* newp, size_t size, uint8_t* out,
                 size_t limit) {
  return encode_walk<Sse2>(oldp, newp, size, out, limit);
}

}  // namespace xbzrle

#endif
