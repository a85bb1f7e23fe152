// fuzz_decode: the decoder against the reference decoder of reference.h.
//
// Input: u16 page-size selector (size = sel % 16384 + 1; 0x0fff = 4096),
//        u8 seed of the page's initial content, then the delta (the rest).
// Checks: decode and decode_check give the reference's verdict, covered
// bytes, reason and offset; an accepted delta leaves the page equal to the
// reference's; a rejected one leaves it byte for byte as it was. The page and
// the delta sit in exactly-sized heap blocks so AddressSanitizer sees any
// access outside them.
#include "../core/xbzrle.h"
#include "common.h"
#include "reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  if (size < 3) return 0;
  const size_t P = in.u16() % xbzrle::kMaxPageSize + 1;
  const uint8_t fill = in.u8();

  const size_t S = in.left();
  fuzz::Block delta(S);
  if (S) std::memcpy(delta.data(), in.rest(), S);

  const uint8_t* before = fuzz::background(fill);
  fuzz::Block page(P), expect(P);
  std::memcpy(page.data(), before, P);
  std::memcpy(expect.data(), before, P);

  ref::Decoded want = ref::decode(delta.data(), S, expect.data(), P);

  xbzrle::DecodeError chk{};
  long c = xbzrle::decode_check(delta.data(), S, P, &chk);
  xbzrle::DecodeError err{};
  long r = xbzrle::decode(delta.data(), S, page.data(), P, &err);
  long r_noerr = xbzrle::decode_check(delta.data(), S, P, nullptr);

  FUZZ_CHECK(r == want.result, "decode returned %ld, reference %ld (P=%zu S=%zu)", r,
             want.result, P, S);
  FUZZ_CHECK(c == r, "decode_check returned %ld, decode %ld", c, r);
  FUZZ_CHECK(r_noerr == r, "decode_check without err returned %ld, with %ld", r_noerr, r);

  if (r < 0) {
    FUZZ_CHECK(static_cast<int>(err.reason) == want.reason && err.offset == want.offset,
               "rejected with reason %d (%s) at %zu, reference reason %d at %zu",
               static_cast<int>(err.reason), xbzrle::reject_name(err.reason), err.offset,
               static_cast<int>(want.reason), want.offset);
    FUZZ_CHECK(chk.reason == err.reason && chk.offset == err.offset,
               "decode_check and decode disagree on the rejection");
    // A delta cut short right after a length is "truncated" at offset S.
    FUZZ_CHECK(err.offset <= S, "rejection offset %zu past the %zu-byte delta", err.offset, S);
    FUZZ_CHECK(std::strcmp(xbzrle::reject_name(err.reason), "unknown") != 0,
               "reason %d has no name", static_cast<int>(err.reason));
    long at = fuzz::first_diff(page.data(), before, P);
    FUZZ_CHECK(at < 0, "a rejected delta changed the page at byte %ld", at);
  } else {
    FUZZ_CHECK(static_cast<size_t>(r) <= P, "covered %ld > page %zu", r, P);
    long at = fuzz::first_diff(page.data(), expect.data(), P);
    FUZZ_CHECK(at < 0, "decoded page differs from the reference at byte %ld", at);
  }
  return 0;
}
