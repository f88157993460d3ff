// Argument checking for every exported function: one place that turns bad input from
// JavaScript into a TypeError or RangeError of the form
//   "<function>: <field> must be <expected>, received <actual>"
//
// User code (getters, Proxy traps, a tensor's `handle`) can detach, resize or rewrite buffers, so
// the constructor reads every field of the options object once, before any check, and nothing
// after it runs JavaScript: a checked buffer stays as it was checked until the kernel has run.
// An async job cannot rely on that (JavaScript runs while it works), so in async mode every
// buffer is copied into memory the job owns, and outputs are copied back when it completes,
// except rnnkit's own tensors (host_memory.h), which the job holds and uses in place.
#pragma once
#include <napi.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace rnnkit {
namespace binding {

enum class Dtype { F32, F64 };

struct FloatView {
  void* data = nullptr;
  std::int64_t length = 0;
  Dtype dtype = Dtype::F32;
  bool present() const { return data != nullptr; }
  template <typename T>
  T* as() const { return static_cast<T*>(data); }
};

struct HostBlock;

// Copies of an async job's buffers (see above).
struct Staging {
  struct Entry {
    Napi::Value array;        // the caller's typed array (held by the job until it completes)
    std::uintptr_t orig = 0;  // where its elements were when the call was made
    std::size_t bytes = 0;
    void* copy = nullptr;     // the job's copy, which the kernel reads and writes
    bool output = false;      // copied back on completion
    std::string name;
    HostBlock* block = nullptr;  // rnnkit's own memory: used in place and held, not copied
  };
  std::vector<Entry> entries;
  ~Staging();
};

class Args {
 public:
  // Every function takes a single options object. async: buffers are staged (copied).
  Args(const Napi::CallbackInfo& info, const char* fn, bool async = false);

  Napi::Env env() const { return env_; }
  const std::string& fn() const { return fn_; }

  // Integer field in [lo, hi]. Absent: def if has_default, else an error.
  std::int64_t integer(const char* name, std::int64_t lo, std::int64_t hi);
  std::int64_t integer(const char* name, std::int64_t lo, std::int64_t hi, std::int64_t def);
  // Finite number in [lo, hi].
  double number(const char* name, double lo, double hi);
  double number(const char* name, double lo, double hi, double def);
  bool boolean(const char* name, bool def);
  // One of the listed strings; returns its index.
  int choice(const char* name, std::initializer_list<const char*> options, int def = -1);
  int choice(const char* name, const std::vector<const char*>& options, int def = -1);

  // Element type of a required Float32Array / Float64Array field; every float buffer of the call
  // must then have it.
  Dtype dtype_of(const char* name);
  // Float buffer of exactly `length` elements (shape names it in messages, e.g. "[T,B,I]").
  // required=false: absent (undefined or null) gives an empty view.
  // length -1 accepts any length.
  FloatView floats(const char* name, Dtype dt, std::int64_t length, const std::string& shape,
                   bool required = true);
  // A float buffer of at least `min_length` elements (strided views).
  FloatView floats_at_least(const char* name, Dtype dt, std::int64_t min_length, const std::string& shape,
                            bool required = true);
  // The same checks for a value that is not a field of the options object (array elements).
  FloatView floats_value(const Napi::Value& v, const std::string& name, Dtype dt,
                         std::int64_t length, const std::string& shape, bool required = true);
  Napi::Value field(const char* name) { return get(name); }
  // The elements of an Array field, as read by the constructor (at most kMaxListLength of them).
  std::vector<Napi::Value> elements(const char* name, const std::string& expected);
  // Refuses fields of the options object that the function never read (misspellings such as
  // `lenghts`). Called by run_job once the function has read everything it needs.
  void check_unknown_fields();
  static constexpr std::uint32_t kMaxListLength = 64;
  // Int32Array of `length` elements with every value in [lo, hi] (or equal to `except`).
  const std::int32_t* ints(const char* name, std::int64_t length, const std::string& shape,
                           std::int64_t lo, std::int64_t hi, bool required = true,
                           std::int64_t except = INT64_MIN);
  const std::uint8_t* bytes(const char* name, std::int64_t length, const std::string& shape,
                            bool required = true);
  // An Int32Array output of `length` elements (its contents are not read or checked).
  std::int32_t* ints_out(const char* name, std::int64_t length, const std::string& shape,
                         bool required = true);
  // A Uint32Array of `length` elements the kernel may update in place (generator states).
  std::uint32_t* u32s(const char* name, std::int64_t length, const std::string& shape);

  // Rejects non-finite values in an input buffer.
  void require_finite(const char* name, const FloatView& v);
  // Refuses outputs that overlap any other buffer of the call.
  void require_disjoint(const char* name, const FloatView& out);
  // The same for an integer output of `bytes` bytes at p (null: absent).
  void require_disjoint(const char* name, const void* p, std::int64_t bytes);
  // Like require_disjoint, except that `out` may be exactly the buffer named `same_as` (one
  // buffer passed for two outputs on purpose, e.g. dKeys === dValues).
  void require_disjoint_except(const char* name, const FloatView& out, const char* same_as);
  void require_disjoint_except(const char* name, const void* p, std::int64_t bytes, const char* same_as);

  // Checked product for sizes; a RangeError names `what` when it exceeds 2^31-1 elements... or
  // the typed-array limit.
  std::int64_t product(std::initializer_list<std::int64_t> dims, const char* what);

  [[noreturn]] void fail_range(const std::string& field, const std::string& expected,
                               const std::string& received) const;
  [[noreturn]] void fail_type(const std::string& field, const std::string& expected,
                              const std::string& received) const;

  // The async job's copies (null for a synchronous call).
  std::shared_ptr<Staging> staging() const { return staging_; }
  bool async() const { return async_; }

 private:
  struct Field {
    std::string name;
    Napi::Value value;
    bool used = false;
    bool is_array = false;
    std::uint32_t array_length = 0;
    std::vector<Napi::Value> elements;
  };
  Napi::Value get(const char* name);
  // The pointer a kernel should use for `bytes` bytes at p of typed array v: p itself for a
  // synchronous call, the job's copy for an async one.
  void* stage(const Napi::Value& v, const std::string& name, void* p, std::size_t bytes);
  void mark_output(const std::string& name);
  // Typed arrays over shared, resizable or detached memory are refused.
  struct TypedInfo {
    napi_typedarray_type type = napi_int8_array;
    size_t length = 0, offset = 0;
    void* data = nullptr;  // first element (the byte offset included)
  };
  // Why the memory behind typed array v cannot be used ("" when it can); fills info.
  std::string backing_problem(const Napi::Value& v, TypedInfo& info);
  // An integer typed array field of the given type and exact length; null when absent and optional.
  void* typed(const char* name, napi_typedarray_type type, const char* type_name, std::int64_t length,
              std::size_t elem_bytes, const std::string& shape, bool required);
  std::string dtype_name(Dtype d) const { return d == Dtype::F32 ? "Float32Array" : "Float64Array"; }

  Napi::Env env_;
  std::string fn_;
  bool async_;
  std::vector<Field> fields_;
  std::shared_ptr<Staging> staging_;
  // Where each buffer's elements are in the caller's memory (overlap checks use these, not copies).
  struct Range { std::string name; std::uintptr_t lo, hi; };
  std::vector<Range> ranges_;
};

// The typed array behind a CPU-device tensor (its `handle`), or the value itself.
Napi::Value tensor_memory(const Napi::Value& v);

// Captures ArrayBuffer.prototype's own `resizable` getter at load, so that checking a buffer
// never runs a getter user code put in its place.
void capture_builtins(Napi::Env env);

// Throws the RangeError of Args::require_finite (code ERR_RNNKIT_NON_FINITE) when one of the n
// values at data is NaN or infinite: "<fn>: <name>[i] must be a finite number, received ...".
void require_finite_values(Napi::Env env, const std::string& fn, const std::string& name, const void* data,
                           std::int64_t n, Dtype dt);

// Describes a JS value for error messages: "Float64Array of length 3", "number 2.5", "undefined".
std::string describe(const Napi::Value& v);

}  // namespace binding
}  // namespace rnnkit
