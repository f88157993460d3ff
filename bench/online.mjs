#!/usr/bin/env node
// npm run bench:online: steps per second (one sequence, one step) and learning-state memory of
// exact RTRL, SnAp-1 and UORO at n = 16, 32, 64 units for each cell (one layer, input 8,
// float64), and the measured growth of exact RTRL from n = 16 to 32 (O(n^4) predicts 16x).
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { ExactRtrl, cpu, backendInfo } = require('../dist/index.js');

const be = cpu();
const I = 8;
const rows = [];
for (const cell of ['elman', 'gru', 'lstm']) {
  for (const n of [16, 32, 64]) {
    for (const algorithm of ['rtrl', 'snap1', 'uoro']) {
      const e = new ExactRtrl(be, { cell, inputSize: I, hiddenSize: n, algorithm, dtype: 'float64' });
      e.reset(1);
      const params = Float64Array.from({ length: e.P }, (_, i) => Math.sin(i) * 0.1);
      const x = Float64Array.from({ length: I }, (_, i) => Math.cos(i));
      const g = new Float64Array(e.P),
        dh = new Float64Array(n).fill(0.01);
      const step = () => {
        e.step(x, params);
        e.accumulate(dh, g);
      };
      step();
      let k = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < 700 || k < 3) {
        step();
        k++;
      }
      const ms = (performance.now() - t0) / k;
      rows.push({
        cell,
        n,
        algorithm,
        steps_per_s: +(1000 / ms).toFixed(1),
        ms_per_step: +ms.toFixed(3),
        state_bytes: e.sensitivityBytes,
        kept_entries: e.keptEntries,
      });
    }
  }
}
const at = (cell, n, algorithm) => rows.find((r) => r.cell === cell && r.n === n && r.algorithm === algorithm);
const growth = ['elman', 'gru', 'lstm'].map((cell) => ({
  cell,
  rtrl_time_16_to_32: +(at(cell, 32, 'rtrl').ms_per_step / at(cell, 16, 'rtrl').ms_per_step).toFixed(2),
  rtrl_memory_16_to_32: +(at(cell, 32, 'rtrl').state_bytes / at(cell, 16, 'rtrl').state_bytes).toFixed(2),
  rtrl_time_32_to_64: +(at(cell, 64, 'rtrl').ms_per_step / at(cell, 32, 'rtrl').ms_per_step).toFixed(2),
  snap1_time_32_to_64: +(at(cell, 64, 'snap1').ms_per_step / at(cell, 32, 'snap1').ms_per_step).toFixed(2),
  uoro_time_32_to_64: +(at(cell, 64, 'uoro').ms_per_step / at(cell, 32, 'uoro').ms_per_step).toFixed(2),
}));
if (process.argv.includes('--json')) console.log(JSON.stringify({ rows, growth }));
else {
  const i = backendInfo();
  console.log(`online learning, one sequence (${i.gemm}/${i.simd}, ${i.threads} threads)`);
  console.log('cell   n   algorithm  steps/s   ms/step   state bytes  kept entries');
  for (const r of rows)
    console.log(
      `${r.cell.padEnd(6)} ${String(r.n).padStart(2)}  ${r.algorithm.padEnd(9)} ` +
        `${String(r.steps_per_s).padStart(8)} ${r.ms_per_step.toFixed(3).padStart(9)} ` +
        `${String(r.state_bytes).padStart(13)} ${String(r.kept_entries).padStart(13)}`,
    );
  for (const gr of growth) {
    console.log(
      `${gr.cell}: exact RTRL n 16 -> 32: time x${gr.rtrl_time_16_to_32} (O(n^4) predicts 16), memory ` +
        `x${gr.rtrl_memory_16_to_32} (O(n^3) predicts 8); n 32 -> 64: RTRL x${gr.rtrl_time_32_to_64}, SnAp-1 ` +
        `x${gr.snap1_time_32_to_64}, UORO x${gr.uoro_time_32_to_64} (O(n^2) predicts 4)`,
    );
  }
}
