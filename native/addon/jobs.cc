// jobs.cc: many pages in one call (encodePages, decodePages) and the same on
// the libuv thread pool (encodePagesStart, decodePagesStart, cancelJob,
// jobCounts). The batch argument order, shared by the sync and async forms:
//   encodePages(oldPages, newPages, oldIndexes|null, indexes|null, pageSize,
//               limit, out, offsets, lengths)
//   decodePages(deltas, offsets, lengths, pages, indexes|null, pageSize)
// The batch holds lengths.length pages.
//
// A job is one batch run by up to 64 async works that share its chunks
// (core/batch_job.h). AsyncWorker is one work per object, so the job keeps
// its own napi_async_work list; done(state, value) runs once the last work
// has returned: state 0 with the result, 1 after cancelJob, 2 with a message.
#include <atomic>
#include <cstdio>
#include <new>
#include <type_traits>

#include "glue.h"
#include "../core/batch.h"
#include "../core/batch_job.h"

namespace xbzrle {
namespace glue {

namespace {

constexpr size_t kEncodeArgs = 9;
constexpr size_t kDecodeArgs = 6;
constexpr size_t kMaxWorks = 64;
constexpr size_t kMaxRefs = 7;  // the typed arrays of encodePages

size_t page_size_of(Args& a, size_t i) {
  const char* what = "pageSize must be an integer from 1 to 16384";
  size_t p = a.integer(i, what, kMaxPageSize);
  if (a.ok() && p == 0) a.fail_range(what);
  return p ? p : 1;  // never 0: callers divide by it before checking ok()
}

// A page list over `buf`: `count` pages picked by `indexes`, or the whole
// buffer when there are none (which must then hold exactly count pages).
PageList page_list(Args& a, const Bytes& buf, const Typed<uint32_t>& idx, size_t count,
                   size_t page_size, const char* what) {
  PageList l{buf.data, idx.data, buf.size / page_size};
  if (!a.ok()) return l;
  if (buf.size % page_size || (idx.data ? idx.length != count : l.pages != count) ||
      first_bad_index(l, count) != count)
    a.fail_range(what);
  return l;
}

bool parse_encode(Args& a, EncodeBatch* b) {
  Bytes olds = a.bytes(0, "oldPages must be a Uint8Array");
  Bytes news = a.bytes(1, "newPages must be a Uint8Array");
  auto old_idx = a.typed<uint32_t>(2, napi_uint32_array, "oldIndexes must be a Uint32Array or null", true);
  auto idx = a.typed<uint32_t>(3, napi_uint32_array, "indexes must be a Uint32Array or null", true);
  size_t page_size = page_size_of(a, 4);
  size_t limit = a.integer(5, "limit must be an integer from 0 to pageSize", kMaxPageSize);
  Bytes out = a.bytes(6, "out must be a Uint8Array");
  auto offsets = a.typed<uint32_t>(7, napi_uint32_array, "offsets must be a Uint32Array");
  auto lengths = a.typed<int32_t>(8, napi_int32_array, "lengths must be an Int32Array");
  size_t count = lengths.length;
  if (!a.ok()) return false;
  if (limit > page_size) return a.fail_range("limit must not exceed pageSize");
  if (offsets.length != count) return a.fail_range("offsets and lengths must have one length");
  // Offsets are 32-bit, and out must hold the worst case: limit per page.
  if (count * limit > 0x100000000ull) return a.fail_range("batch too large for 32-bit offsets");
  if (out.size < count * limit) return a.fail_range("out must hold pages * limit bytes");
  // Threads write out while others read the pages and tables: an out that
  // shares their memory would give wrong deltas, so it is refused.
  size_t need = count * limit;
  if (overlaps(out.data, need, olds.data, olds.size) || overlaps(out.data, need, news.data, news.size) ||
      overlaps(out.data, need, old_idx.data, old_idx.length * 4) ||
      overlaps(out.data, need, idx.data, idx.length * 4) ||
      overlaps(out.data, need, offsets.data, count * 4) || overlaps(out.data, need, lengths.data, count * 4) ||
      overlaps(offsets.data, count * 4, lengths.data, count * 4))
    return a.fail_range("out, offsets and lengths must not share memory with the pages or each other");
  b->encode = instance(a.env())->kernel->encode;
  b->count = count;
  b->page_size = page_size;
  b->limit = limit;
  b->out = out.data;
  b->offsets = offsets.data;
  b->lengths = lengths.data;
  b->olds = page_list(a, olds, old_idx, count, page_size, "oldPages/oldIndexes do not match the batch");
  b->news = page_list(a, news, idx, count, page_size, "newPages/indexes do not match the batch");
  return a.ok();
}

bool parse_decode(Args& a, DecodeBatch* b) {
  Bytes deltas = a.bytes(0, "deltas must be a Uint8Array");
  auto offsets = a.typed<uint32_t>(1, napi_uint32_array, "offsets must be a Uint32Array");
  auto lengths = a.typed<int32_t>(2, napi_int32_array, "lengths must be an Int32Array");
  Bytes pages = a.bytes(3, "pages must be a Uint8Array");
  auto idx = a.typed<uint32_t>(4, napi_uint32_array, "indexes must be a Uint32Array or null", true);
  size_t page_size = page_size_of(a, 5);
  size_t count = lengths.length;
  if (!a.ok()) return false;
  if (offsets.length != count) return a.fail_range("offsets and lengths must have one length");
  PageList l = page_list(a, pages, idx, count, page_size, "pages/indexes do not match the batch");
  if (!a.ok()) return false;
  *b = DecodeBatch{count, page_size, deltas.data, deltas.size, offsets.data, lengths.data,
                   pages.data, idx.data, l.pages};
  if (first_bad_entry(*b) != count) return a.fail_range("a lengths/offsets entry leaves the deltas buffer");
  return true;
}

// Rejections as a flat array [page, packed, page, packed, ...], or null.
Napi::Value failure_list(Napi::Env env, const PageFailure* f, size_t n) {
  if (n == 0) return env.Null();
  Napi::Array arr = Napi::Array::New(env, 2 * n);
  for (size_t i = 0; i < n; i++) {
    const DecodeError& e = f[i].error;
    arr.Set(static_cast<uint32_t>(2 * i), Napi::Number::New(env, static_cast<double>(f[i].page)));
    arr.Set(static_cast<uint32_t>(2 * i + 1),
            Napi::Number::New(env, -(static_cast<double>(e.reason) + 8.0 * static_cast<double>(e.offset))));
  }
  return arr;
}

// Every rejection of a batch, listed again by validation when there were
// more than `few` could hold (validation does not depend on the pages).
Napi::Value all_failures(Napi::Env env, const DecodeBatch& b, const PageFailure* few, size_t cap,
                         size_t bad) {
  if (bad <= cap) return failure_list(env, few, bad);
  PageFailure* all = new (std::nothrow) PageFailure[bad];
  if (!all) return throw_no_memory(env, "xbzrle: out of memory for the batch's rejections"), Napi::Value();
  size_t got = check_range(b, 0, b.count, all, bad);
  Napi::Value r = failure_list(env, all, got < bad ? got : bad);
  delete[] all;
  return r;
}

// encodePages(...9 args) -> bytes written to out
Napi::Value EncodePages(const Napi::CallbackInfo& info) {
  Args a(info, kEncodeArgs, "encodePages");
  EncodeBatch b;
  if (!parse_encode(a, &b)) return Napi::Value();
  return Napi::Number::New(info.Env(), static_cast<double>(encode_range(b, 0, b.count, 0, nullptr)));
}

// decodePages(...6 args) -> null, or the rejections (failure_list)
Napi::Value DecodePages(const Napi::CallbackInfo& info) {
  Args a(info, kDecodeArgs, "decodePages");
  DecodeBatch b;
  if (!parse_decode(a, &b)) return Napi::Value();
  constexpr size_t kCap = 16;
  PageFailure few[kCap];
  size_t bad = decode_range(b, 0, b.count, few, kCap, nullptr);
  return all_failures(info.Env(), b, few, kCap, bad);
}

// ---- The async forms.

// Jobs still holding references / jobs not yet freed, across the process
// (tests read them through jobCounts() to prove an abort leaks nothing).
std::atomic<long> g_running{0};
std::atomic<long> g_allocated{0};

struct Job {
  bool encode = false;
  EncodeJob enc;
  DecodeJob dec;
  napi_ref refs[kMaxRefs] = {};
  napi_ref done = nullptr;
  napi_async_work works[kMaxWorks] = {};
  size_t nworks = 0;
  size_t completed = 0;
  bool cancel_requested = false;
  bool finished = true;       // results delivered (or never queued), references dropped
  bool handle_alive = false;  // the JS handle still exists
  int64_t reported = 0;       // bytes told to V8 (glue.h account)

  Job() { g_allocated++; }
  ~Job() { g_allocated--; }
  BatchJob& core() { return encode ? static_cast<BatchJob&>(enc) : dec; }
  size_t bytes() const { return sizeof(Job) + (encode ? enc.scratch_bytes() : dec.scratch_bytes()); }
};

void release(napi_env env, Job* job) {
  for (napi_async_work& w : job->works)
    if (w) napi_delete_async_work(env, w), w = nullptr;
  for (napi_ref& r : job->refs)
    if (r) napi_delete_reference(env, r), r = nullptr;
  if (job->done) napi_delete_reference(env, job->done), job->done = nullptr;
}

void free_job(Napi::BasicEnv env, Job* job) {
  account(env, &job->reported, 0);
  delete job;
}

void FinalizeJob(Napi::BasicEnv env, Job* job) {
  job->handle_alive = false;
  if (job->finished) free_job(env, job);
}

void ExecuteJob(napi_env, void* data) {
  Job* job = static_cast<Job*>(data);
  if (job->encode)
    job->enc.run();
  else
    job->dec.run();
}

// What done() receives: [state, value].
void job_result(Napi::Env env, Job* job, napi_value* state, napi_value* value) {
  *state = Napi::Number::New(env, 0);
  if (job->cancel_requested) {
    *state = Napi::Number::New(env, 1);
    *value = env.Undefined();
    return;
  }
  bool complete = job->encode ? job->enc.complete() : job->dec.complete();
  if (!complete) {  // no abort, yet chunks were left undone
    *state = Napi::Number::New(env, 2);
    *value = Napi::String::New(env, "xbzrle: the batch did not run");
    return;
  }
  if (job->encode) {
    *value = Napi::Number::New(env, static_cast<double>(job->enc.total()));
    return;
  }
  size_t bad = job->dec.failure_count();
  PageFailure* all = bad ? new (std::nothrow) PageFailure[bad] : nullptr;
  if (bad && !all) {
    *state = Napi::Number::New(env, 2);
    *value = Napi::String::New(env, "xbzrle: out of memory for the batch's rejections");
    return;
  }
  *value = failure_list(env, all, job->dec.failures(all, bad));
  delete[] all;
}

void CompleteJob(napi_env raw_env, napi_status, void* data) {
  Job* job = static_cast<Job*>(data);
  if (++job->completed < job->nworks) return;
  // Every work has returned (or was cancelled before it started): no thread
  // touches the caller's memory any more.
  Napi::Env env(raw_env);
  Napi::HandleScope scope(env);
  napi_value fn = nullptr, argv[2];
  napi_get_reference_value(env, job->done, &fn);
  job_result(env, job, &argv[0], &argv[1]);
  release(env, job);
  job->finished = true;
  g_running--;
  bool free_now = !job->handle_alive;
  if (fn) {
    napi_value global;
    napi_get_global(env, &global);
    napi_call_function(env, global, fn, 2, argv, nullptr);
  }
  if (free_now) free_job(env, job);
}

// Keeps the memory behind a typed array for the job's whole life: a view of
// a resizable ArrayBuffer is refused (it could shrink under the threads),
// and a plain ArrayBuffer is marked untransferable (worker_threads
// markAsUntransferable, as Node marks its Buffer pool), so a transfer copies
// instead of moving the memory away. A SharedArrayBuffer only ever grows.
bool hold(Args& a, size_t i, const char* name) {
  if (!a.ok() || a.nullish(i)) return a.ok();
  Napi::Env env = a.env();
  napi_value ab = nullptr;
  napi_typedarray_type t;
  size_t n;
  bool is_ab = false;
  if (napi_get_typedarray_info(env, a.at(i), &t, &n, nullptr, &ab, nullptr) != napi_ok || !ab ||
      napi_is_arraybuffer(env, ab, &is_ab) != napi_ok)
    return a.fail_type("a batch argument is not a typed array");
  if (!is_ab) return true;
  Instance* in = instance(env);
  if (!in->resizable.IsEmpty()) {
    Napi::Value r = in->resizable.Call(ab, {});
    if (r.IsEmpty()) return a.fail("ERR_XBZRLE_NAPI", "cannot read ArrayBuffer.prototype.resizable");
    if (r.ToBoolean().Value()) {
      char msg[256];
      std::snprintf(msg, sizeof msg,
                    "%s is a view of a resizable ArrayBuffer, whose memory could shrink while the batch "
                    "runs on other threads; pass a view of a fixed-length ArrayBuffer (a copy: "
                    "new Uint8Array(view)) or of a SharedArrayBuffer",
                    name);
      return a.fail_type(msg);
    }
  }
  if (in->pin.IsEmpty()) return a.fail_type("setUntransferable() must be called before an async batch");
  if (in->pin.Call({ab}).IsEmpty()) return false;  // its exception is pending
  return true;
}

// Creates the handle, references the inputs, creates the works and queues
// them. The handle comes first: once it exists its finalizer frees the job,
// whatever fails after.
Napi::Value start(Args& a, Job* job, const size_t* arrays, size_t narrays, size_t works,
                  Napi::Function done, const char* name) {
  Napi::Env env = a.env();
  account(env, &job->reported, job->bytes());
  job->handle_alive = true;
  Napi::Value handle = wrap(env, job, Kind::kJob, FinalizeJob);
  if (handle.IsEmpty()) return handle;
  if (works > kMaxWorks) works = kMaxWorks;
  Napi::String resource = Napi::String::New(env, name);
  bool ok = napi_create_reference(env, done, 1, &job->done) == napi_ok;
  for (size_t i = 0; ok && i < narrays; i++)
    if (!a.nullish(arrays[i])) ok = napi_create_reference(env, a.at(arrays[i]), 1, &job->refs[i]) == napi_ok;
  for (size_t w = 0; ok && w < works; w++)
    ok = napi_create_async_work(env, nullptr, resource, ExecuteJob, CompleteJob, job, &job->works[w]) == napi_ok;
  if (!ok) {
    release(env, job);
    throw_coded(env, "ERR_XBZRLE_NAPI", "xbzrle: cannot start the batch");
    return Napi::Value();
  }
  job->finished = false;
  g_running++;
  for (size_t w = 0; w < works; w++) {
    if (napi_queue_async_work(env, job->works[w]) != napi_ok) break;
    job->nworks++;
  }
  if (job->nworks == 0) {  // nothing runs: drop everything; the handle frees the job
    release(env, job);
    job->finished = true;
    g_running--;
    throw_coded(env, "ERR_XBZRLE_NAPI", "xbzrle: cannot queue the batch");
    return Napi::Value();
  }
  return handle;
}

// The three arguments both Start functions take after the batch's own:
// works, chunkPages, done (read in this order, so errors name the first bad one).
struct JobArgs {
  size_t works = 0, chunk = 0;
  Napi::Function done;
};
JobArgs parse_job_args(Args& a, size_t at) {
  JobArgs j;
  j.works = a.integer(at, "works must be an integer from 1 to 2^53 - 1");
  j.chunk = a.integer(at + 1, "chunkPages must be an integer from 0 to 2^53 - 1");
  j.done = a.function(at + 2, "done must be a function");
  if (a.ok() && j.works == 0) a.fail_range("works must be an integer from 1 to 2^53 - 1");
  return j;
}

// A job for a parsed batch: EncodeJob or DecodeJob set up over `b`, or
// nullptr with the out-of-memory error thrown.
template <typename Batch>
Job* new_job(Napi::Env env, const Batch& b, size_t chunk) {
  Job* job = new (std::nothrow) Job;
  bool ok = false;
  if (job) {
    if constexpr (std::is_same_v<Batch, EncodeBatch>) {
      job->encode = true;
      ok = job->enc.init(b, chunk);
    } else {
      ok = job->dec.init(b, chunk);
    }
  }
  if (ok) return job;
  delete job;
  throw_no_memory(env, "xbzrle: out of memory for the batch");
  return nullptr;
}

// Holds every array the job reads or writes (hold() refuses memory that
// could go away under it).
template <size_t N>
void hold_all(Args& a, const size_t (&at)[N], const char* const (&names)[N]) {
  for (size_t i = 0; i < N; i++) hold(a, at[i], names[i]);
}

// encodePagesStart(...9 args, works, chunkPages, done) -> handle
Napi::Value EncodePagesStart(const Napi::CallbackInfo& info) {
  Args a(info, kEncodeArgs + 3, "encodePagesStart");
  EncodeBatch b;
  bool parsed = parse_encode(a, &b);
  const JobArgs j = parse_job_args(a, kEncodeArgs);
  static const size_t arrays[] = {0, 1, 2, 3, 6, 7, 8};
  static const char* const names[] = {"oldPages", "newPages", "oldIndexes", "indexes", "out", "offsets", "lengths"};
  hold_all(a, arrays, names);
  if (!parsed || !a.ok()) return Napi::Value();
  Job* job = new_job(info.Env(), b, j.chunk);
  if (!job) return Napi::Value();
  return start(a, job, arrays, 7, j.works, j.done, "xbzrle:encodePages");
}

// decodePagesStart(...6 args, works, chunkPages, done) -> handle
Napi::Value DecodePagesStart(const Napi::CallbackInfo& info) {
  Args a(info, kDecodeArgs + 3, "decodePagesStart");
  DecodeBatch b;
  bool parsed = parse_decode(a, &b);
  const JobArgs j = parse_job_args(a, kDecodeArgs);
  size_t works = j.works;
  static const size_t arrays[] = {0, 1, 2, 3, 4};
  static const char* const names[] = {"deltas", "offsets", "lengths", "pages", "indexes"};
  hold_all(a, arrays, names);
  if (!parsed || !a.ok()) return Napi::Value();
  // Two deltas for one page must land in order: such a batch runs on one
  // thread, as the sync loop would run it.
  if (works > 1 && b.indexes && !strictly_increasing(b.indexes, b.count)) {
    uint32_t* scratch = new (std::nothrow) uint32_t[b.count];
    if (!scratch) return throw_no_memory(info.Env(), "xbzrle: out of memory for the batch"), Napi::Value();
    if (has_duplicates(b.indexes, b.count, scratch)) works = 1;
    delete[] scratch;
  }
  Job* job = new_job(info.Env(), b, j.chunk);
  if (!job) return Napi::Value();
  return start(a, job, arrays, 5, works, j.done, "xbzrle:decodePages");
}

// cancelJob(handle): stops a running batch between pages; its done() then
// reports state 1 once every work has returned. Harmless after the end.
Napi::Value CancelJob(const Napi::CallbackInfo& info) {
  Args a(info, 1, "cancelJob");
  Job* job = static_cast<Job*>(a.handle(0, Kind::kJob));
  if (!job) return Napi::Value();
  if (!job->finished) {
    job->cancel_requested = true;
    job->core().abort();
    // Works still queued never start; running ones stop at the next page.
    for (size_t w = 0; w < job->nworks; w++) napi_cancel_async_work(info.Env(), job->works[w]);
  }
  return info.Env().Undefined();
}

// jobCounts() -> [jobs holding references, jobs not yet freed] (tests).
Napi::Value JobCounts(const Napi::CallbackInfo& info) {
  Napi::Array arr = Napi::Array::New(info.Env(), 2);
  arr.Set(0u, Napi::Number::New(info.Env(), static_cast<double>(g_running.load())));
  arr.Set(1u, Napi::Number::New(info.Env(), static_cast<double>(g_allocated.load())));
  return arr;
}

// setUntransferable(markAsUntransferable): the function hold() calls on
// every ArrayBuffer an async batch uses (lib/backend/binding.ts passes
// node:worker_threads' own at load).
Napi::Value SetUntransferable(const Napi::CallbackInfo& info) {
  Args a(info, 1, "setUntransferable");
  Napi::Function fn = a.function(0, "markAsUntransferable must be a function");
  if (!a.ok()) return Napi::Value();
  instance(info.Env())->pin = Napi::Persistent(fn);
  return info.Env().Undefined();
}

}  // namespace

void register_jobs(Napi::Env env, Napi::Object exports) {
  exports.Set("encodePages", Napi::Function::New<EncodePages>(env, "encodePages"));
  exports.Set("decodePages", Napi::Function::New<DecodePages>(env, "decodePages"));
  exports.Set("encodePagesStart", Napi::Function::New<EncodePagesStart>(env, "encodePagesStart"));
  exports.Set("decodePagesStart", Napi::Function::New<DecodePagesStart>(env, "decodePagesStart"));
  exports.Set("cancelJob", Napi::Function::New<CancelJob>(env, "cancelJob"));
  exports.Set("jobCounts", Napi::Function::New<JobCounts>(env, "jobCounts"));
  exports.Set("setUntransferable", Napi::Function::New<SetUntransferable>(env, "setUntransferable"));
}

}  // namespace glue
}  // namespace xbzrle
