// fuzz_decode_overlap: decode with the delta INSIDE the page's memory.
//
// A JavaScript caller can pass a delta and a page that share one
// ArrayBuffer (decodeInto(buf.subarray(0, n), buf)), and the addon hands
// both pointers to xbzrle::decode unchanged. Expected: memory safety, the
// verdict of the reference on a copy of the delta, and on acceptance the
// page the reference gives from that copy (the delta as it was before the
// call); on rejection the whole buffer untouched.
//
// Input: u16 page-size selector (size = sel % 16384 + 1), u16 offset of the
// delta in the buffer (% size), u8 seed of the page's content, then the
// delta. One heap block holds [0, max(size, offset + delta length)); the
// page is its first `size` bytes.
#include <vector>

#include "../xbzrle.h"
#include "common.h"
#include "reference.h"

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

  // The reference: the same delta from a separate copy, onto a copy.
  std::vector<uint8_t> delta(in.rest(), in.rest() + S);
  std::vector<uint8_t> expect(before);
  ref::Decoded want = ref::decode(delta.data(), S, expect.data(), P);

  xbzrle::DecodeError err{};
  long r = xbzrle::decode(buf.data() + off, S, buf.data(), P, &err);

  FUZZ_CHECK(r == want.result, "decode returned %ld, reference %ld (P=%zu off=%zu S=%zu)", r,
             want.result, P, off, S);
  if (r < 0) {
    long at = fuzz::first_diff(buf.data(), before.data(), total);
    FUZZ_CHECK(at < 0, "a rejected delta changed the buffer at byte %ld", at);
  } else {
    long at = fuzz::first_diff(buf.data(), expect.data(), P);
    FUZZ_CHECK(at < 0, "overlapping decode differs from decoding a copy at byte %ld", at);
  }
  return 0;
}
