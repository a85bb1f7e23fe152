// uleb128.h: run lengths as QEMU writes and reads them (docs/FORMAT.md §1):
// one byte below 128, two bytes up to 16383; the reader takes at most two.
#ifndef XBZRLE_ULEB128_H
#define XBZRLE_ULEB128_H

#include <cstddef>
#include <cstdint>

namespace xbzrle {

inline size_t uleb_size(size_t v) { return v < 128 ? 1 : v < 16384 ? 2 : 3; }

// Writes v (< 16384) and returns the bytes written (1 or 2).
inline size_t uleb_put(uint8_t* p, size_t v) {
  if (v < 128) {
    p[0] = static_cast<uint8_t>(v);
    return 1;
  }
  p[0] = static_cast<uint8_t>((v & 0x7f) | 0x80);
  p[1] = static_cast<uint8_t>(v >> 7);
  return 2;
}

// Reads a length from p[0..avail). The caller guarantees avail >= 2 (QEMU's
// decoder checks that before every read). Returns bytes consumed (1 or 2),
// or 0 when both bytes carry the continuation bit (QEMU rejects that).
inline size_t uleb_get(const uint8_t* p, size_t* v) {
  uint8_t b0 = p[0];
  if (!(b0 & 0x80)) {
    *v = b0;
    return 1;
  }
  uint8_t b1 = p[1];
  if (b1 & 0x80) return 0;
  *v = static_cast<size_t>(b0 & 0x7f) | (static_cast<size_t>(b1) << 7);
  return 2;
}

}  // namespace xbzrle

#endif
