// The per-element kernels of online learning (exact RTRL, SnAp-1, UORO): native/kernels/online.h.
#include "bindings.h"
#include "../kernels/online.h"

namespace rnnkit {
namespace binding {

namespace {
constexpr std::int64_t kMaxDim = 2147483647;

// cell, I, H of one layer and its SnAp-1 layout; checks every size it implies.
SnapLayout read_snap(Args& a) {
  SnapLayout L;
  const CellType cell = read_cell(a, true);
  L.G = gate_count(cell);
  L.K = state_count(cell);
  L.I = a.integer("I", 1, kMaxDim);
  L.H = a.integer("H", 1, kMaxDim);
  a.product({L.G, L.H, L.I + L.H + 2}, "G*H*(I+H+2)");
  a.product({L.H, L.K, L.G, L.I + L.H + 2}, "H*K*G*(I+H+2)");
  a.product({L.K, L.H, L.K, L.H}, "S*S");
  a.product({L.K, L.H, L.G, L.H, L.I + L.H + 2}, "S*P");
  return L;
}
}  // namespace

Napi::Value OnlineRtrlUpdate(const Napi::CallbackInfo& info) {
  Args a(info, "onlineRtrlUpdate");
  const std::int64_t S = a.integer("S", 1, kMaxDim), P = a.integer("P", 1, kMaxDim), I = a.integer("I", 1, kMaxDim);
  const std::int64_t Pl = a.integer("Pl", 1, P);
  const std::int64_t offset = a.integer("offset", 0, P - Pl);
  const std::int64_t SP = a.product({S, P}, "S*P");
  a.product({S, S}, "S*S");
  a.product({S, I}, "S*I");
  a.product({I, P}, "I*P");
  a.product({S, Pl}, "S*Pl");
  const Dtype dt = a.dtype_of("jss");
  FloatView jss = a.floats("jss", dt, S * S, "[S,S]");
  FloatView prev = a.floats("prev", dt, SP, "[S,P]");
  FloatView below = a.floats("below", dt, I * P, "[I,P]", false);
  FloatView jsx = a.floats("jsx", dt, S * I, "[S,I]", below.present());
  FloatView jth = a.floats("jth", dt, S * Pl, "[S,Pl]");
  FloatView out = a.floats("out", dt, SP, "[S,P]");
  a.require_disjoint("out", out);
  Job job;
  job.work = [=]() {
    with_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      rtrl_update<T>(S, P, I, Pl, offset, jss.as<T>(), jsx.as<T>(), prev.as<T>(),
                     below.present() ? below.as<T>() : nullptr, jth.as<T>(), out.as<T>());
    });
    return 0.0;
  };
  return run_job(a, std::move(job), false);
}

Napi::Value OnlineSnap1Update(const Napi::CallbackInfo& info) {
  Args a(info, "onlineSnap1Update");
  const SnapLayout L = read_snap(a);
  const std::int64_t S = L.K * L.H, Pl = L.layer_params();
  const Dtype dt = a.dtype_of("jss");
  FloatView jss = a.floats("jss", dt, S * S, "[S,S]");
  FloatView jth = a.floats("jth", dt, S * Pl, "[S,Pl]");
  FloatView sens = a.floats("sens", dt, L.kept(), "[H,K,n]");
  a.require_disjoint("sens", sens);
  Job job;
  job.work = [=]() {
    with_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      snap1_update_rows<T>(L, jss.as<T>(), jth.as<T>(), sens.as<T>());
    });
    return 0.0;
  };
  return run_job(a, std::move(job), false);
}

Napi::Value OnlineSnap1LocalUpdate(const Napi::CallbackInfo& info) {
  Args a(info, "onlineSnap1LocalUpdate");
  const SnapLayout L = read_snap(a);
  const std::int64_t Pl = L.layer_params(), GH = L.G * L.H;
  const Dtype dt = a.dtype_of("wHh");
  FloatView whh = a.floats("wHh", dt, GH * L.H, "[G*H,H]");
  FloatView g = a.floats("g", dt, L.K * Pl, "[K,Pl]");
  FloatView dh0 = a.floats("dh0", dt, L.K * L.H, "[K,H]");
  FloatView dc0 = L.K > 1 ? a.floats("dc0", dt, L.K * L.H, "[K,H]") : FloatView{};
  FloatView sens = a.floats("sens", dt, L.kept(), "[H,K,n]");
  a.require_disjoint("sens", sens);
  Job job;
  job.work = [=]() {
    with_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      snap1_update_local<T>(L, whh.as<T>(), g.as<T>(), dh0.as<T>(), dc0.as<T>(), sens.as<T>());
    });
    return 0.0;
  };
  return run_job(a, std::move(job), false);
}

Napi::Value OnlineSnap1Accumulate(const Napi::CallbackInfo& info) {
  Args a(info, "onlineSnap1Accumulate");
  const SnapLayout L = read_snap(a);
  const Dtype dt = a.dtype_of("dh");
  FloatView dh = a.floats("dh", dt, L.H, "[H]");
  FloatView sens = a.floats("sens", dt, L.kept(), "[H,K,n]");
  FloatView grads = a.floats("grads", dt, L.layer_params(), "[Pl]");
  a.require_finite("dh", dh);
  a.require_disjoint("grads", grads);
  Job job;
  job.work = [=]() {
    with_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      snap1_accumulate<T>(L, dh.as<T>(), sens.as<T>(), grads.as<T>());
    });
    return 0.0;
  };
  return run_job(a, std::move(job), false);
}

Napi::Value OnlineUoroSigns(const Napi::CallbackInfo& info) {
  Args a(info, "onlineUoroSigns");
  const std::int64_t S = a.integer("S", 1, kMaxDim);
  std::uint32_t* state = a.u32s("state", 4, "[4] (xoshiro128** state)");
  if ((state[0] | state[1] | state[2] | state[3]) == 0u)
    a.fail_range("state", "a xoshiro128** state with a nonzero word", "four zeros");
  const Dtype dt = a.dtype_of("nu");
  FloatView nu = a.floats("nu", dt, S, "[S]");
  a.require_disjoint("nu", nu);
  Job job;
  job.work = [=]() {
    with_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      uoro_signs<T>(state, S, nu.as<T>());
    });
    return 0.0;
  };
  return run_job(a, std::move(job), false);
}

Napi::Value OnlineUoroUpdate(const Napi::CallbackInfo& info) {
  Args a(info, "onlineUoroUpdate");
  const std::int64_t S = a.integer("S", 1, kMaxDim), P = a.integer("P", 1, kMaxDim);
  const Dtype dt = a.dtype_of("js");
  FloatView js = a.floats("js", dt, S, "[S]");
  FloatView nu = a.floats("nu", dt, S, "[S]");
  FloatView nui = a.floats("nuI", dt, P, "[P]");
  // s̃ and θ̃ are float64 whatever the model's dtype.
  FloatView st = a.floats("sTilde", Dtype::F64, S, "[S]");
  FloatView tht = a.floats("thTilde", Dtype::F64, P, "[P]");
  FloatView sm = a.floats("sModel", dt, S, "[S]", false);
  for (auto [name, v] : {std::pair{"sTilde", st}, {"thTilde", tht}, {"sModel", sm}}) a.require_disjoint(name, v);
  Job job;
  job.work = [=]() {
    with_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      uoro_update<T>(S, P, js.as<T>(), nu.as<T>(), nui.as<T>(), st.as<double>(), tht.as<double>(),
                     sm.present() ? sm.as<T>() : nullptr);
    });
    return 0.0;
  };
  return run_job(a, std::move(job), false);
}

Napi::Value OnlineUoroAccumulate(const Napi::CallbackInfo& info) {
  Args a(info, "onlineUoroAccumulate");
  const std::int64_t S = a.integer("S", 1, kMaxDim), P = a.integer("P", 1, kMaxDim);
  const std::int64_t H = a.integer("H", 1, S);
  const std::int64_t row = a.integer("row", 0, S - H);
  const Dtype dt = a.dtype_of("dh");
  FloatView dh = a.floats("dh", dt, H, "[H]");
  FloatView st = a.floats("sTilde", Dtype::F64, S, "[S]");
  FloatView tht = a.floats("thTilde", Dtype::F64, P, "[P]");
  FloatView grads = a.floats("grads", dt, P, "[P]");
  a.require_finite("dh", dh);
  a.require_disjoint("grads", grads);
  Job job;
  job.work = [=]() {
    with_dtype(dt, [&](auto tag) {
      using T = decltype(tag);
      uoro_accumulate<T>(H, row, P, dh.as<T>(), st.as<double>(), tht.as<double>(), grads.as<T>());
    });
    return 0.0;
  };
  return run_job(a, std::move(job), false);
}

}  // namespace binding
}  // namespace rnnkit
