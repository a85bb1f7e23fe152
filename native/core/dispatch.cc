// dispatch.cc: which kernels this machine can run, best first. The list is
// built once from cpu_features() (thread-safe: a function-local static).
#include "dispatch.h"

#include "cpu.h"

#include <cstring>

namespace xbzrle {

namespace {

struct KernelList {
  Kernel k[6];
  size_t n = 0;
  void add(const char* name, EncodeFn fn) { k[n++] = Kernel{name, fn}; }
};

KernelList build() {
  KernelList list;
  const CpuFeatures& cpu = cpu_features();
#if defined(XBZRLE_X86_64)
  // 32-byte loads in the quiet loop on AMD (measured on Zen 5), 64-byte ones
  // elsewhere (measured on a Xeon): encode_avx512.cc says why.
  if (cpu.avx512bw) list.add("avx512bw", cpu.amd ? encode_avx512bw_q32 : encode_avx512bw_q64);
  if (cpu.avx2) list.add("avx2", encode_avx2);
  if (cpu.sse2) list.add("sse2", encode_sse2);
#endif
#if defined(XBZRLE_ARM64)
  if (cpu.neon) list.add("neon", encode_neon);
#endif
  (void)cpu;
  list.add("portable", encode_portable);
  return list;
}

KernelList build_all() {
  KernelList list = build();
#if defined(XBZRLE_X86_64)
  const CpuFeatures& cpu = cpu_features();
  if (cpu.avx512bw) {
    if (cpu.amd)
      list.add("avx512bw-q64", encode_avx512bw_q64);
    else
      list.add("avx512bw-q32", encode_avx512bw_q32);
  }
#endif
  return list;
}

}  // namespace

const Kernel* all_encoders(size_t* count) {
  static const KernelList list = build_all();
  *count = list.n;
  return list.k;
}

const Kernel* supported_kernels(size_t* count) {
  static const KernelList list = build();
  *count = list.n;
  return list.k;
}

const Kernel* find_kernel(const char* name) {
  size_t n;
  const Kernel* k = supported_kernels(&n);
  for (size_t i = 0; i < n; i++)
    if (std::strcmp(k[i].name, name) == 0) return &k[i];
  return nullptr;
}

const Kernel* best_kernel() {
  size_t n;
  return supported_kernels(&n);
}

}  // namespace xbzrle
