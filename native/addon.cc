// addon.cc: the only file that knows Node-API. lib/ checks arguments and
// builds the errors users see; the checks here only keep a direct caller of
// the binding from reaching memory it does not own.
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "batch.h"
#include "batch_job.h"
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

// Reads a Uint8Array (Buffer is one); throws TypeError and returns false else.
// napi_get_typedarray_info fails on anything but a typed array, so it is the
// type check too: one Node-API call per argument on the batch hot path.
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

bool is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  return napi_typeof(env, v, &t) == napi_ok && (t == napi_null || t == napi_undefined);
}

// Reads a typed array of the wanted element type (or null/undefined when
// `nullable`, giving no data); throws TypeError and returns false else.
bool get_typed(napi_env env, napi_value v, napi_typedarray_type want, const char* what,
               bool nullable, void** data, size_t* length) {
  napi_typedarray_type type;
  void* p = nullptr;
  size_t n = 0;
  if (napi_get_typedarray_info(env, v, &type, &n, &p, nullptr, nullptr) == napi_ok &&
      type == want) {
    *data = p;
    *length = p ? n : 0;
    return true;
  }
  if (nullable && is_nullish(env, v)) {
    *data = nullptr;
    *length = 0;
    return true;
  }
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", what);
  return false;
}

bool range_error(napi_env env, const char* what) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", what);
  return false;
}

// One rejection as lib/ reads it: -(reason + 8 * offset) (lib/errors.ts).
double packed(const xbzrle::DecodeError& e) {
  return -(static_cast<double>(e.reason) + 8.0 * static_cast<double>(e.offset));
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

// ---- Batches (native/batch.h). Argument order, shared by the sync and async
// forms: encodePages(oldPages, newPages, oldIndexes|null, indexes|null,
// pageSize, limit, out, offsets, lengths) and decodePages(deltas, offsets,
// lengths, pages, indexes|null, pageSize). The batch holds lengths.length
// pages; lib/ passes views of exactly that many entries.

constexpr size_t kEncodeArgs = 9;
constexpr size_t kDecodeArgs = 6;

bool get_page_size(napi_env env, napi_value v, size_t* out) {
  return get_size(env, v, "pageSize must be a number", out) &&
         ((*out >= 1 && *out <= xbzrle::kMaxPageSize) ||
          range_error(env, "pageSize must be 1 to 16384"));
}

// A page list over `buf`: `count` pages picked by `indexes`, or the whole
// buffer when there are none (which must then hold exactly count pages).
bool page_list(napi_env env, const Bytes& buf, const uint32_t* indexes, size_t nindexes,
               size_t count, size_t page_size, const char* what, xbzrle::PageList* l) {
  *l = xbzrle::PageList{buf.data, indexes, buf.size / page_size};
  if (buf.size % page_size) return range_error(env, what);
  if (indexes ? nindexes != count : l->pages != count) return range_error(env, what);
  if (xbzrle::first_bad_index(*l, count) != count) return range_error(env, what);
  return true;
}

bool parse_encode(napi_env env, napi_value* argv, xbzrle::EncodeBatch* b) {
  Bytes olds, news, out;
  void *old_idx, *idx, *offsets, *lengths;
  size_t n_old_idx, n_idx, n_offsets, n_lengths, page_size, limit;
  if (!get_bytes(env, argv[0], "oldPages must be a Uint8Array", &olds) ||
      !get_bytes(env, argv[1], "newPages must be a Uint8Array", &news) ||
      !get_typed(env, argv[2], napi_uint32_array, "oldIndexes must be a Uint32Array", true,
                 &old_idx, &n_old_idx) ||
      !get_typed(env, argv[3], napi_uint32_array, "indexes must be a Uint32Array", true, &idx,
                 &n_idx) ||
      !get_page_size(env, argv[4], &page_size) ||
      !get_size(env, argv[5], "limit must be a number", &limit) ||
      !get_bytes(env, argv[6], "out must be a Uint8Array", &out) ||
      !get_typed(env, argv[7], napi_uint32_array, "offsets must be a Uint32Array", false,
                 &offsets, &n_offsets) ||
      !get_typed(env, argv[8], napi_int32_array, "lengths must be an Int32Array", false,
                 &lengths, &n_lengths))
    return false;
  size_t count = n_lengths;
  if (limit > page_size) return range_error(env, "limit must not exceed pageSize");
  if (n_offsets != count) return range_error(env, "offsets and lengths must have one length");
  // Offsets are 32-bit, and out must hold the worst case: limit per page.
  if (count * limit > 0x100000000ull) return range_error(env, "batch too large for 32-bit offsets");
  if (out.size < count * limit) return range_error(env, "out must hold pages * limit bytes");
  b->encode = instance(env)->kernel->encode;
  b->count = count;
  b->page_size = page_size;
  b->limit = limit;
  b->out = out.data;
  b->offsets = static_cast<uint32_t*>(offsets);
  b->lengths = static_cast<int32_t*>(lengths);
  return page_list(env, olds, static_cast<uint32_t*>(old_idx), n_old_idx, count, page_size,
                   "oldPages/oldIndexes do not match the batch", &b->olds) &&
         page_list(env, news, static_cast<uint32_t*>(idx), n_idx, count, page_size,
                   "newPages/indexes do not match the batch", &b->news);
}

bool parse_decode(napi_env env, napi_value* argv, xbzrle::DecodeBatch* b) {
  Bytes deltas, pages;
  void *offsets, *lengths, *idx;
  size_t n_offsets, n_lengths, n_idx, page_size;
  if (!get_bytes(env, argv[0], "deltas must be a Uint8Array", &deltas) ||
      !get_typed(env, argv[1], napi_uint32_array, "offsets must be a Uint32Array", false,
                 &offsets, &n_offsets) ||
      !get_typed(env, argv[2], napi_int32_array, "lengths must be an Int32Array", false,
                 &lengths, &n_lengths) ||
      !get_bytes(env, argv[3], "pages must be a Uint8Array", &pages) ||
      !get_typed(env, argv[4], napi_uint32_array, "indexes must be a Uint32Array", true, &idx,
                 &n_idx) ||
      !get_page_size(env, argv[5], &page_size))
    return false;
  size_t count = n_lengths;
  if (n_offsets != count) return range_error(env, "offsets and lengths must have one length");
  xbzrle::PageList l;
  if (!page_list(env, pages, static_cast<uint32_t*>(idx), n_idx, count, page_size,
                 "pages/indexes do not match the batch", &l))
    return false;
  *b = xbzrle::DecodeBatch{count,
                           page_size,
                           deltas.data,
                           deltas.size,
                           static_cast<uint32_t*>(offsets),
                           static_cast<int32_t*>(lengths),
                           pages.data,
                           static_cast<uint32_t*>(idx),
                           l.pages};
  if (xbzrle::first_bad_entry(*b) != count)
    return range_error(env, "a lengths/offsets entry leaves the deltas buffer");
  return true;
}

// Rejections as a flat array [page, packed, page, packed, ...], or null.
napi_value failure_list(napi_env env, const xbzrle::PageFailure* f, size_t n) {
  napi_value arr;
  if (n == 0) {
    CALL(env, napi_get_null(env, &arr));
    return arr;
  }
  CALL(env, napi_create_array_with_length(env, 2 * n, &arr));
  for (size_t i = 0; i < n; i++) {
    CALL(env, napi_set_element(env, arr, static_cast<uint32_t>(2 * i),
                               number(env, static_cast<double>(f[i].page))));
    CALL(env, napi_set_element(env, arr, static_cast<uint32_t>(2 * i + 1),
                               number(env, packed(f[i].error))));
  }
  return arr;
}

void throw_nomem(napi_env env) {
  napi_throw_error(env, "ERR_XBZRLE_NOMEM", "xbzrle: out of memory for the batch");
}

// encodePages(...9 args) -> bytes written to out
napi_value EncodePages(napi_env env, napi_callback_info info) {
  size_t argc = kEncodeArgs;
  napi_value argv[kEncodeArgs];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  xbzrle::EncodeBatch b;
  if (argc < kEncodeArgs) return range_error(env, "encodePages needs 9 arguments"), nullptr;
  if (!parse_encode(env, argv, &b)) return nullptr;
  return number(env, static_cast<double>(xbzrle::encode_range(b, 0, b.count, 0, nullptr)));
}

// decodePages(...6 args) -> null, or the rejections (failure_list)
napi_value DecodePages(napi_env env, napi_callback_info info) {
  size_t argc = kDecodeArgs;
  napi_value argv[kDecodeArgs];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  xbzrle::DecodeBatch b;
  if (argc < kDecodeArgs) return range_error(env, "decodePages needs 6 arguments"), nullptr;
  if (!parse_decode(env, argv, &b)) return nullptr;
  constexpr size_t kCap = 16;
  xbzrle::PageFailure few[kCap];
  size_t bad = xbzrle::decode_range(b, 0, b.count, few, kCap, nullptr);
  if (bad <= kCap) return failure_list(env, few, bad);
  // Many rejections (rare): list them all by validating again; validation
  // does not depend on the pages, so the verdicts are the same.
  xbzrle::PageFailure* all = new (std::nothrow) xbzrle::PageFailure[bad];
  if (!all) return throw_nomem(env), nullptr;
  size_t got = xbzrle::check_range(b, 0, b.count, all, bad);
  napi_value r = failure_list(env, all, got < bad ? got : bad);
  delete[] all;
  return r;
}

// ---- The async forms: one Job per call, run by `works` async works on the
// libuv pool that share its chunks (batch_job.h). The inputs stay referenced
// until the last work completes; then `done(state, value)` is called:
// state 0 with the result, 1 when cancelJob() came first, 2 with a message.

constexpr size_t kMaxWorks = 64;
constexpr size_t kMaxRefs = 7;  // the typed arrays of encodePages

// Jobs still holding references / jobs not yet freed, across the process
// (tests read them through jobCounts() to prove an abort leaks nothing).
std::atomic<long> g_running{0};
std::atomic<long> g_allocated{0};

struct Job {
  bool encode;
  xbzrle::EncodeJob enc;
  xbzrle::DecodeJob dec;
  napi_ref refs[kMaxRefs] = {};
  napi_ref done = nullptr;
  napi_async_work works[kMaxWorks] = {};
  size_t nworks = 0;
  size_t completed = 0;
  bool cancel_requested = false;
  bool finished = false;       // results delivered, references dropped
  bool handle_alive = false;   // the JS handle (an external) still exists

  Job() { g_allocated++; }
  ~Job() { g_allocated--; }
  xbzrle::BatchJob& core() { return encode ? static_cast<xbzrle::BatchJob&>(enc) : dec; }
};

void release(napi_env env, Job* job) {
  for (napi_async_work& w : job->works)
    if (w) napi_delete_async_work(env, w), w = nullptr;
  for (napi_ref& r : job->refs)
    if (r) napi_delete_reference(env, r), r = nullptr;
  if (job->done) napi_delete_reference(env, job->done), job->done = nullptr;
}

void ExecuteJob(napi_env, void* data) {
  Job* job = static_cast<Job*>(data);
  if (job->encode)
    job->enc.run();
  else
    job->dec.run();
}

// The result handed to done(): bytes written, or the rejections.
napi_value job_result(napi_env env, Job* job, napi_value* state) {
  if (job->encode) {
    if (!job->enc.complete()) return nullptr;
    return number(env, static_cast<double>(job->enc.total()));
  }
  if (!job->dec.complete()) return nullptr;
  size_t bad = job->dec.failure_count();
  xbzrle::PageFailure* all = bad ? new (std::nothrow) xbzrle::PageFailure[bad] : nullptr;
  if (bad && !all) {
    *state = number(env, 2);
    napi_value msg;
    napi_create_string_utf8(env, "xbzrle: out of memory for the batch", NAPI_AUTO_LENGTH, &msg);
    return msg;
  }
  napi_value r = failure_list(env, all, job->dec.failures(all, bad));
  delete[] all;
  return r;
}

void CompleteJob(napi_env env, napi_status, void* data) {
  Job* job = static_cast<Job*>(data);
  if (++job->completed < job->nworks) return;
  // Every work has returned (or was cancelled before it started): no thread
  // touches the caller's memory any more.
  napi_value fn = nullptr, argv[2] = {number(env, 0), nullptr};
  napi_get_reference_value(env, job->done, &fn);
  if (job->cancel_requested) {
    argv[0] = number(env, 1);
  } else {
    argv[1] = job_result(env, job, &argv[0]);
    if (!argv[1]) {  // no abort, yet chunks were left undone
      argv[0] = number(env, 2);
      napi_create_string_utf8(env, "xbzrle: the batch did not run", NAPI_AUTO_LENGTH, &argv[1]);
    }
  }
  if (!argv[1]) napi_get_undefined(env, &argv[1]);
  release(env, job);
  job->finished = true;
  g_running--;
  bool free_now = !job->handle_alive;
  if (fn) {
    napi_value global;
    napi_get_global(env, &global);
    napi_call_function(env, global, fn, 2, argv, nullptr);
  }
  if (free_now) delete job;
}

void FinalizeHandle(napi_env, void* data, void*) {
  Job* job = static_cast<Job*>(data);
  job->handle_alive = false;
  if (job->finished) delete job;
}

// Holds the inputs, creates the works and the handle, then queues the
// works; on any failure before queueing, undoes everything and throws.
napi_value start(napi_env env, Job* job, napi_value* arrays, size_t narrays, napi_value works_v,
                 napi_value done_v, const char* name) {
  size_t works = 0;
  napi_valuetype t;
  napi_value handle = nullptr, resource;
  bool ok = get_size(env, works_v, "works must be a number", &works) &&
            (works >= 1 || range_error(env, "works must be at least 1"));
  if (ok && (napi_typeof(env, done_v, &t) != napi_ok || t != napi_function)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "done must be a function");
    ok = false;
  }
  if (works > kMaxWorks) works = kMaxWorks;
  ok = ok && napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource) == napi_ok &&
       napi_create_reference(env, done_v, 1, &job->done) == napi_ok;
  for (size_t i = 0; ok && i < narrays; i++)
    if (!is_nullish(env, arrays[i]))
      ok = napi_create_reference(env, arrays[i], 1, &job->refs[i]) == napi_ok;
  for (size_t w = 0; ok && w < works; w++)
    ok = napi_create_async_work(env, nullptr, resource, ExecuteJob, CompleteJob, job,
                                &job->works[w]) == napi_ok;
  ok = ok && napi_create_external(env, job, FinalizeHandle, nullptr, &handle) == napi_ok;
  if (!ok) {
    release(env, job);
    delete job;
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (!pending) napi_throw_error(env, "ERR_XBZRLE_NAPI", "xbzrle: cannot start the batch");
    return nullptr;
  }
  job->handle_alive = true;
  g_running++;
  for (size_t w = 0; w < works; w++) {
    if (napi_queue_async_work(env, job->works[w]) != napi_ok) break;
    job->nworks++;
  }
  if (job->nworks == 0) {  // nothing runs: drop everything; the handle frees the job
    release(env, job);
    job->finished = true;
    g_running--;
    napi_throw_error(env, "ERR_XBZRLE_NAPI", "xbzrle: cannot queue the batch");
    return nullptr;
  }
  return handle;
}

Job* new_job(napi_env env, bool encode) {
  Job* job = new (std::nothrow) Job;
  if (!job) throw_nomem(env);
  else job->encode = encode;
  return job;
}

// encodePagesStart(...9 args, works, chunkPages, done) -> handle
napi_value EncodePagesStart(napi_env env, napi_callback_info info) {
  constexpr size_t kArgs = kEncodeArgs + 3;
  size_t argc = kArgs;
  napi_value argv[kArgs];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  xbzrle::EncodeBatch b;
  size_t chunk;
  if (argc < kArgs) return range_error(env, "encodePagesStart needs 12 arguments"), nullptr;
  if (!parse_encode(env, argv, &b) ||
      !get_size(env, argv[kEncodeArgs + 1], "chunkPages must be a number", &chunk))
    return nullptr;
  Job* job = new_job(env, true);
  if (!job) return nullptr;
  if (!job->enc.init(b, chunk)) return delete job, throw_nomem(env), nullptr;
  napi_value arrays[] = {argv[0], argv[1], argv[2], argv[3], argv[6], argv[7], argv[8]};
  return start(env, job, arrays, 7, argv[kEncodeArgs], argv[kEncodeArgs + 2],
               "xbzrle:encodePages");
}

// decodePagesStart(...6 args, works, chunkPages, done) -> handle
napi_value DecodePagesStart(napi_env env, napi_callback_info info) {
  constexpr size_t kArgs = kDecodeArgs + 3;
  size_t argc = kArgs;
  napi_value argv[kArgs];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  xbzrle::DecodeBatch b;
  size_t chunk, works;
  if (argc < kArgs) return range_error(env, "decodePagesStart needs 9 arguments"), nullptr;
  if (!parse_decode(env, argv, &b) ||
      !get_size(env, argv[kDecodeArgs], "works must be a number", &works) ||
      !get_size(env, argv[kDecodeArgs + 1], "chunkPages must be a number", &chunk))
    return nullptr;
  napi_value works_v = argv[kDecodeArgs];
  // Two deltas for one page must land in order: such a batch runs on one
  // thread, as the sync loop would run it.
  if (works > 1 && b.indexes && !xbzrle::strictly_increasing(b.indexes, b.count)) {
    uint32_t* scratch = new (std::nothrow) uint32_t[b.count];
    if (!scratch) return throw_nomem(env), nullptr;
    if (xbzrle::has_duplicates(b.indexes, b.count, scratch)) works_v = number(env, 1);
    delete[] scratch;
  }
  Job* job = new_job(env, false);
  if (!job) return nullptr;
  if (!job->dec.init(b, chunk)) return delete job, throw_nomem(env), nullptr;
  napi_value arrays[] = {argv[0], argv[1], argv[2], argv[3], argv[4]};
  return start(env, job, arrays, 5, works_v, argv[kDecodeArgs + 2], "xbzrle:decodePages");
}

// cancelJob(handle): stops a running batch between pages; its done() then
// reports state 1 once every work has returned. Harmless after the end.
napi_value CancelJob(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  void* data = nullptr;
  napi_valuetype t;
  if (argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_external ||
      napi_get_value_external(env, argv[0], &data) != napi_ok || !data) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "handle must be a batch handle");
    return nullptr;
  }
  Job* job = static_cast<Job*>(data);
  if (!job->finished) {
    job->cancel_requested = true;
    job->core().abort();
    // Works still queued never start; running ones stop at the next page.
    for (size_t w = 0; w < job->nworks; w++) napi_cancel_async_work(env, job->works[w]);
  }
  return nullptr;
}

// jobCounts() -> [jobs holding references, jobs not yet freed] (tests).
napi_value JobCounts(napi_env env, napi_callback_info) {
  napi_value arr;
  CALL(env, napi_create_array_with_length(env, 2, &arr));
  CALL(env, napi_set_element(env, arr, 0, number(env, static_cast<double>(g_running.load()))));
  CALL(env, napi_set_element(env, arr, 1, number(env, static_cast<double>(g_allocated.load()))));
  return arr;
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
      {"encodePages", nullptr, EncodePages, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"decodePages", nullptr, DecodePages, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"encodePagesStart", nullptr, EncodePagesStart, nullptr, nullptr, nullptr, napi_enumerable,
       nullptr},
      {"decodePagesStart", nullptr, DecodePagesStart, nullptr, nullptr, nullptr, napi_enumerable,
       nullptr},
      {"cancelJob", nullptr, CancelJob, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"jobCounts", nullptr, JobCounts, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"kernels", nullptr, Kernels, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"kernel", nullptr, CurrentKernel, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"useKernel", nullptr, UseKernel, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  CALL(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

}  // namespace

NAPI_MODULE_INIT() { return Init(env, exports); }
