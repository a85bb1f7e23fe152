// cpu.h: what this CPU and OS can run, detected once.
#ifndef XBZRLE_CPU_H
#define XBZRLE_CPU_H

namespace xbzrle {

struct CpuFeatures {
  bool sse2;
  bool avx2;      // AVX2 + BMI1/2, with the OS saving YMM state
  bool avx512bw;  // AVX-512F/BW + AVX2 + BMI1/2, with the OS saving ZMM and opmask state
  bool neon;
  bool amd;       // vendor AuthenticAMD (some kernels stream DRAM faster with narrower loads)
};

// Detected on first call (thread-safe: a function-local static).
const CpuFeatures& cpu_features();

}  // namespace xbzrle

#endif
