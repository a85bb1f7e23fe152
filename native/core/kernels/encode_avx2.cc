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

  XBZRLE_WALK_TARGET static inline uint64_t mask64(__m256i lo, __m256i hi) {
    return static_cast<uint32_t>(_mm256_movemask_epi8(lo)) |
           static_cast<uint64_t>(static_cast<uint32_t>(_mm256_movemask_epi8(hi))) << 32;
  }

  // One test per chunk, as memcmp does: with no changed run open, eight
  // XORs ORed (zero: all equal); with one open, eight compares for equal
  // ORed (zero: all differ). A chunk with something in it takes its masks
  // from the same vectors.
  XBZRLE_WALK_TARGET static inline bool quiet256(const uint8_t* a, const uint8_t* b, bool changed,
                                                 uint64_t m[4]) {
    const __m256i zero = _mm256_setzero_si256();
    __m256i x[8];
    for (int j = 0; j < 8; j++) {
      x[j] = _mm256_xor_si256(load(a + 32 * j), load(b + 32 * j));
      if (changed) x[j] = _mm256_cmpeq_epi8(x[j], zero);  // 0xff where equal
    }
    const __m256i y = _mm256_or_si256(
        _mm256_or_si256(_mm256_or_si256(x[0], x[1]), _mm256_or_si256(x[2], x[3])),
        _mm256_or_si256(_mm256_or_si256(x[4], x[5]), _mm256_or_si256(x[6], x[7])));
    if (_mm256_testz_si256(y, y)) return true;
    for (int j = 0; j < 4; j++) {
      const __m256i lo = changed ? x[2 * j] : _mm256_cmpeq_epi8(x[2 * j], zero);
      const __m256i hi = changed ? x[2 * j + 1] : _mm256_cmpeq_epi8(x[2 * j + 1], zero);
      m[j] = ~mask64(lo, hi);
    }
    return false;
  }
};

}  // namespace

long encode_avx2(const uint8_t* oldp, const uint8_t* newp, size_t size, uint8_t* out,
                 size_t limit) {
  return encode_walk<Avx2>(oldp, newp, size, out, limit);
}

}  // namespace xbzrle

#endif
