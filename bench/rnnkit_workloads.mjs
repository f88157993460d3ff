// The benchmark workloads W1–W6 on rnnkit's CPU backend: forward + backward + Adam over one
// flat parameter buffer (training), or forward only (W5). Used by bench/run.mjs.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { cpu } = require('../dist/index.js');

const be = cpu();
const G = { lstm: 4, gru: 3, elman: 1 };

export const WORKLOADS = {
  W1: { kind: 'train', cell: 'lstm', T: 64, B: 32, I: 64, H: 256, layers: 1, bidir: false, head: 'last', C: 10 },
  W2: { kind: 'train', cell: 'gru', T: 64, B: 32, I: 64, H: 256, layers: 1, bidir: false, head: 'last', C: 10 },
  W3: { kind: 'train', cell: 'elman', T: 64, B: 32, I: 64, H: 256, layers: 1, bidir: false, head: 'last', C: 10 },
  W4: {
    kind: 'train',
    cell: 'lstm',
    T: 100,
    B: 32,
    I: 65,
    H: 512,
    layers: 2,
    bidir: false,
    head: 'every',
    C: 65,
    onehot: true,
  },
  W5b1: { kind: 'infer', cell: 'lstm', T: 128, B: 1, I: 64, H: 256, layers: 1, bidir: false },
  W5b64: { kind: 'infer', cell: 'lstm', T: 128, B: 64, I: 64, H: 256, layers: 1, bidir: false },
  W7b1: { kind: 'infer', cell: 'gru', T: 128, B: 1, I: 64, H: 256, layers: 1, bidir: false },
  W7b64: { kind: 'infer', cell: 'gru', T: 128, B: 64, I: 64, H: 256, layers: 1, bidir: false },
  W6: { kind: 'train', cell: 'lstm', T: 64, B: 32, I: 64, H: 128, layers: 2, bidir: true, head: 'last', C: 10 },
};

/** Matmul GFLOP per step, counted as bench/torch_baselines.py counts them. */
export function gflop(w) {
  const dirs = w.bidir ? 2 : 1;
  let f = 0;
  for (let l = 0; l < w.layers; l++) {
    const inp = l === 0 ? w.I : w.H * dirs;
    f += dirs * 2 * w.T * w.B * G[w.cell] * w.H * (inp + w.H);
  }
  if (w.kind === 'train') {
    const rows = w.head === 'every' ? w.T * w.B : w.B;
    f += 2 * rows * w.H * dirs * w.C;
    f *= 3;
  }
  return f / 1e9;
}

function rand(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
}

/** Builds a workload; returns step() running one training step (or one inference). */
export function build(name) {
  const w = WORKLOADS[name];
  const { T, B, H, cell } = w;
  const dirs = w.bidir ? 2 : 1;
  const r = rand(42);
  // One flat parameter buffer with named views, PyTorch's layout.
  const shapes = [];
  for (let l = 0; l < w.layers; l++) {
    const inp = l === 0 ? w.I : H * dirs;
    for (let d = 0; d < dirs; d++) {
      const s = `_l${l}${d ? '_reverse' : ''}`;
      shapes.push(
        [`weight_ih${s}`, G[cell] * H * inp],
        [`weight_hh${s}`, G[cell] * H * H],
        [`bias_ih${s}`, G[cell] * H],
        [`bias_hh${s}`, G[cell] * H],
      );
    }
  }
  if (w.kind === 'train') shapes.push(['head.weight', w.C * H * dirs], ['head.bias', w.C]);
  const total = shapes.reduce((a, [, n]) => a + n, 0);
  const params = new Float32Array(total),
    grads = new Float32Array(total);
  const P = {},
    D = {};
  let off = 0;
  const k = 1 / Math.sqrt(H);
  for (const [n, len] of shapes) {
    P[n] = params.subarray(off, off + len);
    D[n] = grads.subarray(off, off + len);
    for (let i = 0; i < len; i++) P[n][i] = r() * k;
    off += len;
  }
  const state = [new Float32Array(total), new Float32Array(total)];
  let step = 0;

  const x = new Float32Array(T * B * w.I);
  if (w.onehot) for (let tb = 0; tb < T * B; tb++) x[tb * w.I + (Math.floor(((r() + 1) / 2) * w.I) % w.I)] = 1;
  else for (let i = 0; i < x.length; i++) x[i] = r();
  const rows = w.head === 'every' ? T * B : B;
  const targets = Int32Array.from({ length: rows }, () => Math.floor(((r() + 1) / 2) * (w.C || 1)) % (w.C || 1));

  // Per layer and direction: spec, outputs, reserve.
  const layers = [];
  for (let l = 0; l < w.layers; l++) {
    const inp = l === 0 ? w.I : H * dirs;
    const dirsOut = [];
    const out = dirs === 1 ? null : new Float32Array(T * B * H * dirs);
    for (let d = 0; d < dirs; d++) {
      // both directions write into one [T,B,2H] buffer (yStride), as a bidirectional layer does
      const spec = { cell, T, B, I: inp, H, reverse: d === 1, ...(dirs === 2 ? { yStride: 2 * H } : {}) };
      const s = `_l${l}${d ? '_reverse' : ''}`;
      dirsOut.push({
        spec,
        s,
        y: dirs === 1 ? new Float32Array(T * B * H) : out.subarray(d * H),
        hN: new Float32Array(B * H),
        reserve: w.kind === 'train' ? new Float32Array(be.rnnReserveSize(spec)) : null,
      });
    }
    layers.push({ inp, dirs: dirsOut, out, dx: l > 0 ? new Float32Array(T * B * inp) : null });
  }
  const layerOut = (l) => (dirs === 1 ? layers[l].dirs[0].y : layers[l].out);
  const headIn = new Float32Array(rows * H * dirs),
    dHeadIn = new Float32Array(rows * H * dirs);
  const logits = new Float32Array(rows * (w.C || 1)),
    dlogits = new Float32Array(rows * (w.C || 1));
  const dLast = w.head === 'last' ? new Float32Array(T * B * H * dirs) : null;

  function forward() {
    for (let l = 0; l < w.layers; l++) {
      const xin = l === 0 ? x : layerOut(l - 1);
      for (const d of layers[l].dirs) {
        be.rnnForward({
          ...d.spec,
          x: xin,
          wIh: P[`weight_ih${d.s}`],
          wHh: P[`weight_hh${d.s}`],
          bIh: P[`bias_ih${d.s}`],
          bHh: P[`bias_hh${d.s}`],
          y: d.y,
          hN: d.hN,
          reserve: d.reserve,
        });
      }
    }
  }

  if (w.kind === 'infer') return { step: forward, gflop: gflop(w) };

  function train() {
    grads.fill(0);
    forward();
    const top = layerOut(w.layers - 1);
    const HD = H * dirs;
    // head input: every step, or the last timestep's output
    const hin = w.head === 'every' ? top : (headIn.set(top.subarray((T - 1) * B * HD, T * B * HD)), headIn);
    be.linearForward({ N: rows, I: HD, O: w.C, x: hin, weight: P['head.weight'], bias: P['head.bias'], y: logits });
    be.softmaxCrossEntropy({ N: rows, C: w.C, logits, targets, dlogits });
    dHeadIn.fill(0);
    be.linearBackward({
      N: rows,
      I: HD,
      O: w.C,
      x: hin,
      weight: P['head.weight'],
      dy: dlogits,
      dx: dHeadIn,
      dWeight: D['head.weight'],
      dBias: D['head.bias'],
    });
    // gradient w.r.t. the top layer's outputs
    let dTop;
    if (w.head === 'every') dTop = dHeadIn;
    else {
      dTop = dLast; // zero except the last step (only that row is ever written)
      dTop.set(dHeadIn, (T - 1) * B * HD);
    }
    for (let l = w.layers - 1; l >= 0; l--) {
      const L = layers[l];
      const xin = l === 0 ? x : layerOut(l - 1);
      if (L.dx) L.dx.fill(0);
      for (const d of L.dirs) {
        be.rnnBackward({
          ...d.spec,
          x: xin,
          wIh: P[`weight_ih${d.s}`],
          wHh: P[`weight_hh${d.s}`],
          reserve: d.reserve,
          dy: d.spec.reverse ? dTop.subarray(H) : dTop,
          dx: L.dx,
          dwIh: D[`weight_ih${d.s}`],
          dwHh: D[`weight_hh${d.s}`],
          dbIh: D[`bias_ih${d.s}`],
          dbHh: D[`bias_hh${d.s}`],
        });
      }
      dTop = L.dx;
    }
    step++;
    be.optimStep({ kind: 'adam', lr: 1e-3, step, params, grads, state });
  }
  return { step: train, gflop: gflop(w) };
}

/** Median ms per step after a warm-up, timing at least minMs and minIters. */
export function time(stepFn, { warmup = 3, minMs = 1500, minIters = 5 } = {}) {
  for (let i = 0; i < warmup; i++) stepFn();
  const times = [];
  const start = performance.now();
  while (times.length < minIters || performance.now() - start < minMs) {
    const t0 = performance.now();
    stepFn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
