// codec.cc: one page at a time (encodeInto, decodeInto) and the kernel
// choice (kernels, kernel, useKernel).
#include "glue.h"
#include "../core/dispatch.h"

namespace xbzrle {
namespace glue {

namespace {

// One rejection as lib/ reads it: -(reason + 8 * offset) (lib/util/errors.ts).
double packed(const DecodeError& e) {
  return -(static_cast<double>(e.reason) + 8.0 * static_cast<double>(e.offset));
}

// encodeInto(oldPage, newPage, out, limit) -> length | 0 | -1
Napi::Value EncodeInto(const Napi::CallbackInfo& info) {
  Args a(info, 4, "encodeInto");
  Bytes olds = a.bytes(0, "oldPage must be a Uint8Array");
  Bytes news = a.bytes(1, "newPage must be a Uint8Array");
  Bytes out = a.bytes(2, "out must be a Uint8Array");
  size_t limit = a.integer(3, "limit must be an integer from 0 to 2^53 - 1");
  if (a.ok() && (olds.size != news.size || olds.size == 0 || olds.size > kMaxPageSize))
    a.fail_range("pages must have one length from 1 to 16384");
  if (!a.ok()) return Napi::Value();
  if (limit > olds.size) limit = olds.size;
  if (limit > out.size) limit = out.size;
  long n = instance(info.Env())->kernel->encode(olds.data, news.data, olds.size, out.data, limit);
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

// decodeInto(delta, page) -> covered (>= 0), or packed(error) when rejected
// (the page is untouched); lib/ turns that into an XbzrleError.
Napi::Value DecodeInto(const Napi::CallbackInfo& info) {
  Args a(info, 2, "decodeInto");
  Bytes d = a.bytes(0, "delta must be a Uint8Array");
  Bytes page = a.bytes(1, "page must be a Uint8Array");
  if (!a.ok()) return Napi::Value();
  DecodeError err{};
  long r = decode(d.data, d.size, page.data, page.size, &err);
  return Napi::Number::New(info.Env(), r >= 0 ? static_cast<double>(r) : packed(err));
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
  exports.Set("encodeInto", Napi::Function::New<EncodeInto>(env, "encodeInto"));
  exports.Set("decodeInto", Napi::Function::New<DecodeInto>(env, "decodeInto"));
  exports.Set("kernels", Napi::Function::New<Kernels>(env, "kernels"));
  exports.Set("kernel", Napi::Function::New<CurrentKernel>(env, "kernel"));
  exports.Set("useKernel", Napi::Function::New<UseKernel>(env, "useKernel"));
}

}  // namespace glue
}  // namespace xbzrle
