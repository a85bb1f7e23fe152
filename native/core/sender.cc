// sender.cc: QEMU's per-page sender behaviour with XBZRLE (docs/FORMAT.md §3),
// one page or a whole batch per call, and the RAM record framing of the
// batch output (docs/FORMAT.md §2). Written from the description, not QEMU's code.
//
// QEMU copies a page to a snapshot before encoding it so that the cache
// equals what was sent even while the guest writes. Here every byte that is
// sent is read once, into the output, and the cache is updated from those
// output bytes (a raw page is copied from the output; a delta is applied to
// the cached copy), which gives the same guarantee without the extra copy.
#include "sender.h"

#include <cstring>
#include <new>

#include "uleb128.h"

namespace xbzrle {

namespace {

bool all_zero(const uint8_t* p, size_t n) {
  // p[0] == 0 and every byte equals the one before it.
  return p[0] == 0 && (n == 1 || std::memcmp(p, p + 1, n - 1) == 0);
}

void put_be64(uint8_t* p, uint64_t v) {
  for (int i = 7; i >= 0; i--) {
    p[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
}

// Copies n bytes; short runs (most runs of a small delta) without a call.
inline void copy_run(uint8_t* dst, const uint8_t* src, size_t n) {
  if (n <= 16) {
    if (n >= 8) {  // two overlapping 8-byte moves cover 8..16
      uint64_t a, b;
      std::memcpy(&a, src, 8);
      std::memcpy(&b, src + n - 8, 8);
      std::memcpy(dst, &a, 8);
      std::memcpy(dst + n - 8, &b, 8);
    } else if (n >= 4) {
      uint32_t a, b;
      std::memcpy(&a, src, 4);
      std::memcpy(&b, src + n - 4, 4);
      std::memcpy(dst, &a, 4);
      std::memcpy(dst + n - 4, &b, 4);
    } else {
      for (size_t k = 0; k < n; k++) dst[k] = src[k];
    }
    return;
  }
  std::memcpy(dst, src, n);
}

// Applies a delta this sender just produced (valid by construction).
void apply_own_delta(const uint8_t* d, size_t len, uint8_t* page) {
  size_t i = 0, pos = 0;
  while (i < len) {
    size_t z = 0, n = 0;
    i += uleb_get(d + i, &z);
    pos += z;
    i += uleb_get(d + i, &n);
    copy_run(page + pos, d + i, n);
    i += n;
    pos += n;
  }
}

uint64_t flag_of(PageKind k) {
  switch (k) {
    case PageKind::kRaw: return kFlagPage;
    case PageKind::kXbzrle: return kFlagXbzrle;
    case PageKind::kZero: return kFlagZero;
    case PageKind::kSkip: break;
  }
  return 0;
}

}  // namespace

Sender* Sender::create(PageCache* cache, size_t limit) {
  Sender* s = new (std::nothrow) Sender();
  if (!s) return nullptr;
  cache->ref();
  s->cache_ = cache;
  s->page_size_ = cache->page_size();
  s->limit_ = limit < s->page_size_ ? limit : s->page_size_;
  return s;
}

Sender::~Sender() {
  if (cache_) cache_->unref();
}

PageKind Sender::send_page(EncodeFn enc, uint64_t addr, const uint8_t* page, bool last_stage,
                           bool detect_zero, uint8_t* body, size_t* len) {
  const size_t P = page_size_;
  handled_++;
  if (detect_zero && all_zero(page, P)) {
    zero_page(addr);
    body[0] = 0;
    *len = 1;
    c_.zero++;
    return PageKind::kZero;
  }
  if (!started_) {  // the first pass: raw, the cache untouched
    std::memcpy(body, page, P);
    *len = P;
    c_.raw++;
    return PageKind::kRaw;
  }
  uint8_t* cached = cache_->lookup(addr, gen_);
  if (!cached) {
    c_.cache_miss++;
    std::memcpy(body, page, P);
    if (!last_stage) cache_->insert(addr, body, gen_);  // may be refused
    *len = P;
    c_.raw++;
    return PageKind::kRaw;
  }
  c_.pages++;
  long n = enc(cached, page, P, body + 3, limit_);
  if (n == 0) {
    *len = 0;
    c_.skipped++;
    return PageKind::kSkip;
  }
  if (n < 0) {
    c_.overflow++;
    c_.bytes += P;
    std::memcpy(body, page, P);
    if (!last_stage) std::memcpy(cached, body, P);
    *len = P;
    c_.raw++;
    return PageKind::kRaw;
  }
  size_t dl = static_cast<size_t>(n);
  body[0] = kEncodingXbzrle;
  body[1] = static_cast<uint8_t>(dl >> 8);
  body[2] = static_cast<uint8_t>(dl);
  if (!last_stage) apply_own_delta(body + 3, dl, cached);
  c_.bytes += dl + 3;
  *len = dl + 3;
  c_.records++;
  return PageKind::kXbzrle;
}

void Sender::zero_page(uint64_t addr) {
  if (started_) cache_->insert(addr, nullptr, gen_);  // may be refused
}

void Sender::next_generation() {
  uint64_t miss = c_.cache_miss - miss_at_start_;
  uint64_t pages = c_.pages - pages_at_start_;
  uint64_t bytes = c_.bytes - bytes_at_start_;
  c_.cache_miss_rate = handled_ ? double(miss) / double(handled_) : 0.0;
  c_.encoding_rate = pages && bytes ? double(pages) * double(page_size_) / double(bytes) : 0.0;
  miss_at_start_ = c_.cache_miss;
  pages_at_start_ = c_.pages;
  bytes_at_start_ = c_.bytes;
  handled_ = 0;
  gen_++;
  started_ = true;
}

uint64_t Sender::batch_capacity(size_t n, size_t page_size, size_t block_len) {
  // A raw record is the largest: 8 + P; an XBZRLE one is 8 + 3 + delta with
  // delta <= limit <= P, so 8 + 3 + P bounds both.
  return uint64_t(n) * (8 + 3 + page_size) + 1 + block_len;
}

long Sender::bad_address(const BatchAddrs& a, size_t n, const BatchPages& pages, uint64_t memory_size) {
  const uint64_t P = pages.page_size;
  for (size_t i = 0; i < n; i++) {
    if (a.f64) {
      double d = a.f64[i];
      if (!(d >= 0) || d > 9007199254740991.0 || d != static_cast<double>(static_cast<uint64_t>(d)))
        return static_cast<long>(i);
    }
    uint64_t addr = a.at(i);
    if (addr & kFlagMask) return static_cast<long>(i);
    if (pages.by_address && (memory_size < P || addr > memory_size - P)) return static_cast<long>(i);
  }
  return -1;
}

size_t Sender::send_pages(EncodeFn enc, const BatchAddrs& addrs, const BatchPages& pages, size_t n,
                          const BatchOptions& opt, const BatchOut& out) {
  size_t pos = 0;
  bool named = opt.continued;  // has the stream named the block yet?
  for (size_t i = 0; i < n; i++) {
    uint64_t addr = addrs.at(i);
    size_t hdr = named ? 8 : 9 + opt.block_len;
    uint8_t* rec = out.out + pos;
    size_t len = 0;
    PageKind k = send_page(enc, addr, pages.at(i, addr), opt.last_stage, opt.detect_zero, rec + hdr, &len);
    out.kinds[i] = static_cast<uint8_t>(k);
    out.offsets[i] = static_cast<uint32_t>(pos);
    if (k == PageKind::kSkip) {
      out.lengths[i] = 0;
      continue;
    }
    put_be64(rec, addr | flag_of(k) | (named ? kFlagContinue : 0));  // a bswap store
    if (!named) {
      rec[8] = static_cast<uint8_t>(opt.block_len);
      if (opt.block_len) std::memcpy(rec + 9, opt.block, opt.block_len);
      named = true;
    }
    out.lengths[i] = static_cast<uint32_t>(hdr + len);
    pos += hdr + len;
  }
  return pos;
}

}  // namespace xbzrle
