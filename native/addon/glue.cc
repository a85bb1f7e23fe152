// glue.cc: the argument readers, handle tags and error helpers of glue.h.
#include "glue.h"

#include <cmath>
#include <cstdio>

namespace xbzrle {
namespace glue {

namespace {

Napi::Value with_code(Napi::Error e, const char* code) {
  e.Set("code", Napi::String::New(e.Env(), code));
  e.ThrowAsJavaScriptException();
  return Napi::Value();
}

// Distinct random tags: a handle of one kind is never taken for another.
const napi_type_tag kTags[] = {
    {0x6b1e2f3a5c7d9e01ULL, 0x8a4b3c2d1e0f9a01ULL},  // budget
    {0x6b1e2f3a5c7d9e02ULL, 0x8a4b3c2d1e0f9a02ULL},  // cache
    {0x6b1e2f3a5c7d9e03ULL, 0x8a4b3c2d1e0f9a03ULL},  // sender
    {0x6b1e2f3a5c7d9e04ULL, 0x8a4b3c2d1e0f9a04ULL},  // job
};
const char* const kNames[] = {"a memory budget handle", "a page cache handle", "a sender handle",
                              "a batch job handle"};

}  // namespace

bool throw_type(Napi::Env env, const char* msg, const char* code) {
  with_code(Napi::TypeError::New(env, msg), code);
  return false;
}

bool throw_range(Napi::Env env, const char* msg) {
  with_code(Napi::RangeError::New(env, msg), "ERR_OUT_OF_RANGE");
  return false;
}

bool throw_coded(Napi::Env env, const char* code, const char* msg) {
  with_code(Napi::Error::New(env, msg), code);
  return false;
}

const napi_type_tag* tag_of(Kind k) { return &kTags[static_cast<int>(k)]; }
const char* name_of(Kind k) { return kNames[static_cast<int>(k)]; }

Args::Args(const Napi::CallbackInfo& info, size_t need, const char* fn) : info_(info) {
  if (info.Length() < need) {
    char msg[96];
    std::snprintf(msg, sizeof msg, "%s needs %zu arguments, received %zu", fn, need, info.Length());
    ok_ = throw_type(info.Env(), msg, "ERR_MISSING_ARGS");
  }
}

Bytes Args::bytes(size_t i, const char* what) {
  size_t n = 0;
  void* p = typed_raw(i, napi_uint8_array, what, false, &n);
  return Bytes{static_cast<uint8_t*>(p), n};
}

void* Args::typed_raw(size_t i, napi_typedarray_type want, const char* what, bool nullable,
                      size_t* length) {
  *length = 0;
  if (!ok_) return nullptr;
  napi_value v = info_[i];
  napi_typedarray_type type;
  void* data = nullptr;
  size_t n = 0;
  // napi_get_typedarray_info fails on anything but a typed array, so it is
  // the type check too: one Node-API call per argument on the hot paths.
  if (napi_get_typedarray_info(info_.Env(), v, &type, &n, &data, nullptr, nullptr) == napi_ok &&
      type == want) {
    *length = data ? n : 0;  // a detached buffer has no data
    return data;
  }
  if (nullable && nullish(i)) return nullptr;
  fail_type(what);
  return nullptr;
}

uint64_t Args::integer(size_t i, const char* what, uint64_t max) {
  if (!ok_) return 0;
  Napi::Value v = info_[i];
  if (!v.IsNumber()) return fail_type(what), 0;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > static_cast<double>(max) || d != std::floor(d)) return fail_range(what), 0;
  return static_cast<uint64_t>(d);
}

uint64_t Args::addr(size_t i) {
  if (!ok_) return 0;
  Napi::Value v = info_[i];
  const char* what = "addr must be an integer from 0 to 2^53 - 1 or a bigint below 2^64";
  if (v.IsBigInt()) {
    bool lossless = false;
    uint64_t a = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (lossless) return a;
    return fail_range(what), 0;
  }
  return integer(i, what);
}

bool Args::boolean(size_t i, const char* what) {
  if (!ok_) return false;
  Napi::Value v = info_[i];
  if (!v.IsBoolean()) return fail_type(what);
  return v.As<Napi::Boolean>().Value();
}

Napi::Function Args::function(size_t i, const char* what) {
  if (!ok_) return Napi::Function();
  Napi::Value v = info_[i];
  if (!v.IsFunction()) return fail_type(what), Napi::Function();
  return v.As<Napi::Function>();
}

void* Args::handle(size_t i, Kind kind) {
  if (!ok_) return nullptr;
  Napi::Value v = info_[i];
  char msg[64];
  std::snprintf(msg, sizeof msg, "handle must be %s", name_of(kind));
  if (!v.IsExternal()) return fail_type(msg), nullptr;
  auto e = v.As<Napi::External<void>>();
  void* p = e.CheckTypeTag(tag_of(kind)) ? e.Data() : nullptr;
  if (!p) fail_type(msg);
  return p;
}

}  // namespace glue
}  // namespace xbzrle
