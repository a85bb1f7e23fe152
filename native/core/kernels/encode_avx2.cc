// encode_avx2.cc: the AVX2 kernel. Two 32-byte compares make one 64-bit mask
// for the shared run walker; BMI1/2 make the bit walk cheaper.
#include "../arch.h"

#if defined(XBZRLE_X86_64)
#include <immintrin.h>

#define XBZRLE_WALK_TARGET XBZRLE_TARGET("avx2,bmi,bmi2")
#include "../encode_walk.h"

namespace xbzrle {
namespace {

struct Avx2 {
  XBZRLE_WALK_TARGET static inline __m256i load(const uint8_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }

  XBZRLE_WALK_TARGET static inline uint64_t diff64(const uint8_t* a, const uint8_t* b) {
    uint32_t lo =
        static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(load(a), load(b))));
    uint32_t hi = static_cast<uint32_t>(
        _mm256_movemask_epi8(_mm256_cmpeq_epi8(load(a + 32), load(b + 32))));
    return ~(lo | (static_cast<uint64_t>(hi) << 32));
  }

  XBZRLE_WALK_TARGET static inline uint64_t diff_tail(const uint8_t* a, const uint8_t* b,
                                                       size_t len) {
    TailBlock t(a, b, len);
    return diff64(t.a, t.b);
  }

  XBZRLE_WALK_TARGET static inline __m256i xor32(const uint8_t* a, const uint8_t* b) {
    return _mm256_xor_si256(load(a), load(b));
  }

  XBZRLE_WALK_TARGET static inline size_t skip_equal(const uint8_t* a, const uint8_t* b,
                                                      size_t len) {
    size_t k = 0;
    // 128 bytes a step, one branch, as memcmp does.
    for (; k + 128 <= len; k += 128) {
      __m256i x = _mm256_or_si256(
          _mm256_or_si256(xor32(a + k, b + k), xor32(a + k + 32, b + k + 32)),
          _mm256_or_si256(xor32(a + k + 64, b + k + 64), xor32(a + k + 96, b + k + 96)));
      if (!_mm256_testz_si256(x, x)) break;
    }
    for (; k + 64 <= len; k += 64) {
      __m256i x = _mm256_or_si256(xor32(a + k, b + k), xor32(a + k + 32, b + k + 32));
      if (!_mm256_testz_si256(x, x)) break;
    }
    return k;
  }

  XBZRLE_WALK_TARGET static inline size_t skip_differ(const uint8_t* a, const uint8_t* b,
                                                       size_t len) {
    size_t k = 0;
    for (; k + 64 <= len; k += 64) {
      __m256i e = _mm256_or_si256(_mm256_cmpeq_epi8(load(a + k), load(b + k)),
                                  _mm256_cmpeq_epi8(load(a + k + 32), load(b + k + 32)));
      if (!_mm256_testz_si256(e, e)) break;  // some byte is equal
    }
    return k;
  }
};

}  // namespace

long encode_avx2(const uint8_t* oldp, const uint8_t* newp, size_t size, uint8_t* out,
                 size_t limit) {
  return encode_walk<Avx2>(oldp, newp, size, out, limit);
}

}  // namespace xbzrle

#endif
