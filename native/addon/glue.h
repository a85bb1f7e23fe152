// glue.h: what every Node-API file of the addon shares: reading arguments
// (one rule for each kind of value), type-tagged handles, and errors.
//
// C++ exceptions are off (NAPI_DISABLE_CPP_EXCEPTIONS, -fno-exceptions): the
// core is built without them, a throw across the pool threads' C frames
// would be a bug, and a failed check simply leaves a pending JavaScript
// exception and returns an empty value.
//
// The policy, for a direct caller of the binding (lib/ checks first and
// builds the errors users see): a missing argument is a TypeError
// (ERR_MISSING_ARGS); a wrong type a TypeError (ERR_INVALID_ARG_TYPE),
// including a handle of another kind; a number that is not an integer in
// range a RangeError (ERR_OUT_OF_RANGE): fractions are never truncated.
#ifndef XBZRLE_GLUE_H
#define XBZRLE_GLUE_H

#ifndef NAPI_DISABLE_CPP_EXCEPTIONS
#define NAPI_DISABLE_CPP_EXCEPTIONS
#endif
// The module loads at Node-API 8, where Node runs the handles' finalizers
// on the event loop's next turn after a collection. (The experimental
// version runs them inside the collection; Node 20, 22 and 24.22 all abort
// there, SIGTRAP, when a collection starts while a callback's exception is
// being rethrown: test/helpers/throw-while-collecting.js.) A program that
// drops caches in a loop that never yields still gets them freed: the
// next cache or sender created closes them (cache.cc reclaim). The
// finalizers are basic all the same (they take a Napi::BasicEnv and touch
// no JavaScript value; wrap() checks it).
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../core/abi.h"
#include "../core/dispatch.h"
#include "../core/xbzrle.h"

namespace xbzrle {
namespace glue {

struct Watches;  // cache.cc: the cache and sender handles reclaim() watches
void free_watches(Watches* w);

// Per-environment state (main thread or a worker).
struct Instance {
  const Kernel* kernel;
  Napi::FunctionReference resizable;  // ArrayBuffer.prototype.resizable's getter, or empty
  Napi::FunctionReference pin;        // worker_threads.markAsUntransferable, from setUntransferable()
  Watches* watches = nullptr;
  ~Instance() { free_watches(watches); }
};

inline Instance* instance(Napi::Env env) { return env.GetInstanceData<Instance>(); }

// Throw helpers: each returns false so a check reads `ok = ok && (... || fail())`.
bool throw_type(Napi::Env env, const char* msg, const char* code = "ERR_INVALID_ARG_TYPE");
bool throw_range(Napi::Env env, const char* msg);
bool throw_coded(Napi::Env env, const char* code, const char* msg);
inline bool throw_no_memory(Napi::Env env, const char* msg) {
  return throw_coded(env, "ERR_XBZRLE_NO_MEMORY", msg);
}

struct Bytes {
  uint8_t* data = nullptr;
  size_t size = 0;
};

template <typename T>
struct Typed {
  T* data = nullptr;
  size_t length = 0;
};

// The handle kinds. Each is an External tagged with its own type tag, so a
// handle of one kind (or any other value) is refused where another is due.
enum class Kind { kBudget, kCache, kSender, kJob };
const napi_type_tag* tag_of(Kind k);
const char* name_of(Kind k);

// Wraps `p` in a tagged External whose finalizer is `fin`; on failure runs
// fin at once and returns an empty value with an exception pending.
template <typename T, typename Fin>
Napi::Value wrap(Napi::Env env, T* p, Kind kind, Fin fin) {
  static_assert(std::is_convertible_v<Fin, void (*)(Napi::BasicEnv, T*)>,
                "a handle's finalizer runs inside garbage collection: it must take Napi::BasicEnv");
  Napi::External<T> e = Napi::External<T>::New(env, p, fin);
  if (e.IsEmpty()) {
    fin(env, p);
    return Napi::Value();
  }
  e.TypeTag(tag_of(kind));
  return e;
}

// Reads the arguments of one call in order. The first failure throws; every
// read after it fails too (returning zeros), so a function checks ok() once
// after its reads. Fewer arguments than `need` fail at construction.
class Args {
 public:
  Args(const Napi::CallbackInfo& info, size_t need, const char* fn);
  bool ok() const { return ok_; }
  Napi::Env env() const { return info_.Env(); }
  Napi::Value at(size_t i) const { return info_[i]; }
  bool fail_range(const char* msg) { return ok_ && (ok_ = throw_range(env(), msg)); }
  bool fail_type(const char* msg) { return ok_ && (ok_ = throw_type(env(), msg)); }
  bool fail(const char* code, const char* msg) { return ok_ && (ok_ = throw_coded(env(), code, msg)); }

  // A Uint8Array (a Buffer is one); a detached one reads as empty.
  Bytes bytes(size_t i, const char* what);
  // A typed array of element type `want`; with `nullable`, null/undefined
  // give no data.
  template <typename T>
  Typed<T> typed(size_t i, napi_typedarray_type want, const char* what, bool nullable = false) {
    Typed<T> r;
    void* p = typed_raw(i, want, what, nullable, &r.length);
    r.data = static_cast<T*>(p);
    return r;
  }
  // A number that is an integer from 0 to max (at most 2^53 - 1).
  uint64_t integer(size_t i, const char* what, uint64_t max = kMaxSafe);
  // A page address: such an integer, or a bigint below 2^64.
  uint64_t addr(size_t i);
  bool boolean(size_t i, const char* what);
  Napi::Function function(size_t i, const char* what);
  bool nullish(size_t i) const { return info_[i].IsNull() || info_[i].IsUndefined(); }
  // The object behind a handle of `kind`, or nullptr (thrown).
  void* handle(size_t i, Kind kind);

  static constexpr uint64_t kMaxSafe = 9007199254740991ull;

 private:
  void* typed_raw(size_t i, napi_typedarray_type want, const char* what, bool nullable, size_t* length);
  const Napi::CallbackInfo& info_;
  bool ok_ = true;
};

inline bool overlaps(const void* a, size_t an, const void* b, size_t bn) {
  const uint8_t* x = static_cast<const uint8_t*>(a);
  const uint8_t* y = static_cast<const uint8_t*>(b);
  return an && bn && x < y + bn && y < x + an;
}

// Tells V8 that `now` bytes of native memory hang off a JavaScript object
// that reported `*reported` before (so a program that drops objects without
// close() still collects them), and remembers it.
inline void account(Napi::BasicEnv env, int64_t* reported, uint64_t now) {
  int64_t delta = static_cast<int64_t>(now) - *reported;
  if (delta) {
    Napi::MemoryManagement::AdjustExternalMemory(env, delta);
    *reported = static_cast<int64_t>(now);
  }
}

// The areas, each registering its functions on exports (init.cc calls them).
void register_codec(Napi::Env env, Napi::Object exports);
void register_jobs(Napi::Env env, Napi::Object exports);
void register_cache(Napi::Env env, Napi::Object exports);

}  // namespace glue
}  // namespace xbzrle

#endif
