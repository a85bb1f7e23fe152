// init.cc: the module's entry point: per-environment state (the kernel in
// use, the helpers jobs.cc calls) and every area's functions.
#include "glue.h"

#if !defined(_WIN32)
#include <dlfcn.h>
#endif

namespace xbzrle {
namespace glue {

bool gc_finalizers() {
#if defined(_WIN32)
  return false;
#else
  return dlsym(RTLD_DEFAULT, "node_api_set_prototype") != nullptr;
#endif
}

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
  exports.Set("gcFinalizers", Napi::Boolean::New(env, gc_finalizers()));
  return exports;
}

}  // namespace

}  // namespace glue
}  // namespace xbzrle

static Napi::Object InitXbzrle(Napi::Env env, Napi::Object exports) {
  return xbzrle::glue::Init(env, exports);
}

// NODE_API_MODULE, spelled out to choose the Node-API version at load time.
// The experimental version makes Node run the handles' basic finalizers
// inside garbage collection (glue.h). Node 20 and 22 do that unsafely: a
// collection that starts while a callback's exception is being rethrown
// runs the finalizer with that exception still recorded, and Node aborts
// (SIGTRAP, "AllowJavascriptExecution::IsAllowed"; test/helpers/
// throw-while-collecting.js aborts 20.20 and 22.23 within 200,000 throws,
// and 24.22 passes 5 million). node_api_set_prototype marks the releases
// from 24.22 on; the others get version 8 and finalizers on the next turn
// of the event loop, as before.
EXTERN_C_START
NAPI_MODULE_EXPORT int32_t NODE_API_MODULE_GET_API_VERSION(void) {
  return xbzrle::glue::gc_finalizers() ? NAPI_VERSION_EXPERIMENTAL : 8;
}
NAPI_MODULE_EXPORT napi_value NAPI_MODULE_INITIALIZER(napi_env env, napi_value exports) {
  return Napi::RegisterModule(env, exports, InitXbzrle);
}
EXTERN_C_END
