// dispatch.cc: which kernels this machine can run, best first.
#include "dispatch.h"

#include <cstring>

namespace xbzrle {

namespace {

const Kernel kKernels[] = {
    {"portable", encode_portable},
};

}  // namespace

const Kernel* supported_kernels(size_t* count) {
  *count = sizeof(kKernels) / sizeof(kKernels[0]);
  return kKernels;
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
