// page_cache.cc: QEMU's direct-mapped cache with its two-generation lifetime
// rule, a set-associative variant under the same rule, and the arena that
// gives each cache its page memory on first insert (docs/FORMAT.md §3). Written
// from the description, not from QEMU's code.
#include "page_cache.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "xbzrle.h"

namespace xbzrle {

namespace {

// A chunk holds up to 256 KiB of pages: the chunk table stays tiny (0.005%
// of the size) and growing a chunk copies little.
constexpr size_t kChunkBytes = abi::CACHE_METADATA_CHUNK_BYTES;
// A chunk grows by this much at a time, so a cache holds at most this much
// page memory it does not use yet (charged to its budget like the rest).
constexpr size_t kGrowBytes = size_t(64) << 10;

bool is_pow2(uint64_t v) { return v && !(v & (v - 1)); }

unsigned log2_floor(uint64_t v) {
  unsigned r = 0;
  while (v >>= 1) r++;
  return r;
}

// A page may be evicted once it was last used two generations ago.
bool young(const Slot& s, uint32_t gen) { return uint64_t(s.age) + 2 > gen; }

}  // namespace

MemoryBudget* MemoryBudget::create(uint64_t size) { return new (std::nothrow) MemoryBudget(size); }

void MemoryBudget::unref() {
  if (--refs_ == 0) delete this;
}

const char* PageCache::check_geometry(size_t page_size, uint64_t size, unsigned ways) {
  if (page_size == 0 || page_size > kMaxPageSize) return "the page size must be 1 to 16384 bytes";
  if (size == 0 || size % page_size) return "the size must be a whole number of pages";
  uint64_t n = size / page_size;
  if (!is_pow2(n)) return "the size must be a power-of-two number of pages";
  if (n > kMaxSlots) return "the size must be at most 2^31 pages";
  if (!is_pow2(ways) || ways > kMaxWays) return "ways must be a power of two from 1 to 64";
  return nullptr;
}

PageCache* PageCache::create(size_t page_size, uint64_t size, Policy policy, unsigned ways,
                             MemoryBudget* budget) {
  if (check_geometry(page_size, size, ways)) return nullptr;
  PageCache* c = new (std::nothrow) PageCache();
  if (!c) return nullptr;
  c->page_size_ = page_size;
  if (is_pow2(page_size)) c->page_shift_ = static_cast<int>(log2_floor(page_size));
  c->policy_ = policy;
  c->ways_cfg_ = policy == Policy::kQemu ? 1 : ways;
  uint64_t per_chunk = kChunkBytes / page_size;
  c->chunk_shift_ = per_chunk ? log2_floor(per_chunk) : 0;
  c->chunk_mask_ = (uint32_t(1) << c->chunk_shift_) - 1;
  if (!c->set_geometry(size)) {
    delete c;
    return nullptr;
  }
  if (budget) {
    budget->ref();
    c->budget_ = budget;
  }
  return c;
}

PageCache::~PageCache() { close(); }

void PageCache::unref() {
  if (--refs_ == 0) delete this;
}

// The figure abi.h states (the twin reports the same): the slot table and
// the chunk tables, counted per entry whatever the host's pointer size.
uint64_t PageCache::metadata_for(uint64_t nslots, uint64_t nchunks) {
  return nslots * abi::CACHE_METADATA_SLOT_BYTES + nchunks * abi::CACHE_METADATA_CHUNK_ENTRY_BYTES;
}

uint64_t PageCache::metadata_bytes() const {
  return slots_ ? metadata_for(nslots_, nchunks_) : 0;
}

uint64_t PageCache::metadata_for_geometry(size_t page_size, uint64_t size) {
  if (page_size == 0) return 0;
  uint64_t nslots = size / page_size;
  uint64_t per_chunk = kChunkBytes / page_size;
  uint64_t chunk_pages = per_chunk ? uint64_t(1) << log2_floor(per_chunk) : 1;
  return metadata_for(nslots, (nslots + chunk_pages - 1) / chunk_pages);
}

uint64_t PageCache::footprint() const {
  if (!slots_) return 0;
  return page_bytes() + nslots_ * sizeof(Slot) + 63 + nchunks_ * (sizeof(uint8_t*) + sizeof(uint32_t));
}

// Allocates empty slots and chunk tables for `size` and installs them; false
// (nothing changed) when out of memory. The caller moves pages across.
bool PageCache::alloc_tables(uint64_t size, Tables* t) const {
  t->nslots = size / page_size_;
  t->ways = ways_cfg_ < t->nslots ? ways_cfg_ : static_cast<unsigned>(t->nslots);
  t->set_mask = t->nslots / t->ways - 1;
  t->nchunks = (t->nslots + chunk_mask_) >> chunk_shift_;
  // On a 32-bit host a large table does not fit size_t: out of memory, not a
  // truncated allocation.
  if (t->nslots > (SIZE_MAX - 63) / sizeof(Slot)) return false;
  t->slots_raw = static_cast<uint8_t*>(std::malloc(static_cast<size_t>(t->nslots * sizeof(Slot) + 63)));
  t->chunks = static_cast<uint8_t**>(std::calloc(t->nchunks, sizeof(uint8_t*)));
  t->chunk_cap = static_cast<uint32_t*>(std::calloc(t->nchunks, sizeof(uint32_t)));
  if (!t->slots_raw || !t->chunks || !t->chunk_cap) {
    std::free(t->slots_raw);
    std::free(t->chunks);
    std::free(t->chunk_cap);
    return false;
  }
  // 64-byte alignment keeps a 4-way set in one cache line.
  uintptr_t p = reinterpret_cast<uintptr_t>(t->slots_raw);
  t->slots = reinterpret_cast<Slot*>((p + 63) & ~uintptr_t(63));
  for (uint64_t i = 0; i < t->nslots; i++) t->slots[i] = Slot{0, 0, kNoPage};
  return true;
}

void PageCache::install(const Tables& t, uint64_t size) {
  std::free(slots_raw_);
  std::free(chunks_);
  std::free(chunk_cap_);
  slots_raw_ = t.slots_raw;
  slots_ = t.slots;
  chunks_ = t.chunks;
  chunk_cap_ = t.chunk_cap;
  nchunks_ = t.nchunks;
  nslots_ = t.nslots;
  ways_ = t.ways;
  set_mask_ = t.set_mask;
  size_ = size;
}

bool PageCache::set_geometry(uint64_t size) {
  Tables t;
  if (!alloc_tables(size, &t)) return false;
  install(t, size);
  return true;
}

uint8_t* PageCache::lookup(uint64_t addr, uint32_t gen) {
  counters_.lookups++;
  if (!slots_) return nullptr;
  if (policy_ == Policy::kAssociative && addr != last_addr_) {
    dir_ += addr > last_addr_ ? 1 : -1;
    if (dir_ > 64) dir_ = 64;
    if (dir_ < -64) dir_ = -64;
    last_addr_ = addr;
  }
  Slot* s = slots_ + set_of(addr) * ways_;
  for (unsigned w = 0; w < ways_; w++) {
    if (s[w].addr == addr && s[w].page != kNoPage) {
      s[w].age = gen;
      counters_.hits++;
      return page_at(s[w].page);
    }
  }
  return nullptr;
}

const uint8_t* PageCache::peek(uint64_t addr) const {
  if (!slots_) return nullptr;
  const Slot* s = slots_ + set_of(addr) * ways_;
  for (unsigned w = 0; w < ways_; w++)
    if (s[w].addr == addr && s[w].page != kNoPage) return page_at(s[w].page);
  return nullptr;
}

// Hands out the next arena page, growing the current chunk (by kGrowBytes,
// up to its bound) when it is full. The budget is charged before the allocator is
// asked, and refunded if the allocator fails.
Insert PageCache::new_page(uint32_t* idx) {
  uint64_t c = used_ >> chunk_shift_;
  uint64_t off = used_ & chunk_mask_;
  if (off < chunk_cap_[c]) {
    *idx = static_cast<uint32_t>(used_++);
    return Insert::kStored;
  }
  uint64_t per_chunk = uint64_t(chunk_mask_) + 1;
  uint64_t bound = nslots_ - c * per_chunk;
  if (bound > per_chunk) bound = per_chunk;
  uint64_t cur = chunk_cap_[c];  // == off
  uint64_t step = kGrowBytes / page_size_;
  if (step == 0) step = 1;
  uint64_t want = cur + step;
  if (want > bound) want = bound;
  if (budget_) {
    uint64_t afford = budget_->available() / page_size_;
    if (want - cur > afford) want = cur + afford;
    if (want <= cur) return Insert::kBudget;
    budget_->take((want - cur) * page_size_);
  }
  void* p = std::realloc(chunks_[c], want * page_size_);
  if (!p && want > cur + 1) {
    // Try again with the one page this insert needs.
    if (budget_) budget_->give((want - cur - 1) * page_size_);
    want = cur + 1;
    p = std::realloc(chunks_[c], want * page_size_);
  }
  if (!p) {
    if (budget_) budget_->give((want - cur) * page_size_);
    return Insert::kMemory;
  }
  chunks_[c] = static_cast<uint8_t*>(p);
  chunk_cap_[c] = static_cast<uint32_t>(want);
  allocated_ += want - cur;
  *idx = static_cast<uint32_t>(used_++);
  return Insert::kStored;
}

// The way a miss may replace, or nullptr. QEMU: the slot, once its page is
// two generations old. Associative: see Policy::kAssociative.
Slot* PageCache::victim(Slot* set, uint64_t addr, uint32_t gen) {
  if (policy_ == Policy::kQemu) return set->page != kNoPage && !young(*set, gen) ? set : nullptr;
  Slot* best = nullptr;
  bool best_behind = false;
  uint64_t best_dist = 0;
  for (unsigned w = 0; w < ways_; w++) {
    Slot* x = &set[w];
    if (x->page == kNoPage || young(*x, gen)) continue;
    bool behind = dir_ >= 0 ? x->addr < addr : x->addr > addr;
    if (!behind && uint64_t(x->age) + 3 > gen) continue;
    uint64_t dist = x->addr > addr ? x->addr - addr : addr - x->addr;
    // Oldest first; then a page behind the walk; then the farthest away
    // (behind: longest since the walk passed it; ahead: needed last).
    if (!best || x->age < best->age ||
        (x->age == best->age && (behind > best_behind || (behind == best_behind && dist > best_dist)))) {
      best = x;
      best_behind = behind;
      best_dist = dist;
    }
  }
  return best;
}

Insert PageCache::insert(uint64_t addr, const uint8_t* src, uint32_t gen, uint8_t** where) {
  if (!slots_) return Insert::kClosed;
  Slot* s = slots_ + set_of(addr) * ways_;
  Slot* target = nullptr;
  for (unsigned w = 0; w < ways_ && !target; w++)
    if (s[w].addr == addr && s[w].page != kNoPage) target = &s[w];  // overwrite in place
  if (!target) {
    Slot* empty = nullptr;
    for (unsigned w = 0; w < ways_ && !empty; w++)
      if (s[w].page == kNoPage) empty = &s[w];
    if (empty) {
      uint32_t idx;
      Insert r = new_page(&idx);
      if (r == Insert::kStored) {
        empty->page = idx;
        target = empty;
      } else if ((target = victim(s, addr, gen)) != nullptr) {
        // No memory for a new page, but a way can be reused (never the case
        // for QEMU's policy, whose single way is the empty one).
        counters_.evictions++;
      } else {
        if (r == Insert::kBudget)
          counters_.refused_budget++;
        else
          counters_.refused_memory++;
        return r;
      }
    } else if ((target = victim(s, addr, gen)) != nullptr) {
      counters_.evictions++;
    } else {
      counters_.refused_young++;
      return Insert::kYoung;
    }
  }
  uint8_t* dst = page_at(target->page);
  if (src)
    std::memcpy(dst, src, page_size_);
  else
    std::memset(dst, 0, page_size_);
  target->addr = addr;
  target->age = gen;
  counters_.inserts++;
  if (where) *where = dst;
  return Insert::kStored;
}

void PageCache::free_chunks() {
  for (uint64_t c = 0; c < nchunks_; c++) {
    std::free(chunks_[c]);
    chunks_[c] = nullptr;
    chunk_cap_[c] = 0;
  }
  if (budget_) budget_->give(allocated_ * page_size_);
  allocated_ = 0;
  used_ = 0;
}

void PageCache::clear() {
  if (!slots_) return;
  free_chunks();
  for (uint64_t i = 0; i < nslots_; i++) slots_[i] = Slot{0, 0, kNoPage};
}

void PageCache::close() {
  if (!slots_) return;
  free_chunks();
  std::free(slots_raw_);
  std::free(chunks_);
  std::free(chunk_cap_);
  slots_raw_ = nullptr;
  slots_ = nullptr;
  chunks_ = nullptr;
  chunk_cap_ = nullptr;
  nchunks_ = 0;
  if (budget_) budget_->unref();
  budget_ = nullptr;
}

// Resizing keeps what fits without new page memory: entries are placed in
// the new geometry (the younger wins a contested slot), the kept pages are
// compacted to the front of the arena by moving pages from its tail into the
// holes, and the chunks past them are trimmed or freed.
bool PageCache::resize(uint64_t size) {
  if (!slots_) return false;
  if (size == size_) return true;
  Tables t;
  if (!alloc_tables(size, &t)) return false;
  uint32_t* owner = nullptr;  // arena index -> new slot index
  if (used_) {
    if (used_ <= SIZE_MAX / sizeof(uint32_t))
      owner = static_cast<uint32_t*>(std::malloc(static_cast<size_t>(used_ * sizeof(uint32_t))));
    if (!owner) {
      std::free(t.slots_raw);
      std::free(t.chunks);
      std::free(t.chunk_cap);
      return false;
    }
  }

  // 1. Place the old entries; a contested set keeps its youngest pages.
  for (uint64_t i = 0; i < nslots_; i++) {
    const Slot& e = slots_[i];
    if (e.page == kNoPage) continue;
    Slot* s = t.slots + ((e.addr / page_size_) & t.set_mask) * t.ways;
    Slot* dst = nullptr;
    Slot* oldest = nullptr;
    for (unsigned w = 0; w < t.ways && !dst; w++) {
      if (s[w].page == kNoPage)
        dst = &s[w];
      else if (!oldest || s[w].age < oldest->age)
        oldest = &s[w];
    }
    if (!dst && oldest->age < e.age) dst = oldest;  // the newcomer is younger
    if (dst) *dst = e;
  }

  // 2. Compact: kept pages move from the arena's tail into its holes.
  const uint32_t kNone = UINT32_MAX;
  uint64_t kept = 0;
  for (uint64_t i = 0; i < used_; i++) owner[i] = kNone;
  for (uint64_t i = 0; i < t.nslots; i++)
    if (t.slots[i].page != kNoPage) {
      owner[t.slots[i].page] = static_cast<uint32_t>(i);
      kept++;
    }
  uint64_t lo = 0, hi = used_;
  while (true) {
    while (lo < hi && owner[lo] != kNone) lo++;
    while (hi > lo && owner[hi - 1] == kNone) hi--;
    if (lo >= hi) break;  // [0, lo) all kept, [hi, used_) all holes
    uint64_t from = hi - 1;
    std::memcpy(page_at(static_cast<uint32_t>(lo)), page_at(static_cast<uint32_t>(from)),
                page_size_);
    t.slots[owner[from]].page = static_cast<uint32_t>(lo);
    owner[lo] = owner[from];
    owner[from] = kNone;
  }
  std::free(owner);

  // 3. Trim the arena to the kept pages and move the chunks to the new table.
  uint64_t per_chunk = uint64_t(chunk_mask_) + 1;
  uint64_t freed = 0;
  for (uint64_t c = 0; c < nchunks_; c++) {
    uint64_t start = c * per_chunk;
    uint64_t keep = kept > start ? kept - start : 0;
    if (keep > chunk_cap_[c]) keep = chunk_cap_[c];
    if (keep == 0) {
      std::free(chunks_[c]);
      freed += chunk_cap_[c];
    } else if (keep < chunk_cap_[c]) {
      // Shrinking in place; if even that fails the block stays as it was.
      void* p = std::realloc(chunks_[c], keep * page_size_);
      if (p) {
        chunks_[c] = static_cast<uint8_t*>(p);
        freed += chunk_cap_[c] - keep;
        chunk_cap_[c] = static_cast<uint32_t>(keep);
      }
    }
    if (keep) {  // kept <= new slots, so c is inside the new table
      t.chunks[c] = chunks_[c];
      t.chunk_cap[c] = chunk_cap_[c];
    }
  }
  allocated_ -= freed;
  if (budget_) budget_->give(freed * page_size_);
  used_ = kept;
  install(t, size);
  return true;
}

}  // namespace xbzrle
