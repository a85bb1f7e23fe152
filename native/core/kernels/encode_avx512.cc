// encode_avx512.cc: the AVX-512BW kernel. One 64-byte compare gives the
// walker's mask directly in a k register, and masked loads read the page
// tail without a bounce buffer. Two variants differ only in how wide the
// tight loop over quiet chunks reads (see all_quiet).
#include "../arch.h"

#if defined(XBZRLE_X86_64)
#include <immintrin.h>

#define XBZRLE_WALK_TARGET XBZRLE_TARGET("avx512f,avx512bw,avx2,bmi,bmi2")
#include "../encode_walk.h"

namespace xbzrle {
namespace {

// kWide: the quiet-chunk loop reads 64 bytes a load, else 32 (all_quiet).
template <bool kWide>
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

  // The tight loop over quiet chunks tests a chunk at once: no run open,
  // XORs ORed (zero: all equal); one open, compares for equal ORed (zero:
  // all differ). The chunk that ends the loop reads its 256 bytes again for
  // its four masks, with 64-byte compares. Which load width streams faster
  // depends on the core, so both exist and dispatch.cc picks per vendor:
  // on Zen 5, 64-byte loads from DRAM (COLD rows) ran 15-30% slower than
  // 32-byte ones and the same in L2; on a Xeon (Emerald Rapids) 32-byte
  // loads made L2 a, b and d 15-25% slower (L2 b at 1.19-1.31x the memcmp
  // floor, 0.92-0.99x with 64-byte loads). One accumulator, not an array: an
  // array of eight spilled to the stack and the function stopped inlining.
  XBZRLE_WALK_TARGET static inline __m256i load32(const uint8_t* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }

  XBZRLE_WALK_TARGET static inline bool all_quiet(const uint8_t* a, const uint8_t* b,
                                                  bool changed) {
    if (kWide) {
      if (changed) {
        __mmask64 k = 0;
        for (int j = 0; j < 4; j++)
          k |= _mm512_cmpeq_epi8_mask(_mm512_loadu_si512(a + 64 * j), _mm512_loadu_si512(b + 64 * j));
        return k == 0;
      }
      __m512i y = _mm512_setzero_si512();
      for (int j = 0; j < 4; j++)
        y = _mm512_or_si512(y, _mm512_xor_si512(_mm512_loadu_si512(a + 64 * j),
                                                _mm512_loadu_si512(b + 64 * j)));
      return _mm512_test_epi64_mask(y, y) == 0;
    }
    __m256i y = _mm256_setzero_si256();
    if (changed) {
      for (int j = 0; j < 8; j++)
        y = _mm256_or_si256(y, _mm256_cmpeq_epi8(load32(a + 32 * j), load32(b + 32 * j)));
    } else {
      for (int j = 0; j < 8; j++)
        y = _mm256_or_si256(y, _mm256_xor_si256(load32(a + 32 * j), load32(b + 32 * j)));
    }
    return _mm256_testz_si256(y, y);
  }

  XBZRLE_WALK_TARGET static inline bool quiet256(const uint8_t* a, const uint8_t* b, bool changed,
                                                 uint64_t m[4]) {
    if (all_quiet(a, b, changed)) return true;
    for (int j = 0; j < 4; j++) m[j] = diff64(a + 64 * j, b + 64 * j);
    return false;
  }
};

}  // namespace

long encode_avx512bw_q32(const uint8_t* oldp, const uint8_t* newp, size_t size, uint8_t* out,
                         size_t limit) {
  return encode_walk<Avx512<false>>(oldp, newp, size, out, limit);
}

long encode_avx512bw_q64(const uint8_t* oldp, const uint8_t* newp, size_t size, uint8_t* out,
                         size_t limit) {
  return encode_walk<Avx512<true>>(oldp, newp, size, out, limit);
}

}  // namespace xbzrle

#endif
