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

}  // namespace

size_t encode_range(const EncodeBatch& b, size_t begin, size_t end, size_t at,
                    const std::atomic<bool>* abort) {
  size_t o = at;
  for (size_t k = begin; k < end; k++) {
    if (stopped(abort)) break;
    const uint8_t* op = b.olds.at(k, b.page_size);
    const uint8_t* np = b.news.at(k, b.page_size);
    long n;
    if (!op || !np) {
      n = -1;
    } else if (std::memcmp(op, np, b.page_size) == 0) {
      // Unchanged pages are the common case in a dirty set, and libc's
      // memcmp is the fastest full read there is: checking it first puts an
      // unchanged page at the Buffer.compare floor whatever the kernel.
      n = 0;
    } else {
      n = b.encode(op, np, b.page_size, b.out + o, b.limit);
    }
    b.offsets[k] = static_cast<uint32_t>(o);
    b.lengths[k] = static_cast<int32_t>(n);
    if (n > 0) o += static_cast<size_t>(n);
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
