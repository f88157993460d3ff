#!/usr/bin/env node
// npm run bench:eventloop: how late a 10 ms timer on the main thread is while two models train
// at once (a SequenceClassifier and a LanguageModel, both float32, fit() running concurrently),
// and how long fit's up-front validation of 8,000 sequences keeps the main thread from running
// anything else.
//
//   npm run bench:eventloop                  # 5 rounds of concurrent training + 5 validation runs
//   npm run bench:eventloop -- --rounds 3    # fewer rounds
//   npm run bench:eventloop -- --json        # one JSON object on stdout
//
// Lateness: each tick of a 10 ms setInterval records (now - previous tick - 10 ms). Per round
// p50/p99/max; the summary gives the median over rounds of each, and the worst max.
// Validation: `sync` is how long the fit() call itself takes to return its promise; `longest` is
// the longest stretch between two setImmediate callbacks from the call until the first batch
// starts (an abort after the first batch ends the fit).
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { SequenceClassifier, LanguageModel, Vocabulary, Rng, backendInfo } = require('../dist/index.js');

const argv = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const ROUNDS = Number(arg('rounds', 5));
const JSON_OUT = argv.includes('--json');
const log = (...a) => console.error(...a);

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const r2 = (x) => Math.round(x * 100) / 100;

// ------------------------------------------------------------ two models training at once
const rng = new Rng(7);
const T = 50,
  F = 32,
  N = 384;
const seqs = Array.from({ length: N }, () =>
  Array.from({ length: T }, () => Array.from({ length: F }, () => rng.uniform(-1, 1))),
);
const labels = seqs.map((_, i) => i % 5);
const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'and', 'dog', 'ran', 'far', 'away', 'home', 'again'];
let text = '';
while (text.length < 60000)
  text += words[Math.floor(rng.uniform(0, words.length))] + (rng.uniform(0, 1) < 0.1 ? '.\n' : ' ');
const vocab = Vocabulary.characters(text);

async function round(k) {
  const clf = new SequenceClassifier({ inputSize: F, hiddenSize: 128, outputSize: 5, numLayers: 2, seed: k });
  const lm = new LanguageModel({ vocabulary: vocab, embeddingDim: 64, hiddenSize: 256, seed: k });
  let last = performance.now();
  const late = [];
  const timer = setInterval(() => {
    const now = performance.now();
    late.push(now - last - 10);
    last = now;
  }, 10);
  const t0 = performance.now();
  let clfBatches = 0,
    lmBatches = 0;
  await Promise.all([
    clf.fit(seqs, labels, { epochs: 4, batchSize: 32, onBatchEnd: () => void clfBatches++ }),
    lm.fit(text, { epochs: 2, batchSize: 32, seqLen: 64, onBatchEnd: () => void lmBatches++ }),
  ]);
  clearInterval(timer);
  const wall = performance.now() - t0;
  clf.dispose();
  lm.dispose();
  late.sort((a, b) => a - b);
  return {
    wall_ms: Math.round(wall),
    ticks: late.length,
    batches: clfBatches + lmBatches,
    p50: r2(quantile(late, 0.5)),
    p99: r2(quantile(late, 0.99)),
    max: r2(late[late.length - 1]),
  };
}

// ------------------------------------------------------------ fit's up-front validation
const VN = 8000,
  VT = 30,
  VF = 8;
const vseqs = Array.from({ length: VN }, () =>
  Array.from({ length: VT }, () => Array.from({ length: VF }, () => rng.uniform(-1, 1))),
);
const vlabels = vseqs.map((_, i) => i % 3);

async function validation() {
  const m = new SequenceClassifier({ inputSize: VF, hiddenSize: 16, outputSize: 3 });
  const ac = new AbortController();
  let longest = 0,
    last = performance.now(),
    started = false,
    spins = 0;
  const spin = () => {
    if (started) return;
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    spins++;
    setImmediate(spin);
  };
  setImmediate(spin);
  const t0 = performance.now();
  const p = m.fit(vseqs, vlabels, {
    epochs: 1,
    batchSize: 32,
    signal: ac.signal,
    onBatchEnd: () => {
      started = true;
      ac.abort();
    },
  });
  const sync = performance.now() - t0;
  await p.catch((e) => {
    if (!/abort/i.test(String(e && e.message))) throw e;
  });
  const total = performance.now() - t0;
  m.dispose();
  return { sync_ms: r2(sync), longest_ms: r2(Math.max(longest, sync)), until_first_batch_ms: r2(total), spins };
}

const rounds = [];
for (let k = 0; k < ROUNDS; k++) {
  const r = await round(k);
  log(`training round ${k}: ${JSON.stringify(r)}`);
  rounds.push(r);
}
const vals = [];
for (let k = 0; k < ROUNDS; k++) {
  const v = await validation();
  log(`validation ${k}: ${JSON.stringify(v)}`);
  vals.push(v);
}
const summary = {
  backend: backendInfo(),
  training: {
    rounds: rounds.length,
    p50_median: r2(median(rounds.map((r) => r.p50))),
    p99_median: r2(median(rounds.map((r) => r.p99))),
    p99_worst: r2(Math.max(...rounds.map((r) => r.p99))),
    max_median: r2(median(rounds.map((r) => r.max))),
    max_worst: r2(Math.max(...rounds.map((r) => r.max))),
    wall_ms_median: median(rounds.map((r) => r.wall_ms)),
  },
  validation: {
    sequences: VN,
    sync_ms_median: r2(median(vals.map((v) => v.sync_ms))),
    longest_ms_median: r2(median(vals.map((v) => v.longest_ms))),
    longest_ms_worst: r2(Math.max(...vals.map((v) => v.longest_ms))),
    until_first_batch_ms_median: r2(median(vals.map((v) => v.until_first_batch_ms))),
  },
};
if (JSON_OUT) console.log(JSON.stringify(summary));
else {
  console.log(`backend: ${JSON.stringify(summary.backend)}`);
  const t = summary.training;
  console.log(
    `two models training at once, 10 ms timer lateness over ${t.rounds} rounds (ms): ` +
      `p50 ${t.p50_median}, p99 ${t.p99_median} (worst ${t.p99_worst}), max ${t.max_median} (worst ${t.max_worst}); ` +
      `round wall ${t.wall_ms_median} ms`,
  );
  const v = summary.validation;
  console.log(
    `fit's validation of ${v.sequences} sequences (ms, medians): fit() returns after ${v.sync_ms_median}, ` +
      `longest block ${v.longest_ms_median} (worst ${v.longest_ms_worst}), first batch done after ${v.until_first_batch_ms_median}`,
  );
}
