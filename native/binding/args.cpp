#include "args.h"
#include "run.h"

#include "host_memory.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>

namespace rnnkit {
namespace binding {

namespace {
// The largest typed array Node allows is 2^32 elements on 64-bit builds; we also need
// byte sizes to stay far from overflow, so cap element counts at 2^40.
constexpr std::int64_t kMaxElements = std::int64_t(1) << 40;

std::string num(double v) {  // as JavaScript prints numbers
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}
const char* typed_array_name(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "TypedArray";
  }
}
}  // namespace

std::string describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsTypedArray()) {
    auto ta = v.As<Napi::TypedArray>();
    return std::string(typed_array_name(ta.TypedArrayType())) + " of length " + std::to_string(ta.ElementLength());
  }
  if (v.IsNumber()) return "number " + num(v.As<Napi::Number>().DoubleValue());
  if (v.IsBoolean()) return std::string("boolean ") + (v.As<Napi::Boolean>().Value() ? "true" : "false");
  if (v.IsString()) return "string \"" + v.As<Napi::String>().Utf8Value() + "\"";
  if (v.IsArray()) return "Array of length " + std::to_string(v.As<Napi::Array>().Length());
  if (v.IsArrayBuffer()) return "ArrayBuffer";
  if (v.IsFunction()) return "function";
  return "object";
}

namespace {
struct Builtins {
  Napi::FunctionReference resizable;  // ArrayBuffer.prototype's `resizable` getter (absent before Node 20)
};
constexpr std::size_t kMaxFields = 256;
}  // namespace

void capture_builtins(Napi::Env env) {
  auto* b = new Builtins();
  Napi::Value ab = env.Global().Get("ArrayBuffer");
  if (ab.IsFunction()) {
    Napi::Value proto = ab.As<Napi::Object>().Get("prototype");
    Napi::Value object = env.Global().Get("Object");
    if (proto.IsObject() && object.IsObject()) {
      Napi::Value gopd = object.As<Napi::Object>().Get("getOwnPropertyDescriptor");
      if (gopd.IsFunction()) {
        Napi::Value d = gopd.As<Napi::Function>().Call(object, {proto, Napi::String::New(env, "resizable")});
        if (d.IsObject()) {
          Napi::Value g = d.As<Napi::Object>().Get("get");
          if (g.IsFunction()) b->resizable = Napi::Persistent(g.As<Napi::Function>());
        }
      }
    }
  }
  env.SetInstanceData<Builtins>(b);
}

Staging::~Staging() {
  for (Entry& e : entries) {
    if (e.block)
      release_host_block(e.block);
    else
      staging_release(e.copy, e.bytes);
  }
}

Args::Args(const Napi::CallbackInfo& info, const char* fn, bool async) : env_(info.Env()), fn_(fn), async_(async) {
  if (info.Length() < 1 || !info[0].IsObject() || info[0].IsArray() || info[0].IsTypedArray() ||
      info[0].IsFunction()) {
    Napi::Value got = info.Length() < 1 ? env_.Undefined() : info[0];
    fail_type("argument", "an options object", describe(got));
  }
  Napi::Object obj = info[0].As<Napi::Object>();
  // Every field once, now: after this no JavaScript runs until the kernel is done (see args.h).
  napi_value keys_v = nullptr;
  if (napi_get_all_property_names(env_, obj, napi_key_include_prototypes,
                                  static_cast<napi_key_filter>(napi_key_enumerable | napi_key_skip_symbols),
                                  napi_key_numbers_to_strings, &keys_v) != napi_ok)
    throw Napi::Error::New(env_);
  Napi::Array keys(env_, keys_v);
  const std::uint32_t n = keys.Length();
  if (n > kMaxFields)
    fail_range("argument", "an options object with at most " + std::to_string(kMaxFields) + " fields",
               "an object with " + std::to_string(n) + " fields");
  fields_.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    Napi::Value k = keys.Get(i);
    if (!k.IsString()) continue;
    Field f;
    f.name = k.As<Napi::String>().Utf8Value();
    f.value = tensor_memory(obj.Get(k));
    if (f.value.IsArray()) {
      Napi::Array arr = f.value.As<Napi::Array>();
      f.is_array = true;
      f.array_length = arr.Length();
      if (f.array_length <= kMaxListLength)
        for (std::uint32_t j = 0; j < f.array_length; ++j) f.elements.push_back(tensor_memory(arr.Get(j)));
    }
    fields_.push_back(std::move(f));
  }
}

// A tensor of the CPU device (lib/device/cpu.ts) carries its typed array as `handle`: the
// kernels read that array, so the CPU device passes its argument objects through unchanged.
Napi::Value tensor_memory(const Napi::Value& v) {
  if (!v.IsObject() || v.IsTypedArray() || v.IsArray() || v.IsFunction()) return v;
  Napi::Value h = v.As<Napi::Object>().Get("handle");
  return h.IsTypedArray() ? h : v;
}

Napi::Value Args::get(const char* name) {
  for (Field& f : fields_)
    if (f.name == name) {
      f.used = true;
      return f.value;
    }
  return env_.Undefined();
}

std::vector<Napi::Value> Args::elements(const char* name, const std::string& expected) {
  for (Field& f : fields_)
    if (f.name == name) {
      f.used = true;
      if (!f.is_array) break;
      if (f.array_length > kMaxListLength) fail_range(name, expected, describe(f.value));
      return f.elements;
    }
  fail_type(name, expected, describe(get(name)));
}

void Args::check_unknown_fields() {
  for (const Field& f : fields_) {
    if (f.used || f.value.IsUndefined() || f.value.IsNull()) continue;
    std::string known;
    for (const Field& g : fields_)
      if (g.used) known += (known.empty() ? "" : ", ") + g.name;
    throw Napi::TypeError::New(env_, fn_ + ": unknown field '" + f.name + "' (received " + describe(f.value) +
                                         "); the fields read were: " + known);
  }
}

void* Args::stage(const Napi::Value& v, const std::string& name, void* p, std::size_t bytes) {
  if (!async_) return p;
  if (!staging_) staging_ = std::make_shared<Staging>();
  const auto orig = reinterpret_cast<std::uintptr_t>(p);
  // One buffer passed for two fields stays one buffer in the copy.
  for (const Staging::Entry& e : staging_->entries)
    if (e.orig == orig && e.bytes == bytes) return e.copy;
  Staging::Entry e;
  e.array = v;
  e.orig = orig;
  e.bytes = bytes;
  e.name = name;
  e.block = acquire_host_block(p, bytes);
  if (e.block) {
    e.copy = p;  // rnnkit's own memory: held, used in place
  } else {
    e.copy = staging_alloc(bytes);
    if (!e.copy)
      fail_range(name, "a buffer the async job can copy", describe(v) + " (" + std::to_string(bytes) +
                                                              " bytes could not be allocated)");
    std::memcpy(e.copy, p, bytes);
  }
  void* out = e.copy;
  staging_->entries.push_back(std::move(e));
  return out;
}

void Args::mark_output(const std::string& name) {
  if (!staging_) return;
  for (const Range& r : ranges_)
    if (r.name == name)
      for (Staging::Entry& e : staging_->entries)
        if (e.orig == r.lo) e.output = true;
}

void Args::fail_range(const std::string& field, const std::string& expected, const std::string& received) const {
  throw Napi::RangeError::New(env_, fn_ + ": " + field + " must be " + expected + ", received " + received);
}
void Args::fail_type(const std::string& field, const std::string& expected, const std::string& received) const {
  throw Napi::TypeError::New(env_, fn_ + ": " + field + " must be " + expected + ", received " + received);
}

std::int64_t Args::integer(const char* name, std::int64_t lo, std::int64_t hi) {
  Napi::Value v = get(name);
  // Messages are built only on failure: formatting them costs more than a small kernel.
  auto expected = [&] { return "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]"; };
  if (!v.IsNumber()) fail_type(name, expected(), describe(v));
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(lo) || d > static_cast<double>(hi))
    fail_range(name, expected(), describe(v));
  return static_cast<std::int64_t>(d);
}
std::int64_t Args::integer(const char* name, std::int64_t lo, std::int64_t hi, std::int64_t def) {
  Napi::Value v = get(name);
  if (v.IsUndefined()) return def;
  return integer(name, lo, hi);
}

double Args::number(const char* name, double lo, double hi) {
  Napi::Value v = get(name);
  auto expected = [&] { return "a finite number in [" + num(lo) + ", " + num(hi) + "]"; };
  if (!v.IsNumber()) fail_type(name, expected(), describe(v));
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d < lo || d > hi) fail_range(name, expected(), describe(v));
  return d;
}
double Args::number(const char* name, double lo, double hi, double def) {
  Napi::Value v = get(name);
  if (v.IsUndefined()) return def;
  return number(name, lo, hi);
}

bool Args::boolean(const char* name, bool def) {
  Napi::Value v = get(name);
  if (v.IsUndefined()) return def;
  if (!v.IsBoolean()) fail_type(name, "a boolean", describe(v));
  return v.As<Napi::Boolean>().Value();
}

int Args::choice(const char* name, std::initializer_list<const char*> options, int def) {
  return choice(name, std::vector<const char*>(options), def);
}

int Args::choice(const char* name, const std::vector<const char*>& options, int def) {
  Napi::Value v = get(name);
  auto expected = [&] {
    std::string e = "one of";
    for (const char* o : options) e += std::string(" '") + o + "'";
    return e;
  };
  if (v.IsUndefined() && def >= 0) return def;
  if (!v.IsString()) fail_type(name, expected(), describe(v));
  std::string s = v.As<Napi::String>().Utf8Value();
  int i = 0;
  for (const char* o : options) {
    if (s == o) return i;
    ++i;
  }
  fail_range(name, expected(), describe(v));
}

Dtype Args::dtype_of(const char* name) {
  Napi::Value v = get(name);
  if (v.IsTypedArray()) {
    auto t = v.As<Napi::TypedArray>().TypedArrayType();
    if (t == napi_float32_array) return Dtype::F32;
    if (t == napi_float64_array) return Dtype::F64;
  }
  fail_type(name, "a Float32Array or Float64Array", describe(v));
}

std::int64_t Args::product(std::initializer_list<std::int64_t> dims, const char* what) {
  std::int64_t p = 1;
  for (std::int64_t d : dims) {
    if (d != 0 && p > kMaxElements / d) fail_range(what, "at most 2^40 elements", "a size that overflows");
    p *= d;
  }
  return p;
}

FloatView Args::floats(const char* name, Dtype dt, std::int64_t length, const std::string& shape, bool required) {
  return floats_value(get(name), name, dt, length, shape, required);
}

FloatView Args::floats_at_least(const char* name, Dtype dt, std::int64_t min_length, const std::string& shape,
                                bool required) {
  Napi::Value v = get(name);
  if (v.IsTypedArray()) {
    auto len = static_cast<std::int64_t>(v.As<Napi::TypedArray>().ElementLength());
    if (len < min_length)
      fail_range(name, "a " + dtype_name(dt) + " of length at least " + std::to_string(min_length) + " " + shape,
                 describe(v));
    return floats_value(v, name, dt, len, shape, required);
  }
  return floats_value(v, name, dt, min_length, shape, required);
}

// What backs a typed array must be a plain, fixed-size ArrayBuffer that is still attached: a
// SharedArrayBuffer can change under a running kernel from another thread, and a resizable one
// can shrink while an async job runs.
std::string Args::backing_problem(const Napi::Value& v, TypedInfo& info) {
  napi_value ab = nullptr;
  if (napi_get_typedarray_info(env_, v, &info.type, &info.length, &info.data, &ab, &info.offset) != napi_ok ||
      ab == nullptr)
    return describe(v);
  // A CPU tensor's memory (host_memory.h) is an external ArrayBuffer rnnkit made: plain and
  // fixed-size, so the getter call below (most of a small call's checking) is not needed.
  // Detached, its typed array has no data and takes the full checks.
  static const std::size_t kElem[] = {1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8};
  if (info.data && info.type >= 0 && info.type <= napi_biguint64_array &&
      is_host_memory(info.data, info.length * kElem[info.type]))
    return std::string();
  bool plain = false;
  napi_is_arraybuffer(env_, ab, &plain);
  if (!plain) return describe(v) + " backed by a SharedArrayBuffer (copy it into a plain typed array)";
  bool detached = false;
  napi_is_detached_arraybuffer(env_, ab, &detached);
  if (detached) return "a detached buffer";
  Builtins* b = env_.GetInstanceData<Builtins>();
  Napi::Value resizable = b && !b->resizable.IsEmpty() ? b->resizable.Call(Napi::Value(env_, ab), {}) : env_.Undefined();
  if (resizable.IsBoolean() && resizable.As<Napi::Boolean>().Value())
    return describe(v) + " backed by a resizable ArrayBuffer (copy it into a fixed-size one)";
  return std::string();
}

FloatView Args::floats_value(const Napi::Value& given, const std::string& name, Dtype dt, std::int64_t length,
                             const std::string& shape, bool required) {
  const Napi::Value& v = given;
  FloatView out;
  const std::int64_t want = length;
  auto expected = [&] {
    return "a " + dtype_name(dt) + (want >= 0 ? " of length " + std::to_string(want) + " " + shape : "");
  };
  if (!required && (v.IsUndefined() || v.IsNull())) return out;
  if (!v.IsTypedArray()) fail_type(name, expected(), describe(v));
  TypedInfo info;
  const std::string problem = backing_problem(v, info);
  if (!problem.empty()) fail_type(name, expected(), problem);
  if (info.type != (dt == Dtype::F32 ? napi_float32_array : napi_float64_array)) fail_type(name, expected(), describe(v));
  if (length < 0) length = static_cast<std::int64_t>(info.length);
  if (static_cast<std::int64_t>(info.length) != length) fail_range(name, expected(), describe(v));
  out.length = length;
  out.dtype = dt;
  // napi_get_typedarray_info's data already includes the byte offset
  out.data = info.data;
  if (!out.data) {
    // A zero-length or detached buffer: kernels get a valid dummy pointer for zero sizes.
    if (length != 0) fail_type(name, expected(), "a detached buffer");
    static double dummy;
    out.data = &dummy;
  }
  std::uintptr_t lo = reinterpret_cast<std::uintptr_t>(out.data);
  const std::size_t bytes = static_cast<std::size_t>(length) * (dt == Dtype::F32 ? 4 : 8);
  ranges_.push_back({name, lo, lo + bytes});
  if (length != 0) out.data = stage(v, name, out.data, bytes);
  return out;
}

void* Args::typed(const char* name, napi_typedarray_type type, const char* type_name, std::int64_t length,
                   std::size_t elem_bytes, const std::string& shape, bool required) {
  Napi::Value v = get(name);
  auto expected = [&] {
    return std::string(type_name[0] == 'I' ? "an " : "a ") + type_name + " of length " + std::to_string(length) +
           " " + shape;
  };
  if (!required && (v.IsUndefined() || v.IsNull())) return nullptr;
  if (!v.IsTypedArray()) fail_type(name, expected(), describe(v));
  TypedInfo info;
  const std::string problem = backing_problem(v, info);
  if (!problem.empty()) fail_type(name, expected(), problem);
  if (info.type != type) fail_type(name, expected(), describe(v));
  if (static_cast<std::int64_t>(info.length) != length) fail_range(name, expected(), describe(v));
  if (length == 0) { static std::int64_t dummy; return &dummy; }
  char* base = static_cast<char*>(info.data);
  if (!base) fail_type(name, expected(), "a detached buffer");
  std::uintptr_t p = reinterpret_cast<std::uintptr_t>(base);
  const std::size_t bytes = static_cast<std::size_t>(length) * elem_bytes;
  ranges_.push_back({name, p, p + bytes});
  return stage(v, name, reinterpret_cast<void*>(p), bytes);
}

const std::int32_t* Args::ints(const char* name, std::int64_t length, const std::string& shape,
                               std::int64_t lo, std::int64_t hi, bool required, std::int64_t except) {
  auto* p = static_cast<const std::int32_t*>(typed(name, napi_int32_array, "Int32Array", length, 4, shape, required));
  for (std::int64_t i = 0; p && i < length; ++i) {
    if (p[i] == except) continue;
    if (p[i] < lo || p[i] > hi) {
      std::string range = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
      if (except != INT64_MIN) range += " or " + std::to_string(except);
      fail_range(std::string(name) + "[" + std::to_string(i) + "]", range, "number " + std::to_string(p[i]));
    }
  }
  return p;
}

const std::uint8_t* Args::bytes(const char* name, std::int64_t length, const std::string& shape, bool required) {
  return static_cast<const std::uint8_t*>(typed(name, napi_uint8_array, "Uint8Array", length, 1, shape, required));
}

std::uint32_t* Args::u32s(const char* name, std::int64_t length, const std::string& shape) {
  auto* p = static_cast<std::uint32_t*>(typed(name, napi_uint32_array, "Uint32Array", length, 4, shape, true));
  mark_output(name);
  return p;
}

namespace {
// One branch-free pass over the exponent bits (all ones: Inf or NaN), which the compiler
// vectorizes; the element-wise search below runs only when it finds one.
template <typename Bits>
bool any_non_finite(const void* data, std::int64_t n, Bits exponent) {
  const Bits* p = static_cast<const Bits*>(data);
  Bits bad = 0;
  for (std::int64_t i = 0; i < n; ++i) bad |= static_cast<Bits>((p[i] & exponent) == exponent);
  return bad != 0;
}
}  // namespace

void require_finite_values(Napi::Env env, const std::string& fn, const std::string& name, const void* data,
                           std::int64_t n, Dtype dt) {
  const bool bad = dt == Dtype::F32 ? any_non_finite<std::uint32_t>(data, n, 0x7f800000u)
                                    : any_non_finite<std::uint64_t>(data, n, 0x7ff0000000000000ull);
  if (!bad) return;
  for (std::int64_t i = 0; i < n; ++i) {
    double d = dt == Dtype::F32 ? static_cast<double>(static_cast<const float*>(data)[i])
                                : static_cast<const double*>(data)[i];
    if (!std::isfinite(d)) {
      // A structured flag for callers that must tell divergence from bad input (never the text).
      Napi::Error e = Napi::RangeError::New(env, fn + ": " + name + "[" + std::to_string(i) +
                                                     "] must be a finite number, received number " + num(d));
      e.Set("code", Napi::String::New(env, "ERR_RNNKIT_NON_FINITE"));
      throw e;
    }
  }
}

void Args::require_finite(const char* name, const FloatView& v) {
  if (!v.present()) return;
  require_finite_values(env_, fn_, name, v.data, v.length, v.dtype);
}

std::int32_t* Args::ints_out(const char* name, std::int64_t length, const std::string& shape, bool required) {
  auto* p = static_cast<std::int32_t*>(typed(name, napi_int32_array, "Int32Array", length, 4, shape, required));
  mark_output(name);
  return p;
}

void Args::require_disjoint(const char* name, const FloatView& out) {
  if (!out.present()) return;
  require_disjoint(name, out.data, out.length * (out.dtype == Dtype::F32 ? 4 : 8));
}

// Overlap is judged on where the caller's buffers are (`ranges_`), never on an async job's copies.
void Args::require_disjoint(const char* name, const void* p, std::int64_t bytes) {
  require_disjoint_except(name, p, bytes, nullptr);
}

void Args::require_disjoint_except(const char* name, const FloatView& out, const char* same_as) {
  if (!out.present()) return;
  require_disjoint_except(name, out.data, out.length * (out.dtype == Dtype::F32 ? 4 : 8), same_as);
}

void Args::require_disjoint_except(const char* name, const void* p, std::int64_t bytes, const char* same_as) {
  if (!p || bytes == 0) return;
  std::uintptr_t lo = 0, hi = 0;
  bool found = false;
  for (const Range& r : ranges_)
    if (r.name == name) lo = r.lo, hi = r.hi, found = true;
  if (!found) lo = reinterpret_cast<std::uintptr_t>(p), hi = lo + static_cast<std::uintptr_t>(bytes);
  for (const Range& r : ranges_) {
    if (r.name == name || r.lo == r.hi) continue;
    if (same_as && r.name == same_as && r.lo == lo && r.hi == hi) continue;
    if (lo < r.hi && r.lo < hi)
      fail_range(name, std::string("a buffer that does not overlap ") + r.name, "an overlapping view");
  }
  mark_output(name);
}

}  // namespace binding
}  // namespace rnnkit
