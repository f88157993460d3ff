#include "device_args.h"

#include <cmath>
#include <cstdio>

#include "../runtime.h"

namespace rnnkit {
namespace cuda {

namespace {
// Marks the Externals this addon made, so a foreign External is refused, not dereferenced.
const napi_type_tag kBlockTag = {0x726e6e6b69746375ULL, 0x6461626c6f636b31ULL};
}  // namespace

const char* dtype_name(DType d) {
  switch (d) {
    case DType::F32: return "float32";
    case DType::F64: return "float64";
    case DType::I32: return "int32";
    default: return "uint8";
  }
}
std::size_t dtype_size(DType d) { return d == DType::F64 ? 8 : d == DType::U8 ? 1 : 4; }

std::string describe(Napi::Value v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsBoolean()) return std::string("boolean ") + (v.As<Napi::Boolean>().Value() ? "true" : "false");
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    char buf[64];
    std::snprintf(buf, sizeof buf, "number %.17g", d);
    return buf;
  }
  if (v.IsString()) return "string \"" + v.As<Napi::String>().Utf8Value().substr(0, 40) + "\"";
  if (v.IsArray()) return "an Array";
  if (v.IsTypedArray()) return "a typed array (host memory)";
  if (v.IsFunction()) return "a function";
  return "an object";
}

// Each block is reported to V8 as external memory, so that garbage collection runs when
// unreachable tensors hold much GPU memory (V8 cannot see it otherwise).
Napi::Value wrap_block(Napi::Env env, Block* b) {
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<std::int64_t>(b->bytes));
  auto ext = Napi::External<Block>::New(env, b, [](Napi::Env e, Block* blk) {
    if (!blk->freed) {
      device_free(blk->p);
      note_freed(blk->bytes);
      Napi::MemoryManagement::AdjustExternalMemory(e, -static_cast<std::int64_t>(blk->bytes));
    }
    delete blk;
  });
  ext.TypeTag(&kBlockTag);
  return ext;
}

Block* unwrap_block(Napi::Env env, Napi::Value v, const std::string& what) {
  if (!v.IsExternal() || !v.As<Napi::External<Block>>().CheckTypeTag(&kBlockTag))
    throw Napi::TypeError::New(env, what + " must be a cuda memory block, received " + describe(v));
  Block* b = v.As<Napi::External<Block>>().Data();
  if (b->freed) throw Napi::Error::New(env, what + ": the tensor's memory was freed (dispose)");
  return b;
}

DeviceArgs::DeviceArgs(const Napi::CallbackInfo& info, const char* fn) : env_(info.Env()), fn_(fn) {
  if (info.Length() < 1 || !info[0].IsObject() || info[0].IsArray())
    throw Napi::TypeError::New(env_, fn_ + ": expected an options object, received " +
                                         (info.Length() < 1 ? std::string("no argument") : describe(info[0])));
  o_ = info[0].As<Napi::Object>();
}

Napi::Value DeviceArgs::get(const char* name) {
  read_.emplace_back(name);
  return o_.Get(name);
}

void DeviceArgs::product(std::initializer_list<std::int64_t> dims, const char* what) {
  constexpr std::int64_t kMax = std::int64_t(1) << 40;
  std::int64_t p = 1;
  for (std::int64_t d : dims) {
    if (d != 0 && p > kMax / d) fail_range(what, "at most 2^40 elements", "a size that overflows");
    p *= d;
  }
}

std::size_t DeviceArgs::whole(const char* name) {
  Napi::Value v = o_.Get(name);  // not marked read: buf() reads it
  if (!v.IsArray() || v.As<Napi::Array>().Length() != 4 || !v.As<Napi::Array>().Get(2u).IsNumber())
    fail_type(name, "a cuda tensor", describe(v));
  return static_cast<std::size_t>(v.As<Napi::Array>().Get(2u).As<Napi::Number>().DoubleValue());
}

void DeviceArgs::check_unknown_fields() {
  Napi::Array keys = o_.GetPropertyNames();
  for (std::uint32_t i = 0; i < keys.Length(); ++i) {
    std::string k = keys.Get(i).As<Napi::String>().Utf8Value();
    Napi::Value v = o_.Get(k);
    if (v.IsUndefined() || v.IsNull()) continue;  // an absent optional field, as on the CPU
    bool known = false;
    for (const auto& r : read_) known = known || r == k;
    if (known) continue;
    std::string list;
    for (const auto& r : read_)
      if (list.find(r) == std::string::npos) list += (list.empty() ? "" : ", ") + r;
    throw Napi::TypeError::New(env_, fn_ + ": unknown field '" + k + "' (received " + describe(v) + "); the fields read were: " + list);
  }
}
bool DeviceArgs::has(const char* name) {
  Napi::Value v = get(name);
  return !v.IsUndefined() && !v.IsNull();
}

void DeviceArgs::fail_range(const std::string& name, const std::string& expected, const std::string& received) {
  throw Napi::RangeError::New(env_, fn_ + ": " + name + " must be " + expected + ", received " + received);
}
void DeviceArgs::fail_type(const std::string& name, const std::string& expected, const std::string& received) {
  throw Napi::TypeError::New(env_, fn_ + ": " + name + " must be " + expected + ", received " + received);
}

std::int64_t DeviceArgs::integer(const char* name, std::int64_t lo, std::int64_t hi) {
  Napi::Value v = get(name);
  const std::string range = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  if (!v.IsNumber()) fail_type(name, range, describe(v));
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d == std::floor(d)) || d < static_cast<double>(lo) || d > static_cast<double>(hi))
    fail_range(name, range, describe(v));
  return static_cast<std::int64_t>(d);
}
// As the CPU's Args: a default stands in only for an absent (undefined) field; null is refused.
std::int64_t DeviceArgs::integer_or(const char* name, std::int64_t lo, std::int64_t hi, std::int64_t dflt) {
  return get(name).IsUndefined() ? dflt : integer(name, lo, hi);
}
double DeviceArgs::number(const char* name) {
  Napi::Value v = get(name);
  if (!v.IsNumber()) fail_type(name, "a finite number", describe(v));
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) fail_range(name, "a finite number", describe(v));
  return d;
}
double DeviceArgs::number_or(const char* name, double dflt) { return get(name).IsUndefined() ? dflt : number(name); }
bool DeviceArgs::boolean_or(const char* name, bool dflt) {
  Napi::Value v = get(name);
  if (v.IsUndefined()) return dflt;
  if (!v.IsBoolean()) fail_type(name, "a boolean", describe(v));
  return v.As<Napi::Boolean>().Value();
}
int DeviceArgs::choice(const char* name, std::initializer_list<const char*> choices, int dflt) {
  Napi::Value v = get(name);
  std::string list;
  for (const char* c : choices) list += (list.empty() ? "" : ", ") + std::string("'") + c + "'";
  if (v.IsUndefined() && dflt >= 0) return dflt;
  if (!v.IsString()) fail_type(name, "one of " + list, describe(v));
  std::string s = v.As<Napi::String>().Utf8Value();
  int i = 0;
  for (const char* c : choices) {
    if (s == c) return i;
    ++i;
  }
  fail_range(name, "one of " + list, describe(v));
}

DevBuf DeviceArgs::buf(const char* name, DType dtype, std::size_t n) { return read_buf(name, dtype, n, false); }

DevBuf DeviceArgs::buf_at_least(const char* name, DType dtype, std::size_t n, bool required) {
  if (!required && !has(name)) return DevBuf{nullptr, 0, dtype};
  return read_buf(name, dtype, n, true);
}

DevBuf DeviceArgs::read_buf(const char* name, DType dtype, std::size_t n, bool at_least) {
  Napi::Value v = get(name);
  const std::string expected = std::string("a ") + dtype_name(dtype) + " cuda tensor of " + (at_least ? "at least " : "") +
                               std::to_string(n) + " elements";
  if (!v.IsArray()) fail_type(name, expected, describe(v));
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() != 4) fail_type(name, expected, "a malformed tensor reference");
  Block* b = unwrap_block(env_, a.Get(0u), fn_ + ": " + name);
  Napi::Value off = a.Get(1u), len = a.Get(2u), dt = a.Get(3u);
  if (!off.IsNumber() || !len.IsNumber() || !dt.IsNumber()) fail_type(name, expected, "a malformed tensor reference");
  double o = off.As<Napi::Number>().DoubleValue(), l = len.As<Napi::Number>().DoubleValue();
  int d = dt.As<Napi::Number>().Int32Value();
  if (d != static_cast<int>(dtype)) fail_type(name, expected, std::string("a ") + dtype_name(static_cast<DType>(d & 3)) + " tensor");
  if (at_least ? l < static_cast<double>(n) : l != static_cast<double>(n))
    fail_range(name, expected, std::to_string(static_cast<long long>(l)) + " elements");
  const double end = o + l * static_cast<double>(dtype_size(dtype));
  if (!(o >= 0) || o != std::floor(o) || end > static_cast<double>(b->bytes))
    fail_range(name, "a range inside its memory block of " + std::to_string(b->bytes) + " bytes",
               "bytes [" + std::to_string(static_cast<long long>(o)) + ", " + std::to_string(static_cast<long long>(end)) + ")");
  DevBuf r;
  r.p = static_cast<char*>(b->p) + static_cast<std::size_t>(o);
  r.n = n;
  r.dtype = dtype;
  return r;
}

DevBuf DeviceArgs::opt_buf(const char* name, DType dtype, std::size_t n) {
  if (!has(name)) return DevBuf{nullptr, 0, dtype};
  return buf(name, dtype, n);
}

std::vector<std::int32_t> host_ints(DeviceArgs& a, const char* name, const DevBuf& b, std::int64_t lo, std::int64_t hi,
                                    std::int64_t except) {
  std::vector<std::int32_t> v(b.p ? b.n : 0);
  if (v.empty()) return v;
  to_host(v.data(), b.p, v.size() * sizeof(std::int32_t));
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == except) continue;
    if (v[i] < lo || v[i] > hi) {
      std::string range = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
      if (except != INT64_MIN) range += " or " + std::to_string(except);
      a.fail_range(std::string(name) + "[" + std::to_string(i) + "]", range, "number " + std::to_string(v[i]));
    }
  }
  return v;
}

void require_disjoint(DeviceArgs& a, const std::string& out, const std::vector<NamedBuf>& all, const char* same_as) {
  const NamedBuf* o = nullptr;
  for (const NamedBuf& x : all)
    if (x.name == out) o = &x;
  if (!o || !o->buf.p || o->buf.n == 0) return;
  const auto lo = reinterpret_cast<std::uintptr_t>(o->buf.p), hi = lo + o->buf.n * dtype_size(o->buf.dtype);
  for (const NamedBuf& x : all) {
    if (&x == o || !x.buf.p || x.buf.n == 0) continue;
    const auto l = reinterpret_cast<std::uintptr_t>(x.buf.p), h = l + x.buf.n * dtype_size(x.buf.dtype);
    if (same_as && x.name == same_as && l == lo && h == hi) continue;
    if (lo < h && l < hi) a.fail_range(out, "a buffer that does not overlap " + x.name, "an overlapping view");
  }
}

DType DeviceArgs::float_dtype(const char* name) {
  Napi::Value v = get(name);
  if (v.IsArray() && v.As<Napi::Array>().Length() == 4) {
    Napi::Value dt = v.As<Napi::Array>().Get(3u);
    if (dt.IsNumber()) {
      int d = dt.As<Napi::Number>().Int32Value();
      if (d == 0 || d == 1) return static_cast<DType>(d);
    }
  }
  fail_type(name, "a float32 or float64 cuda tensor", describe(v));
}

}  // namespace cuda
}  // namespace rnnkit
