#!/usr/bin/env node
// npm run bench:tdnn: TimeDelay forward + backward (native unfold, one GEMM, tanh) against the
// same computation as a PyTorch nn.Conv1d with dilation and causal left padding
// (bench/torch_time_delay.py), float32, interleaved in rounds (rnnkit, torch, rnnkit, …);
// reports the median of the per-round ratios with min–max. Without python3 + torch only the
// rnnkit times are printed. Options: --rounds N (default 7), --threads N, --json.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
const require = createRequire(import.meta.url);
// Debian's python3-torch (the PATH's python3 may be another install without torch).
const PY = process.env.RNNKIT_PYTHON ?? '/usr/bin/python3';
const {
  Sequential,
  TimeDelay,
  Rng,
  runSync,
  cpuDevice,
  Exec,
  Tape,
  Scratch,
  backendInfo,
  setNumThreads,
} = require('../dist/index.js');

const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const ROUNDS = Math.max(5, arg('--rounds', 7));
const THREADS = arg('--threads', backendInfo().threads);
setNumThreads(THREADS);

const CONFIGS = [
  { T: 100, B: 32, F: 40, O: 128, K: 5, d: 1 },
  { T: 200, B: 16, F: 64, O: 64, K: 3, d: 4 },
  { T: 50, B: 64, F: 13, O: 256, K: 7, d: 2 },
];

const dev = cpuDevice();
function rnnkitRunner(c) {
  const layer = new TimeDelay({ units: c.O, window: c.K, dilation: c.d, activation: 'tanh' });
  const net = new Sequential([['td', layer]], 'float32', undefined, dev);
  net.build({ kind: 'seq', F: c.F }, true);
  net.initialize(new Rng(1));
  const scratch = new Scratch(dev);
  const x = {
    kind: 'seq',
    data: dev.fromHost(Float32Array.from({ length: c.T * c.B * c.F }, (_, i) => Math.sin(i))),
    T: c.T,
    B: c.B,
    F: c.F,
    lengths: null,
  };
  const dy = dev.fromHost(Float32Array.from({ length: c.T * c.B * c.O }, (_, i) => Math.cos(i)));
  const step = () => {
    scratch.reset();
    const ctx = {
      exec: new Exec(dev, false),
      device: dev,
      training: true,
      rng: new Rng(1),
      dtype: 'float32',
      initialStates: new Map(),
      finalStates: new Map(),
      tape: new Tape(scratch),
    };
    net.params.zeroGrad();
    const y = runSync(net.forward(x, ctx));
    runSync(net.backward({ ...y, data: dy }, ctx));
  };
  step();
  return (iters) => {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) step();
    return (performance.now() - t0) / iters;
  };
}

/** The torch process (one for the whole run), or null with the reason. */
async function torchProcess() {
  const script = fileURLToPath(new URL('./torch_time_delay.py', import.meta.url));
  let child;
  try {
    child = spawn(PY, [script, String(THREADS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  } catch (e) {
    return { reason: `python3 could not start (${e.message})` };
  }
  const lines = createInterface({ input: child.stdout });
  const it = lines[Symbol.asyncIterator]();
  const next = async () => {
    const r = await it.next();
    return r.done ? null : JSON.parse(r.value);
  };
  const failed = new Promise((res) =>
    child.on('error', (e) => res({ error: `python3 could not start (${e.message})` })),
  );
  const first = await Promise.race([next(), failed]);
  if (!first || first.error) {
    child.kill();
    return { reason: first ? first.error : 'python3 exited' };
  }
  return {
    version: first.ready,
    run: async (cfg, iters) => {
      child.stdin.write(JSON.stringify({ cfg, iters }) + '\n');
      return (await next()).ms;
    },
    close: () => child.stdin.end(),
  };
}

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const torch = await torchProcess();
if (!torch.run) console.log(`torch comparison skipped: ${torch.reason} (pip install torch to compare)`);
const rows = [];
for (const c of CONFIGS) {
  const rk = rnnkitRunner(c);
  const iters = Math.max(3, Math.round(300 / rk(3)));
  const rkMs = [],
    thMs = [],
    ratios = [];
  for (let r = 0; r < ROUNDS; r++) {
    const a = rk(iters);
    rkMs.push(a);
    if (torch.run) {
      const b = await torch.run(c, iters);
      thMs.push(b);
      ratios.push(a / b);
    }
  }
  rows.push({
    config: `T${c.T} B${c.B} F${c.F} O${c.O} K${c.K} d${c.d}`,
    rnnkit_ms: +median(rkMs).toFixed(3),
    torch_ms: thMs.length ? +median(thMs).toFixed(3) : null,
    ratio_median: ratios.length ? +median(ratios).toFixed(3) : null,
    ratio_min: ratios.length ? +Math.min(...ratios).toFixed(3) : null,
    ratio_max: ratios.length ? +Math.max(...ratios).toFixed(3) : null,
  });
}
if (torch.close) torch.close();
if (process.argv.includes('--json')) console.log(JSON.stringify({ rounds: ROUNDS, threads: THREADS, rows }));
else {
  const i = backendInfo();
  console.log(
    `TimeDelay forward+backward, float32, tanh (${i.gemm}/${i.simd}, ${THREADS} threads, ${ROUNDS} rounds${torch.version ? `, torch ${torch.version}` : ''})`,
  );
  console.log('config                         rnnkit ms   torch ms   rnnkit/torch median (min–max)');
  for (const r of rows)
    console.log(
      `${r.config.padEnd(30)} ${String(r.rnnkit_ms).padStart(9)}  ${String(r.torch_ms ?? '-').padStart(9)}   ${
        r.ratio_median === null ? '-' : `${r.ratio_median} (${r.ratio_min}–${r.ratio_max})`
      }`,
    );
}
