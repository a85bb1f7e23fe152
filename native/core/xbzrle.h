// xbzrle.h: the C++ contract of the codec core (FORMAT.md section 1).
// No Node header here or in any core file: the same sources build the addon,
// the standalone tests and the fuzz targets.
#ifndef XBZRLE_H
#define XBZRLE_H

#include <cstddef>
#include <cstdint>

#include "arch.h"

namespace xbzrle {

// A run length must fit QEMU's two-byte ULEB128, so pages are 1..16384 bytes.
constexpr size_t kMaxPageSize = 16384;
constexpr size_t kDefaultPageSize = 4096;

// Encoders write the canonical delta of `newp` against `oldp` (both `size`
// bytes) into `out`, never writing more than `limit` bytes (limit <= size).
// Return: the delta length; 0 when the pages are equal; -1 when the canonical
// delta is longer than `limit` (overflow). Every kernel returns the same bytes.
using EncodeFn = long (*)(const uint8_t* oldp, const uint8_t* newp, size_t size,
                          uint8_t* out, size_t limit);

long encode_portable(const uint8_t* oldp, const uint8_t* newp, size_t size,
                     uint8_t* out, size_t limit);
// SIMD kernels: call one only when cpu_features() says this CPU runs it
// (dispatch.cc does that).
#if defined(XBZRLE_X86_64)
long encode_sse2(const uint8_t* oldp, const uint8_t* newp, size_t size, uint8_t* out,
                 size_t limit);
long encode_avx2(const uint8_t* oldp, const uint8_t* newp, size_t size, uint8_t* out,
                 size_t limit);
long encode_avx512bw(const uint8_t* oldp, const uint8_t* newp, size_t size, uint8_t* out,
                     size_t limit);
#endif
#if defined(XBZRLE_ARM64)
long encode_neon(const uint8_t* oldp, const uint8_t* newp, size_t size, uint8_t* out,
                 size_t limit);
#endif

// Why a delta was rejected. The numbers are part of the addon's ABI with
// lib/ (lib/util/errors.ts holds the same table): keep them stable.
enum class Reject : int {
  kTruncated = 1,      // fewer than 2 bytes left where a run pair starts
  kUlebTooLong = 2,    // a length needs a third ULEB128 byte
  kEmptyZeroRun = 3,   // a zero run of length 0 after the first pair
  kEmptyDataRun = 4,   // a changed run of length 0
  kPastPage = 5,       // a run goes past the end of the page
  kPastInput = 6,      // a changed run's bytes go past the end of the delta
  kOverlap = 7,        // the delta lies in the page's own memory (lib/ passes a copy)
};

struct DecodeError {
  Reject reason;
  size_t offset;  // byte offset in the delta where the bad element starts
};

// Validates `delta` against a page of `size` bytes without touching it.
// Returns the bytes covered (>= 0) or -1 with `err` filled in.
long decode_check(const uint8_t* delta, size_t dlen, size_t size, DecodeError* err);

// Applies `delta` to `page` in place; validates first, so a rejected delta
// (return -1, `err` filled) leaves the page exactly as it was. Returns the
// bytes covered on success, as QEMU's decoder does.
long decode(const uint8_t* delta, size_t dlen, uint8_t* page, size_t size,
            DecodeError* err);

const char* reject_name(Reject r);

}  // namespace xbzrle

#endif
