#!/usr/bin/env node
// npm run bench:api [-- --json] [-- --quick] [-- --rounds 5] [-- --workloads W1,W5b1] [-- --no-baselines]
// W1–W6 through the public model API, next to the same workloads on the raw kernels
// (bench/rnnkit_workloads.mjs) in the same process: the per-step overhead of the TypeScript
// layer. Training: fit() on one batch for many epochs, the median time between successive
// onBatchEnd calls (the steady-state step: data is converted once per fit call); also one
// whole fit({epochs: 1}) call on that batch, conversion included. W5: predict() per call.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, time, WORKLOADS } from './rnnkit_workloads.mjs';

const require = createRequire(import.meta.url);
const { SequenceClassifier, SequenceTagger, backendInfo } = require('../dist/index.js');
const args = process.argv.slice(2);
const json = args.includes('--json');
const quick = args.includes('--quick');
const opt = (n, d) => {
  const i = args.indexOf(n);
  return i >= 0 ? args[i + 1] : d;
};
const names = opt('--workloads', Object.keys(WORKLOADS).join(',')).split(',');
for (const n of names)
  if (!WORKLOADS[n]) {
    console.error(`unknown workload ${n}; known: ${Object.keys(WORKLOADS).join(' ')}`);
    process.exit(2);
  }
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

// Without --one: rounds, each rnnkit's process (this script with --one) then PyTorch's, and the
// medians of the per-round figures and ratios (bench/run.mjs explains why).
if (!args.includes('--one')) {
  const here = dirname(fileURLToPath(import.meta.url));
  const rounds = Number(opt('--rounds', '5'));
  const PY = '/usr/bin/python3';
  const hasTorch =
    !args.includes('--no-baselines') &&
    existsSync(PY) &&
    spawnSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
  const last = (r) => {
    try {
      return JSON.parse((r.stdout || '').trim().split('\n').pop());
    } catch {
      console.error((r.stderr || '').slice(-2000));
      return null;
    }
  };
  const q = quick ? ['--quick'] : [];
  const per = [];
  for (let r = 0; r < rounds; r++) {
    const me = last(
      spawnSync(
        process.execPath,
        [fileURLToPath(import.meta.url), '--one', '--json', '--workloads', names.join(','), ...q],
        {
          encoding: 'utf8',
          maxBuffer: 1 << 24,
        },
      ),
    );
    if (!me) process.exit(1);
    const torch = hasTorch
      ? last(
          spawnSync(PY, [join(here, 'torch_baselines.py'), '--workloads', names.join(','), ...q], { encoding: 'utf8' }),
        )
      : null;
    per.push({ me, torch });
    if (!json) console.error(`round ${r + 1}/${rounds}: ${me.map((x) => `${x.workload} ${x.api_step_ms}`).join('  ')}`);
  }
  const med = (xs) => {
    const a = xs.filter((x) => x != null && Number.isFinite(x)).sort((x, y) => x - y);
    if (!a.length) return null;
    const m = a.length >> 1;
    return +(a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2).toFixed(3);
  };
  const rows = names.map((n, i) => {
    const at = (k) => per.map((p) => p.me[i][k]);
    const ratios = per
      .map((p) => (p.torch?.[n]?.ms ? p.me[i].api_step_ms / p.torch[n].ms : null))
      .filter((x) => x != null);
    return {
      workload: n,
      api_step_ms: med(at('api_step_ms')),
      api_call_ms: med(at('api_call_ms')),
      kernels_ms: med(at('kernels_ms')),
      overhead_pct: med(at('overhead_pct')),
      torch_ms: med(per.map((p) => p.torch?.[n]?.ms ?? null)),
      ratio: med(ratios),
      ratio_min: ratios.length ? +Math.min(...ratios).toFixed(3) : null,
      ratio_max: ratios.length ? +Math.max(...ratios).toFixed(3) : null,
    };
  });
  if (json) console.log(JSON.stringify(rows));
  else {
    console.log(`model API (fit on one batch / predict) vs raw kernels and PyTorch, ${rounds} interleaved rounds`);
    console.log('workload  api step ms  kernels ms  overhead  one fit() call ms   torch ms   api/torch (min–max)');
    for (const r of rows)
      console.log(
        `${r.workload.padEnd(8)} ${r.api_step_ms.toFixed(2).padStart(12)} ${r.kernels_ms.toFixed(2).padStart(11)} ` +
          `${(r.overhead_pct.toFixed(1) + '%').padStart(9)} ${r.api_call_ms.toFixed(2).padStart(18)} ` +
          `${(r.torch_ms?.toFixed(2) ?? '-').padStart(10)}   ` +
          (r.ratio == null ? '-' : `${r.ratio.toFixed(2)} (${r.ratio_min.toFixed(2)}–${r.ratio_max.toFixed(2)})`),
      );
  }
  process.exit(0);
}

const info = backendInfo();
// Raw and API blocks alternate (rounds), so drift of the machine's speed hits both alike.
const median = (a) => {
  const b = [...a].sort((x, y) => x - y);
  return b[Math.floor(b.length / 2)];
};
const rows = [];
for (const name of names) {
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
