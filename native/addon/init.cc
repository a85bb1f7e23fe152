// init.cc: the module's entry point: per-environment state (the kernel in
// use, the helpers jobs.cc calls) and every area's functions.
#include "glue.h"

namespace xbzrle {
namespace glue {

namespace {

// ArrayBuffer.prototype.resizable's getter as this environment started, or
// an empty reference on a runtime without resizable ArrayBuffers.
Napi::FunctionReference resizable_getter(Napi::Env env) {
  Napi::Value ab = env.Global().Get("ArrayBuffer");
  if (ab.IsEmpty() || !ab.IsFunction()) return Napi::FunctionReference();
  Napi::Value proto = ab.As<Napi::Object>().Get("prototype");
  Napi::Object object = env.Global().Get("Object").As<Napi::Object>();
  Napi::Function describe = object.Get("getOwnPropertyDescriptor").As<Napi::Function>();
  Napi::Value d = describe.Call(object, {proto, Napi::String::New(env, "resizable")});
  if (d.IsEmpty() || !d.IsObject()) return Napi::FunctionReference();
  Napi::Value get = d.As<Napi::Object>().Get("get");
  if (get.IsEmpty() || !get.IsFunction()) return Napi::FunctionReference();
  return Napi::Persistent(get.As<Napi::Function>());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Instance* inst = new Instance{best_kernel(), resizable_getter(env), Napi::FunctionReference()};
  env.SetInstanceData(inst);
  if (env.IsExceptionPending()) return exports;
  register_codec(env, exports);
  register_jobs(env, exports);
  register_cache(env, exports);
  return exports;
}

}  // namespace

}  // namespace glue
}  // namespace xbzrle

static Napi::Object InitXbzrle(Napi::Env env, Napi::Object exports) {
  return xbzrle::glue::Init(env, exports);
}

NODE_API_MODULE(xbzrle, InitXbzrle)

