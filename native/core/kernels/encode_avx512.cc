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

  XBZRLE_WALK_TARGET static inline __mmask64 diff64(const uint8_t* a, const uint8_t* b) {
    return _mm512_cmpneq_epu8_mask(_mm512_loadu_si512(a), _mm512_loadu_si512(b));
  }

  XBZRLE_WALK_TARGET static inline uint64_t diff_tail(const uint8_t* a, const uint8_t* b,
                                                       size_t len) {
    __mmask64 m = first(len);  // masked-off bytes load as 0 in both: equal
    return _mm512_cmpneq_epu8_mask(_mm512_maskz_loadu_epi8(m, a), _mm512_maskz_loadu_epi8(m, b));
  }

  // Four compares into mask registers; only a chunk with something in it
  // moves its masks to general registers.
  XBZRLE_WALK_TARGET static inline bool quiet256(const uint8_t* a, const uint8_t* b, bool changed,
                                                 uint64_t m[4]) {
    __mmask64 k[4];
    for (int j = 0; j < 4; j++) k[j] = diff64(a + 64 * j, b + 64 * j);
    if (changed) {
      const __mmask64 all = _kand_mask64(_kand_mask64(k[0], k[1]), _kand_mask64(k[2], k[3]));
      if (_kortestc_mask64_u8(all, all)) return true;  // every byte differs
    } else if (_kortestz_mask64_u8(_kor_mask64(k[0], k[1]), _kor_mask64(k[2], k[3]))) {
      return true;  // every byte is equal
    }
    for (int j = 0; j < 4; j++) m[j] = k[j];
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
