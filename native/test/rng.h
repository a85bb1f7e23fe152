// rng.h: splitmix64, the small deterministic generator the native tests and
// the native bench share, so a seed replays the same pages in both.
#ifndef XBZRLE_TEST_RNG_H
#define XBZRLE_TEST_RNG_H

#include <cstddef>
#include <cstdint>

struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  size_t below(size_t n) { return n ? static_cast<size_t>(next() % n) : 0; }
  uint8_t byte() { return static_cast<uint8_t>(next()); }
  bool chance(double p) { return (next() >> 11) * (1.0 / 9007199254740992.0) < p; }
  // A byte other than x.
  uint8_t other(uint8_t x) { return static_cast<uint8_t>(x + 1 + below(255)); }
};

#endif
