// batch.h: many pages in one call (core: no Node header). The per-page call
// costs as much as encoding an unchanged page, so the hot path takes N pages
// at once and writes the deltas back to back plus an offsets/lengths table.
#ifndef XBZRLE_BATCH_H
#define XBZRLE_BATCH_H

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "xbzrle.h"

namespace xbzrle {

// N pages of `page_size` bytes inside one buffer: page k starts at
// base + (indexes ? indexes[k] : k) * page_size. `pages` is how many whole
// pages the buffer holds; an index at or past it is never dereferenced.
struct PageList {
  const uint8_t* base;
  const uint32_t* indexes;  // nullptr: contiguous
  size_t pages;

  // The page, or nullptr when its index is out of range (only reachable when
  // someone rewrites `indexes` after the call checked them).
  const uint8_t* at(size_t k, size_t page_size) const {
    // Loaded once (volatile): checked and used as the same value.
    size_t i = indexes ? static_cast<const volatile uint32_t*>(indexes)[k] : k;
    return i < pages ? base + i * page_size : nullptr;
  }
};

struct EncodeBatch {
  EncodeFn encode;
  size_t count;      // N
  size_t page_size;  // 1..kMaxPageSize
  size_t limit;      // per page, <= page_size
  PageList olds;
  PageList news;
  uint8_t* out;      // at least count * limit bytes
  uint32_t* offsets; // count entries: where each delta starts in out
  int32_t* lengths;  // count entries: delta length, 0 unchanged, -1 overflow
};

// Encodes pages [begin, end) back to back from out + at (the caller
// guarantees at <= begin * limit, so the worst case stays inside out).
// Returns the bytes written. When *abort becomes true it stops between pages
// and the return value means nothing.
size_t encode_range(const EncodeBatch& b, size_t begin, size_t end, size_t at,
                    const std::atomic<bool>* abort);

struct DecodeBatch {
  size_t count;
  size_t page_size;
  const uint8_t* deltas;
  size_t deltas_size;
  const uint32_t* offsets;
  const int32_t* lengths;  // -1 and 0: nothing to apply
  uint8_t* base;           // the pages, written in place
  const uint32_t* indexes; // nullptr: contiguous
  size_t pages;            // whole pages in base
};

struct PageFailure {
  size_t page;  // index in the batch
  DecodeError error;
};

// Applies the deltas of pages [begin, end); a malformed delta leaves its page
// untouched and the others are still applied. Returns how many were rejected
// and stores the first min(that, cap) of them, in page order, in `fails`.
size_t decode_range(const DecodeBatch& b, size_t begin, size_t end, PageFailure* fails,
                    size_t cap, const std::atomic<bool>* abort);

// The same verdicts without writing any page: lists every rejection again
// when there were more than the first pass could store.
size_t check_range(const DecodeBatch& b, size_t begin, size_t end, PageFailure* fails,
                   size_t cap);

// The first table entry that would leave the buffers (length < -1, delta past
// the end, page index out of range), or b.count when all are in bounds.
size_t first_bad_entry(const DecodeBatch& b);
size_t first_bad_index(const PageList& l, size_t count);

// Two deltas for one page must be applied in order, so a batch that names a
// page twice is not split across threads. A dirty-bitmap walk gives strictly
// increasing indexes, which proves uniqueness in one pass; otherwise
// has_duplicates sorts a copy in `scratch` (count entries).
bool strictly_increasing(const uint32_t* indexes, size_t count);
bool has_duplicates(const uint32_t* indexes, size_t count, uint32_t* scratch);

}  // namespace xbzrle

#endif
