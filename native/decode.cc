// decode.cc: QEMU's decoder verdicts (FORMAT.md 1), with our extra promise:
// the whole delta is validated before the page is touched.
//
// Both passes are bound by one serial chain: where a pair starts depends on
// the length of the pair before. So each pass has a fast path for the common
// pair (one-byte lengths) that keeps the chain to one load and one add, and
// moves every other check and branch off it.
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

// One pair at d[*i] checked exactly as FORMAT.md reads it; -1 with the
// reason when it is bad, else 0 with *i and *pos moved past it and *n_out
// the length of its changed run.
long check_pair(const uint8_t* d, size_t s, size_t size, size_t* i_io, size_t* pos_io,
                size_t* n_out, DecodeError* err) {
  size_t i = *i_io, pos = *pos_io;
  if (s - i < 2) return reject(err, Reject::kTruncated, i);
  size_t z = 0, n = 0;
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
  *i_io = i + k + n;
  *pos_io = pos + n;
  *n_out = n;
  return 0;
}

inline uint32_t load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Copies exactly n >= 1 bytes: the page bytes around a run are kept bytes,
// so no store may reach past it. Short runs use two overlapping moves.
inline void copy_run(uint8_t* dst, const uint8_t* src, size_t n) {
  if (n < 4) {  // 1..3 bytes: first, middle, last cover them all
    const uint8_t x = src[0], y = src[n >> 1], w = src[n - 1];
    dst[0] = x;
    dst[n >> 1] = y;
    dst[n - 1] = w;
  } else if (n <= 16) {
    if (n >= 8) {
      const uint64_t x = load64(src), y = load64(src + n - 8);
      std::memcpy(dst, &x, 8);
      std::memcpy(dst + n - 8, &y, 8);
    } else {
      const uint32_t x = load32(src), y = load32(src + n - 4);
      std::memcpy(dst, &x, 4);
      std::memcpy(dst + n - 4, &y, 4);
    }
  } else {
    std::memcpy(dst, src, n);
  }
}

// Where one changed run goes: d[src..src+n) onto page[pos..pos+n).
struct Run {
  uint32_t src;
  uint16_t pos;  // < 16384
  uint16_t n;    // <= 16384
};

// The validating pass. With `runs`, it also notes where the first `cap`
// changed runs go, so that the apply pass copies them without walking the
// pair chain again; *count gets the number of changed runs.
long scan(const uint8_t* d, size_t s, size_t size, DecodeError* err, Run* runs, size_t cap,
          size_t* count) {
  size_t i = 0, pos = 0, k = 0;
  while (i < s) {
    // Fast path: one-byte lengths that pass every check, decided with one
    // branch. Anything else (two-byte lengths, any error) goes through
    // check_pair, which finds the exact reason.
    while (s - i >= 2) {
      const size_t z = d[i], n = d[i + 1];
      const size_t next_pos = pos + z + n, next_i = i + 2 + n;
      const bool ok = ((z | n) < 128) & (n != 0) & ((z != 0) | (i == 0)) & (next_pos <= size) &
                      (next_i <= s);
      if (!ok) break;
      if (k < cap)
        runs[k] = Run{static_cast<uint32_t>(i + 2), static_cast<uint16_t>(pos + z),
                      static_cast<uint16_t>(n)};
      k++;
      i = next_i;
      pos = next_pos;
    }
    if (i < s) {
      size_t n;
      if (check_pair(d, s, size, &i, &pos, &n, err) < 0) return -1;
      // The run just checked ends at i in the delta and at pos in the page.
      if (k < cap)
        runs[k] = Run{static_cast<uint32_t>(i - n), static_cast<uint16_t>(pos - n),
                      static_cast<uint16_t>(n)};
      k++;
    }
  }
  if (count) *count = k;
  return static_cast<long>(pos);
}

}  // namespace

long decode_check(const uint8_t* d, size_t s, size_t size, DecodeError* err) {
  return scan(d, s, size, err, nullptr, 0, nullptr);
}

long decode(const uint8_t* d, size_t s, uint8_t* page, size_t size, DecodeError* err) {
  // 4 KiB of stack: every run of a 10%-changed 4 KiB page, half of a
  // 50%-random one; runs past the first kCap are found by walking the pairs.
  constexpr size_t kCap = 512;
  Run runs[kCap];
  size_t count = 0;
  const long covered = scan(d, s, size, err, runs, kCap, &count);
  if (covered < 0) return covered;
  // Valid: every length below is in bounds, proved by scan.
  const size_t noted = count < kCap ? count : kCap;
  for (size_t k = 0; k < noted; k++) copy_run(page + runs[k].pos, d + runs[k].src, runs[k].n);
  if (count <= kCap) return covered;
  size_t i = runs[kCap - 1].src + runs[kCap - 1].n;
  size_t pos = static_cast<size_t>(runs[kCap - 1].pos) + runs[kCap - 1].n;
  while (i < s) {
    size_t z = d[i], n;
    if (z < 128) {
      i += 1;
    } else {
      z = (z & 0x7f) | (static_cast<size_t>(d[i + 1]) << 7);
      i += 2;
    }
    pos += z;
    n = d[i];
    if (n < 128) {
      i += 1;
    } else {
      n = (n & 0x7f) | (static_cast<size_t>(d[i + 1]) << 7);
      i += 2;
    }
    copy_run(page + pos, d + i, n);
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
