// page_cache.h: the sender's page cache (docs/FORMAT.md §3) and the byte budget
// several caches draw their page memory from. No Node header here: the core
// builds alone (standalone tests, sanitizers, fuzzers).
//
// Threads: a budget, its caches and their senders belong to one thread (the
// JavaScript thread that made them). Nothing here locks.
#ifndef XBZRLE_PAGE_CACHE_H
#define XBZRLE_PAGE_CACHE_H

#include <cstddef>
#include <cstdint>

#include "abi.h"

namespace xbzrle {

// One byte budget shared by several caches. A cache takes bytes before it
// allocates page memory and gives them back when it frees it, so `used` is
// exactly the page memory its caches hold and never exceeds `size`.
class MemoryBudget {
 public:
  static MemoryBudget* create(uint64_t size);  // nullptr when out of memory

  uint64_t size() const { return size_; }
  uint64_t used() const { return used_; }
  uint64_t available() const { return size_ - used_; }
  bool take(uint64_t bytes) {
    if (bytes > size_ - used_) return false;
    used_ += bytes;
    return true;
  }
  void give(uint64_t bytes) { used_ -= bytes < used_ ? bytes : used_; }

  // The JavaScript wrapper and every cache drawing from the budget hold a
  // reference; finalizers run in any order, so the last one frees it.
  void ref() { refs_++; }
  void unref();

 private:
  explicit MemoryBudget(uint64_t size) : size_(size) {}
  uint64_t size_;
  uint64_t used_ = 0;
  uint32_t refs_ = 1;
};

enum class Policy : int {
  kQemu = 0,         // direct-mapped: slot = (addr / P) & (N - 1), as QEMU
  // N/W sets of W ways: set = (addr / P) & (N/W - 1). A miss fills an empty
  // way, else replaces the oldest way QEMU's lifetime rule lets go,
  // preferring one the sender's walk has passed in this pass (a page
  // dirtied in this pass would have been a hit and refreshed); a page still
  // ahead of the walk may yet be dirtied, so it gets one more generation.
  kAssociative = 1,
};

// What insert() did; the numbers cross to lib/ (abi.h INSERT_*).
enum class Insert : int {
  kStored = abi::INSERT_STORED,
  kYoung = abi::INSERT_YOUNG,    // refused: the slot (every way) holds another page of the last two generations
  kBudget = abi::INSERT_BUDGET,  // refused: the budget cannot fund a new page
  kMemory = abi::INSERT_MEMORY,  // refused: the allocator failed
  kClosed = abi::INSERT_CLOSED,  // the cache is closed
};

struct CacheCounters {
  uint64_t lookups = 0;
  uint64_t hits = 0;
  uint64_t inserts = 0;         // pages stored (new or overwritten)
  uint64_t refused_young = 0;   // QEMU's lifetime rule said no
  uint64_t refused_budget = 0;  // the shared budget could not fund a page
  uint64_t refused_memory = 0;  // malloc/realloc returned null
  uint64_t evictions = 0;       // another address replaced
};

// Slot metadata, 16 bytes (0.4% of a 4 KiB page). `page` indexes the arena.
struct Slot {
  uint64_t addr;
  uint32_t age;   // the generation of the last hit or insert
  uint32_t page;  // arena index, kNoPage when the slot never got memory
};

class PageCache {
 public:
  static constexpr uint32_t kNoPage = UINT32_MAX;
  static constexpr uint64_t kMaxSlots = uint64_t(1) << 31;
  static constexpr unsigned kMaxWays = 64;

  // Why a geometry is invalid, or nullptr when it is valid: P in 1..16384,
  // size a power-of-two number (<= 2^31) of pages, ways a power of two.
  static const char* check_geometry(size_t page_size, uint64_t size, unsigned ways);

  // nullptr when out of memory. `ways` is ignored for kQemu. The cache takes
  // a reference on `budget` (which may be null: no limit but its size).
  static PageCache* create(size_t page_size, uint64_t size, Policy policy, unsigned ways,
                           MemoryBudget* budget);

  // A hit refreshes the age and returns the page (valid until the next
  // insert or resize); a miss returns nullptr.
  uint8_t* lookup(uint64_t addr, uint32_t gen);
  // The page without touching its age, or nullptr.
  const uint8_t* peek(uint64_t addr) const;
  // Stores a copy of `page` (P bytes; nullptr stores zeros) under QEMU's
  // lifetime rule. On kStored, *where (if given) receives the cached copy.
  Insert insert(uint64_t addr, const uint8_t* page, uint32_t gen, uint8_t** where = nullptr);
  // Changes the size, keeping the entries that fit (the youngest win a
  // contested slot) in place: no new page memory is needed, and memory
  // beyond what is kept goes back to the budget. False (cache unchanged)
  // when the new metadata cannot be allocated.
  bool resize(uint64_t size);
  void clear();   // drops every entry and gives all page memory back
  void close();   // clear() and free the metadata; the object stays valid
  bool closed() const { return slots_ == nullptr; }

  size_t page_size() const { return page_size_; }
  uint64_t size() const { return size_; }
  uint64_t slots() const { return nslots_; }
  unsigned ways() const { return ways_; }
  Policy policy() const { return policy_; }
  uint64_t stored() const { return used_; }  // pages held
  uint64_t page_bytes() const { return allocated_ * page_size_; }
  uint64_t metadata_bytes() const;  // abi.h CACHE_METADATA
  // The metadata a cache of this geometry holds (abi.h CACHE_METADATA).
  static uint64_t metadata_for_geometry(size_t page_size, uint64_t size);
  // Every byte allocated for this cache now (pages, tables, alignment), for
  // the host's memory accounting.
  uint64_t footprint() const;
  const CacheCounters& counters() const { return counters_; }
  MemoryBudget* budget() const { return budget_; }

  void ref() { refs_++; }
  void unref();  // the JavaScript wrapper and each sender hold one

 private:
  // Slot array and chunk tables for one geometry.
  struct Tables {
    uint8_t* slots_raw = nullptr;
    Slot* slots = nullptr;
    uint8_t** chunks = nullptr;
    uint32_t* chunk_cap = nullptr;
    uint64_t nslots = 0, nchunks = 0, set_mask = 0;
    unsigned ways = 1;
  };

  PageCache() = default;
  static uint64_t metadata_for(uint64_t nslots, uint64_t nchunks);
  ~PageCache();
  bool alloc_tables(uint64_t size, Tables* t) const;
  void install(const Tables& t, uint64_t size);
  bool set_geometry(uint64_t size);
  uint8_t* page_at(uint32_t idx) const {
    return chunks_[idx >> chunk_shift_] + size_t(idx & chunk_mask_) * page_size_;
  }
  // A shift when P is a power of two (the usual case): a 64-bit division
  // costs as much as the rest of a lookup.
  uint64_t set_of(uint64_t addr) const {
    return (page_shift_ >= 0 ? addr >> page_shift_ : addr / page_size_) & set_mask_;
  }
  Insert new_page(uint32_t* idx);
  Slot* victim(Slot* set, uint64_t addr, uint32_t gen);
  void free_chunks();

  size_t page_size_ = 0;
  int page_shift_ = -1;  // log2(P) when P is a power of two
  uint64_t size_ = 0;
  uint64_t nslots_ = 0;
  unsigned ways_ = 1;      // ways per set in this geometry: min(ways_cfg_, slots)
  unsigned ways_cfg_ = 1;  // ways asked for
  uint64_t set_mask_ = 0;
  Policy policy_ = Policy::kQemu;
  Slot* slots_ = nullptr;        // aligned to 64 bytes inside slots_raw_
  uint8_t* slots_raw_ = nullptr;

  // The arena: chunks of up to 2^chunk_shift_ pages, each grown in small
  // steps (realloc) so a cache holds little unused memory, filled in index
  // order.
  uint8_t** chunks_ = nullptr;
  uint32_t* chunk_cap_ = nullptr;  // pages allocated in each chunk
  uint64_t nchunks_ = 0;           // table length: ceil(nslots_ / chunk pages)
  unsigned chunk_shift_ = 0;
  uint32_t chunk_mask_ = 0;
  uint64_t used_ = 0;       // pages handed out: indexes 0..used_-1
  uint64_t allocated_ = 0;  // pages allocated over all chunks

  // The direction of the sender's walk, learned from lookups (associative
  // only): >= 0 ascending. Tells which cached pages the walk has passed.
  uint64_t last_addr_ = 0;
  int dir_ = 0;

  MemoryBudget* budget_ = nullptr;
  CacheCounters counters_;
  uint32_t refs_ = 1;
};

}  // namespace xbzrle

#endif
