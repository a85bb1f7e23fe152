// fuzz_encode: every supported kernel against encode_portable and the naive
// canonical encoder of reference.h.
//
// Input (8-byte header, then data):
//   u16 size selector   page size = sel % 16384 + 1 (0x0fff = 4096)
//   u16 limit selector  limit = sel % (size + 1), unless flags bit 7
//   u8  flags           bit 7: limit = size; bits 0-1: how the pages are made
//                         0 raw:   old = data[0, P), new = data[P, 2P); a
//                                  byte missing from new copies old's
//                         1 patch: old pseudo-random (seeded by the header),
//                                  new = old with 4-byte ops applied
//                         2 patch on an all-zero old page
//                         3 comb:  every k-th byte of new changed
//   u8 x3               misalignment (0..63) of old, new and out
//
// Checks, for every kernel in xbzrle::all_encoders(): same return and
// bytes as encode_portable; nothing written outside [out, out + limit) (guard
// bytes around a padded buffer, and a second run into an exactly-sized heap
// block for AddressSanitizer); overflow iff the reference encoding is longer
// than the limit, else exactly the reference bytes; decode(encode) gives new.
#include <vector>

#include "../core/dispatch.h"
#include "../core/xbzrle.h"
#include "common.h"
#include "reference.h"

namespace {

constexpr size_t kGuard = 64;

void make_pages(fuzz::Input& in, uint8_t mode, uint64_t seed, uint8_t* oldp, uint8_t* newp,
                size_t P) {
  if (mode == 0) {
    size_t n = in.left() < P ? in.left() : P;
    std::memcpy(oldp, in.rest(), n);
    std::memset(oldp + n, 0, P - n);
    in.skip(n);
    n = in.left() < P ? in.left() : P;
    std::memcpy(newp, in.rest(), n);
    std::memcpy(newp + n, oldp + n, P - n);
    in.skip(n);
    return;
  }
  if (mode == 3) {
    fuzz::Rng rng(seed);
    for (size_t i = 0; i < P; i++) oldp[i] = rng.byte();
    std::memcpy(newp, oldp, P);
    size_t step = in.u8() % 16 + 1;
    size_t first = in.u16() % P;
    uint8_t x = static_cast<uint8_t>(in.u8() | 1);
    for (size_t i = first; i < P; i += step) newp[i] = static_cast<uint8_t>(newp[i] ^ x);
    return;
  }
  if (mode == 1) {
    fuzz::Rng rng(seed);
    for (size_t i = 0; i < P; i++) oldp[i] = rng.byte();
  } else {
    std::memset(oldp, 0, P);
  }
  std::memcpy(newp, oldp, P);
  // Ops: u16 position (bit 15: set rather than flip), u8 length - 1, u8 value.
  while (in.left() >= 4) {
    uint16_t at = in.u16();
    size_t len = in.u8() + 1u;
    uint8_t v = in.u8();
    bool set = at & 0x8000;
    size_t pos = (at & 0x7fff) % P;
    for (size_t k = pos; k < pos + len && k < P; k++)
      newp[k] = set ? v : static_cast<uint8_t>(newp[k] ^ (v | 1));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  fuzz::Input in(data, size);
  const uint16_t size_sel = in.u16();
  const uint16_t limit_sel = in.u16();
  const uint8_t flags = in.u8();
  const size_t old_pad = in.u8() & 63, new_pad = in.u8() & 63, out_pad = in.u8() & 63;
  const size_t P = size_sel % xbzrle::kMaxPageSize + 1;
  const size_t L = (flags & 0x80) ? P : limit_sel % (P + 1);
  const uint64_t seed = (uint64_t{size_sel} << 16) | limit_sel;

  fuzz::Block oldb(P, old_pad), newb(P, new_pad);
  make_pages(in, flags & 3, seed, oldb.data(), newb.data(), P);
  const uint8_t* oldp = oldb.data();
  const uint8_t* newp = newb.data();

  const std::vector<uint8_t> canon = ref::encode(oldp, newp, P);
  const bool fits = canon.size() <= L;

  // The portable kernel, called directly: the reference for all the others.
  fuzz::Block portable(L);
  const long rp = xbzrle::encode_portable(oldp, newp, P, portable.data(), L);
  if (fits) {
    FUZZ_CHECK(rp == static_cast<long>(canon.size()),
               "portable returned %ld, canonical length %zu <= limit %zu (P=%zu)", rp,
               canon.size(), L, P);
    long at = fuzz::first_diff(portable.data(), canon.data(), canon.size());
    FUZZ_CHECK(at < 0, "portable bytes differ from the canonical encoding at %ld", at);
  } else {
    FUZZ_CHECK(rp == -1, "portable returned %ld, canonical length %zu > limit %zu (P=%zu)", rp,
               canon.size(), L, P);
  }

  size_t nk = 0;
  const xbzrle::Kernel* kernels = xbzrle::all_encoders(&nk);
  FUZZ_CHECK(nk >= 1, "no supported kernel");
  for (size_t k = 0; k < nk; k++) {
    const xbzrle::Kernel& K = kernels[k];

    // Padded output: guard bytes before and after [0, L) must survive.
    fuzz::Block padded(out_pad + L + kGuard);
    std::memcpy(padded.data(), fuzz::background(static_cast<uint8_t>(seed + k)), padded.size());
    std::vector<uint8_t> snapshot(padded.data(), padded.data() + padded.size());
    uint8_t* out = padded.data() + out_pad;
    long r = K.encode(oldp, newp, P, out, L);
    FUZZ_CHECK(r == rp, "kernel %s returned %ld, portable %ld (P=%zu L=%zu)", K.name, r, rp, P,
               L);
    if (r > 0) {
      long at = fuzz::first_diff(out, portable.data(), static_cast<size_t>(r));
      FUZZ_CHECK(at < 0, "kernel %s bytes differ from portable at %ld", K.name, at);
    }
    long before = fuzz::first_diff(padded.data(), snapshot.data(), out_pad);
    FUZZ_CHECK(before < 0, "kernel %s wrote before out, at out - %zu", K.name,
               out_pad - static_cast<size_t>(before));
    long after = fuzz::first_diff(out + L, snapshot.data() + out_pad + L, kGuard);
    FUZZ_CHECK(after < 0, "kernel %s wrote past limit %zu, at limit + %ld (P=%zu)", K.name, L,
               after, P);

    // Exactly-sized output block: ASan catches a write (or read) past L.
    fuzz::Block exact(L);
    long r2 = K.encode(oldp, newp, P, exact.data(), L);
    FUZZ_CHECK(r2 == r, "kernel %s is not deterministic: %ld then %ld", K.name, r, r2);
    if (r2 > 0) {
      long at = fuzz::first_diff(exact.data(), out, static_cast<size_t>(r2));
      FUZZ_CHECK(at < 0, "kernel %s bytes differ between runs at %ld", K.name, at);
    }
  }

  // Round trip through the decoder.
  if (rp >= 0) {
    fuzz::Block page(P);
    std::memcpy(page.data(), oldp, P);
    xbzrle::DecodeError err{};
    long d = xbzrle::decode(portable.data(), static_cast<size_t>(rp), page.data(), P, &err);
    FUZZ_CHECK(d >= 0, "decoder rejected an encoding: reason %s at %zu",
               xbzrle::reject_name(err.reason), err.offset);
    FUZZ_CHECK(static_cast<size_t>(d) == ref::covered(oldp, newp, P),
               "decode covered %ld, expected %zu", d, ref::covered(oldp, newp, P));
    long at = fuzz::first_diff(page.data(), newp, P);
    FUZZ_CHECK(at < 0, "decode(encode(old, new)) differs from new at byte %ld", at);
  }
  return 0;
}
