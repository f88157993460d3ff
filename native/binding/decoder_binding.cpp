// decoderPlan / decoderStep: one native call per decoder step of a Seq2Seq (embedding, the
// recurrent stack stepped from its state, Luong attention, output head, log-softmax, top-k),
// where the step API (lib/models/seq2seq-decoder.ts) makes about a dozen calls, each of which
// reads and checks an options object. The plan is checked once per decoding call through Args
// like any other call, then holds every buffer's memory block (host_memory.h): JavaScript runs
// between steps, and a block cannot be freed or moved while the plan holds it. A step trusts
// what the plan checked and checks what it is given (rows, ids, parents, encoder columns). The kernels are the ones the separate calls run, in the
// same order, so the results are the same bit for bit.
#include <cmath>
#include <cstring>
#include <memory>
#include <type_traits>
#include <string>
#include <vector>

#include "../kernels/attention.h"
#include "../kernels/elementwise.h"
#include "../kernels/gemm.h"
#include "../kernels/ops.h"
#include "../kernels/rnn.h"
#include "../kernels/rows.h"
#include "bindings.h"
#include "host_memory.h"

namespace rnnkit {
namespace binding {

namespace {
constexpr std::int64_t kMaxDim = 2147483647;
constexpr std::int64_t kMaxLayers = Args::kMaxListLength;
const napi_type_tag kPlanTag = {0x726e6e6b69746470ull, 0x6c616e7630303031ull};  // "rnnkitdplanv0001"

struct Span {
  std::string name;
  std::uintptr_t lo, hi;
};

struct Plan {
  Dtype dt = Dtype::F32;
  RnnShape cell;  // T = 1; B, I set per step and layer
  index_t L = 0, H = 0, E = 0, Vin = 0, V = 0, maxRows = 0, S = 0, He = 0, k = 0, R0 = 0;
  // inputs (the weights and the encoder's state)
  const void *wEmb = nullptr, *wC = nullptr, *wOut = nullptr, *bOut = nullptr;
  std::vector<const void*> wIh, wHh, bIh, bHh, h0, c0;
  // buffers the steps write (ids and parents the caller writes before each step)
  std::int32_t *ids = nullptr, *parents = nullptr, *indices = nullptr;
  void *emb = nullptr, *alpha = nullptr, *context = nullptr, *cat = nullptr, *pre = nullptr, *out = nullptr,
       *logits = nullptr, *lp = nullptr, *values = nullptr;
  std::vector<void*> h[2], c[2];
  int cur = -1;  // the state the next step continues: -1 the encoder's, else buffer set 0 or 1
  index_t curRows = 0;
  std::vector<Span> outputs;  // where the steps write (encoder columns must not overlap them)
  // float32 weights packed once for the built-in GEMM (gemm.h), made at the first step of more
  // rows than the small-M kernel takes: beam search re-packed every weight at every step.
  std::vector<std::unique_ptr<PackedWeights>> packed;
  std::vector<const PackedWeights*> packed_list;
  bool packed_done = false;
  std::vector<HostBlock*> blocks;
  ~Plan() {
    for (HostBlock* b : blocks) release_host_block(b);
  }
};

// The block that holds a checked buffer, held by the plan: a buffer that is not rnnkit's own
// memory cannot be kept (user code could free or move it between steps), so it is refused.
void hold(Args& a, Plan& p, const char* name, const void* data, std::int64_t bytes) {
  if (!data || bytes == 0) return;
  HostBlock* b = acquire_host_block(data, static_cast<std::size_t>(bytes));
  if (!b) a.fail_type(name, "a tensor of the CPU device (memory rnnkit allocated)", "a typed array of other memory");
  p.blocks.push_back(b);
}

std::size_t elem(Dtype dt) { return dt == Dtype::F32 ? 4 : 8; }

// One float field of the plan, checked and held; `out` adds it to the spans steps write.
void* plan_floats(Args& a, Plan& p, const char* name, std::int64_t length, const std::string& shape,
                  bool required, bool out) {
  FloatView v = a.floats(name, p.dt, length, shape, required);
  if (!v.present()) return nullptr;
  const std::int64_t bytes = length * static_cast<std::int64_t>(elem(p.dt));
  hold(a, p, name, v.data, bytes);
  if (out) {
    a.require_disjoint(name, v);
    const auto lo = reinterpret_cast<std::uintptr_t>(v.data);
    p.outputs.push_back({name, lo, lo + static_cast<std::uintptr_t>(bytes)});
  }
  return v.data;
}

// A list field of `n` float buffers (one per layer), each checked and held.
std::vector<const void*> plan_list(Args& a, Plan& p, const char* name, std::int64_t n, std::int64_t length,
                                   const std::string& shape, bool required, bool out,
                                   std::vector<void*>* written = nullptr) {
  std::vector<const void*> r(static_cast<std::size_t>(n), nullptr);
  Napi::Value f = a.field(name);
  if (!required && (f.IsUndefined() || f.IsNull())) return r;
  const std::string expected = "an Array of " + std::to_string(n) + " tensors";
  std::vector<Napi::Value> els = a.elements(name, expected);
  if (static_cast<std::int64_t>(els.size()) != n)
    a.fail_range(name, expected, "an Array of length " + std::to_string(els.size()));
  for (std::int64_t l = 0; l < n; ++l) {
    const std::string en = std::string(name) + "[" + std::to_string(l) + "]";
    FloatView v = a.floats_value(els[static_cast<std::size_t>(l)], en, p.dt, length, shape, true);
    const std::int64_t bytes = length * static_cast<std::int64_t>(elem(p.dt));
    hold(a, p, en.c_str(), v.data, bytes);
    if (out) {
      a.require_disjoint(en.c_str(), v);
      const auto lo = reinterpret_cast<std::uintptr_t>(v.data);
      p.outputs.push_back({en, lo, lo + static_cast<std::uintptr_t>(bytes)});
      if (written) written->push_back(v.data);
    }
    r[static_cast<std::size_t>(l)] = v.data;
  }
  return r;
}

std::int32_t* plan_ints(Args& a, Plan& p, const char* name, std::int64_t length, bool out) {
  std::int32_t* v = a.ints_out(name, length, "[" + std::to_string(length) + "]", true);
  hold(a, p, name, v, length * 4);
  const auto lo = reinterpret_cast<std::uintptr_t>(v);
  if (out) {
    a.require_disjoint(name, v, length * 4);
    p.outputs.push_back({name, lo, lo + static_cast<std::uintptr_t>(length * 4)});
  }
  return v;
}

void finalize_plan(napi_env, void* data, void*) { delete static_cast<Plan*>(data); }

Plan* plan_of(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool ok = false;
  if (info.Length() >= 1 && info[0].IsExternal()) napi_check_object_type_tag(env, info[0], &kPlanTag, &ok);
  if (!ok)
    throw Napi::TypeError::New(env, "decoderStep: plan must be an object made by decoderPlan, received " +
                                        describe(info.Length() >= 1 ? info[0] : env.Undefined()));
  return info[0].As<Napi::External<Plan>>().Data();
}

// An encoder-side buffer of one step: a typed array of exactly `length` elements over a plain
// ArrayBuffer (a SharedArrayBuffer could change while the kernels run), not overlapping what the
// step writes. No JavaScript runs between this check and the step's end.
const void* step_buffer(const Napi::CallbackInfo& info, std::size_t i, const char* name, napi_typedarray_type type,
                        const char* type_name, std::int64_t length, std::size_t esize, const Plan& p,
                        bool optional) {
  Napi::Env env = info.Env();
  Napi::Value v = info.Length() > i ? tensor_memory(info[i]) : env.Undefined();
  if (optional && (v.IsUndefined() || v.IsNull())) return nullptr;
  const std::string expected = std::string("a ") + type_name + " of length " + std::to_string(length);
  const auto fail = [&](const std::string& got, bool range) -> const void* {
    const std::string m = std::string("decoderStep: ") + name + " must be " + expected + ", received " + got;
    if (range) throw Napi::RangeError::New(env, m);
    throw Napi::TypeError::New(env, m);
  };
  napi_typedarray_type t;
  size_t len = 0, off = 0;
  void* data = nullptr;
  napi_value ab = nullptr;
  if (!v.IsTypedArray() || napi_get_typedarray_info(env, v, &t, &len, &data, &ab, &off) != napi_ok || t != type)
    return fail(describe(v), false);
  bool plain = false, detached = false;
  napi_is_arraybuffer(env, ab, &plain);
  if (!plain) return fail(describe(v) + " backed by a SharedArrayBuffer", false);
  napi_is_detached_arraybuffer(env, ab, &detached);
  if (detached || !data) return fail("a detached buffer", false);
  if (static_cast<std::int64_t>(len) != length) return fail(describe(v), true);
  const auto lo = reinterpret_cast<std::uintptr_t>(data), hi = lo + static_cast<std::size_t>(length) * esize;
  for (const Span& s : p.outputs)
    if (lo < s.hi && s.lo < hi)
      throw Napi::RangeError::New(env, std::string("decoderStep: ") + name + " must be a buffer that does not overlap " +
                                           s.name + ", received an overlapping view");
  return data;
}

template <typename T>
void check(Napi::Env env, const char* what, const void* data, std::int64_t n) {
  require_finite_values(env, "decoderStep", what, data, n, sizeof(T) == 4 ? Dtype::F32 : Dtype::F64);
}

void pack_plan(Plan& p) {
  p.packed_done = true;
  const index_t G = gate_count(p.cell.cell), H = p.H;
  auto add = [&](const void* w, index_t N, index_t K) {
    if (!w) return;
    auto pw = std::make_unique<PackedWeights>();
    pack_weights(*pw, static_cast<const float*>(w), N, K, K);
    p.packed_list.push_back(pw.get());
    p.packed.push_back(std::move(pw));
  };
  for (index_t l = 0; l < p.L; ++l) {
    add(p.wIh[l], G * H, l == 0 ? p.E : H);
    add(p.wHh[l], G * H, H);
  }
  if (p.He > 0) add(p.wC, H, p.He + H);
  add(p.wOut, p.V, H);
}

template <typename T>
void run_step(Napi::Env env, Plan& p, index_t R, bool withParents, const T* enc, const T* keys,
              const std::int32_t* lengths) {
  const index_t H = p.H;
  if constexpr (std::is_same<T, float>::value)
    if (!p.packed_done && builtin_packs(R)) pack_plan(p);
  PackedWeightsScope scope(p.packed_list.data(), static_cast<int>(p.packed_list.size()));
  embedding_forward<T>(R, p.E, p.ids, static_cast<const T*>(p.wEmb), static_cast<T*>(p.emb));
  // The state this step continues, and the buffer set it writes (never the one it reads).
  std::vector<const T*> fh(p.L), fc(p.L, nullptr);
  for (index_t l = 0; l < p.L; ++l) {
    fh[l] = static_cast<const T*>(p.cur < 0 ? p.h0[l] : p.h[p.cur][l]);
    if (p.cell.cell == CellType::LSTM) fc[l] = static_cast<const T*>(p.cur < 0 ? p.c0[l] : p.c[p.cur][l]);
  }
  int to;
  if (withParents) {
    const int g = p.cur == 0 ? 1 : 0;  // the parents' rows gathered into set g, the step written into the other
    for (index_t l = 0; l < p.L; ++l) {
      gather_rows<T>(R, H, fh[l], p.parents, static_cast<T*>(p.h[g][l]));
      fh[l] = static_cast<const T*>(p.h[g][l]);
      if (fc[l]) {
        gather_rows<T>(R, H, fc[l], p.parents, static_cast<T*>(p.c[g][l]));
        fc[l] = static_cast<const T*>(p.c[g][l]);
      }
    }
    to = 1 - g;
  } else {
    to = p.cur == 0 ? 1 : 0;
  }
  const T* inp = static_cast<const T*>(p.emb);
  index_t inF = p.E;
  for (index_t l = 0; l < p.L; ++l) {
    check<T>(env, l == 0 ? "x" : "h (layer input)", inp, R * inF);
    check<T>(env, "h0", fh[l], R * H);
    if (fc[l]) check<T>(env, "c0", fc[l], R * H);
    RnnShape s = p.cell;
    s.T = 1;
    s.B = R;
    s.I = inF;
    s.H = H;
    s.ldy = H;
    T* ch = p.cell.cell == CellType::LSTM ? static_cast<T*>(p.c[to][l]) : nullptr;
    rnn_forward<T>(s, inp, fh[l], fc[l], nullptr, static_cast<const T*>(p.wIh[l]), static_cast<const T*>(p.wHh[l]),
                   static_cast<const T*>(p.bIh[l]), static_cast<const T*>(p.bHh[l]), static_cast<T*>(p.h[to][l]),
                   nullptr, ch, nullptr);
    inp = static_cast<const T*>(p.h[to][l]);
    inF = H;
  }
  p.cur = to;
  p.curRows = R;
  const T* top = inp;
  if (p.He > 0) {
    check<T>(env, "q", top, R * H);
    check<T>(env, "keys", keys, p.S * R * H);
    check<T>(env, "values", enc, p.S * R * p.He);
    T* ctx = static_cast<T*>(p.context);
    T* cat = static_cast<T*>(p.cat);
    attention_forward<T>(1, p.S, R, H, p.He, top, keys, enc, lengths, static_cast<T*>(p.alpha), ctx);
    copy_cols<T>(R, p.He, ctx, p.He, 0, cat, p.He + H, 0, false);
    copy_cols<T>(R, H, top, H, 0, cat, p.He + H, p.He, false);
    check<T>(env, "cat", cat, R * (p.He + H));
    linear_forward<T>(R, p.He + H, H, cat, static_cast<const T*>(p.wC), nullptr, static_cast<T*>(p.pre));
    activation_forward<T>(ActKind::Tanh, R * H, static_cast<const T*>(p.pre), static_cast<T*>(p.out));
    top = static_cast<const T*>(p.out);
  }
  check<T>(env, "out", top, R * H);
  linear_forward<T>(R, H, p.V, top, static_cast<const T*>(p.wOut), static_cast<const T*>(p.bOut),
                    static_cast<T*>(p.logits));
  check<T>(env, "logits", p.logits, R * p.V);
  log_softmax_rows<T>(R, p.V, static_cast<const T*>(p.logits), static_cast<T*>(p.lp));
  if (p.k > 0) {
    check<T>(env, "logProbs", p.lp, R * p.V);
    topk_rows<T>(R, p.V, p.k, static_cast<const T*>(p.lp), static_cast<T*>(p.values), p.indices);
  }
}
}  // namespace

// Fields: cell, activation, gruVariant, L, H, E (embedding size), Vin (embedding rows), V (head
// outputs), maxRows, S (source steps; 0 without attention), He (encoder size; 0: no
// attention), k (top entries per row; 0: the full log-probabilities), R0 (rows of the
// encoder's state); weights wEmb [Vin,E], wIh/wHh/bIh/bHh (Arrays of L), wC [H,He+H] (with
// attention), wOut [V,H], bOut [V] or null; the encoder's state h0/c0 (Arrays of L, [R0,H]);
// buffers ids, parents [maxRows] (Int32), emb [maxRows,E], hA/hB/cA/cB (Arrays of L, [maxRows,H]),
// alpha [maxRows,S], context [maxRows,He], cat [maxRows,He+H], pre/out [maxRows,H], logits/lp
// [maxRows,V], values [maxRows,k] and indices (Int32) [maxRows,k].
Napi::Value DecoderPlan(const Napi::CallbackInfo& info) {
  Args a(info, "decoderPlan");
  auto p = std::make_unique<Plan>();
  p->cell.cell = read_cell(a);
  p->cell.act = static_cast<Activation>(a.choice("activation", {"tanh", "relu", "sigmoid"}, 0));
  p->cell.gru = static_cast<GruVariant>(a.choice("gruVariant", {"pytorch", "original"}, 0));
  const std::int64_t G = gate_count(p->cell.cell);
  const bool lstm = p->cell.cell == CellType::LSTM;
  p->L = a.integer("L", 1, kMaxLayers);
  p->H = a.integer("H", 1, kMaxDim);
  p->E = a.integer("E", 1, kMaxDim);
  p->Vin = a.integer("Vin", 1, kMaxDim);
  p->V = a.integer("V", 1, kMaxDim);
  p->maxRows = a.integer("maxRows", 1, kMaxDim);
  p->He = a.integer("He", 0, kMaxDim);
  p->S = a.integer("S", p->He > 0 ? 1 : 0, p->He > 0 ? kMaxDim : 0);
  p->k = a.integer("k", 0, p->V);
  p->R0 = a.integer("R0", 1, kMaxDim);
  const index_t H = p->H, E = p->E, M = p->maxRows, L = p->L;
  for (auto dims : {std::pair{M, E}, {M, H}, {M, p->V}, {M, p->S}, {M, p->He + H}, {p->R0, H}, {p->Vin, E},
                    {p->V, H}, {H, p->He + H}, {M, p->k}})
    a.product({dims.first, dims.second}, "a buffer's size");
  a.product({G, H, std::max(E, H)}, "G*H*I");
  p->dt = a.dtype_of("wEmb");
  Plan& q = *p;
  const std::string gh = "[G*H]", ghi = "[G*H,I]", ghh = "[G*H,H]", rh = "[R0,H]", mh = "[maxRows,H]";
  q.wEmb = plan_floats(a, q, "wEmb", q.Vin * E, "[Vin,E]", true, false);
  // Layer 0 reads the embedding (I = E), the others the layer below (I = H).
  {
    const std::string expected = "an Array of " + std::to_string(L) + " tensors";
    std::vector<Napi::Value> els = a.elements("wIh", expected);
    if (static_cast<std::int64_t>(els.size()) != L)
      a.fail_range("wIh", expected, "an Array of length " + std::to_string(els.size()));
    for (index_t l = 0; l < L; ++l) {
      const std::string en = "wIh[" + std::to_string(l) + "]";
      const std::int64_t n = G * H * (l == 0 ? E : H);
      FloatView v = a.floats_value(els[static_cast<std::size_t>(l)], en, q.dt, n, ghi, true);
      hold(a, q, en.c_str(), v.data, n * static_cast<std::int64_t>(elem(q.dt)));
      q.wIh.push_back(v.data);
    }
  }
  q.wHh = plan_list(a, q, "wHh", L, G * H * H, ghh, true, false);
  q.bIh = plan_list(a, q, "bIh", L, G * H, gh, false, false);
  q.bHh = plan_list(a, q, "bHh", L, G * H, gh, false, false);
  q.h0 = plan_list(a, q, "h0", L, q.R0 * H, rh, true, false);
  q.c0 = lstm ? plan_list(a, q, "c0", L, q.R0 * H, rh, true, false) : std::vector<const void*>(L, nullptr);
  q.wC = q.He > 0 ? plan_floats(a, q, "wC", H * (q.He + H), "[H,He+H]", true, false) : nullptr;
  q.wOut = plan_floats(a, q, "wOut", q.V * H, "[V,H]", true, false);
  q.bOut = plan_floats(a, q, "bOut", q.V, "[V]", false, false);
  q.ids = plan_ints(a, q, "ids", M, false);
  q.parents = plan_ints(a, q, "parents", M, false);
  q.emb = plan_floats(a, q, "emb", M * E, "[maxRows,E]", true, true);
  plan_list(a, q, "hA", L, M * H, mh, true, true, &q.h[0]);
  plan_list(a, q, "hB", L, M * H, mh, true, true, &q.h[1]);
  if (lstm) {
    plan_list(a, q, "cA", L, M * H, mh, true, true, &q.c[0]);
    plan_list(a, q, "cB", L, M * H, mh, true, true, &q.c[1]);
  }
  if (q.He > 0) {
    q.alpha = plan_floats(a, q, "alpha", M * q.S, "[maxRows,S]", true, true);
    q.context = plan_floats(a, q, "context", M * q.He, "[maxRows,He]", true, true);
    q.cat = plan_floats(a, q, "cat", M * (q.He + H), "[maxRows,He+H]", true, true);
    q.pre = plan_floats(a, q, "pre", M * H, mh, true, true);
    q.out = plan_floats(a, q, "out", M * H, mh, true, true);
  }
  q.logits = plan_floats(a, q, "logits", M * q.V, "[maxRows,V]", true, true);
  q.lp = plan_floats(a, q, "lp", M * q.V, "[maxRows,V]", true, true);
  if (q.k > 0) {
    q.values = plan_floats(a, q, "values", M * q.k, "[maxRows,k]", true, true);
    q.indices = plan_ints(a, q, "indices", M * q.k, true);
  }
  q.curRows = q.R0;
  a.check_unknown_fields();
  Napi::Env env = info.Env();
  Plan* raw = p.release();
  napi_value ext;
  if (napi_create_external(env, raw, finalize_plan, nullptr, &ext) != napi_ok) {
    delete raw;
    throw Napi::Error::New(env);
  }
  napi_type_tag_object(env, ext, &kPlanTag);
  return Napi::Value(env, ext);
}

// decoderStep(plan, R, withParents, enc, keys, lengths): row r feeds ids[r] and continues the
// state of row parents[r] of the previous step (withParents false: row r's own). enc [S,R,He],
// keys [S,R,H] and lengths [R] (or null) are the rows' encoder columns (null without attention).
Napi::Value DecoderStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Plan& p = *plan_of(info);
  const auto fail = [&](const std::string& field, const std::string& expected, const Napi::Value& got) {
    throw Napi::RangeError::New(env, "decoderStep: " + field + " must be " + expected + ", received " + describe(got));
  };
  Napi::Value rv = info.Length() > 1 ? info[1] : env.Undefined();
  const std::string rows = "an integer in [1, " + std::to_string(p.maxRows) + "]";
  if (!rv.IsNumber()) fail("R", rows, rv);
  const double rd = rv.As<Napi::Number>().DoubleValue();
  if (!(rd >= 1 && rd <= static_cast<double>(p.maxRows)) || rd != std::floor(rd)) fail("R", rows, rv);
  const index_t R = static_cast<index_t>(rd);
  Napi::Value pv = info.Length() > 2 ? info[2] : env.Undefined();
  if (!pv.IsBoolean())
    throw Napi::TypeError::New(env, "decoderStep: withParents must be a boolean, received " + describe(pv));
  const bool withParents = pv.As<Napi::Boolean>().Value();
  if (!withParents && R > p.curRows)
    fail("R", "at most the " + std::to_string(p.curRows) + " rows of the previous step (no parents)", rv);
  for (index_t r = 0; r < R; ++r) {
    if (p.ids[r] < 0 || p.ids[r] >= p.Vin)
      throw Napi::RangeError::New(env, "decoderStep: ids[" + std::to_string(r) + "] must be an integer in [0, " +
                                           std::to_string(p.Vin - 1) + "], received number " + std::to_string(p.ids[r]));
    if (withParents && (p.parents[r] < 0 || p.parents[r] >= p.curRows))
      throw Napi::RangeError::New(env, "decoderStep: parents[" + std::to_string(r) + "] must be an integer in [0, " +
                                           std::to_string(p.curRows - 1) + "], received number " +
                                           std::to_string(p.parents[r]));
  }
  const void *enc = nullptr, *keys = nullptr;
  const std::int32_t* lengths = nullptr;
  if (p.He > 0) {
    const bool f32 = p.dt == Dtype::F32;
    const napi_typedarray_type ft = f32 ? napi_float32_array : napi_float64_array;
    const char* fname = f32 ? "Float32Array" : "Float64Array";
    enc = step_buffer(info, 3, "enc", ft, fname, p.S * R * p.He, elem(p.dt), p, false);
    keys = step_buffer(info, 4, "keys", ft, fname, p.S * R * p.H, elem(p.dt), p, false);
    lengths = static_cast<const std::int32_t*>(step_buffer(info, 5, "lengths", napi_int32_array, "Int32Array", R, 4, p, true));
    for (index_t r = 0; lengths && r < R; ++r)
      if (lengths[r] < 1 || lengths[r] > p.S)
        throw Napi::RangeError::New(env, "decoderStep: lengths[" + std::to_string(r) + "] must be an integer in [1, " +
                                             std::to_string(p.S) + "], received number " + std::to_string(lengths[r]));
  }
  const double macs = static_cast<double>(R) * (gate_count(p.cell.cell) * p.H * (p.E + p.H * (2 * p.L - 1)) +
                                                p.H * (2 * p.He + p.H) + p.V * p.H);
  run_sync(
      [&]() {
        with_dtype(p.dt, [&](auto t) {
          using T = decltype(t);
          run_step<T>(env, p, R, withParents, static_cast<const T*>(enc), static_cast<const T*>(keys), lengths);
        });
        return 0.0;
      },
      macs, "decoderStep", env);
  return env.Undefined();
}

}  // namespace binding
}  // namespace rnnkit
