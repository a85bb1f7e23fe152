// dispatch.h: the kernel table and the run-time choice of encoder.
#ifndef XBZRLE_DISPATCH_H
#define XBZRLE_DISPATCH_H

#include "xbzrle.h"

namespace xbzrle {

struct Kernel {
  const char* name;
  EncodeFn encode;
};

// Kernels this CPU can run, best first; *count receives their number.
const Kernel* supported_kernels(size_t* count);
// A supported kernel by name, or nullptr.
const Kernel* find_kernel(const char* name);
// The best supported kernel.
const Kernel* best_kernel();
// The supported kernels, then the variants this CPU can run but dispatch did
// not pick for it (named "<kernel>-<variant>"): what tests, fuzzers and the
// native bench check and time, so that every variant is proven on any host.
const Kernel* all_encoders(size_t* count);

}  // namespace xbzrle

#endif
