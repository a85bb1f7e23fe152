// xbzrle.h: the C++ contract of the codec core (docs/FORMAT.md §1).
// No Node header here or in any core file: the same sources build the addon,
// the standalone tests and the fuzz targets.
#ifndef XBZRLE_H
#define XBZRLE_H

#include <cstddef>
#include <cstdint>

#include "abi.h"
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
// The AVX-512BW kernel in two variants, the same bytes: the loop over quiet
// chunks reads 32 or 64 bytes a load (dispatch.cc picks one per vendor).
long encode_avx512bw_q32(const uint8_t* oldp, const uint8_t* newp, size_t size, uint8_t* out,
                         size_t limit);
long encode_avx512bw_q64(const uint8_t* oldp, const uint8_t* newp, size_t size, uint8_t* out,
                         size_t limit);
#endif
#if defined(XBZRLE_ARM64)
long encode_neon(const uint8_t* oldp, const uint8_t* newp, size_t size, uint8_t* out,
                 size_t limit);
#endif

// Why a delta was rejected; the numbers cross to lib/ (abi.h REJECT_*).
enum class Reject : int {
  kTruncated = abi::REJECT_TRUNCATED,
  kUlebTooLong = abi::REJECT_ULEB_TOO_LONG,
  kEmptyZeroRun = abi::REJECT_EMPTY_ZERO_RUN,
  kEmptyDataRun = abi::REJECT_EMPTY_DATA_RUN,
  kPastPage = abi::REJECT_PAST_PAGE,
  kPastInput = abi::REJECT_PAST_INPUT,
  kOverlap = abi::REJECT_OVERLAP,  // lib/ passes a copy instead
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
