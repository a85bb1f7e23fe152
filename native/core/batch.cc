// batch.cc: the batch loops over the one-page codec (batch.h).
#include "batch.h"

#include <algorithm>
#include <cstring>

namespace xbzrle {

namespace {

// Reads a table entry exactly once. The tables may be memory that another
// thread rewrites while an async batch runs; a value checked and then
// re-loaded could differ, so every entry is loaded once and the copy used.
template <class T>
T read_once(const T* p) {
  return *static_cast<const volatile T*>(p);
}

bool stopped(const std::atomic<bool>* abort) {
  return abort && abort->load(std::memory_order_relaxed);
}

// The delta and page of entry k; false when there is nothing to apply (an
// unchanged or overflowed page) or the entry leaves the buffers.
bool locate(const DecodeBatch& b, size_t k, const uint8_t** delta, size_t* dlen,
            uint8_t** page) {
  int32_t len = read_once(b.lengths + k);
  if (len <= 0) return false;
  size_t off = read_once(b.offsets + k);
  if (off > b.deltas_size || static_cast<size_t>(len) > b.deltas_size - off) return false;
  size_t idx = b.indexes ? read_once(b.indexes + k) : k;
  if (idx >= b.pages) return false;
  *delta = b.deltas + off;
  *dlen = static_cast<size_t>(len);
  *page = b.base + idx * b.page_size;
  return true;
}

// One memcmp call per page costs ~8% over a single compare of the whole
// buffer on L2-resident pages, so runs of unchanged pages that sit back to
// back on both sides are compared as one span. The span doubles while pages
// stay unchanged and drops to one page at a difference, so a changed page
// costs at most one extra read of the unchanged pages before it.
constexpr size_t kMaxSpanBytes = 256 * 1024;

// Pages k..k+g-1 of l when they sit back to back inside the buffer, else null.
const uint8_t* span_at(const PageList& l, size_t k, size_t g, size_t page_size) {
  size_t first = l.indexes ? read_once(l.indexes + k) : k;
  if (first > l.pages || g > l.pages - first) return nullptr;
  if (l.indexes)
    for (size_t j = 1; j < g; j++)
      if (read_once(l.indexes + k + j) != first + j) return nullptr;
  return l.base + first * page_size;
}

}  // namespace

size_t encode_range(const EncodeBatch& b, size_t begin, size_t end, size_t at,
                    const std::atomic<bool>* abort) {
  const size_t ps = b.page_size;
  const size_t max_span = kMaxSpanBytes / ps > 1 ? kMaxSpanBytes / ps : 1;
  size_t span = 1;  // pages compared at once: doubles while pages are unchanged
  size_t o = at;
  for (size_t k = begin; k < end;) {
    if (stopped(abort)) break;
    size_t g = span < end - k ? span : end - k;
    if (g > 1) {
      const uint8_t* op = span_at(b.olds, k, g, ps);
      const uint8_t* np = span_at(b.news, k, g, ps);
      if (op && np && std::memcmp(op, np, g * ps) == 0) {
        for (size_t j = k; j < k + g; j++) {
          b.offsets[j] = static_cast<uint32_t>(o);
          b.lengths[j] = 0;
        }
        k += g;
        span = span * 2 < max_span ? span * 2 : max_span;
        continue;
      }
      span = 1;  // something in there differs: page by page again
    }
    const uint8_t* op = b.olds.at(k, ps);
    const uint8_t* np = b.news.at(k, ps);
    long n;
    if (!op || !np) {
      n = -1;
    } else if (std::memcmp(op, np, ps) == 0) {
      // Unchanged pages are the common case in a dirty set, and libc's
      // memcmp is the fastest full read there is: checking it first puts an
      // unchanged page at the Buffer.compare floor whatever the kernel.
      n = 0;
    } else {
      n = b.encode(op, np, ps, b.out + o, b.limit);
    }
    b.offsets[k] = static_cast<uint32_t>(o);
    b.lengths[k] = static_cast<int32_t>(n);
    if (n > 0) o += static_cast<size_t>(n);
    span = n == 0 ? (2 < max_span ? 2 : max_span) : 1;
    k++;
  }
  return o - at;
}

size_t decode_range(const DecodeBatch& b, size_t begin, size_t end, PageFailure* fails,
                    size_t cap, const std::atomic<bool>* abort) {
  size_t bad = 0;
  for (size_t k = begin; k < end; k++) {
    if (stopped(abort)) break;
    const uint8_t* d;
    size_t dlen;
    uint8_t* page;
    if (!locate(b, k, &d, &dlen, &page)) continue;
    DecodeError err;
    if (decode(d, dlen, page, b.page_size, &err) < 0) {
      if (bad < cap) fails[bad] = PageFailure{k, err};
      bad++;
    }
  }
  return bad;
}

size_t check_range(const DecodeBatch& b, size_t begin, size_t end, PageFailure* fails,
                   size_t cap) {
  size_t bad = 0;
  for (size_t k = begin; k < end; k++) {
    const uint8_t* d;
    size_t dlen;
    uint8_t* page;
    if (!locate(b, k, &d, &dlen, &page)) continue;
    DecodeError err;
    if (decode_check(d, dlen, b.page_size, &err) < 0) {
      if (bad < cap) fails[bad] = PageFailure{k, err};
      bad++;
    }
  }
  return bad;
}

size_t first_bad_entry(const DecodeBatch& b) {
  for (size_t k = 0; k < b.count; k++) {
    int32_t len = b.lengths[k];
    if (len < -1) return k;
    if (len > 0 && (b.offsets[k] > b.deltas_size ||
                    static_cast<size_t>(len) > b.deltas_size - b.offsets[k]))
      return k;
    if (b.indexes && b.indexes[k] >= b.pages) return k;
  }
  return b.count;
}

size_t first_bad_index(const PageList& l, size_t count) {
  if (!l.indexes) return count <= l.pages ? count : l.pages;
  for (size_t k = 0; k < count; k++)
    if (l.indexes[k] >= l.pages) return k;
  return count;
}

bool strictly_increasing(const uint32_t* indexes, size_t count) {
  for (size_t k = 1; k < count; k++)
    if (indexes[k] <= indexes[k - 1]) return false;
  return true;
}

bool has_duplicates(const uint32_t* indexes, size_t count, uint32_t* scratch) {
  if (strictly_increasing(indexes, count)) return false;
  std::memcpy(scratch, indexes, count * sizeof *scratch);
  std::sort(scratch, scratch + count);
  return std::adjacent_find(scratch, scratch + count) != scratch + count;
}

}  // namespace xbzrle
