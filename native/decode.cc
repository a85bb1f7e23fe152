// decode.cc: QEMU's decoder verdicts (FORMAT.md 1), with our extra promise:
// the whole delta is validated before the page is touched.
#include "xbzrle.h"
#include "uleb128.h"

#include <cstring>

namespace xbzrle {

namespace {

long reject(DecodeError* err, Reject why, size_t at) {
  if (err) {
    err->reason = why;
    err->offset = at;
  }
  return -1;
}

}  // namespace

long decode_check(const uint8_t* d, size_t s, size_t size, DecodeError* err) {
  size_t i = 0, pos = 0;
  while (i < s) {
    if (s - i < 2) return reject(err, Reject::kTruncated, i);
    size_t z, n;
    size_t k = uleb_get(d + i, &z);
    if (!k) return reject(err, Reject::kUlebTooLong, i);
    if (i != 0 && z == 0) return reject(err, Reject::kEmptyZeroRun, i);
    if (z > size - pos) return reject(err, Reject::kPastPage, i);
    i += k;
    pos += z;
    if (s - i < 2) return reject(err, Reject::kTruncated, i);
    k = uleb_get(d + i, &n);
    if (!k) return reject(err, Reject::kUlebTooLong, i);
    if (n == 0) return reject(err, Reject::kEmptyDataRun, i);
    if (n > size - pos) return reject(err, Reject::kPastPage, i);
    if (n > s - i - k) return reject(err, Reject::kPastInput, i);
    i += k + n;
    pos += n;
  }
  return static_cast<long>(pos);
}

long decode(const uint8_t* d, size_t s, uint8_t* page, size_t size, DecodeError* err) {
  long covered = decode_check(d, s, size, err);
  if (covered < 0) return covered;
  // decode_check proved every bound, yet the apply pass checks them again
  // (a few compares per run): the delta may be memory that another thread
  // rewrites between the two passes (an async batch whose caller keeps
  // writing). Then the page gets whatever was read, never a write outside it.
  size_t i = 0, pos = 0;
  while (s - i >= 2) {
    size_t z, n, k;
    if (!(k = uleb_get(d + i, &z)) || z > size - pos) break;
    i += k;
    pos += z;
    if (s - i < 2 || !(k = uleb_get(d + i, &n)) || n > size - pos || n > s - i - k) break;
    i += k;
    std::memcpy(page + pos, d + i, n);
    i += n;
    pos += n;
  }
  return covered;
}

const char* reject_name(Reject r) {
  switch (r) {
    case Reject::kTruncated: return "truncated";
    case Reject::kUlebTooLong: return "uleb128-too-long";
    case Reject::kEmptyZeroRun: return "empty-zero-run";
    case Reject::kEmptyDataRun: return "empty-changed-run";
    case Reject::kPastPage: return "run-past-page";
    case Reject::kPastInput: return "run-past-input";
  }
  return "unknown";
}

}  // namespace xbzrle
