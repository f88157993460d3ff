// Reading an op's options object in the CUDA addon: numbers, choices and device buffers, each
// checked once, with the CPU addon's message shape ("rnnForward: x must be ..., received ...").
// A device buffer arrives from lib/device/cuda.ts as [block, byteOffset, elements, dtype], where
// block is an External this addon made (type-tagged) and the range must lie inside it.
#pragma once
#include <napi.h>

#include <climits>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace rnnkit {
namespace cuda {

enum class DType : int { F32 = 0, F64 = 1, I32 = 2, U8 = 3 };
const char* dtype_name(DType d);
std::size_t dtype_size(DType d);

struct Block {
  void* p = nullptr;
  std::size_t bytes = 0;
  bool freed = false;
};
Napi::Value wrap_block(Napi::Env env, Block* b);
Block* unwrap_block(Napi::Env env, Napi::Value v, const std::string& what);  // throws TypeError

struct DevBuf {
  void* p = nullptr;
  std::size_t n = 0;
  DType dtype = DType::F32;
  template <typename T>
  T* as() const {
    return static_cast<T*>(p);
  }
};

class DeviceArgs {
 public:
  DeviceArgs(const Napi::CallbackInfo& info, const char* fn);
  std::int64_t integer(const char* name, std::int64_t lo, std::int64_t hi);
  std::int64_t integer_or(const char* name, std::int64_t lo, std::int64_t hi, std::int64_t dflt);
  double number(const char* name);
  double number_or(const char* name, double dflt);
  bool boolean_or(const char* name, bool dflt);
  // The *_or forms: dflt when the field is undefined (null is refused, as on the CPU).
  // The index of the value among choices; dflt when absent (-1: required).
  int choice(const char* name, std::initializer_list<const char*> choices, int dflt = -1);
  // A buffer of exactly n elements of dtype; optional ones may be null/undefined (p = nullptr).
  DevBuf buf(const char* name, DType dtype, std::size_t n);
  DevBuf opt_buf(const char* name, DType dtype, std::size_t n);
  // At least n elements (rows yStride apart inside a larger buffer); the op uses the first n.
  DevBuf buf_at_least(const char* name, DType dtype, std::size_t n, bool required = true);
  // The dtype of a float buffer (float32 or float64), which sets the op's precision.
  DType float_dtype(const char* name);
  bool has(const char* name);
  // Refuses a product of dimensions beyond 2^40 elements, as the CPU does.
  void product(std::initializer_list<std::int64_t> dims, const char* what);
  // The element count of a tensor field (ops that take a whole tensor without a count).
  std::size_t whole(const char* name);
  // Refuses fields the op did not read (a misspelled optional field must not pass silently).
  void check_unknown_fields();
  [[noreturn]] void fail_range(const std::string& name, const std::string& expected, const std::string& received);
  [[noreturn]] void fail_type(const std::string& name, const std::string& expected, const std::string& received);
  Napi::Env env() const { return env_; }
  const std::string& fn() const { return fn_; }

 private:
  Napi::Value get(const char* name);
  DevBuf read_buf(const char* name, DType dtype, std::size_t n, bool at_least);
  Napi::Env env_;
  std::string fn_;
  Napi::Object o_;
  std::vector<std::string> read_;
};

std::string describe(Napi::Value v);

// A small int32 buffer (ids, targets, lengths) copied to the host and checked against [lo, hi]
// (except: one more allowed value, such as an ignore index), with the CPU's message naming the
// element; returned for the kernels that use it on the host. Null: empty.
std::vector<std::int32_t> host_ints(DeviceArgs& a, const char* name, const DevBuf& b, std::int64_t lo, std::int64_t hi,
                                    std::int64_t except = INT64_MIN);

// The CPU's overlap rule: an output (named out) may share no byte with any other buffer of the
// call, except same_as when it is exactly the same range (an allowed alias, such as dKeys and
// dValues when keys and values are one buffer). Absent (null) buffers are skipped.
struct NamedBuf {
  std::string name;
  DevBuf buf;
};
void require_disjoint(DeviceArgs& a, const std::string& out, const std::vector<NamedBuf>& all,
                      const char* same_as = nullptr);

}  // namespace cuda
}  // namespace rnnkit
