// encode_portable.cc: the reference kernel, eight bytes at a time. Every
// other kernel must emit exactly these bytes (docs/FORMAT.md §1, canonical form).
#include "xbzrle.h"
#include "uleb128.h"
#include "word.h"

#include <cstring>

namespace xbzrle {

namespace {

// Bytes from the start where a and b agree (up to len).
size_t equal_run(const uint8_t* a, const uint8_t* b, size_t len) {
  size_t k = 0;
  // Most zero runs in a busy page are short: a word at a time first.
  for (; k + 8 <= len && k < 32; k += 8) {
    uint64_t x = load_le64(a + k) ^ load_le64(b + k);
    if (x) return k + ctz64(x) / 8;
  }
  // Long equal stretches: four words a step and one branch, so the loads
  // overlap; then the word that differs is found below.
  for (; k + 32 <= len; k += 32) {
    uint64_t x = (load_le64(a + k) ^ load_le64(b + k)) |
                 (load_le64(a + k + 8) ^ load_le64(b + k + 8)) |
                 (load_le64(a + k + 16) ^ load_le64(b + k + 16)) |
                 (load_le64(a + k + 24) ^ load_le64(b + k + 24));
    if (x) break;
  }
  for (; k + 8 <= len; k += 8) {
    uint64_t x = load_le64(a + k) ^ load_le64(b + k);
    if (x) return k + ctz64(x) / 8;
  }
  while (k < len && a[k] == b[k]) k++;
  return k;
}

// Bytes from the start where a and b differ (up to len).
size_t diff_run(const uint8_t* a, const uint8_t* b, size_t len) {
  size_t k = 0;
  for (; k + 8 <= len; k += 8) {
    uint64_t z = zero_byte_mask(load_le64(a + k) ^ load_le64(b + k));
    if (z) return k + ctz64(z) / 8;
  }
  while (k < len && a[k] != b[k]) k++;
  return k;
}

}  // namespace

long encode_portable(const uint8_t* oldp, const uint8_t* newp, size_t size,
                     uint8_t* out, size_t limit) {
  size_t i = 0, o = 0;
  for (;;) {
    size_t z = equal_run(oldp + i, newp + i, size - i);
    i += z;
    if (i == size) return static_cast<long>(o);  // no trailing zero run
    // The changed run must fit what is left of the limit with both lengths:
    // scan no further than that, so hopeless pages stop early.
    size_t room = limit - o;
    size_t zs = uleb_size(z);
    if (room < zs + 2) return -1;
    size_t cap = room - zs - 1;  // n <= cap is necessary
    size_t avail = size - i;
    size_t n = diff_run(oldp + i, newp + i, avail < cap + 1 ? avail : cap + 1);
    if (n > cap || zs + uleb_size(n) + n > room) return -1;
    o += uleb_put(out + o, z);
    o += uleb_put(out + o, n);
    if (n <= 8 && limit - o >= 8 && size - i >= 8) {
      // A short run with room after it: one 8-byte move instead of a
      // library call; the bytes past n are scratch inside the limit.
      std::memcpy(out + o, newp + i, 8);
    } else {
      std::memcpy(out + o, newp + i, n);
    }
    o += n;
    i += n;
  }
}

}  // namespace xbzrle
