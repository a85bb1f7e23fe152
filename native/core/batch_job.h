// batch_job.h: one batch split into chunks that several threads take in
// turn (core: no Node header). The addon calls run() from each of its async
// works; a thread that starts late or runs slowly simply takes fewer chunks.
#ifndef XBZRLE_BATCH_JOB_H
#define XBZRLE_BATCH_JOB_H

#include <atomic>
#include <cstddef>
#include <new>

#include "batch.h"

namespace xbzrle {

class BatchJob {
 public:
  void abort() { abort_.store(true, std::memory_order_relaxed); }
  bool aborted() const { return abort_.load(std::memory_order_relaxed); }

 protected:
  void split(size_t count, size_t chunk_pages);
  // Splits the batch and gives each chunk a zeroed C; false when that
  // allocation fails (the job then does not run).
  template <class C>
  bool split_into(C*& chunk, size_t count, size_t chunk_pages) {
    split(count, chunk_pages);
    if (chunks_ == 0) return true;
    chunk = new (std::nothrow) C[chunks_]();
    return chunk != nullptr;
  }
  size_t begin_of(size_t c) const { return c * chunk_pages_; }
  size_t end_of(size_t c) const;

  size_t count_ = 0;
  size_t chunk_pages_ = 1;
  size_t chunks_ = 0;
  std::atomic<bool> abort_{false};
};

// Encoding: chunk c writes its deltas at out + c * chunk_pages * limit (room
// for its worst case), or straight at the final place when every chunk
// before it is already placed. Finished chunks are moved down into place in
// order, so `out` ends packed exactly as the one-thread loop packs it.
// Nothing blocks: chunks are handed out by one atomic counter, and the
// moves are made by whichever thread finds the next chunk in order done
// (one at a time, by a flag no thread waits on), while the others encode.
class EncodeJob : public BatchJob {
 public:
  ~EncodeJob();
  bool init(const EncodeBatch& b, size_t chunk_pages);  // false: out of memory
  void run();
  // After every run() returned: all chunks placed (false after an abort or
  // when no run() ever started), and the bytes now packed in out.
  bool complete() const { return placed_.load() == chunks_; }
  size_t total() const { return cursor_.load(); }
  size_t scratch_bytes() const { return chunks_ * sizeof(Chunk); }  // for the host's accounting

 private:
  struct Chunk {
    size_t base = 0;
    size_t bytes = 0;
    std::atomic<bool> done{false};
  };
  void place_ready();

  EncodeBatch b_{};
  Chunk* chunk_ = nullptr;
  std::atomic<size_t> next_{0};       // next chunk to hand out
  std::atomic<bool> placing_{false};  // a thread is moving chunks into place
  std::atomic<size_t> placed_{0};     // chunks [0, placed_) sit packed in out
  std::atomic<size_t> cursor_{0};     // end of the packed bytes
};

// Decoding: chunks are independent (pages are distinct: the addon runs a
// batch that names a page twice on one thread). Each chunk keeps its first
// few rejections; failures() lists them all in page order.
class DecodeJob : public BatchJob {
 public:
  ~DecodeJob();
  bool init(const DecodeBatch& b, size_t chunk_pages);  // false: out of memory
  void run();
  // After every run() returned: every chunk was handed out and, there being
  // no abort, decoded.
  bool complete() const { return !aborted() && next_.load() >= chunks_; }
  size_t failure_count() const;
  // Writes up to cap rejections in page order; returns how many. A chunk
  // with more than its inline share is validated again (no page is written).
  size_t failures(PageFailure* out, size_t cap) const;
  size_t scratch_bytes() const { return chunks_ * sizeof(Chunk); }  // for the host's accounting

 private:
  static constexpr size_t kInline = 4;
  struct Chunk {
    size_t bad;
    PageFailure first[kInline];
  };

  DecodeBatch b_{};
  Chunk* chunk_ = nullptr;
  std::atomic<size_t> next_{0};
};

}  // namespace xbzrle

#endif
