// cache.cc: the memory budget, the page cache and the sender (docs/FORMAT.md §3)
// as tagged handles. The core (page_cache.cc, sender.cc) knows nothing of
// Node. Every byte a handle owns is reported to V8 (glue.h account), so a
// program that drops caches without close() still gets them collected, and
// reclaim() frees what the collector found dead without waiting for the
// finalizers.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <new>

#include "glue.h"
#include "../core/page_cache.h"
#include "../core/sender.h"

namespace xbzrle {
namespace glue {

namespace {

struct Watch;

// A cache handle's state. Senders hold a reference too: a sender's pages go
// into the cache, and their memory must stay reported while either lives.
struct CacheBox {
  PageCache* cache;
  int64_t reported = 0;
  uint32_t refs = 1;
  uint32_t handles = 1;   // JavaScript handles on it not yet found dead
  Watch* watch = nullptr;  // the cache handle's
};

struct SenderBox {
  Sender* sender;
  CacheBox* box;
  int64_t reported = 0;
  Watch* watch = nullptr;
};

struct BudgetBox {
  MemoryBudget* budget;
  int64_t reported = 0;
};

// A cache or sender handle that reclaim() watches: a weak reference to it,
// which a collection empties when it finds the handle dead (the finalizer
// runs later), and the box the handle holds (null once its death is
// counted). Held by the list and by the handle, so whichever of sweep,
// finalizer and teardown comes last frees it.
struct Watch {
  napi_ref ref;
  CacheBox* box;
  Watch* next;
  uint8_t holds;
};

// Sweep once the caches grew by this much, or the list doubled, since the
// last sweep: the cost stays proportional to what is created.
constexpr uint64_t kSweepBytes = 64ull << 20;

}  // namespace

struct Watches {
  Watch* head = nullptr;
  size_t count = 0;
  size_t sweep_at = 64;
  uint64_t grown = 0;  // bytes the caches reported since the last sweep
};

namespace {

void sync(Napi::Env env, CacheBox* b) {
  int64_t before = b->reported;
  account(env, &b->reported, sizeof(PageCache) + sizeof(CacheBox) + b->cache->footprint());
  if (b->reported > before)
    if (Watches* w = instance(env)->watches) w->grown += static_cast<uint64_t>(b->reported - before);
}

void unref(Napi::BasicEnv env, CacheBox* b) {
  if (--b->refs) return;
  account(env, &b->reported, 0);
  b->cache->unref();
  delete b;
}

void drop(Watch* x) {
  if (--x->holds == 0) delete x;
}

// One JavaScript handle on watch x's box is gone (found by a sweep or its
// finalizer, whichever is first); with the last one the cache closes,
// freeing its pages and returning its budget at once.
void gone(Napi::BasicEnv env, Watch* x) {
  CacheBox* b = x ? x->box : nullptr;
  if (!b) return;
  x->box = nullptr;
  if (--b->handles) return;
  b->cache->close();
  account(env, &b->reported, sizeof(PageCache) + sizeof(CacheBox) + b->cache->footprint());
}

// Watches a new cache or sender handle on box `b`, or returns nullptr (no
// memory): that handle then never counts as gone, so reclaim() never closes
// its cache and the finalizers free it.
Watch* watch(Napi::Env env, CacheBox* b, napi_value handle) {
  Instance* in = instance(env);
  if (!in->watches) in->watches = new (std::nothrow) Watches;
  Watch* x = in->watches ? new (std::nothrow) Watch{nullptr, b, in->watches->head, 2} : nullptr;
  if (x && napi_create_reference(env, handle, 0, &x->ref) != napi_ok) {
    delete x;
    x = nullptr;
  }
  if (!x) return nullptr;
  in->watches->head = x;
  in->watches->count++;
  return x;
}

// Node-API 8 runs finalizers on the event loop's next turn (glue.h), so a
// loop that drops filled caches without close() and never yields would
// hold every one. When a cache or sender is created, this finds the handles
// a collection found dead and closes the caches none of whose handles is
// left, on the JavaScript thread, before the new one allocates.
void reclaim(Napi::Env env) {
  Watches* w = instance(env)->watches;
  if (!w || (w->grown < kSweepBytes && w->count < w->sweep_at)) return;
  Napi::HandleScope scope(env);
  for (Watch** p = &w->head; *p;) {
    Watch* x = *p;
    napi_value v = nullptr;
    if (napi_get_reference_value(env, x->ref, &v) != napi_ok || v) {
      p = &x->next;
      continue;
    }
    *p = x->next;
    w->count--;
    napi_delete_reference(env, x->ref);
    gone(env, x);
    drop(x);
  }
  w->grown = 0;
  w->sweep_at = std::max<size_t>(64, 2 * w->count);
}

void FinalizeBudget(Napi::BasicEnv env, BudgetBox* b) {
  account(env, &b->reported, 0);
  b->budget->unref();
  delete b;
}

void FinalizeCache(Napi::BasicEnv env, CacheBox* b) {
  if (Watch* x = b->watch) gone(env, x), drop(x);
  unref(env, b);
}

void FinalizeSender(Napi::BasicEnv env, SenderBox* s) {
  account(env, &s->reported, 0);
  delete s->sender;
  if (Watch* x = s->watch) gone(env, x), drop(x);
  unref(env, s->box);
  delete s;
}

MemoryBudget* get_budget(Args& a, size_t i) {
  auto* b = static_cast<BudgetBox*>(a.handle(i, Kind::kBudget));
  return b ? b->budget : nullptr;
}

// An open cache, or nullptr (thrown); `allow_closed` for the calls that
// still work on a closed cache (stats, clear/close).
CacheBox* get_cache(Args& a, size_t i, bool allow_closed = false) {
  auto* b = static_cast<CacheBox*>(a.handle(i, Kind::kCache));
  if (b && !allow_closed && b->cache->closed()) {
    a.fail("ERR_XBZRLE_CLOSED", "the page cache is closed");
    return nullptr;
  }
  return b;
}

SenderBox* get_sender(Args& a, size_t i, bool allow_closed = false) {
  auto* s = static_cast<SenderBox*>(a.handle(i, Kind::kSender));
  if (s && !allow_closed && s->box->cache->closed()) {
    a.fail("ERR_XBZRLE_CLOSED", "the sender's page cache is closed");
    return nullptr;
  }
  return s;
}

// A Float64Array of at least `n` slots.
double* stats_array(Args& a, size_t i, size_t n, const char* what) {
  auto t = a.typed<double>(i, napi_float64_array, what);
  if (a.ok() && t.length < n) a.fail_range(what);
  return a.ok() ? t.data : nullptr;
}

// budgetNew(size) -> handle
Napi::Value BudgetNew(const Napi::CallbackInfo& info) {
  Args a(info, 1, "budgetNew");
  uint64_t size = a.integer(0, "size must be an integer from 0 to 2^53 - 1");
  if (!a.ok()) return Napi::Value();
  MemoryBudget* b = MemoryBudget::create(size);
  BudgetBox* box = b ? new (std::nothrow) BudgetBox{b} : nullptr;
  if (!box) {
    if (b) b->unref();
    return throw_no_memory(info.Env(), "out of memory for a memory budget"), Napi::Value();
  }
  account(info.Env(), &box->reported, sizeof(MemoryBudget) + sizeof(BudgetBox));
  return wrap(info.Env(), box, Kind::kBudget, FinalizeBudget);
}

// budgetInfo(handle, Float64Array[BUDGET_INFO_LENGTH])
Napi::Value BudgetInfo(const Napi::CallbackInfo& info) {
  Args a(info, 2, "budgetInfo");
  MemoryBudget* b = get_budget(a, 0);
  double* o = stats_array(a, 1, abi::BUDGET_INFO_LENGTH, "out must be a Float64Array of 2");
  if (!a.ok()) return Napi::Value();
  o[abi::BUDGET_INFO_SIZE] = static_cast<double>(b->size());
  o[abi::BUDGET_INFO_USED] = static_cast<double>(b->used());
  return info.Env().Undefined();
}

// budgetTake(handle, bytes) -> bool; budgetGive(handle, bytes): for the
// TypeScript caches, which draw from the same budget as the native ones.
Napi::Value BudgetTake(const Napi::CallbackInfo& info) {
  Args a(info, 2, "budgetTake");
  MemoryBudget* b = get_budget(a, 0);
  uint64_t bytes = a.integer(1, "bytes must be an integer from 0 to 2^53 - 1");
  if (!a.ok()) return Napi::Value();
  return Napi::Boolean::New(info.Env(), b->take(bytes));
}

Napi::Value BudgetGive(const Napi::CallbackInfo& info) {
  Args a(info, 2, "budgetGive");
  MemoryBudget* b = get_budget(a, 0);
  uint64_t bytes = a.integer(1, "bytes must be an integer from 0 to 2^53 - 1");
  if (!a.ok()) return Napi::Value();
  b->give(bytes);
  return info.Env().Undefined();
}

// cacheNew(pageSize, size, policy, ways, budget | null) -> handle
Napi::Value CacheNew(const Napi::CallbackInfo& info) {
  Args a(info, 5, "cacheNew");
  size_t page_size = a.integer(0, "pageSize must be an integer from 1 to 16384", kMaxPageSize);
  uint64_t size = a.integer(1, "size must be an integer from 0 to 2^53 - 1");
  uint64_t policy = a.integer(2, "policy must be 0 or 1", 1);
  uint64_t ways = a.integer(3, "ways must be a power of two from 1 to 64", PageCache::kMaxWays);
  MemoryBudget* budget = a.nullish(4) ? nullptr : get_budget(a, 4);
  if (a.ok())
    if (const char* why = PageCache::check_geometry(page_size, size, static_cast<unsigned>(ways))) a.fail_range(why);
  if (!a.ok()) return Napi::Value();
  reclaim(info.Env());
  PageCache* c = PageCache::create(page_size, size, static_cast<Policy>(policy), static_cast<unsigned>(ways), budget);
  CacheBox* box = c ? new (std::nothrow) CacheBox{c} : nullptr;
  if (!box) {
    if (c) c->unref();
    return throw_no_memory(info.Env(), "out of memory for the page cache's slot table"), Napi::Value();
  }
  sync(info.Env(), box);
  Napi::Value handle = wrap(info.Env(), box, Kind::kCache, FinalizeCache);
  if (!handle.IsEmpty()) box->watch = watch(info.Env(), box, handle);
  return handle;
}

// cacheLookup(handle, addr, generation) -> bool (a hit refreshes the age)
Napi::Value CacheLookup(const Napi::CallbackInfo& info) {
  Args a(info, 3, "cacheLookup");
  CacheBox* b = get_cache(a, 0);
  uint64_t addr = a.addr(1);
  uint32_t gen = a.integer(2, "generation must be an integer from 0 to 2^32 - 1", UINT32_MAX);
  if (!a.ok()) return Napi::Value();
  return Napi::Boolean::New(info.Env(), b->cache->lookup(addr, gen) != nullptr);
}

// cacheInsert(handle, addr, page, generation) -> abi.h INSERT_*
Napi::Value CacheInsert(const Napi::CallbackInfo& info) {
  Args a(info, 4, "cacheInsert");
  CacheBox* b = get_cache(a, 0);
  uint64_t addr = a.addr(1);
  Bytes page = a.bytes(2, "page must be a Uint8Array");
  uint32_t gen = a.integer(3, "generation must be an integer from 0 to 2^32 - 1", UINT32_MAX);
  if (a.ok() && page.size != b->cache->page_size()) a.fail_range("page must be one page long");
  if (!a.ok()) return Napi::Value();
  Insert r = b->cache->insert(addr, page.data, gen);
  sync(info.Env(), b);
  return Napi::Number::New(info.Env(), static_cast<double>(static_cast<int>(r)));
}

// cacheGet(handle, addr, out) -> bool: copies the cached page into out
Napi::Value CacheGet(const Napi::CallbackInfo& info) {
  Args a(info, 3, "cacheGet");
  CacheBox* b = get_cache(a, 0);
  uint64_t addr = a.addr(1);
  Bytes out = a.bytes(2, "out must be a Uint8Array");
  if (a.ok() && out.size < b->cache->page_size()) a.fail_range("out must hold one page");
  if (!a.ok()) return Napi::Value();
  const uint8_t* p = b->cache->peek(addr);
  if (p) std::memmove(out.data, p, b->cache->page_size());
  return Napi::Boolean::New(info.Env(), p != nullptr);
}

// cacheResize(handle, size) -> bool (false: no memory for the new slot table)
Napi::Value CacheResize(const Napi::CallbackInfo& info) {
  Args a(info, 2, "cacheResize");
  CacheBox* b = get_cache(a, 0);
  uint64_t size = a.integer(1, "size must be an integer from 0 to 2^53 - 1");
  if (a.ok())
    if (const char* why = PageCache::check_geometry(b->cache->page_size(), size, b->cache->ways())) a.fail_range(why);
  if (!a.ok()) return Napi::Value();
  bool ok = b->cache->resize(size);
  sync(info.Env(), b);
  return Napi::Boolean::New(info.Env(), ok);
}

// cacheClear(handle, close): drops every entry; with close, frees it all
Napi::Value CacheClear(const Napi::CallbackInfo& info) {
  Args a(info, 2, "cacheClear");
  CacheBox* b = get_cache(a, 0, true);
  bool close = a.boolean(1, "close must be a boolean");
  if (!a.ok()) return Napi::Value();
  if (close)
    b->cache->close();
  else
    b->cache->clear();
  sync(info.Env(), b);
  return info.Env().Undefined();
}

// cacheStats(handle, Float64Array[CACHE_STATS_LENGTH])
Napi::Value CacheStats(const Napi::CallbackInfo& info) {
  Args a(info, 2, "cacheStats");
  CacheBox* b = get_cache(a, 0, true);
  double* o = stats_array(a, 1, abi::CACHE_STATS_LENGTH, "out must be a Float64Array of 15");
  if (!a.ok()) return Napi::Value();
  const PageCache& c = *b->cache;
  const CacheCounters& k = c.counters();
  o[abi::CACHE_STAT_SIZE] = double(c.size());
  o[abi::CACHE_STAT_PAGE_SIZE] = double(c.page_size());
  o[abi::CACHE_STAT_SLOTS] = double(c.slots());
  o[abi::CACHE_STAT_WAYS] = double(c.ways());
  o[abi::CACHE_STAT_PAGES] = double(c.stored());
  o[abi::CACHE_STAT_PAGE_BYTES] = double(c.page_bytes());
  o[abi::CACHE_STAT_METADATA_BYTES] = double(c.metadata_bytes());
  o[abi::CACHE_STAT_LOOKUPS] = double(k.lookups);
  o[abi::CACHE_STAT_HITS] = double(k.hits);
  o[abi::CACHE_STAT_INSERTS] = double(k.inserts);
  o[abi::CACHE_STAT_REFUSED_YOUNG] = double(k.refused_young);
  o[abi::CACHE_STAT_REFUSED_BUDGET] = double(k.refused_budget);
  o[abi::CACHE_STAT_REFUSED_MEMORY] = double(k.refused_memory);
  o[abi::CACHE_STAT_EVICTIONS] = double(k.evictions);
  o[abi::CACHE_STAT_CLOSED] = c.closed() ? 1.0 : 0.0;
  static_assert(abi::CACHE_STAT_CLOSED + 1 == abi::CACHE_STATS_LENGTH, "every cache stat slot is written");
  return info.Env().Undefined();
}

// senderNew(cache, limit) -> handle
Napi::Value SenderNew(const Napi::CallbackInfo& info) {
  Args a(info, 2, "senderNew");
  CacheBox* b = get_cache(a, 0);
  uint32_t limit = a.integer(1, "limit must be an integer from 0 to 2^32 - 1", UINT32_MAX);
  if (!a.ok()) return Napi::Value();
  reclaim(info.Env());
  Sender* s = Sender::create(b->cache, limit);
  SenderBox* box = s ? new (std::nothrow) SenderBox{s, b} : nullptr;
  if (!box) {
    delete s;
    return throw_no_memory(info.Env(), "out of memory for a sender"), Napi::Value();
  }
  b->refs++;
  account(info.Env(), &box->reported, sizeof(Sender) + sizeof(SenderBox));
  Napi::Value handle = wrap(info.Env(), box, Kind::kSender, FinalizeSender);
  if (!handle.IsEmpty()) {
    b->handles++;
    box->watch = watch(info.Env(), b, handle);
  }
  return handle;
}

// senderSendPage(handle, addr, page, body, flags) -> kind + 4 * body length.
// body holds at least P + 3 bytes, apart from the page.
Napi::Value SenderSendPage(const Napi::CallbackInfo& info) {
  Args a(info, 5, "senderSendPage");
  SenderBox* sb = get_sender(a, 0);
  uint64_t addr = a.addr(1);
  Bytes page = a.bytes(2, "page must be a Uint8Array");
  Bytes body = a.bytes(3, "body must be a Uint8Array");
  uint32_t flags = a.integer(4, "flags must be an integer from 0 to 2^32 - 1", UINT32_MAX);
  if (!a.ok()) return Napi::Value();
  Sender* s = sb->sender;
  const size_t P = s->page_size();
  if (page.size != P || body.size < P + 3 || overlaps(page.data, P, body.data, body.size))
    return a.fail_range("page must be one page, body P + 3 bytes apart from it"), Napi::Value();
  size_t len = 0;
  PageKind k = s->send_page(instance(info.Env())->kernel->encode, addr, page.data, flags & abi::FLAG_LAST_STAGE,
                            flags & abi::FLAG_DETECT_ZERO, body.data, &len);
  sync(info.Env(), sb->box);
  return Napi::Number::New(info.Env(), static_cast<double>(static_cast<int>(k)) + 4.0 * static_cast<double>(len));
}

// The pages of senderSendPages: a memory image (FLAG_MEMORY), an array of n
// pages, or one buffer of n pages; none may overlap out. `*list` is
// malloc'd for an array (the caller frees it).
bool batch_pages(Args& a, uint32_t flags, size_t n, size_t P, const Bytes& out, BatchPages* pages,
                 const uint8_t*** list, uint64_t* memory_size) {
  pages->page_size = P;
  Napi::Value v = a.at(2);
  if (flags & abi::FLAG_MEMORY) {
    Bytes mem = a.bytes(2, "memory must be a Uint8Array");
    if (a.ok() && overlaps(mem.data, mem.size, out.data, out.size)) a.fail_range("memory and out must not overlap");
    pages->base = mem.data;
    pages->by_address = true;
    *memory_size = mem.size;
    return a.ok();
  }
  if (!v.IsArray()) {
    Bytes all = a.bytes(2, "pages must be a Uint8Array or an array of them");
    if (a.ok() && (all.size != n * P || overlaps(all.data, all.size, out.data, out.size)))
      a.fail_range("pages must be n pages long and apart from out");
    pages->base = all.data;
    return a.ok();
  }
  Napi::Array arr = v.As<Napi::Array>();
  if (arr.Length() != n) return a.fail_range("pages must hold one page per address");
  *list = static_cast<const uint8_t**>(std::malloc((n ? n : 1) * sizeof(uint8_t*)));
  if (!*list) return a.fail("ERR_XBZRLE_NO_MEMORY", "out of memory for the page list");
  for (uint32_t i = 0; i < n; i++) {
    Napi::Value e = arr.Get(i);
    if (e.IsEmpty()) return false;  // a getter threw
    napi_typedarray_type t;
    void* data = nullptr;
    size_t len = 0;
    if (napi_get_typedarray_info(a.env(), e, &t, &len, &data, nullptr, nullptr) != napi_ok || t != napi_uint8_array)
      return a.fail_type("pages must hold Uint8Arrays");
    if (!data || len != P || overlaps(data, P, out.data, out.size))
      return a.fail_range("each page must be one page long and apart from out");
    (*list)[i] = static_cast<const uint8_t*>(data);
  }
  pages->list = *list;
  return true;
}

// senderSendPages(handle, addrs, pages, out, kinds, offsets, lengths, flags,
// block) -> bytes written, or -(i + 1) when addrs[i] cannot go in a header
// (or, from a memory image, its page is not inside it). addrs: Float64Array
// or BigUint64Array; flags: abi.h FLAG_*.
Napi::Value SenderSendPages(const Napi::CallbackInfo& info) {
  Args a(info, 9, "senderSendPages");
  SenderBox* sb = get_sender(a, 0);
  BatchAddrs addrs;
  size_t n = 0;
  if (a.ok()) {
    napi_typedarray_type at;
    void* adata = nullptr;
    if (napi_get_typedarray_info(info.Env(), a.at(1), &at, &n, &adata, nullptr, nullptr) != napi_ok ||
        (at != napi_float64_array && at != napi_biguint64_array))
      a.fail_type("addrs must be a Float64Array or a BigUint64Array");
    if (!adata) n = 0;  // detached
    if (at == napi_float64_array)
      addrs.f64 = static_cast<const double*>(adata);
    else
      addrs.u64 = static_cast<const uint64_t*>(adata);
  }
  Bytes out = a.bytes(3, "out must be a Uint8Array");
  auto kinds = a.typed<uint8_t>(4, napi_uint8_array, "kinds must be a Uint8Array of n");
  auto offsets = a.typed<uint32_t>(5, napi_uint32_array, "offsets must be a Uint32Array of n");
  auto lengths = a.typed<uint32_t>(6, napi_uint32_array, "lengths must be a Uint32Array of n");
  uint32_t flags = a.integer(7, "flags must be an integer from 0 to 2^32 - 1", UINT32_MAX);
  Bytes block = a.bytes(8, "block must be a Uint8Array");
  if (a.ok() && (kinds.length < n || offsets.length < n || lengths.length < n))
    a.fail_range("kinds, offsets and lengths must hold n entries");
  if (a.ok() && block.size > 255) a.fail_range("block names are at most 255 bytes");
  if (!a.ok()) return Napi::Value();
  Sender* s = sb->sender;
  const size_t P = s->page_size();
  uint64_t need = Sender::batch_capacity(n, P, block.size);
  if (out.size < need || need > UINT32_MAX)
    return a.fail_range("out is too small for the batch, or the batch too large"), Napi::Value();

  BatchPages pages;
  const uint8_t** list = nullptr;
  uint64_t memory_size = 0;
  if (!batch_pages(a, flags, n, P, out, &pages, &list, &memory_size)) {
    std::free(list);
    return Napi::Value();
  }
  long bad = Sender::bad_address(addrs, n, pages, memory_size);
  if (bad >= 0) {
    std::free(list);
    return Napi::Number::New(info.Env(), -static_cast<double>(bad) - 1.0);
  }
  BatchOptions opt;
  opt.last_stage = flags & abi::FLAG_LAST_STAGE;
  opt.detect_zero = flags & abi::FLAG_DETECT_ZERO;
  opt.continued = flags & abi::FLAG_CONTINUED;
  opt.block = block.data;
  opt.block_len = block.size;
  BatchOut bo;
  bo.out = out.data;
  bo.capacity = out.size;
  bo.kinds = kinds.data;
  bo.offsets = offsets.data;
  bo.lengths = lengths.data;
  size_t written = s->send_pages(instance(info.Env())->kernel->encode, addrs, pages, n, opt, bo);
  std::free(list);
  sync(info.Env(), sb->box);
  return Napi::Number::New(info.Env(), static_cast<double>(written));
}

// senderZeroPage(handle, addr)
Napi::Value SenderZeroPage(const Napi::CallbackInfo& info) {
  Args a(info, 2, "senderZeroPage");
  SenderBox* sb = get_sender(a, 0);
  uint64_t addr = a.addr(1);
  if (!a.ok()) return Napi::Value();
  sb->sender->zero_page(addr);
  sync(info.Env(), sb->box);
  return info.Env().Undefined();
}

// senderNextGeneration(handle)
Napi::Value SenderNextGeneration(const Napi::CallbackInfo& info) {
  Args a(info, 1, "senderNextGeneration");
  SenderBox* sb = get_sender(a, 0, true);
  if (!a.ok()) return Napi::Value();
  sb->sender->next_generation();
  return info.Env().Undefined();
}

// senderStats(handle, Float64Array[SENDER_STATS_LENGTH])
Napi::Value SenderStats(const Napi::CallbackInfo& info) {
  Args a(info, 2, "senderStats");
  SenderBox* sb = get_sender(a, 0, true);
  double* o = stats_array(a, 1, abi::SENDER_STATS_LENGTH, "out must be a Float64Array of 12");
  if (!a.ok()) return Napi::Value();
  const Sender& s = *sb->sender;
  const SenderCounters& k = s.counters();
  o[abi::SENDER_STAT_CACHE_SIZE] = double(s.cache()->size());
  o[abi::SENDER_STAT_BYTES] = double(k.bytes);
  o[abi::SENDER_STAT_PAGES] = double(k.pages);
  o[abi::SENDER_STAT_CACHE_MISS] = double(k.cache_miss);
  o[abi::SENDER_STAT_CACHE_MISS_RATE] = k.cache_miss_rate;
  o[abi::SENDER_STAT_ENCODING_RATE] = k.encoding_rate;
  o[abi::SENDER_STAT_OVERFLOW] = double(k.overflow);
  o[abi::SENDER_STAT_GENERATION] = double(s.generation());
  o[abi::SENDER_STAT_RAW] = double(k.raw);
  o[abi::SENDER_STAT_RECORDS] = double(k.records);
  o[abi::SENDER_STAT_SKIPPED] = double(k.skipped);
  o[abi::SENDER_STAT_ZERO] = double(k.zero);
  static_assert(abi::SENDER_STAT_ZERO + 1 == abi::SENDER_STATS_LENGTH, "every sender stat slot is written");
  return info.Env().Undefined();
}

}  // namespace

// The environment is going away, and its references with it: the list
// lets go of its watches (the handles' finalizers drop their own holds).
void free_watches(Watches* w) {
  if (!w) return;
  for (Watch* x = w->head; x;) {
    Watch* next = x->next;
    drop(x);
    x = next;
  }
  delete w;
}

void register_cache(Napi::Env env, Napi::Object exports) {
  struct Entry {
    const char* name;
    Napi::Value (*fn)(const Napi::CallbackInfo&);
  };
  static const Entry entries[] = {
      {"budgetNew", BudgetNew},       {"budgetInfo", BudgetInfo},
      {"budgetTake", BudgetTake},     {"budgetGive", BudgetGive},
      {"cacheNew", CacheNew},         {"cacheLookup", CacheLookup},
      {"cacheInsert", CacheInsert},   {"cacheGet", CacheGet},
      {"cacheResize", CacheResize},   {"cacheClear", CacheClear},
      {"cacheStats", CacheStats},     {"senderNew", SenderNew},
      {"senderSendPage", SenderSendPage}, {"senderSendPages", SenderSendPages},
      {"senderZeroPage", SenderZeroPage}, {"senderNextGeneration", SenderNextGeneration},
      {"senderStats", SenderStats},
  };
  for (const Entry& e : entries) exports.Set(e.name, Napi::Function::New(env, e.fn, e.name));
}

}  // namespace glue
}  // namespace xbzrle
