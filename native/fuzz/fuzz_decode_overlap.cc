// fuzz_decode_overlap: decode with the delta INSIDE the page's memory.
//
// A JavaScript caller can pass a delta and a page that share one
// ArrayBuffer (decodeInto(buf.subarray(0, n), buf)), and the addon hands
// both pointers to the core. lib/ passes a copy of such a delta; the core
// itself refuses it (Reject::kOverlap) and touches nothing. Expected: memory
// safety, that verdict whenever the delta is not empty, and the whole buffer
// untouched.
//
// Input: u16 page-size selector (size = sel % 16384 + 1), u16 offset of the
// delta in the buffer (% size), u8 seed of the page's content, then the
// delta. One heap block holds [0, max(size, offset + delta length)); the
// page is its first `size` bytes.
#include <vector>

#include "../core/xbzrle.h"
#include "common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 5) return 0;
  fuzz::Input in(data, size);
  const size_t P = in.u16() % xbzrle::kMaxPageSize + 1;
  const size_t off = in.u16() % P;
  const uint8_t fill = in.u8();
  const size_t S = in.left();
  const size_t total = off + S > P ? off + S : P;

  fuzz::Block buf(total);
  std::memcpy(buf.data(), fuzz::background(fill), total < 32768 ? total : 32768);
  if (total > 32768) std::memset(buf.data() + 32768, 0, total - 32768);
  if (S) std::memcpy(buf.data() + off, in.rest(), S);
  const std::vector<uint8_t> before(buf.data(), buf.data() + total);

  xbzrle::DecodeError err{};
  long r = xbzrle::decode(buf.data() + off, S, buf.data(), P, &err);

  if (S == 0) {
    FUZZ_CHECK(r == 0, "an empty delta returned %ld", r);
  } else {
    FUZZ_CHECK(r == -1 && err.reason == xbzrle::Reject::kOverlap,
               "an overlapping delta returned %ld (P=%zu off=%zu S=%zu)", r, P, off, S);
  }
  long at = fuzz::first_diff(buf.data(), before.data(), total);
  FUZZ_CHECK(at < 0, "decode changed the buffer at byte %ld", at);
  return 0;
}
