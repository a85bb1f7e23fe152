// fuzz_cache_sequence: PageCache + Sender driven by fuzz-chosen operations,
// with every record the sender writes decoded into a receiver-side page
// store. The property QEMU's XBZRLE rests on: a page the cache holds equals
// the page the receiver holds, so the next delta applies to the right base.
//
// Input: u8 page-size selector (a table: 1..16384, mostly small, so that an
//        execution is cheap), u8 geometry (bits 0-2: log2 cache pages 0..6;
//        bit 3: associative; bits 4-5: log2 ways), u8 budget (0: none, else
//        (b % 9) pages: inserts may be refused), u8 limit selector, u8 guest
//        pages (1..16), u8 kernel selector, then operations until the input
//        ends. Each operation is one byte (low 3 bits: the op, high 5 bits
//        its argument) plus the bytes it reads:
//          0 write:  u8 page, u8 how (set bytes / fill / noise / copy), data
//          1 send:   u8 page; arg bits pick last_stage and detect_zero
//          2 next_generation
//          3 zero:   u8 page; the caller sends a zero page (the guest page is zeroed)
//          4 resize: arg -> 2^(arg % 7) pages
//          5 clear
//          6 batch:  u8 first page, u8 count; arg bits pick last_stage,
//                    detect_zero, continued (only for P a multiple of 1 KiB:
//                    record headers need 1 KiB-aligned offsets)
//          7 nothing (the checks below run after every operation)
// Checks, after every operation: each page the cache holds (peek) equals the
// receiver's copy, unless the page went out in the last stage (QEMU leaves
// the cache as it was then, and sends such a page at most once more: never,
// here); after a send, the receiver's page equals the guest page; every
// batch record parses (header word, CONTINUE, block name, body), its delta
// decodes with xbzrle::decode, and kinds/offsets/lengths describe the output
// exactly; the budget is never exceeded.
#include <vector>

#include "../core/dispatch.h"
#include "../core/page_cache.h"
#include "../core/sender.h"
#include "../core/xbzrle.h"
#include "common.h"

namespace {

// Small pages keep an execution cheap; the kernels' wide paths need 64+.
constexpr size_t kSizes[] = {1, 2, 3, 7, 16, 64, 100, 256, 1024, 1024, 2048, 4096, 1000, 512};
constexpr size_t kMaxPages = 16;
const char kBlock[] = "pc.ram";

struct World {
  size_t P = 0;
  size_t n = 0;
  std::vector<uint8_t> guest, recv;  // n pages each
  std::vector<bool> stale;           // sent in the last stage: cache may differ
  uint8_t* page(std::vector<uint8_t>& v, size_t i) { return v.data() + i * P; }
  uint64_t addr(size_t i) const { return uint64_t(i) * P; }
};

uint64_t be64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
  return v;
}

// Applies one body of kind k to the receiver's page i, as a receiver would.
void receive(World& w, size_t i, xbzrle::PageKind k, const uint8_t* body, size_t len) {
  uint8_t* r = w.page(w.recv, i);
  switch (k) {
    case xbzrle::PageKind::kSkip:
      FUZZ_CHECK(len == 0, "skip with a %zu-byte body", len);
      break;
    case xbzrle::PageKind::kRaw:
      FUZZ_CHECK(len == w.P, "raw body of %zu bytes, page %zu", len, w.P);
      std::memcpy(r, body, w.P);
      break;
    case xbzrle::PageKind::kZero:
      FUZZ_CHECK(len == 1 && body[0] == 0, "zero body of %zu bytes", len);
      std::memset(r, 0, w.P);
      break;
    case xbzrle::PageKind::kXbzrle: {
      FUZZ_CHECK(len >= 3 && body[0] == xbzrle::kEncodingXbzrle, "bad XBZRLE envelope");
      size_t dl = (size_t(body[1]) << 8) | body[2];
      FUZZ_CHECK(dl + 3 == len && dl >= 1 && dl <= w.P, "XBZRLE length %zu in a %zu-byte body", dl, len);
      // Decode from a copy in an exactly-sized block, so ASan sees overreads.
      fuzz::Block d(dl);
      std::memcpy(d.data(), body + 3, dl);
      xbzrle::DecodeError err{};
      long got = xbzrle::decode(d.data(), dl, r, w.P, &err);
      FUZZ_CHECK(got >= 0, "the receiver rejects the sender's delta: %s at %zu",
                 xbzrle::reject_name(err.reason), err.offset);
      break;
    }
  }
}

void check_world(World& w, xbzrle::PageCache* cache, const xbzrle::MemoryBudget* budget) {
  for (size_t i = 0; i < w.n; i++) {
    if (w.stale[i]) continue;
    const uint8_t* c = cache->peek(w.addr(i));
    if (!c) continue;
    long at = fuzz::first_diff(c, w.page(w.recv, i), w.P);
    FUZZ_CHECK(at < 0, "cached page %zu differs from the receiver's at byte %ld (P=%zu)", i, at, w.P);
  }
  if (budget) FUZZ_CHECK(budget->used() <= budget->size(), "budget used %llu > size %llu",
                         (unsigned long long)budget->used(), (unsigned long long)budget->size());
  FUZZ_CHECK(cache->stored() <= cache->slots(), "%llu pages stored in %llu slots",
             (unsigned long long)cache->stored(), (unsigned long long)cache->slots());
}

void write_guest(World& w, fuzz::Input& in, fuzz::Rng& rng) {
  size_t i = in.u8() % w.n;
  uint8_t* g = w.page(w.guest, i);
  uint8_t how = in.u8();
  switch (how & 3) {
    case 0: {  // a few bytes at chosen offsets
      size_t k = (how >> 2) % 8 + 1;
      for (size_t j = 0; j < k; j++) {
        size_t at = in.u16() % w.P;
        g[at] = in.u8();
      }
      break;
    }
    case 1:  // the whole page one value (0 makes zero pages)
      std::memset(g, (how >> 2) & 1 ? in.u8() : 0, w.P);
      break;
    case 2: {  // a run of noise
      size_t at = in.u16() % w.P;
      size_t len = in.u16() % (w.P - at) + 1;
      for (size_t j = 0; j < len; j++) g[at + j] = rng.byte();
      break;
    }
    case 3:  // another page's content (pages equal to a neighbour)
      std::memcpy(g, w.page(w.guest, in.u8() % w.n), w.P);
      break;
  }
}

void batch(World& w, fuzz::Input& in, xbzrle::Sender* s, xbzrle::EncodeFn enc, uint8_t arg) {
  size_t first = in.u8() % w.n;
  size_t count = in.u8() % (w.n - first) + 1;
  xbzrle::BatchOptions opt;
  opt.last_stage = arg & 1;
  opt.detect_zero = arg & 2;
  opt.continued = arg & 4;
  opt.block = reinterpret_cast<const uint8_t*>(kBlock);
  opt.block_len = sizeof kBlock - 1;
  for (size_t i = first; i < first + count; i++)
    if (w.stale[i]) return;  // a last-stage page goes out once
  std::vector<double> addrs(count);
  for (size_t i = 0; i < count; i++) addrs[i] = double(w.addr(first + i));
  xbzrle::BatchAddrs a;
  a.f64 = addrs.data();
  xbzrle::BatchPages pages;
  pages.base = w.page(w.guest, first);
  pages.page_size = w.P;
  FUZZ_CHECK(xbzrle::Sender::bad_address(a, count, pages, 0) < 0, "good addresses refused");
  size_t cap = xbzrle::Sender::batch_capacity(count, w.P, opt.block_len);
  fuzz::Block out(cap);
  std::vector<uint8_t> kinds(count);
  std::vector<uint32_t> offsets(count), lengths(count);
  xbzrle::BatchOut o{out.data(), cap, kinds.data(), offsets.data(), lengths.data()};
  size_t total = s->send_pages(enc, a, pages, count, opt, o);
  FUZZ_CHECK(total <= cap, "batch wrote %zu bytes, capacity %zu", total, cap);

  bool named = opt.continued;
  size_t pos = 0;
  for (size_t j = 0; j < count; j++) {
    auto k = static_cast<xbzrle::PageKind>(kinds[j]);
    FUZZ_CHECK(kinds[j] <= 3, "kind %u", kinds[j]);
    FUZZ_CHECK(offsets[j] == pos, "record %zu at %u, expected %zu", j, offsets[j], pos);
    size_t i = first + j;
    if (k == xbzrle::PageKind::kSkip) {
      FUZZ_CHECK(lengths[j] == 0, "skip of length %u", lengths[j]);
    } else {
      const uint8_t* rec = out.data() + pos;
      FUZZ_CHECK(lengths[j] >= 8 && pos + lengths[j] <= total, "record %zu length %u", j, lengths[j]);
      uint64_t word = be64(rec);
      uint64_t flags = word & xbzrle::kFlagMask;
      FUZZ_CHECK((word & ~xbzrle::kFlagMask) == w.addr(i), "record %zu offset 0x%llx, page at 0x%llx", j,
                 (unsigned long long)(word & ~xbzrle::kFlagMask), (unsigned long long)w.addr(i));
      FUZZ_CHECK(((flags & xbzrle::kFlagContinue) != 0) == named, "CONTINUE %d, named %d",
                 int(flags & xbzrle::kFlagContinue), int(named));
      uint64_t kind = flags & ~xbzrle::kFlagContinue;
      uint64_t want = k == xbzrle::PageKind::kRaw ? xbzrle::kFlagPage
                      : k == xbzrle::PageKind::kZero ? xbzrle::kFlagZero
                                                     : xbzrle::kFlagXbzrle;
      FUZZ_CHECK(kind == want, "record %zu flags 0x%llx for kind %u", j, (unsigned long long)flags, kinds[j]);
      size_t hdr = 8;
      if (!named) {
        FUZZ_CHECK(rec[8] == opt.block_len && std::memcmp(rec + 9, kBlock, opt.block_len) == 0,
                   "record %zu does not name the block", j);
        hdr = 9 + opt.block_len;
        named = true;
      }
      FUZZ_CHECK(lengths[j] > hdr || k == xbzrle::PageKind::kSkip, "record %zu has no body", j);
      receive(w, i, k, rec + hdr, lengths[j] - hdr);
    }
    pos += lengths[j];
    long at = fuzz::first_diff(w.page(w.recv, i), w.page(w.guest, i), w.P);
    FUZZ_CHECK(at < 0, "after the batch, receiver page %zu differs from the guest at byte %ld", i, at);
    if (opt.last_stage) w.stale[i] = true;
  }
  FUZZ_CHECK(pos == total, "records add up to %zu bytes, batch wrote %zu", pos, total);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  if (size < 6) return 0;
  World w;
  w.P = kSizes[in.u8() % (sizeof kSizes / sizeof kSizes[0])];
  uint8_t geo = in.u8();
  uint64_t slots = uint64_t(1) << (geo & 7) % 7;
  auto policy = geo & 8 ? xbzrle::Policy::kAssociative : xbzrle::Policy::kQemu;
  unsigned ways = 1u << ((geo >> 4) & 3);
  uint8_t b = in.u8();
  uint8_t lim = in.u8();
  size_t limit = lim == 0 ? w.P : (w.P * lim + 254) / 255;
  w.n = in.u8() % kMaxPages + 1;
  size_t nk = 0;
  const xbzrle::Kernel* kernels = xbzrle::supported_kernels(&nk);
  xbzrle::EncodeFn enc = kernels[in.u8() % nk].encode;

  xbzrle::MemoryBudget* budget = b ? xbzrle::MemoryBudget::create(uint64_t(b % 9) * w.P) : nullptr;
  FUZZ_CHECK(!xbzrle::PageCache::check_geometry(w.P, slots * w.P, ways),
             "geometry P=%zu slots=%llu ways=%u refused", w.P, (unsigned long long)slots, ways);
  xbzrle::PageCache* cache = xbzrle::PageCache::create(w.P, slots * w.P, policy, ways, budget);
  FUZZ_CHECK(cache, "cache not created");
  xbzrle::Sender* s = xbzrle::Sender::create(cache, limit);
  FUZZ_CHECK(s, "sender not created");

  // Guest and receiver start equal (both all zeros, as after the first pass
  // of a fresh guest); the first pass then sends everything raw.
  w.guest.assign(w.n * w.P, 0);
  w.recv.assign(w.n * w.P, 0);
  w.stale.assign(w.n, false);
  fuzz::Rng rng(size);
  std::vector<uint8_t> body(w.P + 3);

  while (in.left()) {
    uint8_t op = in.u8();
    uint8_t arg = op >> 3;
    switch (op & 7) {
      case 0:
        write_guest(w, in, rng);
        break;
      case 1: {
        size_t i = in.u8() % w.n;
        if (w.stale[i]) break;
        bool last = arg & 1;
        size_t len = 0;
        auto k = s->send_page(enc, w.addr(i), w.page(w.guest, i), last, arg & 2, body.data(), &len);
        FUZZ_CHECK(len <= w.P + 3, "body of %zu bytes", len);
        receive(w, i, k, body.data(), len);
        long at = fuzz::first_diff(w.page(w.recv, i), w.page(w.guest, i), w.P);
        FUZZ_CHECK(at < 0, "after send (kind %d), receiver page %zu differs from the guest at byte %ld",
                   int(k), i, at);
        if (last) w.stale[i] = true;
        break;
      }
      case 2:
        s->next_generation();
        break;
      case 3: {
        size_t i = in.u8() % w.n;
        if (w.stale[i]) break;
        std::memset(w.page(w.guest, i), 0, w.P);
        std::memset(w.page(w.recv, i), 0, w.P);
        s->zero_page(w.addr(i));
        break;
      }
      case 4:
        cache->resize((uint64_t(1) << (arg % 7)) * w.P);
        break;
      case 5:
        cache->clear();
        break;
      case 6:
        if (w.P % 1024 == 0) batch(w, in, s, enc, arg);
        break;
      default:
        break;
    }
    if ((op & 7) != 0) check_world(w, cache, budget);  // a guest write changes neither side
  }

  delete s;
  cache->unref();
  if (budget) budget->unref();
  return 0;
}
