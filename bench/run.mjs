#!/usr/bin/env node
// npm run bench [-- --json] [-- --workloads W1,W5b1] [-- --quick] [-- --rounds 5] [-- --threads N]
//   [-- --gemm builtin] [-- --no-baselines]   (also `rnnkit bench` from an install)
// Times W1–W6 on rnnkit and, when installed, the same workloads in PyTorch (Debian's
// python3-torch, the faster of its two good thread set-ups) and W5 in onnxruntime-node. Each
// side runs in its own process, interleaved in rounds (rnnkit, PyTorch, ORT, rnnkit, ...), and
// a ratio is the median of the per-round ratios with their min–max: a machine that drifts
// between rounds moves both sides of a ratio. GFLOP/s is set against the sgemm rate measured
// in the same rounds.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WORKLOADS } from './rnnkit_workloads.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (n) => args.includes(n);
const opt = (n, d) => {
  const i = args.indexOf(n);
  return i >= 0 ? args[i + 1] : d;
};
const json = flag('--json');
const quick = flag('--quick');
const rounds = Number(opt('--rounds', '5'));
const names = opt('--workloads', Object.keys(WORKLOADS).join(',')).split(',');
const log = (...a) => {
  if (!json) console.error(...a);
};
for (const n of names)
  if (!WORKLOADS[n]) {
    console.error(`unknown workload ${n}; known: ${Object.keys(WORKLOADS).join(' ')}`);
    process.exit(2);
  }
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error(`--rounds must be a positive integer, received ${opt('--rounds')}`);
  process.exit(2);
}

const PY = '/usr/bin/python3';
const baselines = !flag('--no-baselines');
const hasTorch = baselines && existsSync(PY) && spawnSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
if (baselines && !hasTorch)
  log('torch: /usr/bin/python3 with torch not found (apt-get install python3-torch); skipped');
// The inference workloads' ONNX models (W5 LSTM, W7 GRU), exported once with torch into bench/.cache/.
const INFER = { W5: 'w5_lstm.onnx', W7: 'w7_gru.onnx' };
const ortModels = {};
for (const [w, file] of Object.entries(INFER)) {
  if (!baselines || !names.some((n) => n.startsWith(w))) continue;
  const model = join(here, '.cache', file);
  if (!existsSync(model) && hasTorch)
    spawnSync(PY, [join(here, 'export_w5_onnx.py'), model, ...(w === 'W7' ? ['--gru'] : [])], { stdio: 'ignore' });
  if (existsSync(model)) ortModels[w] = model;
  else log(`no ONNX model for ${w} (needs torch to export); its ORT baseline is skipped`);
}
const hasOrt = Object.keys(ortModels).length > 0;

function lastJson(r, what) {
  const last = (r.stdout || '').trim().split('\n').pop();
  try {
    return JSON.parse(last);
  } catch {
    log(`${what} failed:`, (r.stderr || '').slice(-2000));
    return null;
  }
}
const pass = ['--threads', '--gemm'].flatMap((k) => (opt(k) ? [k, opt(k)] : []));
const runRnnkit = () =>
  lastJson(
    spawnSync(
      process.execPath,
      [join(here, 'rnnkit_round.mjs'), '--workloads', names.join(','), ...(quick ? ['--quick'] : []), ...pass],
      { encoding: 'utf8', maxBuffer: 1 << 24 },
    ),
    'rnnkit round',
  );
const runTorch = () =>
  lastJson(
    spawnSync(PY, [join(here, 'torch_baselines.py'), '--workloads', names.join(','), ...(quick ? ['--quick'] : [])], {
      encoding: 'utf8',
      maxBuffer: 1 << 24,
    }),
    'torch round',
  );
const runOrt = () =>
  Object.assign(
    {},
    ...Object.entries(ortModels).map(([w, model]) =>
      lastJson(
        spawnSync(process.execPath, [join(here, 'ort_w5.mjs'), model, w], { encoding: 'utf8', maxBuffer: 1 << 24 }),
        'onnxruntime-node round',
      ),
    ),
  );

const per = { rnnkit: [], torch: [], ort: [] };
let info = null;
for (let r = 0; r < rounds; r++) {
  const a = runRnnkit();
  if (!a) process.exit(1);
  info = a._info;
  per.rnnkit.push(a);
  if (hasTorch) per.torch.push(runTorch());
  if (hasOrt) per.ort.push(runOrt());
  log(
    `round ${r + 1}/${rounds}: ` +
      names
        .map((n) => `${n} ${a[n].ms.toFixed(2)}${per.torch[r]?.[n] ? `/${per.torch[r][n].ms.toFixed(2)}` : ''}`)
        .join('  '),
  );
}

const median = (xs) => {
  const s = xs.filter((x) => x != null && Number.isFinite(x)).sort((p, q) => p - q);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round3 = (x) => (x == null ? null : +x.toFixed(3));
const sgemm = median(per.rnnkit.map((a) => a._sgemm_gflops));
const rows = names.map((n) => {
  const mine = per.rnnkit.map((a) => a[n].ms);
  const theirs = per.torch.map((t) => t?.[n]?.ms ?? null);
  const ratios = mine.map((m, i) => (theirs[i] ? m / theirs[i] : null)).filter((x) => x != null);
  const ms = median(mine);
  const gflops = (per.rnnkit[0][n].gflop / ms) * 1e3;
  const row = {
    workload: n,
    rnnkit_ms: round3(ms),
    torch_ms: round3(median(theirs)),
    ratio: round3(median(ratios)),
    ratio_min: ratios.length ? round3(Math.min(...ratios)) : null,
    ratio_max: ratios.length ? round3(Math.max(...ratios)) : null,
    gflops: +gflops.toFixed(1),
    sgemm_fraction: sgemm ? +(gflops / sgemm).toFixed(3) : null,
  };
  if (WORKLOADS[n].kind === 'infer') {
    const ort = per.ort.map((o) => o?.[n] ?? null);
    const oratios = mine.map((m, i) => (ort[i] ? m / ort[i] : null)).filter((x) => x != null);
    row.ort_ms = round3(median(ort));
    row.ort_ratio = round3(median(oratios));
    row.ort_ratio_min = oratios.length ? round3(Math.min(...oratios)) : null;
    row.ort_ratio_max = oratios.length ? round3(Math.max(...oratios)) : null;
  }
  return row;
});

if (json) console.log(JSON.stringify(rows));
else {
  const pad = (s, w) => String(s).padStart(w);
  const range = (r, lo, hi) => (r == null ? '-' : `${r.toFixed(2)} (${lo.toFixed(2)}–${hi.toFixed(2)})`);
  console.log(
    `\nrnnkit ${info.gemm}/${info.simd}, ${info.threads} threads; sgemm ${sgemm.toFixed(1)} GFLOP/s; ` +
      `${rounds} interleaved rounds; torch ${per.torch[0]?._meta?.torch ?? 'absent'}`,
  );
  console.log(
    ['workload', 'rnnkit ms', 'GFLOP/s', '% sgemm', 'torch ms', 'vs torch', 'ort ms', 'vs ort']
      .map((h, i) => pad(h, i === 0 ? 8 : i === 5 || i === 7 ? 20 : 10))
      .join(' '),
  );
  for (const r of rows)
    console.log(
      [
        pad(r.workload, 8),
        pad(r.rnnkit_ms.toFixed(2), 10),
        pad(r.gflops.toFixed(1), 10),
        pad(r.sgemm_fraction == null ? '-' : (100 * r.sgemm_fraction).toFixed(0) + '%', 10),
        pad(r.torch_ms?.toFixed(2) ?? '-', 10),
        pad(range(r.ratio, r.ratio_min, r.ratio_max), 20),
        pad(r.ort_ms?.toFixed(2) ?? '', 10),
        pad(r.ort_ms == null ? '' : range(r.ort_ratio, r.ort_ratio_min, r.ort_ratio_max), 20),
      ].join(' '),
    );
}
