#!/usr/bin/env node
// npm run bench:charlm: character-LM training throughput (characters per second) of rnnkit's
// LanguageModel and of the same model in PyTorch in the same run (faster of its two thread
// set-ups): Embedding(V,64) → LSTM(64,128) → Linear(128,V), 32 streams × windows of 100, Adam,
// clipNorm 5. Uses ../shared/data/tinyshakespeare.txt when present, else a synthetic text.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { LanguageModel, Vocabulary, backendInfo } = require('../dist/index.js');
const file = join(here, '..', '..', 'shared', 'data', 'tinyshakespeare.txt');
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
const ms = d[Math.floor(d.length / 2)];
const ours = (32 * 100) / (ms / 1000);

let torch = null;
const PY = '/usr/bin/python3';
if (existsSync(PY) && spawnSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) {
  for (const setup of ['default', 'passive2']) {
    const r = spawnSync(PY, [join(here, 'torch_charlm.py'), file, setup], { encoding: 'utf8' });
    try {
      const j = JSON.parse(r.stdout.trim().split('\n').pop());
      if (!torch || j.chars_per_s > torch.chars_per_s) torch = j;
    } catch {
      /* baseline absent */
    }
  }
}
const info = backendInfo();
const row = {
  rnnkit_chars_per_s: Math.round(ours),
  rnnkit_ms_per_window: +ms.toFixed(2),
  torch_chars_per_s: torch ? Math.round(torch.chars_per_s) : null,
  torch_setup: torch?.setup ?? null,
  ratio: torch ? +(ours / torch.chars_per_s).toFixed(3) : null,
};
if (process.argv.includes('--json')) console.log(JSON.stringify(row));
else
  console.log(
    `char-LM training (${info.gemm}/${info.simd}, ${info.threads} threads): rnnkit ` +
      `${row.rnnkit_chars_per_s} chars/s (${row.rnnkit_ms_per_window} ms per 32x100 window); torch ` +
      `${row.torch_chars_per_s ?? '-'} chars/s (${row.torch_setup ?? 'absent'}); rnnkit/torch throughput ` +
      `${row.ratio ?? '-'}`,
  );
