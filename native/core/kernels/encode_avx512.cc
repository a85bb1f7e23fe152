// encode_avx512.cc: the AVX-512BW kernel. One 64-byte compare gives the
// walker's mask directly in a k register, and masked loads read the page
// tail without a bounce buffer.
#include "../arch.h"

#if defined(XBZRLE_X86_64)
#include <immintrin.h>

#define XBZRLE_WALK_TARGET XBZRLE_TARGET("avx512f,avx512bw,avx2,bmi,bmi2")
#include "../encode_walk.h"

namespace xbzrle {
namespace {

struct Avx512 {
  XBZRLE_WALK_TARGET static inline __mmask64 first(size_t n) {  // n <= 64
    return _bzhi_u64(~0ull, static_cast<unsigned>(n));
  }

  XBZRLE_WALK_TARGET static inline uint64_t diff64(const uint8_t* a, const uint8_t* b) {
    return _mm512_cmpneq_epu8_mask(_mm512_loadu_si512(a), _mm512_loadu_si512(b));
  }

  XBZRLE_WALK_TARGET static inline uint64_t diff_tail(const uint8_t* a, const uint8_t* b,
                                                       size_t len) {
    __mmask64 m = first(len);  // masked-off bytes load as 0 in both: equal
    return _mm512_cmpneq_epu8_mask(_mm512_maskz_loadu_epi8(m, a), _mm512_maskz_loadu_epi8(m, b));
  }

  XBZRLE_WALK_TARGET static inline __m512i xor64(const uint8_t* a, const uint8_t* b) {
    return _mm512_xor_si512(_mm512_loadu_si512(a), _mm512_loadu_si512(b));
  }

  XBZRLE_WALK_TARGET static inline size_t skip_equal(const uint8_t* a, const uint8_t* b,
                                                      size_t len) {
    size_t k = 0;
    // 256 bytes a step, one branch: eight loads, the ORs of four XORs as
    // one ternary-logic op and one OR, one test.
    for (; k + 256 <= len; k += 256) {
      __m512i x = _mm512_ternarylogic_epi64(xor64(a + k, b + k), xor64(a + k + 64, b + k + 64),
                                            xor64(a + k + 128, b + k + 128), 0xfe);
      x = _mm512_or_si512(x, xor64(a + k + 192, b + k + 192));
      if (_mm512_test_epi64_mask(x, x)) break;
    }
    for (; k + 64 <= len; k += 64) {
      __m512i x = xor64(a + k, b + k);
      if (_mm512_test_epi64_mask(x, x)) break;
    }
    return k;
  }

  XBZRLE_WALK_TARGET static inline size_t skip_differ(const uint8_t* a, const uint8_t* b,
                                                       size_t len) {
    size_t k = 0;
    for (; k + 64 <= len; k += 64)
      if (_mm512_cmpeq_epu8_mask(_mm512_loadu_si512(a + k), _mm512_loadu_si512(b + k))) break;
    return k;
  }
};

}  // namespace

long encode_avx512bw(const uint8_t* oldp, const uint8_t* newp, size_t size, uint8_t* out,
                     size_t limit) {
  return encode_walk<Avx512>(oldp, newp, size, out, limit);
}

}  // namespace xbzrle

#endif
