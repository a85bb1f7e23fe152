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

}  // namespace xbzrle

#endif
