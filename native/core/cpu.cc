// cpu.cc: CPUID says what the CPU implements; XGETBV says which register
// state the OS saves on a context switch. A kernel needs both: a VM or an
// old kernel may expose AVX-512 in CPUID without saving ZMM registers.
#include "cpu.h"

#include "arch.h"

#include <cstdint>

#if defined(XBZRLE_X86_64)
#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#include <immintrin.h>
#else
#include <cpuid.h>
#endif
#endif

namespace xbzrle {

namespace {

#if defined(XBZRLE_X86_64)

struct Regs {
  uint32_t eax, ebx, ecx, edx;
};

Regs cpuid(uint32_t leaf, uint32_t sub) {
  Regs r{};
#if defined(_MSC_VER) && !defined(__clang__)
  int v[4];
  __cpuidex(v, static_cast<int>(leaf), static_cast<int>(sub));
  r = {static_cast<uint32_t>(v[0]), static_cast<uint32_t>(v[1]), static_cast<uint32_t>(v[2]),
       static_cast<uint32_t>(v[3])};
#else
  __cpuid_count(leaf, sub, r.eax, r.ebx, r.ecx, r.edx);
#endif
  return r;
}

// XCR0; only call when CPUID reports OSXSAVE (else XGETBV faults).
uint64_t xgetbv0() {
#if defined(_MSC_VER) && !defined(__clang__)
  return _xgetbv(0);
#else
  uint32_t lo, hi;
  // The raw opcode: the mnemonic would need target("xsave") on old compilers.
  __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
#endif
}

CpuFeatures detect() {
  CpuFeatures f{};
  const Regs l0 = cpuid(0, 0);
  const uint32_t max_leaf = l0.eax;
  // The vendor string "AuthenticAMD" in EBX, EDX, ECX.
  f.amd = l0.ebx == 0x68747541 && l0.edx == 0x69746e65 && l0.ecx == 0x444d4163;
  const Regs l1 = cpuid(1, 0);
  f.sse2 = (l1.edx >> 26) & 1;
  const bool osxsave = (l1.ecx >> 27) & 1;
  const bool avx = (l1.ecx >> 28) & 1;
  if (!osxsave || !avx || max_leaf < 7) return f;
  const uint64_t xcr0 = xgetbv0();
  const bool ymm_saved = (xcr0 & 0x6) == 0x6;     // XMM and YMM upper halves
  const bool zmm_saved = (xcr0 & 0xe6) == 0xe6;   // + opmask, ZMM0-15 upper, ZMM16-31
  const Regs l7 = cpuid(7, 0);
  const bool bmi1 = (l7.ebx >> 3) & 1;
  const bool avx2 = (l7.ebx >> 5) & 1;
  const bool bmi2 = (l7.ebx >> 8) & 1;
  const bool avx512f = (l7.ebx >> 16) & 1;
  const bool avx512bw = (l7.ebx >> 30) & 1;
  f.avx2 = ymm_saved && avx2 && bmi1 && bmi2;
  f.avx512bw = f.avx2 && zmm_saved && avx512f && avx512bw;
  return f;
}

#else

CpuFeatures detect() {
  CpuFeatures f{};
#if defined(XBZRLE_ARM64)
  f.neon = true;  // Advanced SIMD is mandatory on AArch64
#endif
  return f;
}

#endif

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

}  // namespace xbzrle
