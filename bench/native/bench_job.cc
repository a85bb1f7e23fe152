// bench_job.cc: how the async encode (core/batch_job.h) splits a batch over
// n threads, measured in CPU time so that other jobs on a shared machine do
// not decide the figure. Each thread runs EncodeJob::run() as a pool thread
// does; its CPU time (CLOCK_THREAD_CPUTIME_ID) is the work it did, waiting
// aside. On a shared machine which thread gets which chunks follows the
// scheduler, so the figure measured is the total:
//   split cost c(n) = CPU time of all n threads / CPU time of the one-thread loop
// and the model of n threads on n idle cores is
//   T(n) = W c(n) / n + chunk / 2 + wake     speedup(n) = W / T(n)
// W the loop's time, chunk/2 the threads' average wait at the end (the last
// chunk), wake the start of the last pool thread (WAKE_US, default 20 us).
// Memory bandwidth shared by the cores is left out (bench/batch.js measures
// the whole in wall time on a machine that has the cores).
//
// Usage: bench_job [PAGES] [CHUNK_PAGES] [MAX_THREADS] [ROUNDS]
//   default 2048 pages of 4 KiB, 10% of bytes scattered, chunks of 32 pages
//   (lib/codec/async.ts split() for that batch), threads 1..8, 15 rounds.
#include "../../native/core/batch.h"
#include "../../native/core/batch_job.h"
#include "../../native/core/dispatch.h"
#include "../../native/test/rng.h"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

constexpr size_t kPage = 4096;

double thread_cpu_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

double wall_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const size_t pages = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 2048;
  const size_t chunk = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 32;
  const size_t max_threads = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 8;
  const int rounds = argc > 4 ? std::atoi(argv[4]) : 15;
  std::vector<uint8_t> olds(pages * kPage), news;
  Rng r{12345};
  for (auto& b : olds) b = r.byte();
  news = olds;
  for (size_t i = 0; i < news.size(); i++)
    if (r.below(10) == 0) news[i] = r.other(olds[i]);
  std::vector<uint8_t> out(pages * kPage);
  std::vector<uint32_t> offsets(pages);
  std::vector<int32_t> lengths(pages);
  const xbzrle::Kernel* k = xbzrle::best_kernel();
  const xbzrle::EncodeBatch b{k->encode, pages, kPage, kPage,
                              {olds.data(), nullptr, pages}, {news.data(), nullptr, pages},
                              out.data(), offsets.data(), lengths.data()};
  std::vector<double> one;
  for (int r = 0; r < rounds + 2; r++) {
    double t0 = thread_cpu_ns();
    xbzrle::encode_range(b, 0, pages, 0, nullptr);
    if (r >= 2) one.push_back(thread_cpu_ns() - t0);  // two warm-up rounds
  }
  const double sync = median(one);
  std::printf("bench_job: kernel %s, %zu pages of 10%% scattered, chunks of %zu pages, %d rounds\n", k->name,
              pages, chunk, rounds);
  std::printf("one-thread loop: %.0f ns CPU per page\n", sync / pages);
  const double wake = (std::getenv("WAKE_US") ? std::atof(std::getenv("WAKE_US")) : 20.0) * 1e3;
  const double chunk_ns = sync * static_cast<double>(std::min(chunk, pages)) / static_cast<double>(pages);
  std::printf("one chunk: %.1f us; wake-up allowance: %.0f us\n", chunk_ns / 1e3, wake / 1e3);
  std::printf("threads\tsplit cost c(n)\tmodelled speedup on n idle cores\tmeasured wall speedup (threads started together)\n");
  for (size_t n = 1; n <= max_threads; n++) {
    std::vector<double> cost, walls;
    for (int r = 0; r < rounds; r++) {
      // The loop again next to each job: the ratio of a pair that shared
      // the machine's state (clock, other jobs' cache use).
      double l0 = thread_cpu_ns(), w0 = wall_ns();
      xbzrle::encode_range(b, 0, pages, 0, nullptr);
      const double loop = thread_cpu_ns() - l0, loop_wall = wall_ns() - w0;
      xbzrle::EncodeJob job;
      if (!job.init(b, chunk)) return 2;
      std::vector<double> cpu(n), begin(n), end(n);
      std::vector<std::thread> t;
      std::atomic<size_t> ready{0};
      for (size_t i = 0; i < n; i++)
        t.emplace_back([&, i] {
          // All start together, as works queued at once on idle pool threads.
          ready++;
          while (ready.load() < n) std::this_thread::yield();
          double t0 = thread_cpu_ns();
          begin[i] = wall_ns();
          job.run();
          end[i] = wall_ns();
          cpu[i] = thread_cpu_ns() - t0;
        });
      for (auto& th : t) th.join();
      if (!job.complete()) return 3;
      double all = 0;
      for (double c : cpu) all += c;
      cost.push_back(all / loop);
      walls.push_back(loop_wall / (*std::max_element(end.begin(), end.end()) -
                                   *std::min_element(begin.begin(), begin.end())));
    }
    const double c = median(cost);
    const double t = n == 1 ? sync * c : sync * c / static_cast<double>(n) + chunk_ns / 2 + wake;
    std::printf("%zu\t%.3f\t%.2f\t%.2f\n", n, c, sync / t, median(walls));
  }
  return 0;
}
