// batch_test.cc: the batch core without Node. EncodeJob/DecodeJob run on
// real threads with every chunk size must equal the one-thread loops; an
// abort from another thread must stop them. ThreadSanitizer and UBSan catch
// races and overflows in the chunk hand-out and the in-order placement:
//   native/test/run.sh batch
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <thread>
#include <vector>

#include "batch.h"
#include "batch_job.h"

namespace {

int failures = 0;

#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                     \
    }                                                                 \
  } while (0)

struct Pages {
  size_t count, size;
  std::vector<uint8_t> olds, news;
};

// Pages with a mix of changes: none, a few bytes, a run, heavy (overflow).
Pages make_pages(std::mt19937& rng, size_t count, size_t size) {
  Pages p{count, size, std::vector<uint8_t>(count * size), {}};
  for (auto& b : p.olds) b = static_cast<uint8_t>(rng());
  p.news = p.olds;
  for (size_t k = 0; k < count; k++) {
    uint8_t* page = p.news.data() + k * size;
    switch (rng() % 4) {
      case 0: break;
      case 1:
        for (int i = 0; i < 3; i++) page[rng() % size] ^= 0x41;
        break;
      case 2: {
        size_t at = rng() % size, len = 1 + rng() % (size - at);
        for (size_t i = at; i < at + len; i++) page[i] ^= 0x17;
        break;
      }
      case 3:
        for (size_t i = 0; i < size; i += 2) page[i] ^= 0x80;
        break;
    }
  }
  return p;
}

xbzrle::EncodeBatch batch_of(Pages& p, size_t limit, std::vector<uint8_t>& out,
                             std::vector<uint32_t>& offsets, std::vector<int32_t>& lengths) {
  out.assign(p.count * limit, 0xee);
  offsets.assign(p.count, 0);
  lengths.assign(p.count, 7);
  return xbzrle::EncodeBatch{xbzrle::encode_portable,
                             p.count,
                             p.size,
                             limit,
                             {p.olds.data(), nullptr, p.count},
                             {p.news.data(), nullptr, p.count},
                             out.data(),
                             offsets.data(),
                             lengths.data()};
}

void run_threads(size_t n, const std::function<void()>& f) {
  std::vector<std::thread> t;
  for (size_t i = 0; i < n; i++) t.emplace_back(f);
  for (auto& th : t) th.join();
}

void test_encode_job(std::mt19937& rng) {
  for (size_t count : {0, 1, 2, 5, 64, 333}) {
    for (size_t size : {1, 64, 4096}) {
      Pages p = make_pages(rng, count, size);
      size_t limit = rng() % 2 ? size : size / 3;
      std::vector<uint8_t> out1, out2;
      std::vector<uint32_t> off1, off2;
      std::vector<int32_t> len1, len2;
      xbzrle::EncodeBatch one = batch_of(p, limit, out1, off1, len1);
      size_t total = xbzrle::encode_range(one, 0, count, 0, nullptr);
      for (size_t threads : {1, 2, 3, 4}) {
        for (size_t chunk : {1, 2, 7, 64, 1000}) {
          xbzrle::EncodeBatch b = batch_of(p, limit, out2, off2, len2);
          xbzrle::EncodeJob job;
          CHECK(job.init(b, chunk));
          run_threads(threads, [&] { job.run(); });
          CHECK(job.complete());
          CHECK(job.total() == total);
          CHECK(off2 == off1);
          CHECK(len2 == len1);
          CHECK(total == 0 || std::memcmp(out1.data(), out2.data(), total) == 0);
        }
      }
    }
  }
}

void test_decode_job(std::mt19937& rng) {
  const size_t count = 400, size = 256;
  Pages p = make_pages(rng, count, size);
  std::vector<uint8_t> out;
  std::vector<uint32_t> offsets;
  std::vector<int32_t> lengths;
  xbzrle::EncodeBatch eb = batch_of(p, size, out, offsets, lengths);
  xbzrle::encode_range(eb, 0, count, 0, nullptr);
  // Corrupt every fifth nonempty delta: a truncated one of length 1.
  size_t bad_at = out.size();
  out.push_back(0x00);
  size_t corrupted = 0;
  for (size_t k = 0; k < count; k++)
    if (lengths[k] > 0 && k % 5 == 0) offsets[k] = static_cast<uint32_t>(bad_at), lengths[k] = 1, corrupted++;
  std::vector<uint8_t> want = p.olds, got;
  xbzrle::DecodeBatch one{count, size, out.data(), out.size(), offsets.data(), lengths.data(),
                          want.data(), nullptr, count};
  std::vector<xbzrle::PageFailure> f1(count);
  size_t bad1 = xbzrle::decode_range(one, 0, count, f1.data(), count, nullptr);
  CHECK(bad1 == corrupted);
  for (size_t threads : {1, 2, 4}) {
    for (size_t chunk : {1, 3, 50, 400}) {
      got = p.olds;
      xbzrle::DecodeBatch b = one;
      b.base = got.data();
      xbzrle::DecodeJob job;
      CHECK(job.init(b, chunk));
      run_threads(threads, [&] { job.run(); });
      CHECK(job.complete());
      CHECK(job.failure_count() == bad1);
      std::vector<xbzrle::PageFailure> f2(bad1 + 1);
      CHECK(job.failures(f2.data(), f2.size()) == bad1);
      for (size_t i = 0; i < bad1; i++) CHECK(f2[i].page == f1[i].page);
      CHECK(got == want);
    }
  }
}

void test_abort(std::mt19937& rng) {
  Pages p = make_pages(rng, 3000, 4096);
  for (int round = 0; round < 20; round++) {
    std::vector<uint8_t> out;
    std::vector<uint32_t> offsets;
    std::vector<int32_t> lengths;
    xbzrle::EncodeBatch b = batch_of(p, 4096, out, offsets, lengths);
    xbzrle::EncodeJob job;
    CHECK(job.init(b, 16));
    std::thread stopper([&] { job.abort(); });
    run_threads(2, [&] { job.run(); });
    stopper.join();
    CHECK(job.aborted());
  }
}

}  // namespace

int main() {
  std::mt19937 rng(12345);
  test_encode_job(rng);
  test_decode_job(rng);
  test_abort(rng);
  if (failures) {
    std::fprintf(stderr, "%d checks failed\n", failures);
    return 1;
  }
  std::puts("batch_test: ok");
  return 0;
}
