// sender.h: what a migration sender does with each dirty page (docs/FORMAT.md §3)
// and the batch loop that writes ready-to-send RAM records (docs/FORMAT.md §2).
// No Node header: the core builds alone.
#ifndef XBZRLE_SENDER_H
#define XBZRLE_SENDER_H

#include <cstddef>
#include <cstdint>

#include "page_cache.h"
#include "xbzrle.h"

namespace xbzrle {

// RAM page header flags, ORed into the low bits of the be64 offset word.
constexpr uint64_t kFlagZero = abi::RECORD_ZERO;
constexpr uint64_t kFlagMemSize = abi::RECORD_MEM_SIZE;
constexpr uint64_t kFlagPage = abi::RECORD_PAGE;
constexpr uint64_t kFlagEos = abi::RECORD_EOS;
constexpr uint64_t kFlagContinue = abi::RECORD_CONTINUE;
constexpr uint64_t kFlagXbzrle = abi::RECORD_XBZRLE;
// Offsets in a header are multiples of 1 KiB (QEMU's smallest target page),
// so every flag QEMU defines fits below them.
constexpr uint64_t kFlagMask = abi::RECORD_FLAG_MASK;
constexpr uint8_t kEncodingXbzrle = abi::RECORD_ENCODING_XBZRLE;  // the body's encoding flag

// The numbers cross to lib/ (abi.h KIND_*).
enum class PageKind : uint8_t {
  kSkip = abi::KIND_SKIP,
  kRaw = abi::KIND_RAW,
  kXbzrle = abi::KIND_XBZRLE,
  kZero = abi::KIND_ZERO,
};

struct SenderCounters {
  // QEMU's xbzrle-cache counters.
  uint64_t bytes = 0;       // delta + 3 per record, P per overflow
  uint64_t pages = 0;       // cache hits: records, unchanged pages, overflows
  uint64_t cache_miss = 0;
  uint64_t overflow = 0;
  double cache_miss_rate = 0;  // over the last period
  double encoding_rate = 0;    // over the last period
  // What was produced, by kind (all pages, first pass included).
  uint64_t raw = 0;
  uint64_t records = 0;
  uint64_t skipped = 0;
  uint64_t zero = 0;
};

// Addresses of a batch: doubles (integers up to 2^53) or u64.
struct BatchAddrs {
  const double* f64 = nullptr;
  const uint64_t* u64 = nullptr;
  uint64_t at(size_t i) const { return u64 ? u64[i] : static_cast<uint64_t>(f64[i]); }
};

// Pages of a batch: one contiguous buffer of n * P bytes, n pointers, or a
// memory image that each page's address indexes (`by_address`).
struct BatchPages {
  const uint8_t* base = nullptr;
  const uint8_t* const* list = nullptr;
  size_t page_size = 0;
  bool by_address = false;
  const uint8_t* at(size_t i, uint64_t addr) const {
    if (by_address) return base + addr;
    return list ? list[i] : base + i * page_size;
  }
};

struct BatchOptions {
  bool last_stage = false;
  bool detect_zero = false;
  bool continued = false;  // the stream's last record named this block already
  const uint8_t* block = nullptr;
  size_t block_len = 0;    // <= 255
};

struct BatchOut {
  uint8_t* out = nullptr;
  size_t capacity = 0;     // at least batch_capacity(n, ...)
  uint8_t* kinds = nullptr;
  uint32_t* offsets = nullptr;
  uint32_t* lengths = nullptr;
};

class Sender {
 public:
  // nullptr when out of memory. Takes a reference on the cache.
  static Sender* create(PageCache* cache, size_t limit);
  ~Sender();

  // QEMU's steps for one dirty page (docs/FORMAT.md §3). The body goes to `body`,
  // which has room for P + 3 bytes: xbzrle: 0x01, be16 length, delta; raw:
  // the P bytes sent (read once: the snapshot); zero: one 0x00 byte; skip:
  // nothing. *len receives its length.
  PageKind send_page(EncodeFn enc, uint64_t addr, const uint8_t* page, bool last_stage,
                     bool detect_zero, uint8_t* body, size_t* len);
  // A page the caller sent as a zero page: cached as zeros (not in pass 1).
  void zero_page(uint64_t addr);
  // Ends a period (a dirty-bitmap sync): rates are computed, the generation
  // advances and, the first time, XBZRLE starts.
  void next_generation();

  // Bytes the batch output needs at most: every page a raw record, the first
  // one naming its block.
  static uint64_t batch_capacity(size_t n, size_t page_size, size_t block_len);
  // Index of the first address a header cannot carry (not an integer, past
  // 2^64, or not a multiple of 1 KiB) or, when pages come from a memory
  // image, whose page is not inside it; -1 when all are fine.
  static long bad_address(const BatchAddrs& a, size_t n, const BatchPages& pages, uint64_t memory_size);
  // The per-page steps for n pages, each record (header + body) written to
  // out.out; kinds/offsets/lengths describe them (a skip has length 0).
  // Returns the bytes written. The caller checked capacity and addresses.
  size_t send_pages(EncodeFn enc, const BatchAddrs& addrs, const BatchPages& pages, size_t n,
                    const BatchOptions& opt, const BatchOut& out);

  const SenderCounters& counters() const { return c_; }
  uint32_t generation() const { return gen_; }
  bool started() const { return started_; }
  PageCache* cache() const { return cache_; }
  size_t page_size() const { return page_size_; }
  size_t limit() const { return limit_; }

 private:
  Sender() = default;

  PageCache* cache_ = nullptr;
  size_t page_size_ = 0;
  size_t limit_ = 0;
  uint32_t gen_ = 0;
  bool started_ = false;  // XBZRLE runs from the first next_generation()
  SenderCounters c_;
  // The period so far: pages handled, and the counters when it began.
  uint64_t handled_ = 0;
  uint64_t miss_at_start_ = 0, pages_at_start_ = 0, bytes_at_start_ = 0;
};

}  // namespace xbzrle

#endif
