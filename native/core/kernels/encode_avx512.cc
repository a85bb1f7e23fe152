// encode_avx512.cc: the AVX-512BW kernel. One 64-byte compare gives the
// walker's mask directly in a k register, and masked loads read the page
// tail without a bounce buffer. The tight loop over quiet chunks reads
// 32 bytes at a time (see quiet256).
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

  XBZRLE_WALK_TARGET static inline __mmask64 diff64(const uint8_t* a, const uint8_t* b) {
    return _mm512_cmpneq_epu8_mask(_mm512_loadu_si512(a), _mm512_loadu_si512(b));
  }

  XBZRLE_WALK_TARGET static inline uint64_t diff_tail(const uint8_t* a, const uint8_t* b,
                                                       size_t len) {
    __mmask64 m = first(len);  // masked-off bytes load as 0 in both: equal
    return _mm512_cmpneq_epu8_mask(_mm512_maskz_loadu_epi8(m, a), _mm512_maskz_loadu_epi8(m, b));
  }

  // The tight loop's one test per chunk uses 32-byte loads: streaming from
  // DRAM (COLD rows), a loop of 64-byte loads ran 15-30% slower on Zen 5,
  // and the same speed in L2. No run open: XORs ORed (zero: all equal);
  // one open: compares for equal ORed (zero: all differ). The chunk that
  // ends the loop reads its 256 bytes again for its four masks, with
  // 64-byte compares. One accumulator, not an array of eight: the array
  // spilled to the stack and the function stopped inlining (L2 rows about
  // 20% slower).
  XBZRLE_WALK_TARGET static inline __m256i load32(const uint8_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }

  XBZRLE_WALK_TARGET static inline bool quiet256(const uint8_t* a, const uint8_t* b, bool changed,
                                                 uint64_t m[4]) {
    __m256i y = _mm256_setzero_si256();
    if (changed) {
      for (int j = 0; j < 8; j++)
        y = _mm256_or_si256(y, _mm256_cmpeq_epi8(load32(a + 32 * j), load32(b + 32 * j)));
    } else {
      for (int j = 0; j < 8; j++)
        y = _mm256_or_si256(y, _mm256_xor_si256(load32(a + 32 * j), load32(b + 32 * j)));
    }
    if (_mm256_testz_si256(y, y)) return true;
    for (int j = 0; j < 4; j++) m[j] = diff64(a + 64 * j, b + 64 * j);
    return false;
  }
};

}  // namespace

long encode_avx512bw(const uint8_t* oldp, const uint8_t* newp, size_t size, uint8_t* out,
                     size_t limit) {
  return encode_walk<Avx512>(oldp, newp, size, out, limit);
}

}  // namespace xbzrle

#endif
