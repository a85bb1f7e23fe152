// reference.h: a deliberately plain decoder and encoder written from
// docs/FORMAT.md §1, byte by byte, sharing no code with the
// core. The fuzz targets hold every kernel and the decoder to these.
#ifndef XBZRLE_FUZZ_REFERENCE_H
#define XBZRLE_FUZZ_REFERENCE_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ref {

// Rejection reasons, numbered as native/core/xbzrle.h `Reject` (the numbers are
// the library's ABI, so the fuzzer also checks the reason the core gives).
enum Reason : int {
  kOk = 0,
  kTruncated = 1,    // fewer than 2 bytes left where a length must be read
  kUlebTooLong = 2,  // first and second length byte both carry 0x80
  kEmptyZeroRun = 3, // a zero run of length 0 that is not the first
  kEmptyDataRun = 4, // a changed run of length 0
  kPastPage = 5,     // a run ends past the page
  kPastInput = 6,    // a changed run's bytes end past the delta
};

struct Decoded {
  long result;      // bytes covered when accepted, -1 when rejected
  Reason reason;    // kOk when accepted
  size_t offset;    // where the length being read starts, when rejected
};

// One length at D[i]; the caller has checked that two bytes are there.
// Returns false for a length that would need a third byte.
inline bool read_length(const uint8_t* D, size_t i, size_t* value, size_t* bytes) {
  uint8_t first = D[i];
  if (first < 128) {
    *value = first;
    *bytes = 1;
    return true;
  }
  uint8_t second = D[i + 1];
  if (second >= 128) return false;
  *value = (first - 128) + second * 128u;
  *bytes = 2;
  return true;
}

// The verdict loop of docs/FORMAT.md §1, writing the page as it goes (as QEMU
// does: a rejected delta may leave some bytes written here).
inline Decoded decode(const uint8_t* D, size_t S, uint8_t* page, size_t P) {
  size_t i = 0;  // read position in D
  size_t d = 0;  // write position in page
  while (i < S) {
    if (S - i < 2) return {-1, kTruncated, i};
    size_t z, zbytes;
    if (!read_length(D, i, &z, &zbytes)) return {-1, kUlebTooLong, i};
    if (i != 0 && z == 0) return {-1, kEmptyZeroRun, i};
    size_t zat = i;
    i += zbytes;
    d += z;
    if (d > P) return {-1, kPastPage, zat};

    if (S - i < 2) return {-1, kTruncated, i};
    size_t n, nbytes;
    if (!read_length(D, i, &n, &nbytes)) return {-1, kUlebTooLong, i};
    if (n == 0) return {-1, kEmptyDataRun, i};
    size_t nat = i;
    i += nbytes;
    if (d + n > P) return {-1, kPastPage, nat};
    if (i + n > S) return {-1, kPastInput, nat};
    for (size_t k = 0; k < n; k++) page[d + k] = D[i + k];
    d += n;
    i += n;
  }
  return {static_cast<long>(d), kOk, 0};
}

inline void put_length(std::vector<uint8_t>& out, size_t v) {
  // v < 16384 always: no run is longer than a page.
  if (v < 128) {
    out.push_back(static_cast<uint8_t>(v));
  } else {
    out.push_back(static_cast<uint8_t>(128 + v % 128));
    out.push_back(static_cast<uint8_t>(v / 128));
  }
}

// The canonical delta, unbounded: maximal runs, shortest lengths, the first
// zero run always present, no trailing zero run.
inline std::vector<uint8_t> encode(const uint8_t* oldp, const uint8_t* newp, size_t P) {
  std::vector<uint8_t> out;
  size_t i = 0;
  for (;;) {
    size_t z = 0;
    while (i < P && oldp[i] == newp[i]) {
      z++;
      i++;
    }
    if (i == P) break;
    size_t start = i;
    while (i < P && oldp[i] != newp[i]) i++;
    put_length(out, z);
    put_length(out, i - start);
    for (size_t k = start; k < i; k++) out.push_back(newp[k]);
  }
  return out;
}

// The bytes a canonical delta covers: one past the last differing byte.
inline size_t covered(const uint8_t* oldp, const uint8_t* newp, size_t P) {
  size_t c = 0;
  for (size_t i = 0; i < P; i++)
    if (oldp[i] != newp[i]) c = i + 1;
  return c;
}

}  // namespace ref

#endif
