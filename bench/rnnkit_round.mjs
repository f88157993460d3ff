#!/usr/bin/env node
// One round of rnnkit's side of `npm run bench`, in its own process: the workloads' ms per step
// and this machine's sgemm rate (1024³ through the same GEMM), as one JSON line.
//   node bench/rnnkit_round.mjs --workloads W1,W5b1 [--quick] [--threads N] [--gemm builtin]
import { createRequire } from 'node:module';
import { build, time } from './rnnkit_workloads.mjs';

const require = createRequire(import.meta.url);
const { backendInfo, setNumThreads, cpu } = require('../dist/index.js');
const args = process.argv.slice(2);
const opt = (n, d) => {
  const i = args.indexOf(n);
  return i >= 0 ? args[i + 1] : d;
};
const quick = args.includes('--quick');
if (opt('--threads')) setNumThreads(Number(opt('--threads')));
if (opt('--gemm')) cpu().setGemm(opt('--gemm'));
const timing = quick ? { warmup: 1, minMs: 300, minIters: 3 } : { warmup: 3, minMs: 1500, minIters: 5 };

function sgemmGflops() {
  const n = 1024;
  const a = new Float32Array(n * n).fill(0.5),
    b = new Float32Array(n * n).fill(0.25),
    c = new Float32Array(n * n);
  const ms = time(() => cpu().gemm({ M: n, N: n, K: n, a, b, c }), {
    warmup: 1,
    minMs: quick ? 200 : 600,
    minIters: 3,
  });
  return (2 * n ** 3) / (ms * 1e6);
}

const out = { _info: backendInfo(), _sgemm_gflops: sgemmGflops() };
for (const n of opt('--workloads', '').split(',').filter(Boolean)) {
  const { step, gflop } = build(n);
  out[n] = { ms: time(step, timing), gflop };
}
console.log(JSON.stringify(out));
