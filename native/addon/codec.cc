// codec.cc: one page at a time (encodeInto, decodeInto) and the kernel
// choice (kernels, kernel, useKernel).
#include <cstdio>

#include "glue.h"
#include "../core/dispatch.h"

namespace xbzrle {
namespace glue {

namespace {

// One rejection as lib/ reads it: -(reason + 8 * offset) (lib/util/errors.ts).
double packed(const DecodeError& e) {
  return -(static_cast<double>(e.reason) + 8.0 * static_cast<double>(e.offset));
}

// The two per-page entry points are raw Node-API callbacks: measured in one
// run (load 2.1, /tmp-style A/B of the bare call on a 1-byte page), the
// node-addon-api form cost 80.0 ns against 60.3 ns for encodeInto (+33%) and
// 59.3 against 45.6 ns for decodeInto (+30%), far past the 5% allowed. They
// keep glue.h's rules: too few arguments TypeError, wrong type TypeError,
// a non-integer or negative limit RangeError.
bool raw_bytes(napi_env env, napi_value v, const char* what, Bytes* out) {
  napi_typedarray_type type;
  void* data = nullptr;
  size_t length = 0;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr) == napi_ok &&
      type == napi_uint8_array) {
    out->data = static_cast<uint8_t*>(data);
    out->size = data ? length : 0;  // a detached buffer has no data
    return true;
  }
  return throw_type(env, what);
}

bool raw_limit(napi_env env, napi_value v, size_t* out) {
  double d = 0;
  if (napi_get_value_double(env, v, &d) != napi_ok)
    return throw_type(env, "limit must be an integer from 0 to 2^53 - 1");
  if (!(d >= 0) || d > 9007199254740991.0 || d != static_cast<double>(static_cast<uint64_t>(d)))
    return throw_range(env, "limit must be an integer from 0 to 2^53 - 1");
  *out = static_cast<size_t>(d);
  return true;
}

napi_value raw_number(napi_env env, double d) {
  napi_value r = nullptr;
  napi_create_double(env, d, &r);
  return r;
}

bool too_few(napi_env env, const char* fn, size_t need, size_t argc) {
  char msg[96];
  std::snprintf(msg, sizeof msg, "%s needs %zu arguments, received %zu", fn, need, argc);
  return throw_type(env, msg, "ERR_MISSING_ARGS");
}

// encodeInto(oldPage, newPage, out, limit) -> length | 0 | -1
napi_value EncodeInto(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  Bytes olds, news, out;
  size_t limit = 0;
  if (argc < 4) return too_few(env, "encodeInto", 4, argc), nullptr;
  if (!raw_bytes(env, argv[0], "oldPage must be a Uint8Array", &olds) ||
      !raw_bytes(env, argv[1], "newPage must be a Uint8Array", &news) ||
      !raw_bytes(env, argv[2], "out must be a Uint8Array", &out) || !raw_limit(env, argv[3], &limit))
    return nullptr;
  if (olds.size != news.size || olds.size == 0 || olds.size > kMaxPageSize)
    return throw_range(env, "pages must have one length from 1 to 16384"), nullptr;
  if (limit > olds.size) limit = olds.size;
  if (limit > out.size) limit = out.size;
  Instance* in = nullptr;
  napi_get_instance_data(env, reinterpret_cast<void**>(&in));
  return raw_number(env, static_cast<double>(in->kernel->encode(olds.data, news.data, olds.size, out.data, limit)));
}

// decodeInto(delta, page) -> covered (>= 0), or packed(error) when rejected
// (the page is untouched); lib/ turns that into an XbzrleError.
napi_value DecodeInto(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok) return nullptr;
  Bytes d, page;
  if (argc < 2) return too_few(env, "decodeInto", 2, argc), nullptr;
  if (!raw_bytes(env, argv[0], "delta must be a Uint8Array", &d) ||
      !raw_bytes(env, argv[1], "page must be a Uint8Array", &page))
    return nullptr;
  DecodeError err{};
  long r = decode(d.data, d.size, page.data, page.size, &err);
  return raw_number(env, r >= 0 ? static_cast<double>(r) : packed(err));
}

napi_value raw_function(Napi::Env env, const char* name, napi_callback cb) {
  napi_value fn = nullptr;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, nullptr, &fn);
  return fn;
}

// kernels() -> names of the kernels this CPU runs, best first.
Napi::Value Kernels(const Napi::CallbackInfo& info) {
  size_t n;
  const Kernel* k = supported_kernels(&n);
  Napi::Array arr = Napi::Array::New(info.Env(), n);
  for (size_t i = 0; i < n; i++) arr.Set(static_cast<uint32_t>(i), Napi::String::New(info.Env(), k[i].name));
  return arr;
}

// kernel() -> the name of the kernel in use in this environment.
Napi::Value CurrentKernel(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), instance(info.Env())->kernel->name);
}

// useKernel(name) -> true when the kernel exists and this CPU runs it.
Napi::Value UseKernel(const Napi::CallbackInfo& info) {
  Args a(info, 1, "useKernel");
  if (a.ok() && !a.at(0).IsString()) a.fail_type("name must be a string");
  if (!a.ok()) return Napi::Value();
  std::string name = a.at(0).As<Napi::String>().Utf8Value();
  const Kernel* k = name.size() < 32 ? find_kernel(name.c_str()) : nullptr;
  if (k) instance(info.Env())->kernel = k;
  return Napi::Boolean::New(info.Env(), k != nullptr);
}

}  // namespace

void register_codec(Napi::Env env, Napi::Object exports) {
  exports.Set("encodeInto", raw_function(env, "encodeInto", EncodeInto));
  exports.Set("decodeInto", raw_function(env, "decodeInto", DecodeInto));
  exports.Set("kernels", Napi::Function::New<Kernels>(env, "kernels"));
  exports.Set("kernel", Napi::Function::New<CurrentKernel>(env, "kernel"));
  exports.Set("useKernel", Napi::Function::New<UseKernel>(env, "useKernel"));
}

}  // namespace glue
}  // namespace xbzrle
