// rnnForward / rnnBackward / rnnReserveSize and their async variants.
#include "bindings.h"
#include "../kernels/rnn.h"
#include "../kernels/rtrl.h"

namespace rnnkit {
namespace binding {

namespace {
constexpr std::int64_t kMaxDim = 2147483647;

// The cell carries a second state vector c (LSTM): c0, cN, dcN, dc0, c1, vc, tc1 are read.
bool two_states(const RnnShape& s) { return state_count(s.cell) > 1; }

RnnShape read_shape(Args& a) {
  RnnShape s;
  s.cell = read_cell(a);
  s.T = a.integer("T", 1, kMaxDim);
  s.B = a.integer("B", 1, kMaxDim);
  s.I = a.integer("I", 1, kMaxDim);
  s.H = a.integer("H", 1, kMaxDim);
  s.act = static_cast<Activation>(a.choice("activation", {"tanh", "relu", "sigmoid"}, 0));
  s.gru = static_cast<GruVariant>(a.choice("gruVariant", {"pytorch", "original"}, 0));
  s.reverse = a.boolean("reverse", false);
  s.ldy = a.integer("yStride", s.H, kMaxDim, s.H);
  // Every buffer size below must be representable; the largest is the reserve.
  a.product({s.T, s.B, s.G(), s.H}, "T*B*G*H");
  a.product({s.T, s.B, s.I}, "T*B*I");
  a.product({s.G(), s.H, s.I}, "G*H*I");
  a.product({s.G(), s.H, s.H}, "G*H*H");
  a.product({s.T, s.B, s.ldy}, "T*B*yStride");
  return s;
}

// The inputs forward and backward share.
struct RnnInputs {
  Dtype dt;
  FloatView x, wih, whh;
  const std::int32_t* lengths;
};
RnnInputs read_inputs(Args& a, const RnnShape& s) {
  RnnInputs in;
  in.dt = a.dtype_of("x");
  in.x = a.floats("x", in.dt, s.T * s.B * s.I, "[T,B,I]");
  in.lengths = a.ints("lengths", s.B, "[B]", 0, s.T, false);
  in.wih = a.floats("wIh", in.dt, s.G() * s.H * s.I, "[G*H,I]");
  in.whh = a.floats("wHh", in.dt, s.G() * s.H * s.H, "[G*H,H]");
  return in;
}

// y and dy: [T,B,H] rows s.ldy apart; the last row needs only H elements.
std::int64_t y_extent(const RnnShape& s) { return (s.T * s.B - 1) * s.ldy + s.H; }
std::string y_shape(const RnnShape& s) {
  return s.ldy == s.H ? "[T,B,H]" : "[T,B,H] with rows yStride=" + std::to_string(s.ldy) + " apart";
}
}  // namespace

Napi::Value RnnReserveSize(const Napi::CallbackInfo& info) {
  Args a(info, "rnnReserveSize");
  RnnShape s = read_shape(a);
  a.check_unknown_fields();
  return Napi::Number::New(info.Env(), static_cast<double>(rnn_reserve_size(s)));
}

Napi::Value RnnForward(const Napi::CallbackInfo& info, bool async) {
  Args a(info, async ? "rnnForwardAsync" : "rnnForward", async);
  RnnShape s = read_shape(a);
  const std::int64_t G = s.G();
  const RnnInputs in = read_inputs(a, s);
  const Dtype dt = in.dt;
  const FloatView x = in.x, wih = in.wih, whh = in.whh;
  const std::int32_t* lengths = in.lengths;
  FloatView h0 = a.floats("h0", dt, s.B * s.H, "[B,H]", false);
  FloatView c0 = two_states(s) ? a.floats("c0", dt, s.B * s.H, "[B,H]", false) : FloatView{};
  FloatView bih = a.floats("bIh", dt, G * s.H, "[G*H]", false);
  FloatView bhh = a.floats("bHh", dt, G * s.H, "[G*H]", false);
  FloatView y = s.ldy == s.H ? a.floats("y", dt, s.T * s.B * s.H, "[T,B,H]")
                             : a.floats_at_least("y", dt, y_extent(s), y_shape(s));
  FloatView hn = a.floats("hN", dt, s.B * s.H, "[B,H]", false);
  FloatView cn = two_states(s) ? a.floats("cN", dt, s.B * s.H, "[B,H]", false) : FloatView{};
  FloatView reserve = a.floats("reserve", dt, rnn_reserve_size(s), "[rnnReserveSize]", false);
  a.require_finite("x", x);
  a.require_finite("h0", h0);
  a.require_finite("c0", c0);
  for (auto [name, v] : {std::pair{"y", y}, {"hN", hn}, {"cN", cn}, {"reserve", reserve}})
    a.require_disjoint(name, v);
  Job job;
  job.work = [=]() {
    with_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      rnn_forward<T>(s, x.as<T>(), h0.as<T>(), c0.as<T>(), lengths, wih.as<T>(), whh.as<T>(),
                     bih.as<T>(), bhh.as<T>(), y.as<T>(), hn.as<T>(), cn.as<T>(), reserve.as<T>());
    });
    return 0.0;
  };
  job.macs = static_cast<double>(s.T) * s.B * G * s.H * (s.I + s.H);
  return run_job(a, std::move(job), async);
}

Napi::Value RnnBackward(const Napi::CallbackInfo& info, bool async) {
  Args a(info, async ? "rnnBackwardAsync" : "rnnBackward", async);
  RnnShape s = read_shape(a);
  const std::int64_t G = s.G();
  const RnnInputs in = read_inputs(a, s);
  const Dtype dt = in.dt;
  const FloatView x = in.x, wih = in.wih, whh = in.whh;
  const std::int32_t* lengths = in.lengths;
  FloatView reserve = a.floats("reserve", dt, rnn_reserve_size(s), "[rnnReserveSize] (filled by rnnForward)");
  FloatView dy = s.ldy == s.H ? a.floats("dy", dt, s.T * s.B * s.H, "[T,B,H]", false)
                              : a.floats_at_least("dy", dt, y_extent(s), y_shape(s), false);
  FloatView dhn = a.floats("dhN", dt, s.B * s.H, "[B,H]", false);
  FloatView dcn = two_states(s) ? a.floats("dcN", dt, s.B * s.H, "[B,H]", false) : FloatView{};
  FloatView dx = a.floats("dx", dt, s.T * s.B * s.I, "[T,B,I]", false);
  FloatView dh0 = a.floats("dh0", dt, s.B * s.H, "[B,H]", false);
  FloatView dc0 = two_states(s) ? a.floats("dc0", dt, s.B * s.H, "[B,H]", false) : FloatView{};
  FloatView dwih = a.floats("dwIh", dt, G * s.H * s.I, "[G*H,I]");
  FloatView dwhh = a.floats("dwHh", dt, G * s.H * s.H, "[G*H,H]");
  FloatView dbih = a.floats("dbIh", dt, G * s.H, "[G*H]", false);
  FloatView dbhh = a.floats("dbHh", dt, G * s.H, "[G*H]", false);
  a.require_finite("dy", dy);
  a.require_finite("dhN", dhn);
  a.require_finite("dcN", dcn);
  for (auto [name, v] : {std::pair{"dx", dx}, {"dh0", dh0}, {"dc0", dc0}, {"dwIh", dwih}, {"dwHh", dwhh},
                         {"dbIh", dbih}, {"dbHh", dbhh}})
    a.require_disjoint(name, v);
  Job job;
  job.work = [=]() {
    with_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      rnn_backward<T>(s, x.as<T>(), lengths, wih.as<T>(), whh.as<T>(), reserve.as<T>(), dy.as<T>(),
                      dhn.as<T>(), dcn.as<T>(), dx.as<T>(), dh0.as<T>(), dc0.as<T>(), dwih.as<T>(),
                      dwhh.as<T>(), dbih.as<T>(), dbhh.as<T>());
    });
    return 0.0;
  };
  return run_job(a, std::move(job), async);
}

namespace {
// What both single-step RTRL calls read: one layer, one sequence, one step.
struct StepInputs {
  RnnShape s;
  Dtype dt;
  FloatView x, h0, c0, wih, whh, bih, bhh, h1, c1;
};
StepInputs read_step(Args& a) {
  StepInputs in;
  RnnShape& s = in.s;
  s.cell = read_cell(a, true);
  s.T = 1;
  s.B = 1;
  s.I = a.integer("I", 1, 1 << 20);
  s.H = a.integer("H", 1, 1 << 14);
  s.act = static_cast<Activation>(a.choice("activation", {"tanh", "relu", "sigmoid"}, 0));
  s.gru = static_cast<GruVariant>(a.choice("gruVariant", {"pytorch", "original"}, 0));
  const std::int64_t G = s.G(), H = s.H, I = s.I;
  const bool lstm = two_states(s);
  a.product({G, H, I + H + 2}, "G*H*(I+H+2)");
  const Dtype dt = in.dt = a.dtype_of("x");
  in.x = a.floats("x", dt, I, "[I]");
  in.h0 = a.floats("h0", dt, H, "[H]");
  in.c0 = lstm ? a.floats("c0", dt, H, "[H]") : FloatView{};
  in.wih = a.floats("wIh", dt, G * H * I, "[G*H,I]");
  in.whh = a.floats("wHh", dt, G * H * H, "[G*H,H]");
  in.bih = a.floats("bIh", dt, G * H, "[G*H]", false);
  in.bhh = a.floats("bHh", dt, G * H, "[G*H]", false);
  in.h1 = a.floats("h1", dt, H, "[H]");
  in.c1 = lstm ? a.floats("c1", dt, H, "[H]") : FloatView{};
  return in;
}
}  // namespace

Napi::Value RnnStepJacobians(const Napi::CallbackInfo& info) {
  Args a(info, "rnnStepJacobians");
  const StepInputs in = read_step(a);
  const RnnShape s = in.s;
  const Dtype dt = in.dt;
  const FloatView x = in.x, h0 = in.h0, c0 = in.c0, wih = in.wih, whh = in.whh, bih = in.bih, bhh = in.bhh, h1 = in.h1, c1 = in.c1;
  const std::int64_t G = s.G(), H = s.H, I = s.I, S = state_count(s.cell) * H;
  if (bih.present() != bhh.present()) a.fail_type("bHh", "given together with bIh", bih.present() ? "undefined" : "a buffer");
  const std::int64_t P = G * H * (I + H) + (bih.present() ? 2 * G * H : 0);
  FloatView jss = a.floats("jss", dt, a.product({S, S}, "S*S"), "[S,S]");
  FloatView jsx = a.floats("jsx", dt, a.product({S, I}, "S*I"), "[S,I]");
  FloatView jth = a.floats("jth", dt, a.product({S, P}, "S*P"), "[S,P]");
  a.require_finite("x", x);
  a.require_finite("h0", h0);
  a.require_finite("c0", c0);
  for (auto [name, v] : {std::pair{"h1", h1}, {"c1", c1}, {"jss", jss}, {"jsx", jsx}, {"jth", jth}}) a.require_disjoint(name, v);
  Job job;
  job.work = [=]() {
    with_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      rnn_step_jacobians<T>(s, x.as<T>(), h0.as<T>(), c0.as<T>(), wih.as<T>(), whh.as<T>(), bih.as<T>(), bhh.as<T>(),
                            h1.as<T>(), c1.as<T>(), jss.as<T>(), jsx.as<T>(), jth.as<T>());
    });
    return 0.0;
  };
  return run_job(a, std::move(job), false);
}

Napi::Value RnnStepJvp(const Napi::CallbackInfo& info) {
  Args a(info, "rnnStepJvp");
  const StepInputs in = read_step(a);
  const RnnShape s = in.s;
  const Dtype dt = in.dt;
  const FloatView x = in.x, h0 = in.h0, c0 = in.c0, wih = in.wih, whh = in.whh, bih = in.bih, bhh = in.bhh, h1 = in.h1, c1 = in.c1;
  const std::int64_t H = s.H, I = s.I;
  const bool lstm = two_states(s);
  FloatView u = a.floats("u", dt, I, "[I]", false);
  FloatView vh = a.floats("vh", dt, H, "[H]");
  FloatView vc = lstm ? a.floats("vc", dt, H, "[H]") : FloatView{};
  FloatView th1 = a.floats("th1", dt, H, "[H]");
  FloatView tc1 = lstm ? a.floats("tc1", dt, H, "[H]") : FloatView{};
  for (auto [name, v] : {std::pair{"x", x}, {"h0", h0}, {"c0", c0}, {"u", u}, {"vh", vh}, {"vc", vc}}) a.require_finite(name, v);
  for (auto [name, v] : {std::pair{"h1", h1}, {"c1", c1}, {"th1", th1}, {"tc1", tc1}}) a.require_disjoint(name, v);
  Job job;
  job.work = [=]() {
    with_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      rnn_step_jvp<T>(s, x.as<T>(), h0.as<T>(), c0.as<T>(), wih.as<T>(), whh.as<T>(), bih.as<T>(), bhh.as<T>(),
                      u.as<T>(), vh.as<T>(), vc.as<T>(), h1.as<T>(), c1.as<T>(), th1.as<T>(), tc1.as<T>());
    });
    return 0.0;
  };
  return run_job(a, std::move(job), false);
}

}  // namespace binding
}  // namespace rnnkit
