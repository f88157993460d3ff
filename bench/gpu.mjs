#!/usr/bin/env node
// The CUDA backend on a GPU: every recurrent kernel against the CPU backend on fresh random
// inputs (max|gpu - cpu| / max|cpu| per output, float32 and float64), then timings of the
// recurrent layers (forward + BPTT backward for training, forward alone for inference) on W1,
// W4 and a large LSTM, printed as a table; bench/torch_gpu.py times cuDNN on the same shapes.
//   node bench/gpu.mjs [--quick] [--json]       (RNNKIT_CUDA_EMULATION=1: the host emulation)
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { cpu, cudaDevice, cudaInfo } = require('../dist/index.js');

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const json = args.includes('--json');
const log = (...a) => {
  if (!json) console.log(...a);
};

const info = cudaInfo();
if (!info.available) {
  console.error(`CUDA backend unavailable: ${info.reason}`);
  process.exit(2);
}
log(`device: ${info.device} (cc ${info.computeCapability}), gemm: ${info.gemm}, cuBLAS: ${info.cublas}`);
const dev = cudaDevice();
const be = cpu();

let seed = 12345;
const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0), seed / 2 ** 32 - 0.5);
const fill = (dt, n, s = 1) => {
  const a = dt === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rand() * s;
  return a;
};
const relDiff = (a, b) => {
  let num = 0,
    den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return den ? num / den : num;
};
const G = { elman: 1, lstm: 4, gru: 3 };

// ---- correctness: forward and backward of every cell against the CPU
const checks = [];
const shapes = quick
  ? [{ T: 7, B: 3, I: 5, H: 8 }]
  : [
      { T: 7, B: 3, I: 5, H: 8 },
      { T: 50, B: 16, I: 64, H: 256 },
    ];
for (const dt of ['float32', 'float64'])
  for (const sh of shapes)
    for (const cell of [
      { cell: 'elman', activation: 'tanh' },
      { cell: 'elman', activation: 'relu' },
      { cell: 'lstm' },
      { cell: 'gru', gruVariant: 'pytorch' },
      { cell: 'gru', gruVariant: 'original' },
    ])
      for (const reverse of [false, true]) {
        const { T, B, I, H } = sh;
        const g = G[cell.cell];
        const spec = { ...cell, T, B, I, H, reverse };
        const lengths = Int32Array.from({ length: B }, (_, b) => (b === 1 ? Math.max(1, T - 3) : T));
        const host = {
          x: fill(dt, T * B * I),
          wIh: fill(dt, g * H * I, 0.3),
          wHh: fill(dt, g * H * H, 0.3),
          bIh: fill(dt, g * H, 0.1),
          bHh: fill(dt, g * H, 0.1),
          h0: fill(dt, B * H),
        };
        const R = be.rnnReserveSize(spec);
        const cpuOut = { y: fill(dt, T * B * H, 0), hN: fill(dt, B * H, 0), reserve: fill(dt, R, 0) };
        be.rnnForward({ ...spec, ...host, lengths, ...cpuOut });
        const d = Object.fromEntries(Object.entries(host).map(([k, v]) => [k, dev.fromHost(v)]));
        const gOut = { y: dev.alloc(dt, [T * B * H]), hN: dev.alloc(dt, [B * H]), reserve: dev.alloc(dt, [R]) };
        const dl = dev.fromHost(lengths);
        dev.rnnForward({ ...spec, ...d, lengths: dl, ...gOut });
        const dy = fill(dt, T * B * H);
        const grads = (mk) => ({
          dx: mk(T * B * I),
          dh0: mk(B * H),
          dwIh: mk(g * H * I),
          dwHh: mk(g * H * H),
          dbIh: mk(g * H),
          dbHh: mk(g * H),
        });
        const cg = grads((n) => fill(dt, n, 0));
        be.rnnBackward({
          ...spec,
          x: host.x,
          wIh: host.wIh,
          wHh: host.wHh,
          lengths,
          reserve: cpuOut.reserve,
          dy,
          ...cg,
        });
        const gg = grads((n) => dev.alloc(dt, [n]));
        dev.rnnBackward({
          ...spec,
          x: d.x,
          wIh: d.wIh,
          wHh: d.wHh,
          lengths: dl,
          reserve: gOut.reserve,
          dy: dev.fromHost(dy),
          ...gg,
        });
        const row = {
          what:
            [cell.cell, cell.activation, cell.gruVariant].filter(Boolean).join('/') +
            (reverse ? ' reverse' : '') +
            ` T${T} B${B} H${H} ${dt}`,
        };
        row.y = relDiff(dev.toHostSync(gOut.y), cpuOut.y);
        row.hN = relDiff(dev.toHostSync(gOut.hN), cpuOut.hN);
        row.grads = Math.max(...Object.keys(cg).map((k) => relDiff(dev.toHostSync(gg[k]), cg[k])));
        const tol = dt === 'float32' ? 1e-4 : 1e-10;
        row.ok = row.y < tol && row.hN < tol && row.grads < (dt === 'float32' ? 1e-3 : 1e-9);
        checks.push(row);
        for (const t of [...Object.values(d), ...Object.values(gOut), ...Object.values(gg), dl]) dev.free(t);
      }
log('\ncheck (max relative difference against the CPU backend)');
for (const c of checks)
  log(
    `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.what.padEnd(42)} y ${c.y.toExponential(1)}  hN ${c.hN.toExponential(1)}  grads ${c.grads.toExponential(1)}`,
  );
const failed = checks.filter((c) => !c.ok).length;

// ---- timings: the recurrent layers of each workload
const WORK = {
  W1: { cell: 'lstm', T: 64, B: 32, I: 64, H: 256, layers: 1, train: true },
  W4: { cell: 'lstm', T: 100, B: 32, I: 65, H: 512, layers: 2, train: true },
  L_train: { cell: 'lstm', T: 256, B: 64, I: 1024, H: 1024, layers: 1, train: true },
  L_inf_b1: { cell: 'lstm', T: 256, B: 1, I: 1024, H: 1024, layers: 1, train: false },
  L_inf_b64: { cell: 'lstm', T: 256, B: 64, I: 1024, H: 1024, layers: 1, train: false },
};
const rows = [];
for (const [name, w] of Object.entries(quick ? { W1: WORK.W1 } : WORK)) {
  const dt = 'float32';
  const layers = [];
  for (let l = 0; l < w.layers; l++) {
    const I = l === 0 ? w.I : w.H;
    const spec = { cell: w.cell, T: w.T, B: w.B, I, H: w.H };
    const R = be.rnnReserveSize(spec);
    layers.push({
      spec,
      x: dev.fromHost(fill(dt, w.T * w.B * I)),
      wIh: dev.fromHost(fill(dt, 4 * w.H * I, 0.05)),
      wHh: dev.fromHost(fill(dt, 4 * w.H * w.H, 0.05)),
      bIh: dev.fromHost(fill(dt, 4 * w.H, 0.05)),
      bHh: dev.fromHost(fill(dt, 4 * w.H, 0.05)),
      y: dev.alloc(dt, [w.T * w.B * w.H]),
      reserve: w.train ? dev.alloc(dt, [R]) : null,
      dy: dev.fromHost(fill(dt, w.T * w.B * w.H)),
      dx: dev.alloc(dt, [w.T * w.B * I]),
      dwIh: dev.alloc(dt, [4 * w.H * I]),
      dwHh: dev.alloc(dt, [4 * w.H * w.H]),
      dbIh: dev.alloc(dt, [4 * w.H]),
      dbHh: dev.alloc(dt, [4 * w.H]),
    });
  }
  const step = () => {
    for (const L of layers)
      dev.rnnForward({ ...L.spec, x: L.x, wIh: L.wIh, wHh: L.wHh, bIh: L.bIh, bHh: L.bHh, y: L.y, reserve: L.reserve });
    if (w.train)
      for (const L of [...layers].reverse())
        dev.rnnBackward({
          ...L.spec,
          x: L.x,
          wIh: L.wIh,
          wHh: L.wHh,
          reserve: L.reserve,
          dy: L.dy,
          dx: L.dx,
          dwIh: L.dwIh,
          dwHh: L.dwHh,
          dbIh: L.dbIh,
          dbHh: L.dbHh,
        });
    dev.synchronize();
  };
  for (let i = 0; i < 3; i++) step();
  const times = [];
  const iters = quick ? 3 : 20;
  for (let i = 0; i < iters; i++) {
    const t0 = process.hrtime.bigint();
    step();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  rows.push({ workload: name, rnnkit_ms: times[Math.floor(times.length / 2)], ...w });
  for (const L of layers) for (const t of Object.values(L)) if (t && t.device === 'cuda') dev.free(t);
}
if (json) console.log(JSON.stringify({ info, checks, rows }));
else {
  log('\ntimings (recurrent layers, float32, median ms per step)');
  for (const r of rows) log(`  ${r.workload.padEnd(10)} ${r.rnnkit_ms.toFixed(3)} ms`);
}
process.exitCode = failed ? 1 : 0;
