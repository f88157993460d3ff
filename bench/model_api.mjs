#!/usr/bin/env node
// npm run bench:api [-- --json] [-- --quick]
// W1–W6 through the public model API, next to the same workloads on the raw kernels
// (bench/rnnkit_workloads.mjs) in the same process: the per-step overhead of the TypeScript
// layer. Training: fit() on one batch for many epochs, the median time between successive
// onBatchEnd calls (the steady-state step: data is converted once per fit call); also one
// whole fit({epochs: 1}) call on that batch, conversion included. W5: predict() per call.
import { createRequire } from 'node:module';
import { build, time, WORKLOADS } from './rnnkit_workloads.mjs';

const require = createRequire(import.meta.url);
const { SequenceClassifier, SequenceTagger, backendInfo } = require('../dist/index.js');
const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const timing = quick ? { warmup: 1, minMs: 300, minIters: 3 } : { warmup: 3, minMs: 1500, minIters: 5 };

function rand(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1;
}

function modelFor(name) {
  const w = WORKLOADS[name];
  const cell = w.cell === 'elman' ? 'rnn' : w.cell;
  const common = { cell, inputSize: w.I, hiddenSize: w.H, numLayers: w.layers, bidirectional: w.bidir, seed: 1 };
  const r = rand(7);
  const data = new Float32Array(w.B * w.T * w.I);
  if (w.onehot) for (let i = 0; i < w.B * w.T; i++) data[i * w.I + (Math.floor((r() + 1) * 1000) % w.I)] = 1;
  else for (let i = 0; i < data.length; i++) data[i] = r();
  const inputs = { data, shape: [w.B, w.T, w.I] };
  if (w.kind === 'infer') {
    const m = new SequenceClassifier({ ...common, outputSize: 10 });
    return { call: () => m.predict(inputs, { batchSize: w.B }) };
  }
  const m =
    w.head === 'every'
      ? new SequenceTagger({ ...common, outputSize: w.C })
      : new SequenceClassifier({ ...common, outputSize: w.C });
  const targets =
    w.head === 'every'
      ? Array.from({ length: w.B }, () => Array.from({ length: w.T }, () => Math.floor((r() + 1) * 1000) % w.C))
      : Array.from({ length: w.B }, () => Math.floor((r() + 1) * 1000) % w.C);
  return {
    call: () => m.fit(inputs, targets, { epochs: 1, batchSize: w.B, shuffle: false }),
    steady: async (epochs) => {
      const stamps = [];
      await m.fit(inputs, targets, {
        epochs,
        batchSize: w.B,
        shuffle: false,
        onBatchEnd: () => {
          stamps.push(performance.now());
        },
      });
      const d = stamps
        .slice(1)
        .map((t, i) => t - stamps[i])
        .slice(2)
        .sort((a, b) => a - b);
      return d[Math.floor(d.length / 2)];
    },
  };
}

async function timeAsync(fn) {
  for (let i = 0; i < timing.warmup; i++) await fn();
  const ts = [];
  const start = performance.now();
  while (ts.length < timing.minIters || performance.now() - start < timing.minMs) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)];
}

const info = backendInfo();
// Raw and API blocks alternate (rounds), so drift of the machine's speed hits both alike.
const median = (a) => {
  const b = [...a].sort((x, y) => x - y);
  return b[Math.floor(b.length / 2)];
};
const rows = [];
for (const name of Object.keys(WORKLOADS)) {
  const raw = build(name).step;
  const m = modelFor(name);
  const rawTimes = [],
    apiTimes = [];
  const first = time(raw, { warmup: 2, minMs: 0, minIters: 1 });
  const perBlock = Math.max(3, Math.min(30, Math.ceil((quick ? 300 : 1000) / first)));
  for (let round = 0; round < (quick ? 2 : 4); round++) {
    for (let i = 0; i < perBlock; i++) {
      const t0 = performance.now();
      raw();
      rawTimes.push(performance.now() - t0);
    }
    if (m.steady) apiTimes.push(await m.steady(perBlock + 3));
    else
      for (let i = 0; i < perBlock; i++) {
        const t0 = performance.now();
        await m.call();
        apiTimes.push(performance.now() - t0);
      }
  }
  const call = await timeAsync(m.call);
  const kernels = median(rawTimes),
    step = median(apiTimes);
  rows.push({
    workload: name,
    api_step_ms: +step.toFixed(3),
    api_call_ms: +call.toFixed(3),
    kernels_ms: +kernels.toFixed(3),
    overhead_pct: +((step / kernels - 1) * 100).toFixed(1),
  });
}
if (json) console.log(JSON.stringify(rows));
else {
  console.log(
    `rnnkit ${info.gemm}/${info.simd}, ${info.threads} threads: model API (fit on one batch / predict) vs raw kernels`,
  );
  console.log('workload  api step ms  kernels ms  overhead  one fit() call ms');
  for (const r of rows)
    console.log(
      `${r.workload.padEnd(8)} ${r.api_step_ms.toFixed(2).padStart(12)} ` +
        `${r.kernels_ms.toFixed(2).padStart(11)} ${(r.overhead_pct.toFixed(1) + '%').padStart(9)} ` +
        `${r.api_call_ms.toFixed(2).padStart(18)}`,
    );
}
