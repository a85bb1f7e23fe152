// test_kernels.cc: every kernel this CPU runs, checked without Node against
// a plain byte-at-a-time reference written from docs/FORMAT.md, on random page
// pairs of many shapes and sizes, at every limit near the canonical length,
// with unaligned pointers and guard bytes after the limit. Then decoder
// round trips, QEMU's vectors (test/fixtures) and mutated deltas checked
// against a reference decoder (verdict, reason, offset, untouched page).
//
// Usage: test_kernels [fixtures-dir] [rounds] [seed]
// Build with -fsanitize=address,undefined (native/test/run.sh does): pages
// and outputs sit at the very end of their allocations, so any read past a
// page or write past `limit` is caught, besides the guard-byte check.
#include "../core/dispatch.h"
#include "../core/xbzrle.h"
#include "rng.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using Bytes = std::vector<uint8_t>;

int failures = 0;
long checks = 0;

#define EXPECT(cond, ...)                                   \
  do {                                                      \
    checks++;                                               \
    if (!(cond)) {                                          \
      if (++failures <= 20) {                               \
        std::fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
        std::fprintf(stderr, __VA_ARGS__);                  \
        std::fprintf(stderr, "\n");                         \
      }                                                     \
    }                                                       \
  } while (0)

// ---- reference encoder and decoder, the plain reading of docs/FORMAT.md ----

void put_uleb(Bytes& out, size_t v) {
  if (v < 128) {
    out.push_back(static_cast<uint8_t>(v));
  } else {
    out.push_back(static_cast<uint8_t>((v & 0x7f) | 0x80));
    out.push_back(static_cast<uint8_t>(v >> 7));
  }
}

// The canonical delta, whatever its length.
Bytes reference_encode(const uint8_t* a, const uint8_t* b, size_t size) {
  Bytes out;
  size_t i = 0;
  for (;;) {
    size_t z = 0;
    while (i < size && a[i] == b[i]) i++, z++;
    if (i == size) return out;
    size_t start = i;
    while (i < size && a[i] != b[i]) i++;
    put_uleb(out, z);
    put_uleb(out, i - start);
    out.insert(out.end(), b + start, b + i);
  }
}

struct RefVerdict {
  long ret;  // covered, or -1
  int reason;
  size_t offset;
};

// Reference decoder: the docs/FORMAT.md §1 verdict steps step by step, on a scratch copy.
RefVerdict reference_decode(const uint8_t* d, size_t s, Bytes& page) {
  Bytes work = page;
  const size_t p = page.size();
  size_t i = 0, pos = 0;
  auto uleb = [&](size_t at, size_t* v) -> size_t {
    if (!(d[at] & 0x80)) {
      *v = d[at];
      return 1;
    }
    if (d[at + 1] & 0x80) return 0;
    *v = (d[at] & 0x7f) | (static_cast<size_t>(d[at + 1]) << 7);
    return 2;
  };
  while (i < s) {
    if (s - i < 2) return {-1, 1, i};
    size_t z, n, k = uleb(i, &z);
    if (!k) return {-1, 2, i};
    if (i != 0 && z == 0) return {-1, 3, i};
    if (pos + z > p) return {-1, 5, i};
    i += k;
    pos += z;
    if (s - i < 2) return {-1, 1, i};
    k = uleb(i, &n);
    if (!k) return {-1, 2, i};
    if (n == 0) return {-1, 4, i};
    if (pos + n > p) return {-1, 5, i};
    if (i + k + n > s) return {-1, 6, i};
    i += k;
    std::memcpy(work.data() + pos, d + i, n);
    i += n;
    pos += n;
  }
  page = work;
  return {static_cast<long>(pos), 0, 0};
}

// ---- memory placed at the end of its allocation, at a chosen misalignment ----

// `size` bytes at offset `skew` in a heap block that ends right after them,
// so AddressSanitizer reports the first byte read or written past the end.
struct Tight {
  uint8_t* block;
  uint8_t* p;
  Tight(size_t size, size_t skew) {
    block = static_cast<uint8_t*>(std::malloc(skew + size > 0 ? skew + size : 1));
    p = block + skew;
  }
  ~Tight() { std::free(block); }
  Tight(const Tight&) = delete;
  Tight& operator=(const Tight&) = delete;
};

// ---- page pair shapes ----

enum Shape {
  kUnchanged,
  kOneByte,
  kScattered,
  kDensity,
  kRuns,
  kAllChanged,
  kEveryOther,
  kBoundaryRuns,
  kManyRuns,
  kNumShapes
};

const char* shape_name(int s) {
  static const char* names[] = {"unchanged",   "one-byte",    "scattered",
                                "density",     "runs",        "all-changed",
                                "every-other", "boundary-runs", "many-runs"};
  return names[s];
}

void make_pair(Rng& r, int shape, size_t size, Bytes& a, Bytes& b) {
  a.resize(size);
  switch (r.below(3)) {  // the old page: random, zero, or a low-entropy pattern
    case 0:
      for (auto& x : a) x = r.byte();
      break;
    case 1:
      std::fill(a.begin(), a.end(), 0);
      break;
    default:
      for (size_t i = 0; i < size; i++) a[i] = static_cast<uint8_t>(i * 7 / 5);
  }
  b = a;
  switch (shape) {
    case kUnchanged:
      break;
    case kOneByte: {
      size_t at = r.below(4) == 0 ? size - 1 : r.below(4) == 0 ? 0 : r.below(size);
      b[at] = r.other(a[at]);
      break;
    }
    case kScattered: {
      size_t k = 1 + r.below(32);
      for (size_t j = 0; j < k; j++) {
        size_t at = r.below(size);
        b[at] = r.other(a[at]);
      }
      break;
    }
    case kDensity: {
      static const double ps[] = {0.01, 0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99};
      double p = ps[r.below(8)];
      for (size_t i = 0; i < size; i++)
        if (r.chance(p)) b[i] = r.other(a[i]);
      break;
    }
    case kRuns: {
      // Alternating runs with lengths from several scales, so that ULEB128
      // sizes, block crossings and long copies all occur.
      size_t i = r.below(2) ? 0 : r.below(200);
      while (i < size) {
        size_t scale = r.below(4);
        size_t n = 1 + (scale == 0 ? r.below(4) : scale == 1 ? r.below(40)
                        : scale == 2 ? r.below(300) : r.below(3000));
        for (size_t j = i; j < i + n && j < size; j++) b[j] = r.other(a[j]);
        scale = r.below(4);
        i += n + 1 + (scale == 0 ? r.below(4) : scale == 1 ? r.below(40)
                      : scale == 2 ? r.below(300) : r.below(3000));
      }
      break;
    }
    case kAllChanged:
      for (size_t i = 0; i < size; i++) b[i] = r.other(a[i]);
      break;
    case kEveryOther: {
      size_t phase = r.below(2);
      for (size_t i = phase; i < size; i += 2) b[i] = r.other(a[i]);
      break;
    }
    case kBoundaryRuns: {
      // Runs that start or end at 16/32/64-byte boundaries, +-1.
      size_t k = 1 + r.below(12);
      for (size_t j = 0; j < k; j++) {
        size_t start = (r.below(size / 16 + 1) * 16 + r.below(3) + size - 1) % size;
        size_t len = r.below(3) == 0 ? 1 + r.below(3) : 15 + r.below(3) + 16 * r.below(5);
        for (size_t x = start; x < start + len && x < size; x++) b[x] = r.other(a[x]);
      }
      break;
    }
    case kManyRuns: {
      // Hundreds of short runs with a few of 120..160 bytes among them:
      // one-byte and two-byte lengths all over long deltas.
      auto len = [&r]() { return r.below(20) ? 1 + r.below(3) : 120 + r.below(41); };
      for (size_t i = len() - 1; i < size; i += len()) {
        for (size_t n = len(); n > 0 && i < size; n--, i++) b[i] = r.other(a[i]);
      }
      break;
    }
  }
}

// ---- the encoder check ----

constexpr size_t kGuard = 64;
constexpr uint8_t kGuardByte = 0xa5;

// Runs kernel `k` on (a, b) at `limit` and checks it against `want`.
void check_encode(const xbzrle::Kernel& k, const Bytes& a, const Bytes& b, const Bytes& want,
                  size_t limit, Rng& r, const char* what) {
  const size_t size = a.size();
  Tight pa(size, r.below(64)), pb(size, r.below(64));
  std::memcpy(pa.p, a.data(), size);
  std::memcpy(pb.p, b.data(), size);
  // Half the time the output ends exactly at the limit (ASan catches any
  // write past it); else guard bytes follow it and must stay intact.
  const bool tight = r.below(2);
  const size_t cap = tight ? limit : limit + kGuard;
  Tight po(cap, r.below(64));
  std::memset(po.p, 0x5a, limit);
  std::memset(po.p + limit, kGuardByte, cap - limit);
  long got = k.encode(pa.p, pb.p, size, po.p, limit);
  long expect = want.size() <= limit ? static_cast<long>(want.size()) : -1;
  EXPECT(got == expect, "%s %s size=%zu limit=%zu canonical=%zu: returned %ld, want %ld", k.name,
         what, size, limit, want.size(), got, expect);
  if (got > 0 && got == expect)
    EXPECT(std::memcmp(po.p, want.data(), want.size()) == 0,
           "%s %s size=%zu limit=%zu: bytes differ", k.name, what, size, limit);
  bool guard_ok = true;
  for (size_t i = limit; i < cap; i++) guard_ok &= po.p[i] == kGuardByte;
  EXPECT(guard_ok, "%s %s size=%zu limit=%zu: wrote past the limit", k.name, what, size, limit);
  EXPECT(std::memcmp(pa.p, a.data(), size) == 0 && std::memcmp(pb.p, b.data(), size) == 0,
         "%s %s: changed an input page", k.name, what);
}

// Limits worth testing for a canonical length c on a page of `size`.
std::vector<size_t> limits_for(size_t c, size_t size, Rng& r) {
  std::vector<size_t> ls = {0, 1, 2, 3, size, r.below(size + 1)};
  for (long d = -4; d <= 4; d++) {
    long l = static_cast<long>(c) + d;
    if (l >= 0 && static_cast<size_t>(l) <= size) ls.push_back(static_cast<size_t>(l));
  }
  for (size_t d = 16; d <= 20; d++)  // the short-run fast path needs ~19 bytes of room
    if (c + d <= size) ls.push_back(c + d);
  return ls;
}

// ---- the decoder checks ----

void check_decode(const uint8_t* delta, size_t dlen, const Bytes& page_before, const char* what) {
  Bytes ref_page = page_before;
  RefVerdict want = reference_decode(delta, dlen, ref_page);
  Tight pd(dlen, 0);  // the delta at the end of its block: no over-read
  if (dlen) std::memcpy(pd.p, delta, dlen);
  Tight pp(page_before.size(), 3);
  std::memcpy(pp.p, page_before.data(), page_before.size());
  xbzrle::DecodeError err{};
  long got = xbzrle::decode(pd.p, dlen, pp.p, page_before.size(), &err);
  xbzrle::DecodeError err2{};
  long chk = xbzrle::decode_check(pd.p, dlen, page_before.size(), &err2);
  EXPECT(got == want.ret, "decode %s dlen=%zu: returned %ld, want %ld", what, dlen, got, want.ret);
  EXPECT(chk == want.ret, "decode_check %s dlen=%zu: returned %ld, want %ld", what, dlen, chk,
         want.ret);
  if (want.ret < 0 && got < 0) {
    EXPECT(static_cast<int>(err.reason) == want.reason && err.offset == want.offset,
           "decode %s: reason %d at %zu, want %d at %zu", what, static_cast<int>(err.reason),
           err.offset, want.reason, want.offset);
    EXPECT(static_cast<int>(err2.reason) == want.reason && err2.offset == want.offset,
           "decode_check %s: reason %d at %zu, want %d at %zu", what,
           static_cast<int>(err2.reason), err2.offset, want.reason, want.offset);
  }
  EXPECT(std::memcmp(pp.p, ref_page.data(), ref_page.size()) == 0,
         "decode %s dlen=%zu: page differs from the reference (untouched when rejected)", what,
         dlen);
}

// Random edits of a valid delta: most become invalid in every way docs/FORMAT.md §1 lists.
void mutate(Rng& r, Bytes& d) {
  size_t edits = 1 + r.below(3);
  for (size_t e = 0; e < edits; e++) {
    switch (r.below(6)) {
      case 0:
        if (!d.empty()) d[r.below(d.size())] ^= static_cast<uint8_t>(1u << r.below(8));
        break;
      case 1:
        if (!d.empty()) d.resize(r.below(d.size()));
        break;
      case 2:
        if (!d.empty()) d[r.below(d.size())] = r.byte();
        break;
      case 3:
        d.push_back(r.byte());
        break;
      case 4:
        if (!d.empty()) d[r.below(d.size())] = r.below(2) ? 0 : 0x80;
        break;
      default:
        if (!d.empty()) d.erase(d.begin() + static_cast<long>(r.below(d.size())));
    }
  }
}

// ---- fixtures (format: test/fixtures/README.md) ----

bool read_file(const std::string& path, Bytes& out) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  uint8_t buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + n);
  std::fclose(f);
  return true;
}

uint32_t u32(const Bytes& b, size_t at) {
  return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (static_cast<uint32_t>(b[at + 3]) << 24);
}

void test_malformed(const std::string& dir) {
  Bytes f;
  if (!read_file(dir + "/malformed.bin", f)) {
    EXPECT(false, "cannot read %s/malformed.bin", dir.c_str());
    return;
  }
  EXPECT(std::memcmp(f.data(), "XBZMAL01", 8) == 0, "malformed.bin: bad magic");
  const uint32_t count = u32(f, 8), psize = u32(f, 12);
  size_t o = 16;
  for (uint32_t k = 0; k < count; k++) {
    const uint32_t id = u32(f, o), len = u32(f, o + 4);
    const long qemu = static_cast<int32_t>(u32(f, o + 8));
    const uint8_t* src = f.data() + o + 12;
    const uint8_t* after = src + len;
    o += 12 + len + psize;
    Tight pd(len, 0);
    if (len) std::memcpy(pd.p, src, len);
    Bytes page(psize, 0);
    xbzrle::DecodeError err{};
    long got = xbzrle::decode(pd.p, len, page.data(), psize, &err);
    EXPECT(got == qemu, "malformed #%u: returned %ld, QEMU %ld", id, got, qemu);
    if (qemu < 0) {
      bool zero = true;
      for (uint8_t x : page) zero &= x == 0;
      EXPECT(zero, "malformed #%u: rejected but the page changed", id);
    } else {
      EXPECT(std::memcmp(page.data(), after, psize) == 0, "malformed #%u: page differs from QEMU's",
             id);
    }
    EXPECT(xbzrle::decode_check(pd.p, len, psize, &err) == qemu, "malformed #%u: decode_check", id);
    // And against the reference decoder: reason and offset too.
    check_decode(src, len, Bytes(psize, 0), "malformed.bin");
  }
  EXPECT(o == f.size(), "malformed.bin: trailing bytes");
  std::printf("  malformed.bin: %u QEMU verdicts\n", count);
}

void test_pairs(const std::string& dir, const xbzrle::Kernel* ks, size_t nk) {
  Bytes f;
  if (!read_file(dir + "/pairs.bin", f)) {
    EXPECT(false, "cannot read %s/pairs.bin", dir.c_str());
    return;
  }
  EXPECT(std::memcmp(f.data(), "XBZVEC01", 8) == 0, "pairs.bin: bad magic");
  const uint32_t count = u32(f, 8), psize = u32(f, 12);
  size_t o = 16;
  Rng r{7};
  for (uint32_t k = 0; k < count; k++) {
    const long sret = static_cast<int32_t>(u32(f, o + 8));
    const long aret = static_cast<int32_t>(u32(f, o + 12));
    const long uret = static_cast<int32_t>(u32(f, o + 16));
    const uint8_t* a = f.data() + o + 20;
    const uint8_t* b = a + psize;
    const uint8_t* senc = b + psize;
    const uint8_t* unb = senc + (sret > 0 ? sret : 0) + (aret > 0 ? aret : 0);
    o += 20 + 2 * psize + (sret > 0 ? sret : 0) + (aret > 0 ? aret : 0) + uret;
    Bytes pa(a, a + psize), pb(b, b + psize), want(unb, unb + uret);
    EXPECT(reference_encode(a, b, psize) == want, "pairs.bin #%u: reference encoder disagrees", k);
    if (sret > 0) EXPECT(std::memcmp(senc, unb, sret) == 0, "pairs.bin #%u: fixture", k);
    for (size_t i = 0; i < nk; i++)
      for (size_t limit : limits_for(want.size(), psize, r))
        check_encode(ks[i], pa, pb, want, limit, r, "pairs.bin");
  }
  EXPECT(o == f.size(), "pairs.bin: trailing bytes");
  std::printf("  pairs.bin: %u QEMU encodings x %zu kernels\n", count, nk);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "test/fixtures";
  const long rounds = argc > 2 ? std::atol(argv[2]) : 1;
  const uint64_t seed = argc > 3 ? std::strtoull(argv[3], nullptr, 0) : 1;

  size_t nk;
  const xbzrle::Kernel* ks = xbzrle::supported_kernels(&nk);
  std::printf("kernels:");
  for (size_t i = 0; i < nk; i++) std::printf(" %s", ks[i].name);
  std::printf("  (best: %s)\n", xbzrle::best_kernel()->name);
  EXPECT(std::strcmp(ks[nk - 1].name, "portable") == 0, "portable must come last");
  for (size_t i = 0; i < nk; i++)
    EXPECT(xbzrle::find_kernel(ks[i].name) == &ks[i], "find_kernel(%s)", ks[i].name);
  EXPECT(xbzrle::find_kernel("nope") == nullptr, "find_kernel(nope)");
  // Parity below covers every variant this CPU runs, picked for it or not.
  const xbzrle::Kernel* const supported = ks;
  const size_t nsupported = nk;
  ks = xbzrle::all_encoders(&nk);
  EXPECT(nk >= nsupported, "all_encoders shorter than supported_kernels");
  for (size_t i = 0; i < nsupported && i < nk; i++)
    EXPECT(ks[i].encode == supported[i].encode, "all_encoders[%zu] is not %s", i,
           supported[i].name);
  std::printf("encoders checked:");
  for (size_t i = 0; i < nk; i++) std::printf(" %s", ks[i].name);
  std::printf("\n");

  // Sizes: every size up to 300 (all tail shapes, pages below one block),
  // around every multiple of 64 up to 1 KiB, the usual page sizes and the
  // maximum, then random ones.
  std::vector<size_t> sizes;
  for (size_t s = 1; s <= 300; s++) sizes.push_back(s);
  for (size_t s = 320; s <= 1024; s += 64)
    for (size_t d : {s - 1, s, s + 1}) sizes.push_back(d);
  for (size_t s : {4095, 4096, 4097, 8192, 16383, 16384}) sizes.push_back(s);

  Rng r{seed};
  long pairs = 0;
  Bytes a, b;
  for (long round = 0; round < rounds; round++) {
    std::vector<size_t> round_sizes = sizes;
    for (int j = 0; j < 40; j++) round_sizes.push_back(1 + r.below(16384));
    for (size_t size : round_sizes) {
      // Small pages are cheap: try more shapes on them.
      const int reps = size <= 300 ? 2 : 1;
      for (int rep = 0; rep < reps; rep++) {
        for (int shape = 0; shape < kNumShapes; shape++) {
          make_pair(r, shape, size, a, b);
          const Bytes want = reference_encode(a.data(), b.data(), size);
          for (size_t k = 0; k < nk; k++)
            for (size_t limit : limits_for(want.size(), size, r))
              check_encode(ks[k], a, b, want, limit, r, shape_name(shape));
          pairs++;
          // Decoding the canonical delta onto the old page gives the new one
          // (for any delta a sender would send: one no longer than the page).
          check_decode(want.data(), want.size(), a, "round trip");
          if (want.size() <= size) {
            Bytes back = a;
            xbzrle::DecodeError err{};
            long covered = xbzrle::decode(want.data(), want.size(), back.data(), size, &err);
            EXPECT(back == b, "round trip size=%zu shape=%s: page differs", size,
                   shape_name(shape));
            EXPECT(covered >= 0, "round trip size=%zu shape=%s: rejected", size, shape_name(shape));
          }
          // Mutations of the delta: verdict, reason, offset, page.
          for (int m = 0; m < 4; m++) {
            Bytes d = want;
            mutate(r, d);
            check_decode(d.data(), d.size(), a, "mutated");
          }
        }
      }
    }
    // Random bytes as deltas.
    for (int j = 0; j < 2000; j++) {
      Bytes d(r.below(40));
      for (auto& x : d) x = r.below(3) ? static_cast<uint8_t>(r.below(8)) : r.byte();
      check_decode(d.data(), d.size(), Bytes(1 + r.below(64), 0x11), "random");
    }
  }
  std::printf("  %ld random page pairs x %zu kernels, %ld rounds, seed %llu\n", pairs, nk, rounds,
              static_cast<unsigned long long>(seed));
  test_pairs(dir, ks, nk);
  test_malformed(dir);

  if (failures) {
    std::fflush(stdout);
    std::fprintf(stderr, "FAILED: %d of %ld checks\n", failures, checks);
    return 1;
  }
  std::printf("ok: %ld checks\n", checks);
  return 0;
}
