#!/usr/bin/env node
// npm run bench [-- --json] [-- --workloads W1,W5b1] [-- --quick] [-- --threads N] [-- --gemm builtin]
//   [-- --no-baselines]   (rnnkit only; also `rnnkit bench` from an install)
// Times W1–W6 on rnnkit and, when installed, the same workloads in PyTorch (Debian's
// python3-torch, fastest of its two good thread set-ups) and W5 in onnxruntime-node, all in this
// one run, and prints ms per step, GFLOP/s and the ratio rnnkit/torch.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { build, time, WORKLOADS } from './rnnkit_workloads.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { backendInfo, setNumThreads, cpu } = require('../dist/index.js');

const args = process.argv.slice(2);
const flag = (n) => args.includes(n);
const opt = (n, d) => {
  const i = args.indexOf(n);
  return i >= 0 ? args[i + 1] : d;
};
const json = flag('--json');
const quick = flag('--quick');
const names = opt('--workloads', Object.keys(WORKLOADS).join(',')).split(',');
if (opt('--threads')) setNumThreads(Number(opt('--threads')));
if (opt('--gemm')) cpu().setGemm(opt('--gemm')); // 'builtin' times the built-in GEMM of an OpenBLAS build
const log = (...a) => {
  if (!json) console.error(...a);
};

for (const n of names)
  if (!WORKLOADS[n]) {
    console.error(`unknown workload ${n}; known: ${Object.keys(WORKLOADS).join(' ')}`);
    process.exit(2);
  }

const info = backendInfo();
log(`rnnkit: gemm=${info.gemm} simd=${info.simd} threads=${info.threads}`);
const timing = quick ? { warmup: 1, minMs: 300, minIters: 3 } : { warmup: 3, minMs: 1500, minIters: 5 };

const rnnkit = {};
for (const n of names) {
  const { step, gflop } = build(n);
  rnnkit[n] = { ms: time(step, timing), gflop };
  log(`  ${n}: ${rnnkit[n].ms.toFixed(2)} ms`);
}

// PyTorch baseline (a separate process: it must own its thread set-up).
const PY = '/usr/bin/python3';
let torch = null;
const baselines = !flag('--no-baselines');
const hasTorch = baselines && existsSync(PY) && spawnSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
if (hasTorch) {
  log('torch: running bench/torch_baselines.py ...');
  const r = spawnSync(
    PY,
    [join(here, 'torch_baselines.py'), '--workloads', names.join(','), ...(quick ? ['--quick'] : [])],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  const last = (r.stdout || '').trim().split('\n').pop();
  try {
    torch = JSON.parse(last);
  } catch {
    log('torch baseline failed:', r.stderr?.slice(-2000));
  }
} else if (baselines)
  log('torch: /usr/bin/python3 with torch not found (apt-get install python3-torch); baseline skipped');

// onnxruntime-node for W5 (optional dev install: ONNXRUNTIME_NODE_INSTALL=skip npm i --no-save onnxruntime-node).
const ort = {};
const w5 = names.filter((n) => n.startsWith('W5'));
if (w5.length && baselines) {
  const model = join(here, '.cache', 'w5_lstm.onnx');
  if (!existsSync(model) && hasTorch) spawnSync(PY, [join(here, 'export_w5_onnx.py'), model], { stdio: 'ignore' });
  if (existsSync(model)) {
    const { runOrtW5 } = await import('./ort_w5.mjs');
    for (const n of w5)
      ort[n] = await runOrtW5({ modelPath: model, batch: WORKLOADS[n].B, T: WORKLOADS[n].T, iters: quick ? 3 : 5 });
    if (Object.values(ort).every((v) => v == null)) log('onnxruntime-node not installed; ORT baseline skipped');
  } else log('no ONNX model for W5 (needs torch to export); ORT baseline skipped');
}

const rows = names.map((n) => {
  const t = torch?.[n]?.ms ?? null;
  const row = {
    workload: n,
    rnnkit_ms: +rnnkit[n].ms.toFixed(3),
    torch_ms: t == null ? null : +t.toFixed(3),
    ratio: t == null ? null : +(rnnkit[n].ms / t).toFixed(3),
  };
  if (n.startsWith('W5')) row.ort_ms = ort[n] == null ? null : +ort[n].toFixed(3);
  return row;
});

if (json) {
  console.log(JSON.stringify(rows));
} else {
  const pad = (s, w) => String(s).padStart(w);
  console.log(`\nrnnkit ${info.gemm}/${info.simd}, ${info.threads} threads; torch ${torch?._meta?.torch ?? 'absent'}`);
  console.log(
    ['workload', 'rnnkit ms', 'GFLOP/s', 'torch ms', 'torch set-up', 'ratio', 'ort ms']
      .map((h, i) => pad(h, i ? 12 : 8))
      .join(' '),
  );
  for (const r of rows) {
    const gf = (rnnkit[r.workload].gflop / rnnkit[r.workload].ms) * 1e3;
    console.log(
      [
        pad(r.workload, 8),
        pad(r.rnnkit_ms.toFixed(2), 12),
        pad(gf.toFixed(1), 12),
        pad(r.torch_ms?.toFixed(2) ?? '-', 12),
        pad(torch?.[r.workload]?.setup ?? '-', 12),
        pad(r.ratio?.toFixed(3) ?? '-', 12),
        pad(r.ort_ms?.toFixed(2) ?? '', 12),
      ].join(' '),
    );
  }
}
