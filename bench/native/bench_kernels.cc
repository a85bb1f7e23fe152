// bench_kernels.cc: every kernel this CPU runs, timed without Node, in the
// working-set regimes of DESIGN.md against floors measured in the same run:
//   compare floor  one memcmp over the whole old/new buffers, per page
//   copy floor     one memcpy of the whole new buffer, per page
// Each sample of a kernel is taken next to a fresh pair of floors, and its
// ratios are taken against the floors of its own samples, so that noise
// from other jobs and clock changes hit a kernel and its floors alike.
//
// Usage: bench_kernels [--quick] [--min] [--cpu] [--samples N] [--regime HOT|L2|COLD]
//                      [--workload NAME] [--kernels a,b] [--json FILE]
// --min reports the fastest sample instead of the median (for tuning on a
// busy machine; the medians are the figures to quote).
#include "../../native/core/dispatch.h"
#include "../../native/core/xbzrle.h"
#include "../../native/test/rng.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

namespace {

constexpr size_t kPage = 4096;

// ---- workloads (DESIGN.md "Measuring"), applied page by page ----

struct Workload {
  const char* name;
  bool decode;  // also time the decoder on its deltas
  void (*make)(Rng& r, const uint8_t* a, uint8_t* b);
};

void w_unchanged(Rng&, const uint8_t*, uint8_t*) {}
void w_last_byte(Rng& r, const uint8_t* a, uint8_t* b) { b[kPage - 1] = r.other(a[kPage - 1]); }
void w_scattered16(Rng& r, const uint8_t* a, uint8_t* b) {
  for (int k = 0; k < 16; k++) {
    size_t i = r.below(kPage);
    b[i] = r.other(a[i]);
  }
}
void w_run512(Rng& r, const uint8_t* a, uint8_t* b) {
  size_t at = r.below(kPage - 512 + 1);
  for (size_t i = at; i < at + 512; i++) b[i] = r.other(a[i]);
}
void w_scattered10(Rng& r, const uint8_t* a, uint8_t* b) {  // each byte changed with p = 0.1
  for (size_t i = 0; i < kPage; i++)
    if (r.below(10) == 0) b[i] = r.other(a[i]);
}
void w_random50(Rng& r, const uint8_t*, uint8_t* b) {  // each byte random with p = 0.5
  for (size_t i = 0; i < kPage; i++)
    if (r.below(2) == 0) b[i] = static_cast<uint8_t>(r.next());
}
void w_every_other(Rng& r, const uint8_t* a, uint8_t* b) {
  for (size_t i = 0; i < kPage; i += 2) b[i] = r.other(a[i]);
}
void w_every_byte(Rng& r, const uint8_t* a, uint8_t* b) {
  for (size_t i = 0; i < kPage; i++) b[i] = r.other(a[i]);
}

const Workload kWorkloads[] = {
    {"unchanged", false, w_unchanged},     {"1 byte at end", false, w_last_byte},
    {"16 scattered", false, w_scattered16}, {"512-byte run", false, w_run512},
    {"10% scattered", true, w_scattered10}, {"50% random", true, w_random50},
    {"every other", false, w_every_other}, {"every byte", false, w_every_byte},
};

// ---- memory and timing ----

uint8_t* alloc_pages(size_t bytes) {
  void* p = std::aligned_alloc(kPage, bytes);
  if (!p) {
    std::fprintf(stderr, "out of memory (%zu bytes)\n", bytes);
    std::exit(2);
  }
  std::memset(p, 0, bytes);  // fault the pages in now, not while timing
  return static_cast<uint8_t*>(p);
}

using Clock = std::chrono::steady_clock;

volatile long sink;  // keeps results alive

// The floors call the C library through volatile pointers and a compiler
// barrier, so that repeated passes are neither merged nor hoisted.
int (*volatile memcmp_fn)(const void*, const void*, size_t) = std::memcmp;
void* (*volatile memcpy_fn)(void*, const void*, size_t) = std::memcpy;
inline void barrier(void* p) { __asm__ volatile("" : : "r"(p) : "memory"); }

// --cpu: this thread's CPU time instead of the steady clock, so that time
// spent descheduled while other jobs run is not counted (cache disturbance
// from them still is).
bool use_cpu_clock = false;

double cpu_now_ns() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

template <class F>
double time_ns(F&& f) {
  if (use_cpu_clock) {
    double t0 = cpu_now_ns();
    f();
    return cpu_now_ns() - t0;
  }
  auto t0 = Clock::now();
  f();
  return std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
}

bool use_min = false;  // --min: the fastest sample instead of the median

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  if (use_min) return v[0];
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// HOT and L2: the whole set stays cached; each sample runs enough passes
// over it to last about kSampleNs, after one untimed pass that brings it in.
// COLD: each sample takes one pass over a window of pages that no recent
// sample touched, so it comes from DRAM; the floors use other windows.
struct Regime {
  const char* name;
  size_t pages;   // distinct page pairs
  size_t window;  // pages per sample
  bool cold;
};

constexpr double kSampleNs = 1e6;  // short samples: most miss the other jobs' time slices

struct Row {
  std::string regime, workload, op, kernel;
  double ns;  // per page, median
  double x_cmp, x_copy;
};

std::vector<Row> rows;

std::vector<const xbzrle::Kernel*> chosen;  // kernels to time (--kernels, default all)

// Work over pages [first, first + count), `passes` times; returns nothing.
using Work = std::function<void(size_t first, size_t count, size_t passes)>;

void run_regime(const Regime& rg, int samples, const std::string& only_workload) {
  const size_t n = rg.pages, bytes = n * kPage;
  uint8_t* olds = alloc_pages(bytes);
  uint8_t* news = alloc_pages(bytes);
  uint8_t* dst = alloc_pages(bytes);    // memcpy target
  uint8_t* same = alloc_pages(bytes);   // a copy of the old pages: memcmp reads all of both
  uint8_t* pages = alloc_pages(bytes);  // decode target
  uint8_t* out = alloc_pages(kPage);    // one scratch delta: a sender sends it, then reuses it
  uint8_t* deltas = alloc_pages(bytes);
  std::vector<size_t> dlen(n);
  Rng r{12345};
  for (size_t i = 0; i < bytes; i++) olds[i] = static_cast<uint8_t>(r.next());
  std::memcpy(same, olds, bytes);
  const size_t windows = n / rg.window;
  size_t next_window = 0;  // COLD: windows are taken round-robin

  // Times `work` in one sample: ns per page.
  auto sample = [&](const Work& work, size_t passes) {
    if (rg.cold) {
      const size_t first = (next_window++ % windows) * rg.window;
      return time_ns([&] { work(first, rg.window, 1); }) / static_cast<double>(rg.window);
    }
    work(0, n, 1);  // untimed: bring the set into cache
    return time_ns([&] { work(0, n, passes); }) / static_cast<double>(n * passes);
  };
  // Passes per sample so that one lasts about kSampleNs.
  auto calibrate = [&](const Work& work) -> size_t {
    if (rg.cold) return 1;
    work(0, n, 1);
    const double one = time_ns([&] { work(0, n, 1); });
    const double p = kSampleNs / (one > 1 ? one : 1);
    return p < 1 ? 1 : p > 1e6 ? 1000000 : static_cast<size_t>(p);
  };

  const Work floor_cmp = [&](size_t first, size_t count, size_t passes) {
    long acc = 0;
    for (size_t k = 0; k < passes; k++) {
      acc += memcmp_fn(olds + first * kPage, same + first * kPage, count * kPage);
      barrier(same);
    }
    sink = acc;
  };
  const Work floor_copy = [&](size_t first, size_t count, size_t passes) {
    for (size_t k = 0; k < passes; k++) {
      memcpy_fn(dst + first * kPage, news + first * kPage, count * kPage);
      barrier(dst);
    }
  };
  const size_t cmp_passes = calibrate(floor_cmp), copy_passes = calibrate(floor_copy);

  for (const Workload& w : kWorkloads) {
    if (!only_workload.empty() && only_workload != w.name) continue;
    Rng wr{777};
    std::memcpy(news, olds, bytes);
    for (size_t p = 0; p < n; p++) w.make(wr, olds + p * kPage, news + p * kPage);

    // Deltas for the decoder: pages that overflow are drawn again (a sender
    // sends those raw), so every page decodes.
    if (w.decode) {
      for (size_t p = 0; p < n; p++) {
        for (;;) {
          long len = xbzrle::encode_portable(olds + p * kPage, news + p * kPage, kPage,
                                             deltas + p * kPage, kPage);
          if (len >= 0) {
            dlen[p] = static_cast<size_t>(len);
            break;
          }
          std::memcpy(news + p * kPage, olds + p * kPage, kPage);
          w.make(wr, olds + p * kPage, news + p * kPage);
        }
      }
    }

    // Each subject (a kernel, the decoder) is timed in its own stretch of
    // samples, each sample next to a fresh pair of floors, and its ratios
    // are its median over the medians of the floors of its own stretch. So
    // a slow spell on this shared machine, or a clock change after a
    // kernel's wide vectors, hits a subject and its floors alike, while a
    // single disturbed sample moves no median.
    std::vector<double> all_cmp, all_copy;
    std::vector<Row> subject_rows;
    auto measure = [&](const char* op, const char* name, const Work& work) {
      const size_t passes = calibrate(work);
      std::vector<double> t, cmp_t, copy_t;
      for (int s = 0; s < samples; s++) {
        cmp_t.push_back(sample(floor_cmp, cmp_passes));
        copy_t.push_back(sample(floor_copy, copy_passes));
        t.push_back(sample(work, passes));
      }
      all_cmp.insert(all_cmp.end(), cmp_t.begin(), cmp_t.end());
      all_copy.insert(all_copy.end(), copy_t.begin(), copy_t.end());
      const double v = median(t);
      subject_rows.push_back({rg.name, w.name, op, name, v, v / median(cmp_t), v / median(copy_t)});
    };

    long expect = -2;
    for (const xbzrle::Kernel* kern : chosen) {
      // Every kernel must give the same lengths as the first one.
      long acc = 0;
      for (size_t p = 0; p < n; p++)
        acc += kern->encode(olds + p * kPage, news + p * kPage, kPage, out, kPage);
      if (expect == -2) expect = acc;
      if (acc != expect) {
        std::fprintf(stderr, "kernel %s disagrees on %s\n", kern->name, w.name);
        std::exit(1);
      }
      measure("encode", kern->name, [&, kern](size_t first, size_t count, size_t passes) {
        long sum = 0;
        for (size_t k = 0; k < passes; k++)
          for (size_t p = first; p < first + count; p++)
            sum += kern->encode(olds + p * kPage, news + p * kPage, kPage, out, kPage);
        sink = sum;
      });
    }
    if (w.decode) {
      // Applying a delta again rewrites the same bytes, so every pass does
      // the same work on pages that start as the old ones.
      std::memcpy(pages, olds, bytes);
      measure("decode", "decode", [&](size_t first, size_t count, size_t passes) {
        long acc = 0;
        for (size_t k = 0; k < passes; k++)
          for (size_t p = first; p < first + count; p++)
            acc += xbzrle::decode(deltas + p * kPage, dlen[p], pages + p * kPage, kPage, nullptr);
        sink = acc;
      });
      measure("decode", "check only", [&](size_t first, size_t count, size_t passes) {
        long acc = 0;
        for (size_t k = 0; k < passes; k++)
          for (size_t p = first; p < first + count; p++)
            acc += xbzrle::decode_check(deltas + p * kPage, dlen[p], kPage, nullptr);
        sink = acc;
      });
      for (size_t p = 0; p < n; p++)  // COLD samples visit only some windows
        xbzrle::decode(deltas + p * kPage, dlen[p], pages + p * kPage, kPage, nullptr);
      if (std::memcmp(pages, news, bytes) != 0) {
        std::fprintf(stderr, "decode does not give the new pages on %s\n", w.name);
        std::exit(1);
      }
    }
    const double cmp = median(all_cmp), copy = median(all_copy);
    rows.push_back({rg.name, w.name, "floor", "memcmp", cmp, 1.0, cmp / copy});
    rows.push_back({rg.name, w.name, "floor", "memcpy", copy, copy / cmp, 1.0});
    rows.insert(rows.end(), subject_rows.begin(), subject_rows.end());
  }
  std::free(olds);
  std::free(news);
  std::free(dst);
  std::free(same);
  std::free(pages);
  std::free(out);
  std::free(deltas);
}

void print_table() {
  std::printf("%-5s %-14s %-7s %-10s %10s %8s %8s\n", "set", "workload", "op", "kernel", "ns/page",
              "x cmp", "x copy");
  std::string last;
  for (const Row& r : rows) {
    std::string key = r.regime + r.workload;
    if (key != last && !last.empty()) std::printf("\n");
    last = key;
    std::printf("%-5s %-14s %-7s %-10s %10.1f %8.2f %8.2f\n", r.regime.c_str(), r.workload.c_str(),
                r.op.c_str(), r.kernel.c_str(), r.ns, r.x_cmp, r.x_copy);
  }
}

const Row* find(const char* regime, const char* workload, const char* op, const char* kernel) {
  for (const Row& r : rows)
    if (r.regime == regime && r.workload == workload && r.op == op && r.kernel == kernel) return &r;
  return nullptr;
}

// The best encoder row of a workload, by its ratio to a floor (ratios, not
// times, compare rows: each is taken against floors measured beside it).
const Row* best(const char* regime, const char* workload, bool vs_cmp) {
  const Row* b = nullptr;
  for (const Row& r : rows)
    if (r.regime == regime && r.workload == workload && r.op == "encode" &&
        (!b || (vs_cmp ? r.x_cmp < b->x_cmp : r.x_copy < b->x_copy)))
      b = &r;
  return b;
}

// The targets of the kernels issue (L2 unless said), met or not.
void print_targets() {
  std::printf("\ntargets (ratios from this run)\n");
  auto line = [](const char* what, const Row* r, bool vs_cmp, double target) {
    if (!r) return;
    double v = vs_cmp ? r->x_cmp : r->x_copy;
    std::printf("  %-44s %-10s %7.2fx %s  target <= %gx: %s\n", what, r->kernel.c_str(), v,
                vs_cmp ? "compare floor" : "copy floor   ", target,
                v <= target ? "met" : "NOT MET");
  };
  line("L2 unchanged, best kernel", best("L2", "unchanged", true), true, 1.15);
  line("COLD unchanged, best kernel", best("COLD", "unchanged", true), true, 1.15);
  line("L2 10% scattered, best kernel", best("L2", "10% scattered", false), false, 16);
  line("L2 50% random, best kernel", best("L2", "50% random", false), false, 50);
  line("L2 decode 10% scattered", find("L2", "10% scattered", "decode", "decode"), false, 12);
  line("L2 decode 50% random", find("L2", "50% random", "decode", "decode"), false, 55);
  line("L2 portable unchanged (QEMU portable: 2.5x)", find("L2", "unchanged", "encode", "portable"),
       true, 2.5);
  line("L2 portable 10% (QEMU portable: 88x)", find("L2", "10% scattered", "encode", "portable"),
       false, 88);
  line("L2 portable 50% (QEMU portable: 241x)", find("L2", "50% random", "encode", "portable"),
       false, 241);
  // SSE2 and AVX2 must beat portable everywhere but COLD unchanged.
  for (const char* k : {"sse2", "avx2", "avx512bw", "neon"}) {
    std::string lost;
    bool any = false;
    for (const Row& r : rows) {
      if (r.op != "encode" || r.kernel != k) continue;
      any = true;
      if (r.regime == "COLD" && r.workload == "unchanged") continue;
      // Slower both in time and in ratio to its own floors: either alone
      // can come from a disturbed stretch of samples.
      const Row* p = find(r.regime.c_str(), r.workload.c_str(), "encode", "portable");
      if (p && r.ns >= p->ns && r.x_cmp >= p->x_cmp) lost += " " + r.regime + "/" + r.workload;
    }
    if (!any) continue;
    std::printf("  %-8s faster than portable on every workload (but COLD unchanged): %s%s\n", k,
                lost.empty() ? "yes" : "NO, not on", lost.c_str());
  }
}

void write_json(const char* path) {
  FILE* f = std::fopen(path, "w");
  if (!f) {
    std::perror(path);
    return;
  }
  std::fprintf(f, "[\n");
  for (size_t i = 0; i < rows.size(); i++) {
    const Row& r = rows[i];
    std::fprintf(f,
                 "  {\"set\":\"%s\",\"workload\":\"%s\",\"op\":\"%s\",\"kernel\":\"%s\","
                 "\"nsPerPage\":%.2f,\"xCompare\":%.3f,\"xCopy\":%.3f}%s\n",
                 r.regime.c_str(), r.workload.c_str(), r.op.c_str(), r.kernel.c_str(), r.ns,
                 r.x_cmp, r.x_copy, i + 1 < rows.size() ? "," : "");
  }
  std::fprintf(f, "]\n");
  std::fclose(f);
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  int samples = 0;
  std::string only_regime, only_workload, only_kernels;
  const char* json = nullptr;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--quick") quick = true;
    else if (a == "--min") use_min = true;
    else if (a == "--cpu") use_cpu_clock = true;
    else if (a == "--samples" && i + 1 < argc) samples = std::atoi(argv[++i]);
    else if (a == "--kernels" && i + 1 < argc) only_kernels = std::string(",") + argv[++i] + ",";
    else if (a == "--regime" && i + 1 < argc) only_regime = argv[++i];
    else if (a == "--workload" && i + 1 < argc) only_workload = argv[++i];
    else if (a == "--json" && i + 1 < argc) json = argv[++i];
    else {
      std::fprintf(stderr,
                   "usage: %s [--quick] [--min] [--cpu] [--samples N] [--regime HOT|L2|COLD]\n"
                   "          [--workload NAME] [--kernels a,b] [--json FILE]\n",
                   argv[0]);
      return 2;
    }
  }
  // HOT: 4 pairs in L1. L2: 128 pairs, two contiguous 512 KiB buffers.
  // COLD: 64 MiB each, far beyond the last-level cache, read 4 MiB a sample.
  const Regime regimes[] = {
      {"HOT", 4, 4, false},
      {"L2", 128, 128, false},
      {"COLD", 16384, 1024, true},
  };
  if (samples <= 0) samples = quick ? 7 : 21;
  size_t nk;
  const xbzrle::Kernel* ks = xbzrle::all_encoders(&nk);
  for (size_t i = 0; i < nk; i++)
    if (only_kernels.empty() ||
        only_kernels.find(std::string(",") + ks[i].name + ",") != std::string::npos)
      chosen.push_back(&ks[i]);
  std::printf("xbzrle native bench: 4 KiB pages, %s of %d samples, %s; kernels:",
              use_min ? "fastest" : "median", samples,
              use_cpu_clock ? "thread CPU time" : "steady clock");
  for (const xbzrle::Kernel* k : chosen) std::printf(" %s", k->name);
  std::printf("\n\n");
  for (const Regime& rg : regimes) {
    if (!only_regime.empty() && only_regime != rg.name) continue;
    run_regime(rg, samples, only_workload);
  }
  print_table();
  print_targets();
  if (json) write_json(json);
  return 0;
}
