// decode.cc: QEMU's decoder verdicts (docs/FORMAT.md §1), with our extra promise:
// the whole delta is validated before the page is touched.
//
// Validation is bound by one serial chain: where a pair starts depends on
// the length of the pair before. Its fast path (a pair with one-byte
// lengths) keeps that chain to one load and one add and decides every check
// with one branch; it also notes where each run goes, so that the apply
// pass copies runs without walking the chain a second time.
#include "xbzrle.h"
#include "arch.h"
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

// One pair at d[*i] checked exactly as docs/FORMAT.md §1 reads it; -1 with the
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

inline uint32_t load32(const uint8_t* p) {  // unaligned, any host
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

// Where one changed run goes: d[src..src+n) onto page[pos..pos+n), packed
// in one word (src < 2^32, pos < 2^14, n <= 2^14) so noting it is one store.
using Run = uint64_t;
inline Run make_run(size_t src, size_t pos, size_t n) {
  return static_cast<uint64_t>(src) | (static_cast<uint64_t>(pos) << 32) |
         (static_cast<uint64_t>(n) << 48);
}
inline size_t run_src(Run r) { return static_cast<uint32_t>(r); }
inline size_t run_pos(Run r) { return static_cast<uint16_t>(r >> 32); }
inline size_t run_n(Run r) { return static_cast<uint16_t>(r >> 48); }

// The fast path of the validating pass: pairs whose two lengths are one
// byte each, 1..127 (so an empty first zero run goes to check_pair), whose
// run fits the page, and that leave at least two bytes of delta after them
// (so the next pair can be read without another check). Stops at the first
// other pair, which check_pair then reads exactly.
// kNote: also note each run in runs[k] while k < cap.
template <bool kNote>
inline void scan_fast(const uint8_t* d, size_t s, size_t size, size_t* i_io, size_t* pos_io,
                      Run* runs, size_t cap, size_t* k_io) {
  size_t i = *i_io, pos = *pos_io, k = *k_io;
  if (s < 2 || i > s - 2) return;
  // Walk with a pointer: the chain is then one load with a simple address
  // and one add.
  const uint8_t* p = d + i;
  const uint8_t* const last = d + s - 2;  // a pair may end here at most to stay on the fast path
  for (;;) {
    uint16_t w;  // z, n: both in 1..127 iff no byte has bit 7 before or after subtracting 1
    std::memcpy(&w, p, 2);
    const size_t z = p[0], n = p[1];  // n from its own load: the chain is load + add
    const uint8_t* const next = p + 2 + n;
    const size_t next_pos = pos + z + n;
    const bool ok = !(((w - 0x0101u) | w) & 0x8080u) & (next_pos <= size) & (next <= last) &
                    (!kNote | (k < cap));
    if (!ok) break;
    if (kNote) runs[k++] = make_run(static_cast<size_t>(p - d) + 2, pos + z, n);
    p = next;
    pos = next_pos;
  }
  i = static_cast<size_t>(p - d);
  *i_io = i;
  *pos_io = pos;
  *k_io = k;
}

// The validating pass. With `runs`, it also notes where the first `cap`
// changed runs go, so that the apply pass copies them without walking the
// pair chain again; *noted gets how many it noted.
long scan(const uint8_t* d, size_t s, size_t size, DecodeError* err, Run* runs, size_t cap,
          size_t* noted) {
  size_t i = 0, pos = 0, k = 0;
  while (i < s) {
    if (runs && k < cap) {
      scan_fast<true>(d, s, size, &i, &pos, runs, cap, &k);
    } else {
      scan_fast<false>(d, s, size, &i, &pos, nullptr, 0, &k);
    }
    if (i < s) {
      size_t n;
      if (check_pair(d, s, size, &i, &pos, &n, err) < 0) return -1;
      // The run just checked ends at i in the delta and at pos in the page.
      if (runs && k < cap) runs[k++] = make_run(i - n, pos - n, n);
    }
  }
  if (noted) *noted = k;
  return static_cast<long>(pos);
}

// A delta of at most kSmallRuns pairs (a sparse page, or one long run): one
// walk checks them all and notes their runs in a few words of stack, then
// the runs are copied. Returns -2 when the delta holds more pairs: the
// caller then decodes it with the large path, re-reading at most
// kSmallRuns pairs, little beside the many that follow.
constexpr size_t kSmallRuns = 32;

long decode_small(const uint8_t* d, size_t s, uint8_t* page, size_t size, DecodeError* err) {
  Run runs[kSmallRuns];
  size_t i = 0, pos = 0, k = 0;
  for (;;) {
    size_t n;
    if (check_pair(d, s, size, &i, &pos, &n, err) < 0) return -1;
    // One pair (a page changed in one place): copy its run at once.
    if (i == s && k == 0) {
      copy_run(page + pos - n, d + i - n, n);
      return static_cast<long>(pos);
    }
    runs[k++] = make_run(i - n, pos - n, n);
    if (i == s) break;
    if (k == kSmallRuns) return -2;
  }
  for (size_t r = 0; r < k; r++)
    copy_run(page + run_pos(runs[r]), d + run_src(runs[r]), run_n(runs[r]));
  return static_cast<long>(pos);
}

XBZRLE_NOINLINE long decode_large(const uint8_t* d, size_t s, uint8_t* page, size_t size,
                                  DecodeError* err) {
  // 4 KiB of stack: every run of a 10%-changed 4 KiB page, half of a
  // 50%-random one; runs past the first kCap are found by walking the pairs.
  constexpr size_t kCap = 512;
  Run runs[kCap];
  size_t noted = 0;
  const long covered = scan(d, s, size, err, runs, kCap, &noted);
  if (covered < 0) return covered;
  // Valid: every length below is in bounds, proved by scan.
  for (size_t k = 0; k < noted; k++)
    copy_run(page + run_pos(runs[k]), d + run_src(runs[k]), run_n(runs[k]));
  // Runs past the first kCap: walk the rest of the pairs.
  size_t i = 0, pos = 0;
  if (noted) {
    const Run last = runs[noted - 1];
    i = run_src(last) + run_n(last);
    pos = run_pos(last) + run_n(last);
  }
  // The bounds are checked again here: the delta may be memory another
  // thread rewrites between the two passes (an async batch whose caller
  // keeps writing); then the page gets whatever was read, never a write
  // outside it.
  while (s - i >= 2) {
    size_t z, n, k;
    if (!(k = uleb_get(d + i, &z)) || z > size - pos) break;
    i += k;
    pos += z;
    if (s - i < 2 || !(k = uleb_get(d + i, &n)) || n == 0 || n > size - pos || n > s - i - k) break;
    i += k;
    copy_run(page + pos, d + i, n);
    i += n;
    pos += n;
  }
  return covered;
}

}  // namespace

long decode_check(const uint8_t* d, size_t s, size_t size, DecodeError* err) {
  return scan(d, s, size, err, nullptr, 0, nullptr);
}

long decode(const uint8_t* d, size_t s, uint8_t* page, size_t size, DecodeError* err) {
  if (s == 0) return 0;  // an unchanged page: nothing to check or copy
  // A delta inside the page would be rewritten by its own runs after it was
  // validated: refuse it, untouched (lib/ hands the core a copy instead).
  const uintptr_t da = reinterpret_cast<uintptr_t>(d), pa = reinterpret_cast<uintptr_t>(page);
  if (da < pa + size && pa < da + s) return reject(err, Reject::kOverlap, 0);
  const long r = decode_small(d, s, page, size, err);
  return r != -2 ? r : decode_large(d, s, page, size, err);
}

const char* reject_name(Reject r) {
  switch (r) {
    case Reject::kTruncated: return "truncated";
    case Reject::kUlebTooLong: return "uleb128-too-long";
    case Reject::kEmptyZeroRun: return "empty-zero-run";
    case Reject::kEmptyDataRun: return "empty-changed-run";
    case Reject::kPastPage: return "run-past-page";
    case Reject::kPastInput: return "run-past-input";
    case Reject::kOverlap: return "delta-overlaps-page";
  }
  return "unknown";
}

}  // namespace xbzrle
