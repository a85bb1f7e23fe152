// batch_job.cc: chunk hand-out and in-order packing for batches run on
// several threads (batch_job.h).
#include "batch_job.h"

#include <cstring>

namespace xbzrle {

void BatchJob::split(size_t count, size_t chunk_pages) {
  count_ = count;
  chunk_pages_ = chunk_pages ? chunk_pages : 1;
  chunks_ = (count + chunk_pages_ - 1) / chunk_pages_;
}

size_t BatchJob::end_of(size_t c) const {
  size_t e = (c + 1) * chunk_pages_;
  return e < count_ ? e : count_;
}

EncodeJob::~EncodeJob() { delete[] chunk_; }

bool EncodeJob::init(const EncodeBatch& b, size_t chunk_pages) {
  b_ = b;
  return split_into(chunk_, b.count, chunk_pages);
}

void EncodeJob::run() {
  for (;;) {
    if (aborted()) return;
    size_t c = next_.fetch_add(1);
    if (c >= chunks_) return;
    // With every earlier chunk placed, the final place is known (the cursor
    // moves again only once this chunk is done): write there, skip the move.
    size_t base = placed_.load() == c ? cursor_.load() : begin_of(c) * b_.limit;
    chunk_[c].base = base;
    chunk_[c].bytes = encode_range(b_, begin_of(c), end_of(c), base, &abort_);
    if (aborted()) return;
    chunk_[c].done.store(true);
    place_ready();
  }
}

void EncodeJob::place_ready() {
  // Sequentially consistent throughout: a thread that marks a chunk done and
  // finds the flag taken leaves it to the placer, which looks at that chunk
  // again after dropping the flag, so no done chunk is left unplaced.
  for (;;) {
    if (placing_.exchange(true)) return;
    size_t p = placed_.load(), cursor = cursor_.load();
    // In order: chunk p's destination can overlap chunk p-1's unmoved
    // bytes, never those of a later chunk (each stays inside its worst case).
    while (p < chunks_ && chunk_[p].done.load()) {
      const Chunk& ch = chunk_[p];
      if (ch.base != cursor) {
        std::memmove(b_.out + cursor, b_.out + ch.base, ch.bytes);
        uint32_t shift = static_cast<uint32_t>(ch.base - cursor);
        for (size_t k = begin_of(p); k < end_of(p); k++) b_.offsets[k] -= shift;
      }
      cursor += ch.bytes;
      cursor_.store(cursor);
      placed_.store(++p);
    }
    placing_.store(false);
    if (p >= chunks_ || !chunk_[p].done.load()) return;
  }
}

DecodeJob::~DecodeJob() { delete[] chunk_; }

bool DecodeJob::init(const DecodeBatch& b, size_t chunk_pages) {
  b_ = b;
  return split_into(chunk_, b.count, chunk_pages);
}

void DecodeJob::run() {
  for (;;) {
    size_t c = next_.fetch_add(1, std::memory_order_relaxed);
    if (c >= chunks_ || aborted()) return;
    chunk_[c].bad = decode_range(b_, begin_of(c), end_of(c), chunk_[c].first, kInline, &abort_);
  }
}

size_t DecodeJob::failure_count() const {
  size_t n = 0;
  for (size_t c = 0; c < chunks_; c++) n += chunk_[c].bad;
  return n;
}

size_t DecodeJob::failures(PageFailure* out, size_t cap) const {
  size_t n = 0;
  for (size_t c = 0; c < chunks_ && n < cap; c++) {
    const Chunk& ch = chunk_[c];
    if (ch.bad <= kInline) {
      for (size_t i = 0; i < ch.bad && n < cap; i++) out[n++] = ch.first[i];
    } else {
      size_t got = check_range(b_, begin_of(c), end_of(c), out + n, cap - n);
      n += got < cap - n ? got : cap - n;
    }
  }
  return n;
}

}  // namespace xbzrle
