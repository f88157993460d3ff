#!/usr/bin/env node
// npm run bench:charlm: character-LM training throughput (characters per second) of rnnkit's
// LanguageModel and of the same model in PyTorch (faster of its two thread set-ups):
// Embedding(V,64) → LSTM(64,128) → Linear(128,V), 32 streams × windows of 100, Adam, clipNorm 5.
// Uses ../shared/data/tinyshakespeare.txt when present, else a synthetic text. Each side runs in
// its own process, interleaved in rounds (rnnkit, PyTorch default, PyTorch passive2, rnnkit, …;
// 5 by default), and the ratio is the median of the per-round ratios with their min–max.
//   npm run bench:charlm [-- --json] [-- --rounds N]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { LanguageModel, Vocabulary, backendInfo } = require('../dist/index.js');
const file = join(here, '..', '..', 'shared', 'data', 'tinyshakespeare.txt');
const args = process.argv.slice(2);
const opt = (n, d) => {
  const i = args.indexOf(n);
  return i >= 0 ? args[i + 1] : d;
};

// One rnnkit round (a child process): median ms per window over one epoch of 400,000 characters.
async function rnnkitRound() {
  const text = (existsSync(file) ? readFileSync(file, 'utf8') : 'hello world '.repeat(100000)).slice(0, 400000);
  const lm = new LanguageModel({ vocabulary: Vocabulary.characters(text), embeddingDim: 64, hiddenSize: 128, seed: 1 });
  const stamps = [];
  await lm.fit(text, {
    epochs: 1,
    batchSize: 32,
    seqLen: 100,
    optimizer: { type: 'adam', lr: 3e-3 },
    clipNorm: 5,
    onBatchEnd: () => {
      stamps.push(performance.now());
    },
  });
  const d = stamps
    .slice(1)
    .map((t, i) => t - stamps[i])
    .slice(3)
    .sort((a, b) => a - b);
  return d[Math.floor(d.length / 2)];
}

if (args.includes('--round')) {
  console.log(JSON.stringify({ ms: await rnnkitRound() }));
} else {
  const rounds = Number(opt('--rounds', '5'));
  if (!Number.isInteger(rounds) || rounds < 1) {
    console.error(`--rounds must be a positive integer, received ${opt('--rounds')}`);
    process.exit(2);
  }
  const PY = '/usr/bin/python3';
  const hasTorch = existsSync(PY) && spawnSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
  const per = [];
  for (let r = 0; r < rounds; r++) {
    const mine = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--round'], { encoding: 'utf8' });
    if (mine.status !== 0) {
      console.error(mine.stderr);
      process.exit(1);
    }
    const ms = JSON.parse(mine.stdout.trim().split('\n').pop()).ms;
    let torch = null;
    if (hasTorch)
      for (const setup of ['default', 'passive2']) {
        const t = spawnSync(PY, [join(here, 'torch_charlm.py'), file, setup], { encoding: 'utf8' });
        try {
          const j = JSON.parse(t.stdout.trim().split('\n').pop());
          if (!torch || j.chars_per_s > torch.chars_per_s) torch = j;
        } catch {
          /* baseline absent */
        }
      }
    per.push({ ms, torch });
    console.error(
      `round ${r + 1}/${rounds}: rnnkit ${ms.toFixed(2)} ms per window` +
        (torch ? `, torch ${Math.round(torch.chars_per_s)} chars/s (${torch.setup})` : ''),
    );
  }
  const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const ms = median(per.map((p) => p.ms));
  const ours = (32 * 100) / (ms / 1000);
  const withTorch = per.filter((p) => p.torch);
  const ratios = withTorch.map((p) => (32 * 100) / (p.ms / 1000) / p.torch.chars_per_s);
  const torchCps = withTorch.length ? median(withTorch.map((p) => p.torch.chars_per_s)) : null;
  const setups = withTorch.map((p) => p.torch.setup);
  const round3 = (v) => +v.toFixed(3);
  const row = {
    rnnkit_chars_per_s: Math.round(ours),
    rnnkit_ms_per_window: +ms.toFixed(2),
    torch_chars_per_s: torchCps === null ? null : Math.round(torchCps),
    // the set-up that was faster in most rounds
    torch_setup: setups.length
      ? setups.sort((a, b) => setups.filter((s) => s === b).length - setups.filter((s) => s === a).length)[0]
      : null,
    ratio: ratios.length ? round3(median(ratios)) : null,
    ratio_min: ratios.length ? round3(Math.min(...ratios)) : null,
    ratio_max: ratios.length ? round3(Math.max(...ratios)) : null,
    rounds,
  };
  if (args.includes('--json')) console.log(JSON.stringify(row));
  else {
    const info = backendInfo();
    console.log(
      `char-LM training (${info.gemm}/${info.simd}, ${info.threads} threads, ${rounds} interleaved rounds): rnnkit ` +
        `${row.rnnkit_chars_per_s} chars/s (${row.rnnkit_ms_per_window} ms per 32x100 window); torch ` +
        `${row.torch_chars_per_s ?? '-'} chars/s (${row.torch_setup ?? 'absent'}); rnnkit/torch throughput ` +
        `${row.ratio ?? '-'}` +
        (row.ratio === null ? '' : ` (${row.ratio_min}–${row.ratio_max})`),
    );
  }
}
