// word.h: 64-bit word helpers for the portable kernel. Loads are little-endian
// whatever the host, so "lowest set bit" always means "first byte in memory".
#ifndef XBZRLE_WORD_H
#define XBZRLE_WORD_H

#include <cstdint>
#include <cstring>
#if defined(_MSC_VER)
#include <intrin.h>
#include <stdlib.h>
#endif

namespace xbzrle {

inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);  // one unaligned load on every compiler we target
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

inline unsigned ctz64(uint64_t v) {  // v != 0
#if defined(_MSC_VER)
  unsigned long i;
  _BitScanForward64(&i, v);
  return static_cast<unsigned>(i);
#else
  return static_cast<unsigned>(__builtin_ctzll(v));
#endif
}

inline unsigned ctz32(uint32_t v) {  // v != 0
#if defined(_MSC_VER)
  unsigned long i;
  _BitScanForward(&i, v);
  return static_cast<unsigned>(i);
#else
  return static_cast<unsigned>(__builtin_ctz(v));
#endif
}

// Marks the lowest zero byte of x with its 0x80 bit. Bits above the lowest
// zero byte may be false positives (a borrow), bits below it never are, so
// the lowest set bit is exact.
inline uint64_t zero_byte_mask(uint64_t x) {
  return (x - 0x0101010101010101ull) & ~x & 0x8080808080808080ull;
}

}  // namespace xbzrle

#endif
