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

#include "../core/batch.h"
#include "../core/batch_job.h"
#include "../core/dispatch.h"
#include "../core/xbzrle.h"

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

// One rejection as lib/ reads it: -(reason + 8 * offset) (lib/util/errors.ts).
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

// ---- Batches (native/core/batch.h). Argument order, shared by the sync and async
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

// ---- Page cache, memory budget and sender (FORMAT.md 3) ------------------
// One block, so that merges with other work on this file stay simple. The
// core (page_cache.cc, sender.cc) knows nothing of Node; this glue turns
// handles into typed externals and arguments into core calls. lib/ checks
// every argument first and builds the errors users see; the checks here keep
// a direct caller of the binding from reaching memory it does not own.
}  // namespace

#include <cstring>

#include "../core/page_cache.h"
#include "../core/sender.h"

namespace {

namespace cache_glue {

using xbzrle::MemoryBudget;
using xbzrle::PageCache;
using xbzrle::Sender;

// Tags make a handle of one kind unusable as another.
const napi_type_tag kBudgetTag = {0x6b1e2f3a5c7d9e01ULL, 0x8a4b3c2d1e0f9a01ULL};
const napi_type_tag kCacheTag = {0x6b1e2f3a5c7d9e02ULL, 0x8a4b3c2d1e0f9a02ULL};
const napi_type_tag kSenderTag = {0x6b1e2f3a5c7d9e03ULL, 0x8a4b3c2d1e0f9a03ULL};

void throw_no_memory(napi_env env, const char* what) {
  napi_throw_error(env, "ERR_XBZRLE_NO_MEMORY", what);
}

void* get_handle(napi_env env, napi_value v, const napi_type_tag* tag, const char* what) {
  bool ok = false;
  void* p = nullptr;
  if (napi_check_object_type_tag(env, v, tag, &ok) != napi_ok || !ok ||
      napi_get_value_external(env, v, &p) != napi_ok || !p) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", what);
    return nullptr;
  }
  return p;
}

PageCache* get_cache(napi_env env, napi_value v) {
  PageCache* c = static_cast<PageCache*>(get_handle(env, v, &kCacheTag, "not a page cache handle"));
  if (c && c->closed()) {
    napi_throw_error(env, "ERR_XBZRLE_CLOSED", "the page cache is closed");
    return nullptr;
  }
  return c;
}

Sender* get_sender(napi_env env, napi_value v) {
  Sender* s = static_cast<Sender*>(get_handle(env, v, &kSenderTag, "not a sender handle"));
  if (s && s->cache()->closed()) {
    napi_throw_error(env, "ERR_XBZRLE_CLOSED", "the sender's page cache is closed");
    return nullptr;
  }
  return s;
}

napi_value wrap(napi_env env, void* p, napi_finalize fin, const napi_type_tag* tag) {
  napi_value v;
  if (napi_create_external(env, p, fin, nullptr, &v) != napi_ok) {
    fin(env, p, nullptr);
    napi_throw_error(env, "ERR_XBZRLE_NAPI", "cannot create a handle");
    return nullptr;
  }
  CALL(env, napi_type_tag_object(env, v, tag));
  return v;
}

// An address: a number (an integer up to 2^53 - 1) or a bigint (up to 2^64 - 1).
bool get_addr(napi_env env, napi_value v, uint64_t* out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return false;
  if (t == napi_bigint) {
    bool lossless = false;
    if (napi_get_value_bigint_uint64(env, v, out, &lossless) == napi_ok && lossless) return true;
  } else if (t == napi_number) {
    double d = 0;
    napi_get_value_double(env, v, &d);
    if (d >= 0 && d <= 9007199254740991.0 && d == static_cast<double>(static_cast<uint64_t>(d))) {
      *out = static_cast<uint64_t>(d);
      return true;
    }
  }
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "addr must be an integer from 0 to 2^53 - 1 or a bigint below 2^64");
  return false;
}

bool get_u32(napi_env env, napi_value v, const char* what, uint32_t* out) {
  double d = -1;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d > 4294967295.0 ||
      d != static_cast<double>(static_cast<uint32_t>(d))) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", what);
    return false;
  }
  *out = static_cast<uint32_t>(d);
  return true;
}

bool get_u64(napi_env env, napi_value v, const char* what, uint64_t* out) {
  double d = -1;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d > 9007199254740991.0 ||
      d != static_cast<double>(static_cast<uint64_t>(d))) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", what);
    return false;
  }
  *out = static_cast<uint64_t>(d);
  return true;
}

// A typed array of one element type with at least `min` elements.
template <typename T>
bool get_array(napi_env env, napi_value v, napi_typedarray_type want, size_t min, const char* what,
               T** out, size_t* len = nullptr) {
  napi_typedarray_type type;
  void* data = nullptr;
  size_t n = 0;
  if (napi_get_typedarray_info(env, v, &type, &n, &data, nullptr, nullptr) != napi_ok ||
      type != want || (n && !data)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", what);
    return false;
  }
  if (n < min) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", what);
    return false;
  }
  *out = static_cast<T*>(data);
  if (len) *len = n;
  return true;
}

bool overlaps(const uint8_t* a, size_t an, const uint8_t* b, size_t bn) {
  return an && bn && a < b + bn && b < a + an;
}

napi_value boolean(napi_env env, bool b) {
  napi_value r;
  napi_get_boolean(env, b, &r);
  return r;
}

void FinalizeBudget(napi_env, void* p, void*) { static_cast<MemoryBudget*>(p)->unref(); }
void FinalizeCache(napi_env, void* p, void*) { static_cast<PageCache*>(p)->unref(); }
void FinalizeSender(napi_env, void* p, void*) { delete static_cast<Sender*>(p); }

// budgetNew(size) -> handle
napi_value BudgetNew(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint64_t size;
  if (argc < 1 || !get_u64(env, argv[0], "size must be an integer from 0 to 2^53 - 1", &size)) return nullptr;
  MemoryBudget* b = MemoryBudget::create(size);
  if (!b) {
    throw_no_memory(env, "out of memory for a memory budget");
    return nullptr;
  }
  return wrap(env, b, FinalizeBudget, &kBudgetTag);
}

// budgetInfo(handle, Float64Array[2]): size, used
napi_value BudgetInfo(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  double* out;
  if (argc < 2) return nullptr;
  auto* b = static_cast<MemoryBudget*>(get_handle(env, argv[0], &kBudgetTag, "not a budget handle"));
  if (!b || !get_array(env, argv[1], napi_float64_array, 2, "out must be a Float64Array of 2", &out))
    return nullptr;
  out[0] = static_cast<double>(b->size());
  out[1] = static_cast<double>(b->used());
  return nullptr;
}

// budgetTake(handle, bytes) -> bool; budgetGive(handle, bytes): for the
// TypeScript caches, which draw from the same budget as the native ones.
napi_value BudgetTake(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint64_t bytes;
  if (argc < 2) return nullptr;
  auto* b = static_cast<MemoryBudget*>(get_handle(env, argv[0], &kBudgetTag, "not a budget handle"));
  if (!b || !get_u64(env, argv[1], "bytes must be a non-negative integer", &bytes)) return nullptr;
  return boolean(env, b->take(bytes));
}

napi_value BudgetGive(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint64_t bytes;
  if (argc < 2) return nullptr;
  auto* b = static_cast<MemoryBudget*>(get_handle(env, argv[0], &kBudgetTag, "not a budget handle"));
  if (!b || !get_u64(env, argv[1], "bytes must be a non-negative integer", &bytes)) return nullptr;
  b->give(bytes);
  return nullptr;
}

// cacheNew(pageSize, size, policy, ways, budget | null) -> handle
napi_value CacheNew(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint32_t page_size, policy, ways;
  uint64_t size;
  if (argc < 5 || !get_u32(env, argv[0], "pageSize must be an integer", &page_size) ||
      !get_u64(env, argv[1], "size must be an integer", &size) ||
      !get_u32(env, argv[2], "policy must be 0 or 1", &policy) ||
      !get_u32(env, argv[3], "ways must be an integer", &ways))
    return nullptr;
  if (policy > 1) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "policy must be 0 or 1");
    return nullptr;
  }
  if (const char* why = PageCache::check_geometry(page_size, size, ways)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", why);
    return nullptr;
  }
  MemoryBudget* budget = nullptr;
  napi_valuetype t;
  CALL(env, napi_typeof(env, argv[4], &t));
  if (t != napi_null && t != napi_undefined) {
    budget = static_cast<MemoryBudget*>(get_handle(env, argv[4], &kBudgetTag, "not a budget handle"));
    if (!budget) return nullptr;
  }
  PageCache* c = PageCache::create(page_size, size, static_cast<xbzrle::Policy>(policy), ways, budget);
  if (!c) {
    throw_no_memory(env, "out of memory for the page cache's slot table");
    return nullptr;
  }
  return wrap(env, c, FinalizeCache, &kCacheTag);
}

// cacheLookup(handle, addr, generation) -> bool (a hit refreshes the age)
napi_value CacheLookup(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint64_t addr;
  uint32_t gen;
  if (argc < 3) return nullptr;
  PageCache* c = get_cache(env, argv[0]);
  if (!c || !get_addr(env, argv[1], &addr) ||
      !get_u32(env, argv[2], "generation must be an integer from 0 to 2^32 - 1", &gen))
    return nullptr;
  return boolean(env, c->lookup(addr, gen) != nullptr);
}

// cacheInsert(handle, addr, page, generation) -> 1 stored, 0 refused (young),
// -1 refused (budget), -2 refused (allocator)
napi_value CacheInsert(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint64_t addr;
  uint32_t gen;
  Bytes page;
  if (argc < 4) return nullptr;
  PageCache* c = get_cache(env, argv[0]);
  if (!c || !get_addr(env, argv[1], &addr) || !get_bytes(env, argv[2], "page must be a Uint8Array", &page) ||
      !get_u32(env, argv[3], "generation must be an integer from 0 to 2^32 - 1", &gen))
    return nullptr;
  if (page.size != c->page_size()) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "page must be one page long");
    return nullptr;
  }
  return number(env, static_cast<double>(static_cast<int>(c->insert(addr, page.data, gen))));
}

// cacheGet(handle, addr, out) -> bool: copies the cached page into out
napi_value CacheGet(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint64_t addr;
  Bytes out;
  if (argc < 3) return nullptr;
  PageCache* c = get_cache(env, argv[0]);
  if (!c || !get_addr(env, argv[1], &addr) || !get_bytes(env, argv[2], "out must be a Uint8Array", &out))
    return nullptr;
  if (out.size < c->page_size()) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "out must hold one page");
    return nullptr;
  }
  const uint8_t* p = c->peek(addr);
  if (p) std::memmove(out.data, p, c->page_size());
  return boolean(env, p != nullptr);
}

// cacheResize(handle, size) -> bool (false: no memory for the new slot table)
napi_value CacheResize(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint64_t size;
  if (argc < 2) return nullptr;
  PageCache* c = get_cache(env, argv[0]);
  if (!c || !get_u64(env, argv[1], "size must be an integer", &size)) return nullptr;
  if (const char* why = PageCache::check_geometry(c->page_size(), size, c->ways())) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", why);
    return nullptr;
  }
  return boolean(env, c->resize(size));
}

// cacheClear(handle, close): drops every entry; with close, frees it all
napi_value CacheClear(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  bool close = false;
  if (argc < 2) return nullptr;
  auto* c = static_cast<PageCache*>(get_handle(env, argv[0], &kCacheTag, "not a page cache handle"));
  if (!c) return nullptr;
  napi_get_value_bool(env, argv[1], &close);
  if (close)
    c->close();
  else
    c->clear();
  return nullptr;
}

// cacheStats(handle, Float64Array[15])
napi_value CacheStats(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  double* o;
  if (argc < 2) return nullptr;
  auto* c = static_cast<PageCache*>(get_handle(env, argv[0], &kCacheTag, "not a page cache handle"));
  if (!c || !get_array(env, argv[1], napi_float64_array, 15, "out must be a Float64Array of 15", &o))
    return nullptr;
  const xbzrle::CacheCounters& k = c->counters();
  const double v[15] = {double(c->size()), double(c->page_size()), double(c->slots()), double(c->ways()),
                        double(c->stored()), double(c->page_bytes()), double(c->metadata_bytes()),
                        double(k.lookups), double(k.hits), double(k.inserts), double(k.refused_young),
                        double(k.refused_budget), double(k.refused_memory), double(k.evictions),
                        c->closed() ? 1.0 : 0.0};
  for (int i = 0; i < 15; i++) o[i] = v[i];
  return nullptr;
}

// senderNew(cache, limit) -> handle
napi_value SenderNew(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint32_t limit;
  if (argc < 2) return nullptr;
  PageCache* c = get_cache(env, argv[0]);
  if (!c || !get_u32(env, argv[1], "limit must be an integer", &limit)) return nullptr;
  Sender* s = Sender::create(c, limit);
  if (!s) {
    throw_no_memory(env, "out of memory for a sender");
    return nullptr;
  }
  return wrap(env, s, FinalizeSender, &kSenderTag);
}

// senderSendPage(handle, addr, page, body, flags) -> kind + 4 * body length.
// flags: 1 last stage, 2 detect zero pages. body holds at least P + 3 bytes.
napi_value SenderSendPage(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint64_t addr;
  uint32_t flags;
  Bytes page, body;
  if (argc < 5) return nullptr;
  Sender* s = get_sender(env, argv[0]);
  if (!s || !get_addr(env, argv[1], &addr) || !get_bytes(env, argv[2], "page must be a Uint8Array", &page) ||
      !get_bytes(env, argv[3], "body must be a Uint8Array", &body) ||
      !get_u32(env, argv[4], "flags must be an integer", &flags))
    return nullptr;
  const size_t P = s->page_size();
  if (page.size != P || body.size < P + 3 || overlaps(page.data, P, body.data, body.size)) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "page must be one page, body P + 3 bytes apart from it");
    return nullptr;
  }
  size_t len = 0;
  xbzrle::PageKind k = s->send_page(instance(env)->kernel->encode, addr, page.data, flags & 1, flags & 2,
                                    body.data, &len);
  return number(env, static_cast<double>(static_cast<int>(k)) + 4.0 * static_cast<double>(len));
}

// senderSendPages(handle, addrs, pages, out, kinds, offsets, lengths, flags,
// block) -> bytes written, or -(i + 1) when addrs[i] cannot go in a header
// (or, from a memory image, its page is not inside it). addrs: Float64Array
// or BigUint64Array; pages: a Uint8Array of n pages, an array of n pages, or
// with flag 8 a memory image indexed by address; flags: 1 last stage,
// 2 detect zero, 4 continued, 8 pages is a memory image.
napi_value SenderSendPages(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 9) return nullptr;
  Sender* s = get_sender(env, argv[0]);
  if (!s) return nullptr;
  const size_t P = s->page_size();

  xbzrle::BatchAddrs addrs;
  size_t n = 0;
  napi_typedarray_type at;
  void* adata = nullptr;
  if (napi_get_typedarray_info(env, argv[1], &at, &n, &adata, nullptr, nullptr) != napi_ok ||
      (at != napi_float64_array && at != napi_biguint64_array) || (n && !adata)) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "addrs must be a Float64Array or a BigUint64Array");
    return nullptr;
  }
  if (at == napi_float64_array)
    addrs.f64 = static_cast<const double*>(adata);
  else
    addrs.u64 = static_cast<const uint64_t*>(adata);

  Bytes out, block{nullptr, 0};
  uint8_t* kinds;
  uint32_t* offsets;
  uint32_t* lengths;
  uint32_t flags;
  if (!get_bytes(env, argv[3], "out must be a Uint8Array", &out) ||
      !get_array(env, argv[4], napi_uint8_array, n, "kinds must be a Uint8Array of n", &kinds) ||
      !get_array(env, argv[5], napi_uint32_array, n, "offsets must be a Uint32Array of n", &offsets) ||
      !get_array(env, argv[6], napi_uint32_array, n, "lengths must be a Uint32Array of n", &lengths) ||
      !get_u32(env, argv[7], "flags must be an integer", &flags) ||
      !get_bytes(env, argv[8], "block must be a Uint8Array", &block))
    return nullptr;
  if (block.size > 255) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "block names are at most 255 bytes");
    return nullptr;
  }
  uint64_t need = Sender::batch_capacity(n, P, block.size);
  if (out.size < need || need > UINT32_MAX) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "out is too small for the batch, or the batch too large");
    return nullptr;
  }

  xbzrle::BatchPages pages;
  pages.page_size = P;
  const uint8_t** list = nullptr;
  bool is_array = false;
  uint64_t memory_size = 0;
  CALL(env, napi_is_array(env, argv[2], &is_array));
  if (flags & 8) {
    Bytes mem;
    if (!get_bytes(env, argv[2], "memory must be a Uint8Array", &mem)) return nullptr;
    if (overlaps(mem.data, mem.size, out.data, out.size)) {
      napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "memory and out must not overlap");
      return nullptr;
    }
    pages.base = mem.data;
    pages.by_address = true;
    memory_size = mem.size;
  } else if (is_array) {
    uint32_t len = 0;
    CALL(env, napi_get_array_length(env, argv[2], &len));
    if (len != n) {
      napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "pages must hold one page per address");
      return nullptr;
    }
    list = static_cast<const uint8_t**>(std::malloc((n ? n : 1) * sizeof(uint8_t*)));
    if (!list) {
      throw_no_memory(env, "out of memory for the page list");
      return nullptr;
    }
    for (uint32_t i = 0; i < len; i++) {
      napi_value e;
      Bytes p;
      if (napi_get_element(env, argv[2], i, &e) != napi_ok ||
          !get_bytes(env, e, "pages must hold Uint8Arrays", &p)) {
        std::free(list);
        return nullptr;
      }
      if (p.size != P || overlaps(p.data, P, out.data, out.size)) {
        std::free(list);
        napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "each page must be one page long and apart from out");
        return nullptr;
      }
      list[i] = p.data;
    }
    pages.list = list;
  } else {
    Bytes all;
    if (!get_bytes(env, argv[2], "pages must be a Uint8Array or an array of them", &all)) return nullptr;
    if (all.size != n * P || overlaps(all.data, all.size, out.data, out.size)) {
      napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "pages must be n pages long and apart from out");
      return nullptr;
    }
    pages.base = all.data;
  }

  long bad = Sender::bad_address(addrs, n, pages, memory_size);
  if (bad >= 0) {
    std::free(list);
    return number(env, -static_cast<double>(bad) - 1.0);
  }
  xbzrle::BatchOptions opt;
  opt.last_stage = flags & 1;
  opt.detect_zero = flags & 2;
  opt.continued = flags & 4;
  opt.block = block.data;
  opt.block_len = block.size;
  xbzrle::BatchOut bo;
  bo.out = out.data;
  bo.capacity = out.size;
  bo.kinds = kinds;
  bo.offsets = offsets;
  bo.lengths = lengths;
  size_t written = s->send_pages(instance(env)->kernel->encode, addrs, pages, n, opt, bo);
  std::free(list);
  return number(env, static_cast<double>(written));
}

// senderZeroPage(handle, addr)
napi_value SenderZeroPage(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  uint64_t addr;
  if (argc < 2) return nullptr;
  Sender* s = get_sender(env, argv[0]);
  if (!s || !get_addr(env, argv[1], &addr)) return nullptr;
  s->zero_page(addr);
  return nullptr;
}

// senderNextGeneration(handle)
napi_value SenderNextGeneration(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 1) return nullptr;
  auto* s = static_cast<Sender*>(get_handle(env, argv[0], &kSenderTag, "not a sender handle"));
  if (s) s->next_generation();
  return nullptr;
}

// senderStats(handle, Float64Array[12])
napi_value SenderStats(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  double* o;
  if (argc < 2) return nullptr;
  auto* s = static_cast<Sender*>(get_handle(env, argv[0], &kSenderTag, "not a sender handle"));
  if (!s || !get_array(env, argv[1], napi_float64_array, 12, "out must be a Float64Array of 12", &o))
    return nullptr;
  const xbzrle::SenderCounters& k = s->counters();
  const double v[12] = {double(s->cache()->size()), double(k.bytes), double(k.pages), double(k.cache_miss),
                        k.cache_miss_rate, k.encoding_rate, double(k.overflow), double(s->generation()),
                        double(k.raw), double(k.records), double(k.skipped), double(k.zero)};
  for (int i = 0; i < 12; i++) o[i] = v[i];
  return nullptr;
}

}  // namespace cache_glue
// ---- end of page cache, memory budget and sender -------------------------

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
      {"budgetNew", nullptr, cache_glue::BudgetNew, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"budgetInfo", nullptr, cache_glue::BudgetInfo, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"budgetTake", nullptr, cache_glue::BudgetTake, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"budgetGive", nullptr, cache_glue::BudgetGive, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"cacheNew", nullptr, cache_glue::CacheNew, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"cacheLookup", nullptr, cache_glue::CacheLookup, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"cacheInsert", nullptr, cache_glue::CacheInsert, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"cacheGet", nullptr, cache_glue::CacheGet, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"cacheResize", nullptr, cache_glue::CacheResize, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"cacheClear", nullptr, cache_glue::CacheClear, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"cacheStats", nullptr, cache_glue::CacheStats, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"senderNew", nullptr, cache_glue::SenderNew, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"senderSendPage", nullptr, cache_glue::SenderSendPage, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"senderSendPages", nullptr, cache_glue::SenderSendPages, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"senderZeroPage", nullptr, cache_glue::SenderZeroPage, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"senderNextGeneration", nullptr, cache_glue::SenderNextGeneration, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"senderStats", nullptr, cache_glue::SenderStats, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  CALL(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

}  // namespace

NAPI_MODULE_INIT() { return Init(env, exports); }
