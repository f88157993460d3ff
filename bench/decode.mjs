#!/usr/bin/env node
// npm run bench:decode: decoding speed (target tokens per second) of a Seq2Seq (LSTM 256,
// embedding 64, general attention, 64 symbols, sources of 20 tokens, at most 30 target tokens):
// greedy and beam width 5, at batch 1 and batch 32: beam5 batch 32 is beamSearch on 32 sources
// in turn, beam5-batched beamSearchBatch on the 32 at once.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { Seq2Seq, Vocabulary, backendInfo } = require('../dist/index.js');

const chars = Array.from({ length: 60 }, (_, i) => String.fromCharCode(48 + i)).join('');
const vocab = Vocabulary.characters(chars);
const m = new Seq2Seq({ sourceVocabulary: vocab, hiddenSize: 256, embeddingDim: 64, attention: 'general', seed: 1 });
let s = 12345;
const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
const source = () => Array.from({ length: 20 }, () => chars[Math.floor(rnd() * chars.length)]).join('');
const sources = Array.from({ length: 32 }, source);

function measure(fn) {
  fn();
  let tokens = 0,
    n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 1500 || n < 3) {
    tokens += fn();
    n++;
  }
  return tokens / ((performance.now() - t0) / 1000);
}
const count = (outs) => outs.reduce((a, o) => a + o.tokens.length + 1, 0);
const rows = [
  { mode: 'greedy', batch: 1, tokens_per_s: measure(() => count(m.greedy(sources.slice(0, 1), { maxLength: 30 }))) },
  { mode: 'greedy', batch: 32, tokens_per_s: measure(() => count(m.greedy(sources, { maxLength: 30 }))) },
  {
    mode: 'beam5',
    batch: 1,
    tokens_per_s: measure(() => count([m.beamSearch(sources[0], { width: 5, maxLength: 30 })])),
  },
  {
    mode: 'beam5',
    batch: 32,
    tokens_per_s: measure(() => count(sources.map((x) => m.beamSearch(x, { width: 5, maxLength: 30 })))),
  },
  {
    mode: 'beam5-batched',
    batch: 32,
    tokens_per_s: measure(() => count(m.beamSearchBatch(sources, { width: 5, maxLength: 30 }))),
  },
].map((r) => ({ ...r, tokens_per_s: Math.round(r.tokens_per_s) }));
if (process.argv.includes('--json')) console.log(JSON.stringify(rows));
else {
  const i = backendInfo();
  console.log(`Seq2Seq decoding (${i.gemm}/${i.simd}, ${i.threads} threads), tokens per second:`);
  for (const r of rows) console.log(`  ${r.mode.padEnd(13)} batch ${String(r.batch).padStart(2)}: ${r.tokens_per_s}`);
}
