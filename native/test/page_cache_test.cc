// page_cache_test.cc: the cache store and the sender without Node, against a
// plain model, under ASan and UBSan: native/test/run.sh cache
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <map>
#include <vector>

#include "page_cache.h"
#include "sender.h"
#include "xbzrle.h"

using namespace xbzrle;

static int failures = 0;
#define CHECK(c)                                                  \
  do {                                                            \
    if (!(c)) {                                                   \
      std::fprintf(stderr, "%s:%d: CHECK(%s)\n", __FILE__, __LINE__, #c); \
      failures++;                                                 \
    }                                                             \
  } while (0)

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rnd() {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

// The model: the same placement rules on plain vectors.
struct Model {
  struct E {
    bool used = false;
    uint64_t addr = 0;
    uint32_t age = 0;
    std::vector<uint8_t> data;
  };
  size_t P;
  bool assoc;
  uint64_t last = 0;
  int dir = 0;
  unsigned ways_cfg, ways;
  std::vector<E> slots;
  uint64_t mask;
  Model(size_t p, uint64_t n, unsigned w, bool a) : P(p), assoc(a), ways_cfg(w) { geometry(n); }
  void geometry(uint64_t n) {
    ways = ways_cfg < n ? ways_cfg : unsigned(n);
    mask = n / ways - 1;
    slots.assign(n, E());
  }
  E* set(uint64_t addr) { return &slots[((addr / P) & mask) * ways]; }
  bool lookup(uint64_t addr, uint32_t gen) {
    if (assoc && addr != last) {
      dir = dir + (addr > last ? 1 : -1);
      dir = dir > 64 ? 64 : dir < -64 ? -64 : dir;
      last = addr;
    }
    E* s = set(addr);
    for (unsigned w = 0; w < ways; w++)
      if (s[w].used && s[w].addr == addr) {
        s[w].age = gen;
        return true;
      }
    return false;
  }
  bool insert(uint64_t addr, const uint8_t* p, uint32_t gen, bool can_alloc) {
    E* s = set(addr);
    E* t = nullptr;
    for (unsigned w = 0; w < ways && !t; w++)
      if (s[w].used && s[w].addr == addr) t = &s[w];
    if (!t) {
      E* empty = nullptr;
      for (unsigned w = 0; w < ways && !empty; w++)
        if (!s[w].used) empty = &s[w];
      // The victim, written out plainly: candidates ranked by (age, behind
      // first, distance descending).
      E* best = nullptr;
      long long best_key[3] = {0, 0, 0};
      for (unsigned w = 0; w < ways; w++) {
        E* x = &s[w];
        if (!x->used || uint64_t(x->age) + 2 > gen) continue;
        if (!assoc) {
          best = x;
          break;
        }
        bool behind = dir >= 0 ? x->addr < addr : x->addr > addr;
        if (!behind && uint64_t(x->age) + 3 > gen) continue;
        long long dist = x->addr > addr ? (long long)(x->addr - addr) : (long long)(addr - x->addr);
        long long key[3] = {-(long long)x->age, behind ? 1 : 0, dist};
        if (!best || std::lexicographical_compare(best_key, best_key + 3, key, key + 3)) {
          best = x;
          std::memcpy(best_key, key, sizeof key);
        }
      }
      if (empty && can_alloc) t = empty;
      else if (best) t = best;
      else return false;
    }
    t->used = true;
    t->addr = addr;
    t->age = gen;
    t->data.assign(p, p + P);
    return true;
  }
  void resize(uint64_t n) {
    std::vector<E> old = std::move(slots);
    geometry(n);
    for (auto& e : old) {
      if (!e.used) continue;
      E* s = set(e.addr);
      E* dst = nullptr;
      E* oldest = nullptr;
      for (unsigned w = 0; w < ways && !dst; w++) {
        if (!s[w].used) dst = &s[w];
        else if (!oldest || s[w].age < oldest->age) oldest = &s[w];
      }
      if (!dst && oldest->age < e.age) dst = oldest;
      if (dst) *dst = e;
    }
  }
  const E* find(uint64_t addr) {
    E* s = set(addr);
    for (unsigned w = 0; w < ways; w++)
      if (s[w].used && s[w].addr == addr) return &s[w];
    return nullptr;
  }
  size_t count() const {
    size_t k = 0;
    for (auto& e : slots) k += e.used;
    return k;
  }
};

static void random_ops(Policy pol, unsigned ways, size_t P, MemoryBudget* budget) {
  uint64_t n = 64;
  PageCache* c = PageCache::create(P, n * P, pol, ways, budget);
  CHECK(c);
  Model m(P, n, pol == Policy::kQemu ? 1 : ways, pol == Policy::kAssociative);
  std::vector<uint8_t> page(P);
  uint32_t gen = 1;
  for (int op = 0; op < 20000; op++) {
    uint64_t addr = (rnd() % 300) * P;
    int r = int(rnd() % 100);
    if (r < 40) {
      CHECK((c->lookup(addr, gen) != nullptr) == m.lookup(addr, gen));
    } else if (r < 85) {
      for (size_t i = 0; i < P; i++) page[i] = uint8_t(rnd());
      // A new page is possible with slack in the arena or a page of budget.
      bool can_alloc = !budget || budget->available() >= P || c->stored() < c->page_bytes() / P;
      Insert got = c->insert(addr, page.data(), gen);
      bool want = m.insert(addr, page.data(), gen, can_alloc);
      CHECK((got == Insert::kStored) == want);
    } else if (r < 95) {
      gen++;
    } else if (r < 99) {
      uint64_t nn = uint64_t(1) << (rnd() % 8);  // 1..128 pages
      CHECK(c->resize(nn * P));
      m.resize(nn);
    } else {
      c->clear();
      m.slots.assign(m.slots.size(), Model::E());
    }
    CHECK(c->stored() == m.count());
    CHECK(c->page_bytes() <= c->size());
    if (budget) CHECK(budget->used() <= budget->size());
    // Contents agree.
    if (op % 97 == 0) {
      for (uint64_t a = 0; a < 300; a++) {
        const Model::E* e = m.find(a * P);
        const uint8_t* p = c->peek(a * P);
        CHECK((e != nullptr) == (p != nullptr));
        if (e && p) CHECK(std::memcmp(e->data.data(), p, P) == 0);
      }
    }
  }
  const CacheCounters& k = c->counters();
  if (std::getenv("VERBOSE"))
    std::printf("P=%zu ways=%u budget=%d: hits %llu inserts %llu young %llu budget %llu evictions %llu\n", P,
                c->ways(), budget != nullptr, (unsigned long long)k.hits, (unsigned long long)k.inserts,
                (unsigned long long)k.refused_young, (unsigned long long)k.refused_budget,
                (unsigned long long)k.evictions);
  c->close();
  CHECK(c->page_bytes() == 0);
  c->unref();
}

static void qemu_rules() {
  const size_t P = 4096;
  PageCache* c = PageCache::create(P, 4 * P, Policy::kQemu, 1, nullptr);
  std::vector<uint8_t> a(P, 1), b(P, 2);
  CHECK(!c->lookup(0, 1));
  CHECK(c->insert(0, a.data(), 1) == Insert::kStored);
  CHECK(c->lookup(0, 1));
  // 4P maps to slot 0: refused at gen 1 and 2 (age 1 + 2 > gen), taken at 3.
  CHECK(c->insert(4 * P, b.data(), 1) == Insert::kYoung);
  CHECK(c->insert(4 * P, b.data(), 2) == Insert::kYoung);
  CHECK(c->insert(4 * P, b.data(), 3) == Insert::kStored);
  CHECK(!c->lookup(0, 3));
  CHECK(std::memcmp(c->peek(4 * P), b.data(), P) == 0);
  // A hit refreshes the age.
  CHECK(c->lookup(4 * P, 10));
  CHECK(c->insert(0, a.data(), 11) == Insert::kYoung);
  CHECK(c->insert(0, a.data(), 12) == Insert::kStored);
  CHECK(c->stored() == 1);
  CHECK(c->page_bytes() >= P && c->page_bytes() <= 4 * P);
  c->unref();
}

static void budget_rules() {
  const size_t P = 4096;
  MemoryBudget* b = MemoryBudget::create(10 * P);
  PageCache* c1 = PageCache::create(P, 64 * P, Policy::kQemu, 1, b);
  PageCache* c2 = PageCache::create(P, 64 * P, Policy::kAssociative, 8, b);
  std::vector<uint8_t> pg(P, 7);
  int stored = 0;
  for (uint64_t i = 0; i < 64; i++) stored += c1->insert(i * P, pg.data(), 1) == Insert::kStored;
  CHECK(stored == 10);
  CHECK(b->used() == 10 * P);
  CHECK(c1->counters().refused_budget == 54);
  CHECK(c2->insert(0, pg.data(), 1) == Insert::kBudget);
  CHECK(c1->resize(4 * P));  // keeps 4 pages, gives 6 back
  CHECK(c1->stored() == 4);
  CHECK(b->used() == 4 * P);
  for (uint64_t i = 0; i < 64; i++) c2->insert(i * P, pg.data(), 1);
  CHECK(b->used() == 10 * P);
  CHECK(c2->stored() == 6);
  // Associative, budget exhausted: an evictable way is reused, not refused.
  CHECK(c2->insert(1000 * P, pg.data(), 5) == Insert::kStored);
  c1->close();
  CHECK(b->used() == 6 * P);
  c1->unref();
  b->unref();  // c2 still holds it
  CHECK(c2->page_bytes() == 6 * P);
  c2->unref();  // frees the budget too (ASan checks)
}

static void sender_steps() {
  const size_t P = 4096;
  PageCache* c = PageCache::create(P, 16 * P, Policy::kQemu, 1, nullptr);
  Sender* s = Sender::create(c, P);
  std::vector<uint8_t> page(P, 3), body(P + 3);
  size_t len;
  CHECK(s->send_page(encode_portable, 0, page.data(), false, false, body.data(), &len) == PageKind::kRaw);
  CHECK(c->stored() == 0);  // first pass: no caching
  s->next_generation();
  CHECK(s->send_page(encode_portable, 0, page.data(), false, false, body.data(), &len) == PageKind::kRaw);
  CHECK(s->counters().cache_miss == 1 && c->stored() == 1);
  CHECK(s->send_page(encode_portable, 0, page.data(), false, false, body.data(), &len) == PageKind::kSkip);
  page[100] = 9;
  CHECK(s->send_page(encode_portable, 0, page.data(), false, false, body.data(), &len) == PageKind::kXbzrle);
  CHECK(len == 3 + 3 && body[0] == 1 && body[1] == 0 && body[2] == 3);
  CHECK(std::memcmp(c->peek(0), page.data(), P) == 0);
  for (size_t i = 0; i < P; i += 2) page[i] ^= 0xff;
  CHECK(s->send_page(encode_portable, 0, page.data(), false, false, body.data(), &len) == PageKind::kRaw);
  CHECK(s->counters().overflow == 1 && s->counters().pages == 3);
  CHECK(s->counters().bytes == 6 + P);
  CHECK(std::memcmp(c->peek(0), page.data(), P) == 0);
  s->next_generation();
  CHECK(s->counters().cache_miss_rate == 0.25);
  delete s;
  c->unref();
}

int main() {
  qemu_rules();
  budget_rules();
  sender_steps();
  for (size_t P : {size_t(4096), size_t(100), size_t(1)}) {
    random_ops(Policy::kQemu, 1, P, nullptr);
    random_ops(Policy::kAssociative, 8, P, nullptr);
    random_ops(Policy::kAssociative, 2, P, nullptr);
    MemoryBudget* b = MemoryBudget::create(20 * P + P / 2);
    random_ops(Policy::kQemu, 1, P, b);
    random_ops(Policy::kAssociative, 8, P, b);
    CHECK(b->used() == 0);
    b->unref();
  }
  std::printf(failures ? "FAILED: %d\n" : "ok\n", failures);
  return failures ? 1 : 0;
}
