// common.h: helpers shared by the fuzz targets (no Node, no libFuzzer API
// beyond the entry point). A failed check prints what differed and aborts,
// which libFuzzer and the standalone driver report as a crash with a stack.
#ifndef XBZRLE_FUZZ_COMMON_H
#define XBZRLE_FUZZ_COMMON_H

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#define FUZZ_CHECK(cond, ...)                                              \
  do {                                                                     \
    if (!(cond)) {                                                         \
      std::fprintf(stderr, "\nFUZZ CHECK FAILED at %s:%d: %s\n  ", __FILE__, \
                   __LINE__, #cond);                                       \
      std::fprintf(stderr, __VA_ARGS__);                                   \
      std::fprintf(stderr, "\n");                                          \
      std::abort();                                                        \
    }                                                                      \
  } while (0)

namespace fuzz {

// Reads the fuzz input front to back; past the end every read yields 0.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : p_(data), left_(size) {}
  uint8_t u8() {
    if (!left_) return 0;
    left_--;
    return *p_++;
  }
  uint16_t u16() {
    uint16_t lo = u8();
    return static_cast<uint16_t>(lo | (u8() << 8));
  }
  const uint8_t* rest() const { return p_; }
  size_t left() const { return left_; }
  void skip(size_t n) {
    if (n > left_) n = left_;
    p_ += n;
    left_ -= n;
  }

 private:
  const uint8_t* p_;
  size_t left_;
};

// A heap block of exactly `size` bytes placed `pad` bytes into its
// allocation, so the block ENDS where the allocation ends: AddressSanitizer
// flags any access past the end, and `pad` varies the start's alignment.
class Block {
 public:
  Block(size_t size, size_t pad = 0) : mem_(new uint8_t[pad + size]), pad_(pad), size_(size) {}
  uint8_t* data() { return mem_.get() + pad_; }
  const uint8_t* data() const { return mem_.get() + pad_; }
  size_t size() const { return size_; }

 private:
  std::unique_ptr<uint8_t[]> mem_;
  size_t pad_;
  size_t size_;
};

// A small deterministic generator (xorshift64*) for filling pages.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull) {
    if (!s_) s_ = 1;
  }
  uint8_t byte() {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return static_cast<uint8_t>((s_ * 0x2545F4914F6CDD1Dull) >> 56);
  }

 private:
  uint64_t s_;
};

// A position-dependent fill (no two neighbours equal by accident).
inline void pattern(uint8_t* p, size_t n, uint8_t seed) {
  for (size_t i = 0; i < n; i++) p[i] = static_cast<uint8_t>(seed + i * 167 + (i >> 8) * 13);
}

// The same fill, computed once: background(seed)[0, n) for n <= 32768 (a
// byte loop per run would cost more than the code under test).
inline const uint8_t* background(uint8_t seed) {
  static uint8_t table[256 + 32768];
  static bool ready = false;
  if (!ready) {
    pattern(table, sizeof table, 0);
    ready = true;
  }
  return table + seed;
}

// Index of the first differing byte, or -1 when equal (for messages).
inline long first_diff(const uint8_t* a, const uint8_t* b, size_t n) {
  if (n == 0 || std::memcmp(a, b, n) == 0) return -1;
  for (size_t i = 0; i < n; i++)
    if (a[i] != b[i]) return static_cast<long>(i);
  return -1;
}

}  // namespace fuzz

#endif
