// addon.cc: the only file that knows Node-API. lib/ checks arguments and
// builds the errors users see; the checks here only keep a direct caller of
// the binding from reaching memory it does not own.
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>

#include <cstdlib>

#include "dispatch.h"
#include "xbzrle.h"

namespace {

using xbzrle::Kernel;

// Per-instance state (one per Node environment: main thread or a worker).
struct Instance {
  const Kernel* kernel;
};

struct Bytes {
  uint8_t* data;
  size_t size;
};

#define CALL(env, call)                                          \
  do {                                                           \
    if ((call) != napi_ok) {                                     \
      napi_throw_error((env), "ERR_XBZRLE_NAPI", "Node-API call failed: " #call); \
      return nullptr;                                            \
    }                                                            \
  } while (0)

Instance* instance(napi_env env) {
  void* data = nullptr;
  napi_get_instance_data(env, &data);
  return static_cast<Instance*>(data);
}

// Reads a Uint8Array (Buffer is one); throws TypeError and returns false
// for anything else. napi_get_typedarray_info fails on non-typed-arrays, so
// one call both checks and reads.
bool get_bytes(napi_env env, napi_value v, const char* what, Bytes* out) {
  napi_typedarray_type type;
  void* data = nullptr;
  size_t length = 0;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr) == napi_ok &&
      type == napi_uint8_array) {
    out->data = static_cast<uint8_t*>(data);
    out->size = data ? length : 0;  // a detached buffer has no data
    return true;
  }
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", what);
  return false;
}

bool get_size(napi_env env, napi_value v, const char* what, size_t* out) {
  double d = 0;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d > 9007199254740991.0) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", what);
    return false;
  }
  *out = static_cast<size_t>(d);
  return true;
}

napi_value number(napi_env env, double d) {
  napi_value r;
  napi_create_double(env, d, &r);
  return r;
}

// encodeInto(oldPage, newPage, out, limit) -> length | 0 | -1
napi_value EncodeInto(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Bytes a, b, out;
  size_t limit;
  if (argc < 4 || !get_bytes(env, argv[0], "oldPage must be a Uint8Array", &a) ||
      !get_bytes(env, argv[1], "newPage must be a Uint8Array", &b) ||
      !get_bytes(env, argv[2], "out must be a Uint8Array", &out) ||
      !get_size(env, argv[3], "limit must be a non-negative number", &limit))
    return nullptr;
  if (a.size != b.size || a.size == 0 || a.size > xbzrle::kMaxPageSize) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "pages must have one length from 1 to 16384");
    return nullptr;
  }
  if (limit > a.size) limit = a.size;
  if (limit > out.size) limit = out.size;
  long n = instance(env)->kernel->encode(a.data, b.data, a.size, out.data, limit);
  return number(env, static_cast<double>(n));
}

// decodeInto(delta, page) -> covered (>= 0), or -(reason + 8 * offset) when
// rejected (the page is untouched); lib/ turns that into an XbzrleError.
napi_value DecodeInto(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Bytes d, page;
  if (argc < 2 || !get_bytes(env, argv[0], "delta must be a Uint8Array", &d) ||
      !get_bytes(env, argv[1], "page must be a Uint8Array", &page))
    return nullptr;
  xbzrle::DecodeError err{};
  long r = xbzrle::decode(d.data, d.size, page.data, page.size, &err);
  if (r >= 0) return number(env, static_cast<double>(r));
  return number(env, -(static_cast<double>(err.reason) + 8.0 * static_cast<double>(err.offset)));
}

// kernels() -> names of the kernels this CPU runs, best first.
napi_value Kernels(napi_env env, napi_callback_info) {
  size_t n;
  const Kernel* k = xbzrle::supported_kernels(&n);
  napi_value arr;
  CALL(env, napi_create_array_with_length(env, n, &arr));
  for (size_t i = 0; i < n; i++) {
    napi_value s;
    CALL(env, napi_create_string_utf8(env, k[i].name, NAPI_AUTO_LENGTH, &s));
    CALL(env, napi_set_element(env, arr, static_cast<uint32_t>(i), s));
  }
  return arr;
}

// kernel() -> the name of the kernel in use in this environment.
napi_value CurrentKernel(napi_env env, napi_callback_info) {
  napi_value s;
  CALL(env, napi_create_string_utf8(env, instance(env)->kernel->name, NAPI_AUTO_LENGTH, &s));
  return s;
}

// useKernel(name) -> true when the kernel exists and this CPU runs it.
napi_value UseKernel(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  char name[32] = {0};
  size_t len = 0;
  bool ok = false;
  if (argc == 1 &&
      napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) == napi_ok) {
    const Kernel* k = xbzrle::find_kernel(name);
    if (k) {
      instance(env)->kernel = k;
      ok = true;
    }
  }
  napi_value r;
  CALL(env, napi_get_boolean(env, ok, &r));
  return r;
}

void FreeInstance(napi_env, void* data, void*) { delete static_cast<Instance*>(data); }

napi_value Init(napi_env env, napi_value exports) {
  Instance* inst = new Instance{xbzrle::best_kernel()};
  if (napi_set_instance_data(env, inst, FreeInstance, nullptr) != napi_ok) {
    delete inst;
    napi_throw_error(env, nullptr, "xbzrle: cannot set instance data");
    return nullptr;
  }
  napi_property_descriptor props[] = {
      {"encodeInto", nullptr, EncodeInto, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"decodeInto", nullptr, DecodeInto, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"kernels", nullptr, Kernels, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"kernel", nullptr, CurrentKernel, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"useKernel", nullptr, UseKernel, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  CALL(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

}  // namespace

NAPI_MODULE_INIT() { return Init(env, exports); }
