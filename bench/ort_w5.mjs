// ONNX Runtime (onnxruntime-node) baseline for W5: LSTM inference,
// I=64, H=256, one layer, T=128, full output sequence, batch 1 and 64.
//
// The model comes from `/usr/bin/python3 bench/export_w5_onnx.py`
// (default bench/.cache/w5_lstm.onnx).
//
//   node bench/ort_w5.mjs [model.onnx]    -> prints {"W5b1": ms, "W5b64": ms}
//
// onnxruntime-node is optional: it is imported dynamically and, when it is
// not installed, runOrtW5 returns null. It installs offline only with
//   ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node
//
// For each call both intraOpNumThreads 2 and 1 are measured and the faster
// median is returned.

import { fileURLToPath } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_MODEL = path.join(HERE, '.cache', 'w5_lstm.onnx');
const I = 64;

let ortPromise = null;
async function loadOrt() {
  if (!ortPromise) {
    ortPromise = (async () => {
      let m = null;
      try {
        m = await import('onnxruntime-node');
      } catch {
        // ESM resolution ignores NODE_PATH; CommonJS resolution honours it,
        // so a scratch install can be used via NODE_PATH=/some/node_modules.
        try {
          const resolved = createRequire(import.meta.url).resolve('onnxruntime-node');
          m = await import(pathToFileURL(resolved).href);
        } catch {
          return null;
        }
      }
      return m.default ?? m;
    })();
  }
  return ortPromise;
}

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
}

// Deterministic pseudo-random input in [-1, 1) (values do not affect timing).
function makeInput(n, seed = 12345) {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2147483648 - 1;
  }
  return a;
}

async function timeSession(ort, modelPath, threads, batch, T, iters, minMs) {
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  try {
    const x = new ort.Tensor('float32', makeInput(T * batch * I), [T, batch, I]);
    const feeds = { x };
    for (let i = 0; i < 3; i++) await session.run(feeds);
    const times = [];
    const start = performance.now();
    while (times.length < iters || performance.now() - start < minMs) {
      const t0 = performance.now();
      await session.run(feeds);
      times.push(performance.now() - t0);
    }
    return median(times);
  } finally {
    if (typeof session.release === 'function') await session.release();
  }
}

/**
 * Median ms per W5 inference with onnxruntime-node, best of
 * intraOpNumThreads 2 and 1. Returns null if onnxruntime-node is missing.
 * `iters` is the minimum number of timed runs (default 5); timing also runs
 * for at least `minMs` (default 1000 ms) per thread setting.
 */
export async function runOrtW5({
  modelPath = DEFAULT_MODEL,
  batch,
  T = 128,
  iters = 5,
  minMs = 1000,
  threads = [2, 1],
} = {}) {
  const ort = await loadOrt();
  if (!ort) return null;
  if (!fs.existsSync(modelPath)) {
    throw new Error(`ONNX model not found: ${modelPath} (run /usr/bin/python3 bench/export_w5_onnx.py)`);
  }
  let best = Infinity;
  for (const t of threads) {
    const ms = await timeSession(ort, modelPath, t, batch, T, iters, minMs);
    if (ms < best) best = ms;
  }
  return best;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  // node bench/ort_w5.mjs [model.onnx] [W5|W7]: both batch sizes of that workload, as JSON
  const modelPath = process.argv[2] ?? DEFAULT_MODEL;
  const name = process.argv[3] ?? 'W5';
  const out = {};
  for (const batch of [1, 64]) {
    const ms = await runOrtW5({ modelPath, batch });
    out[`${name}b${batch}`] = ms === null ? null : Math.round(ms * 1000) / 1000;
  }
  console.log(JSON.stringify(out));
}
