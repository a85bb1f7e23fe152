// arch.h: which kernels this target can compile, and the function-level
// target attribute that lets one binary hold every x86-64 kernel without
// -m/-march flags (the CPU check in cpu.cc decides at run time what runs).
#ifndef XBZRLE_ARCH_H
#define XBZRLE_ARCH_H

#if defined(__x86_64__) || defined(_M_X64)
#define XBZRLE_X86_64 1
#endif

// NEON is part of every AArch64 CPU; the kernel assumes little-endian lanes.
#if (defined(__aarch64__) &&                                         \
     (!defined(__BYTE_ORDER__) || __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)) || \
    defined(_M_ARM64)
#define XBZRLE_ARM64 1
#endif

// GCC and Clang (clang-cl too) need the attribute to emit an ISA the
// command line did not enable; MSVC emits any intrinsic without it.
#if defined(__GNUC__) || defined(__clang__)
#define XBZRLE_TARGET(isa) __attribute__((target(isa)))
#else
#define XBZRLE_TARGET(isa)
#endif

// Keeps rare paths out of hot loops; says which way a branch usually goes.
#if defined(__GNUC__) || defined(__clang__)
#define XBZRLE_NOINLINE __attribute__((noinline))
#define XBZRLE_LIKELY(x) __builtin_expect(!!(x), 1)
#elif defined(_MSC_VER)
#define XBZRLE_NOINLINE __declspec(noinline)
#define XBZRLE_LIKELY(x) (x)
#else
#define XBZRLE_NOINLINE
#define XBZRLE_LIKELY(x) (x)
#endif

// A hint to fetch the line at p; never faults, so it may point past a buffer.
#if defined(__GNUC__) || defined(__clang__)
#define XBZRLE_PREFETCH(p) __builtin_prefetch(p)
#else
#define XBZRLE_PREFETCH(p) ((void)(p))
#endif

#endif
