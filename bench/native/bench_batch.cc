// bench_batch.cc: the C loop that encodePages runs (encode_range over one
// kernel), without Node, on page pairs read from two files, so that
// bench/js-vs-c.js can time the JS call on the very same bytes.
//
// Usage: bench_batch OLD NEW KERNEL BATCH SAMPLES
// The files hold N pages of 4096 bytes each. Each sample encodes every page
// once, BATCH pages per call, into one reused out (as the JS side does);
// a set of at most 1 MiB a side is warmed first and stays in L2, a larger
// one is walked once per sample (from DRAM). Prints the median CPU ns per
// page (this thread's CPU time: time lost to other jobs is not counted).
#include "../../native/core/batch.h"
#include "../../native/core/dispatch.h"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

constexpr size_t kPage = 4096;

std::vector<uint8_t> read_file(const char* path) {
  std::vector<uint8_t> v;
  FILE* f = std::fopen(path, "rb");
  if (!f) {
    std::fprintf(stderr, "cannot open %s\n", path);
    std::exit(2);
  }
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) v.insert(v.end(), buf, buf + n);
  std::fclose(f);
  return v;
}

double cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: bench_batch OLD NEW KERNEL BATCH SAMPLES\n");
    return 2;
  }
  std::vector<uint8_t> olds = read_file(argv[1]), news = read_file(argv[2]);
  const xbzrle::Kernel* k = xbzrle::find_kernel(argv[3]);
  const size_t batch = std::strtoul(argv[4], nullptr, 10);
  const int samples = std::atoi(argv[5]);
  if (!k || olds.size() != news.size() || olds.size() % kPage || batch == 0 || samples < 1) {
    std::fprintf(stderr, "bad arguments (kernel %s supported: %s)\n", argv[3], k ? "yes" : "no");
    return 2;
  }
  const size_t pages = olds.size() / kPage;
  std::vector<uint8_t> out(batch * kPage);
  std::vector<uint32_t> offsets(batch);
  std::vector<int32_t> lengths(batch);
  volatile size_t sink = 0;
  auto pass = [&] {
    for (size_t first = 0; first < pages; first += batch) {
      size_t n = std::min(batch, pages - first);
      xbzrle::EncodeBatch b{k->encode, n, kPage, kPage,
                            {olds.data() + first * kPage, nullptr, n},
                            {news.data() + first * kPage, nullptr, n},
                            out.data(), offsets.data(), lengths.data()};
      sink = sink + xbzrle::encode_range(b, 0, n, 0, nullptr);
    }
  };
  const bool cached = pages * kPage <= (1u << 20);
  pass();  // warm: caches, page tables, the branch predictors
  std::vector<double> ns;
  for (int s = 0; s < samples; s++) {
    // A cached set is encoded enough times per sample to last ~10 ms.
    size_t reps = cached ? std::max<size_t>(1, 10000000 / (pages * 500)) : 1;
    double t0 = cpu_ns();
    for (size_t r = 0; r < reps; r++) pass();
    double t = cpu_ns() - t0;
    ns.push_back(t / static_cast<double>(pages * reps));
  }
  std::sort(ns.begin(), ns.end());
  std::printf("%.2f\n", ns[ns.size() / 2]);
  return 0;
}
