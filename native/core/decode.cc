// decode.cc: QEMU's decoder verdicts (docs/FORMAT.md §1), with our extra promise:
// the whole delta is validated before the page is touched.
//
// Validation is bound by one serial chain: where a pair starts depends on
// the length of the pair before. Its fast path (a pair with one-byte
// lengths) keeps that chain to one load and one add and decides every check
// with one branch. A delta of many pairs is applied in the same pass, into
// a copy of the page on the stack that replaces the page's bytes at the end.
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

// A pair whose two lengths are one byte each, 1..127: true iff no byte of
// w = z | n << 8 has bit 7 set before or after subtracting 1.
inline bool short_pair(uint16_t w) { return !(((w - 0x0101u) | w) & 0x8080u); }

// The validating pass alone (decode_check). Its fast path takes pairs with
// one-byte lengths whose run fits the page and that leave at least two
// bytes of delta after them, so the next pair is read without another
// check; every other pair goes to check_pair, which reads it exactly.
long scan(const uint8_t* d, size_t s, size_t size, DecodeError* err) {
  size_t i = 0, pos = 0;
  while (i < s) {
    if (s >= 2 && i <= s - 2) {
      // A pointer walk keeps the chain to one load and one add.
      const uint8_t* p = d + i;
      const uint8_t* const last = d + s - 2;
      for (;;) {
        uint16_t w;
        std::memcpy(&w, p, 2);
        const size_t z = p[0], n = p[1];  // n from its own load: the chain is load + add
        const uint8_t* const next = p + 2 + n;
        const size_t next_pos = pos + z + n;
        if (!(short_pair(w) & (next_pos <= size) & (next <= last))) break;
        p = next;
        pos = next_pos;
      }
      i = static_cast<size_t>(p - d);
    }
    if (i < s) {
      size_t n;
      if (check_pair(d, s, size, &i, &pos, &n, err) < 0) return -1;
    }
  }
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

// Copies whole 32-byte blocks until at least n bytes are copied (one block
// when n is 0): the caller has proved the reads in bounds and owns the
// bytes the last block writes past n.
inline void copy_blocks(uint8_t* dst, const uint8_t* src, size_t n) {
  size_t k = 0;
  do {
    std::memcpy(dst + k, src + k, 32);
    k += 32;
  } while (k < n);
}

// Many pairs: the new page is built in one pass that validates and copies
// at once, into `out` on the stack; the page gets out's bytes only once the
// whole delta is known good, so a bad delta leaves it untouched. Each pair
// copies its unchanged bytes from the page and its changed run from the
// delta into out, both in whole 32-byte blocks: what a block writes past
// its run lies at or after the next pair's start and is written again by
// that pair, so every byte's last write is its right value. Only
// out[lo, end) is copied back, from the first run's start to the last
// run's end: the page already holds the bytes outside it.
XBZRLE_NOINLINE long decode_large(const uint8_t* d, size_t s, uint8_t* page, size_t size,
                                  DecodeError* err) {
  // Where out sits in a 4 KiB frame matters on x86: a load just after a
  // store to an address with the same bits 0..11 waits for it (4K
  // aliasing). The loop stores to out[q..] and loads page[q..] and the
  // delta; out is put midway on the longer arc between the page's and the
  // delta's place in the frame, at least 1 KiB from either (placed at the
  // page's own offset, the loop ran up to 1.8x slower).
  const uintptr_t pa = reinterpret_cast<uintptr_t>(page);
  const uintptr_t a = (reinterpret_cast<uintptr_t>(d) - pa) & 4095;
  const uintptr_t mid = a >= 2048 ? a / 2 : (a + 4096) / 2;  // out - page
  alignas(64) uint8_t buf[kMaxPageSize + 64 + 4096];
  const uintptr_t shift = (pa + mid - reinterpret_cast<uintptr_t>(buf)) & 4095;
  uint8_t* const out = buf + shift;
  // The first pair goes the exact way: its zero run is not copied (lo).
  size_t i = 0, pos = 0, n = 0;
  if (check_pair(d, s, size, &i, &pos, &n, err) < 0) return -1;
  const size_t lo = pos - n;
  std::memcpy(out + lo, d + i - n, n);
  while (i < s) {
    // The block path: a short pair whose blocks stay inside the page
    // (next_pos + 32 <= size) and inside the delta (next + 32 <= d + s).
    // z and n are read once and every bound is taken from them, so a delta
    // another thread rewrites meanwhile yields a wrong page, never an
    // access outside the buffers.
    // (A local q, not pos: pos's address goes to check_pair, and a store
    // through out might then reach it, so pos would be stored every pair.)
    if (s - i > 34 && size > 32) {
      const uint8_t* p = d + i;
      const uint8_t* const last = d + s - 32;
      const size_t end = size - 32;
      size_t q = pos;
      for (;;) {
        uint16_t w;
        std::memcpy(&w, p, 2);
        const size_t z = p[0], nn = p[1];
        const uint8_t* const next = p + 2 + nn;
        const size_t next_q = q + z + nn;
        if (!(short_pair(w) & (next_q <= end) & (next <= last))) break;
        copy_blocks(out + q, page + q, z);
        copy_blocks(out + q + z, p + 2, nn);
        p = next;
        q = next_q;
      }
      i = static_cast<size_t>(p - d);
      pos = q;
    }
    if (i < s) {
      const size_t from = pos;
      if (check_pair(d, s, size, &i, &pos, &n, err) < 0) return -1;
      std::memcpy(out + from, page + from, pos - n - from);
      std::memcpy(out + pos - n, d + i - n, n);
    }
  }
  std::memcpy(page + lo, out + lo, pos - lo);
  return static_cast<long>(pos);
}

}  // namespace

long decode_check(const uint8_t* d, size_t s, size_t size, DecodeError* err) {
  return scan(d, s, size, err);
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
