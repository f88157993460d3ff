#!/usr/bin/env node
// npm run bench:phases [-- --workloads W1,W5b64] [-- --json]
// Where a step's time goes, phase by phase, for the single-layer workloads: the input GEMM of
// all timesteps, the recurrent GEMMs (one per step), the fused gate kernels (forward and
// backward: the layer's time less its GEMMs), the weight-gradient and dx GEMMs, the head, the
// loss and the optimizer, each timed on its own with the workload's shapes (median of rounds).
import { createRequire } from 'node:module';
import { time, WORKLOADS, gflop } from './rnnkit_workloads.mjs';

const require = createRequire(import.meta.url);
const { cpu, backendInfo } = require('../dist/index.js');
const be = cpu();
const args = process.argv.slice(2);
const opt = (n, d) => {
  const i = args.indexOf(n);
  return i >= 0 ? args[i + 1] : d;
};
const json = args.includes('--json');
const names = opt('--workloads', 'W1,W2,W3,W5b1,W5b64,W7b1,W7b64').split(',');
const G = { lstm: 4, gru: 3, elman: 1 };
const f32 = (n, s = 0.1) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * s);
const timing = { warmup: 2, minMs: 400, minIters: 5 };

const rows = [];
for (const name of names) {
  const w = WORKLOADS[name];
  if (!w || w.layers !== 1 || w.bidir) {
    console.error(`${name}: phases are measured for single-layer, one-direction workloads`);
    continue;
  }
  const { T, B, I, H, cell } = w;
  const GH = G[cell] * H,
    TB = T * B;
  const spec = { cell, T, B, I, H };
  const x = f32(TB * I),
    wIh = f32(GH * I),
    wHh = f32(GH * H),
    bIh = f32(GH),
    bHh = f32(GH);
  const y = new Float32Array(TB * H),
    reserve = new Float32Array(be.rnnReserveSize(spec));
  const gates = new Float32Array(TB * GH),
    hB = f32(B * H),
    recB = new Float32Array(B * GH);
  const ph = {};
  ph.input_gemm = time(() => be.gemm({ M: TB, N: GH, K: I, a: x, b: wIh, c: gates, transB: true }), timing);
  ph.recurrent_gemms = T * time(() => be.gemm({ M: B, N: GH, K: H, a: hB, b: wHh, c: recB, transB: true }), timing);
  const train = w.kind === 'train';
  const fwd = time(() => be.rnnForward({ ...spec, x, wIh, wHh, bIh, bHh, y, reserve: train ? reserve : null }), timing);
  ph.gate_kernels_fwd = Math.max(0, fwd - ph.input_gemm - ph.recurrent_gemms);
  if (train) {
    const dy = f32(TB * H),
      dx = new Float32Array(TB * I),
      dwIh = new Float32Array(GH * I),
      dwHh = new Float32Array(GH * H),
      dbIh = new Float32Array(GH),
      dbHh = new Float32Array(GH);
    const dnext = new Float32Array(B * H),
      dg = f32(B * GH);
    const bwd = time(() => be.rnnBackward({ ...spec, x, wIh, wHh, reserve, dy, dx, dwIh, dwHh, dbIh, dbHh }), timing);
    ph.recurrent_gemms_bwd = T * time(() => be.gemm({ M: B, N: H, K: GH, a: dg, b: wHh, c: dnext, beta: 1 }), timing);
    const dgx = f32(TB * GH),
      hprev = f32(TB * H);
    ph.weight_grad_gemms =
      time(() => be.gemm({ M: GH, N: I, K: TB, a: dgx, b: x, c: dwIh, transA: true, beta: 1 }), timing) +
      time(() => be.gemm({ M: GH, N: H, K: TB, a: dgx, b: hprev, c: dwHh, transA: true, beta: 1 }), timing);
    ph.dx_gemm = time(() => be.gemm({ M: TB, N: I, K: GH, a: dgx, b: wIh, c: dx, beta: 1 }), timing);
    ph.gate_kernels_bwd = Math.max(0, bwd - ph.recurrent_gemms_bwd - ph.weight_grad_gemms - ph.dx_gemm);
    const C = w.C,
      hin = f32(B * H),
      hw = f32(C * H),
      hb = f32(C),
      logits = new Float32Array(B * C),
      dl = new Float32Array(B * C);
    const targets = Int32Array.from({ length: B }, (_, i) => i % C);
    ph.head =
      time(() => be.linearForward({ N: B, I: H, O: C, x: hin, weight: hw, bias: hb, y: logits }), timing) +
      time(
        () =>
          be.linearBackward({
            N: B,
            I: H,
            O: C,
            x: hin,
            weight: hw,
            dy: dl,
            dx: new Float32Array(B * H),
            dWeight: new Float32Array(C * H),
            dBias: new Float32Array(C),
          }),
        timing,
      );
    ph.loss = time(() => be.softmaxCrossEntropy({ N: B, C, logits, targets, dlogits: dl }), timing);
    const P = GH * (I + H + 2) + C * (H + 1);
    const params = f32(P),
      grads = f32(P, 1e-3);
    const state = [new Float32Array(P), new Float32Array(P)];
    let step = 0;
    ph.optimizer = time(() => be.optimStep({ kind: 'adam', lr: 1e-3, step: ++step, params, grads, state }), timing);
  }
  const total = Object.values(ph).reduce((a, b) => a + b, 0);
  rows.push({ workload: name, total_ms: +total.toFixed(3), gflop: gflop(w), phases: ph });
}

if (json) console.log(JSON.stringify(rows));
else {
  const i = backendInfo();
  console.log(`phases (${i.gemm}/${i.simd}, ${i.threads} threads), ms per step`);
  for (const r of rows) {
    console.log(`${r.workload}: ${r.total_ms.toFixed(2)} ms in all`);
    for (const [k, v] of Object.entries(r.phases))
      console.log(`  ${k.padEnd(20)} ${v.toFixed(3).padStart(9)}  ${((100 * v) / r.total_ms).toFixed(0).padStart(3)}%`);
  }
}
