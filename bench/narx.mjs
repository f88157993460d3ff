#!/usr/bin/env node
// npm run bench:narx: NARX training step times (one batch: forward, loss, backward, Adam update),
// medians over rounds. Open loop: a batch of lag rows. Closed loop: a batch of segments trained
// by BPTT through the feedback (the network applied once per step).
// Options: --rounds N (default 5), --threads N.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { NARX, backendInfo, setNumThreads } = require('../dist/index.js');

const arg = (k, d) => {
  const i = process.argv.indexOf(`--${k}`);
  return i >= 0 ? Number(process.argv[i + 1]) : d;
};
const rounds = arg('rounds', 5);
if (process.argv.includes('--threads')) setNumThreads(arg('threads', 1));

function series(T, I, O) {
  const inputs = Array.from({ length: T }, (_, t) => Array.from({ length: I }, (_, j) => Math.sin(0.1 * t + j)));
  const targets = Array.from({ length: T }, (_, t) => Array.from({ length: O }, (_, j) => Math.cos(0.07 * t + j)));
  return { inputs, targets };
}
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
};

/** Median ms per training step of one fit configuration (each round: one epoch, timed per batch). */
async function time(model, data, fit) {
  const perRound = [];
  await model.fit(data, { ...fit, epochs: 1 }); // warm-up: scratch allocated
  for (let r = 0; r < rounds; r++) {
    const steps = [];
    let last = performance.now();
    await model.fit(data, {
      ...fit,
      epochs: 1,
      onBatchEnd: () => {
        const now = performance.now();
        steps.push(now - last);
        last = now;
      },
    });
    perRound.push(median(steps));
  }
  return median(perRound);
}

const rows = [];
const cases = [
  { I: 1, O: 1, delays: [1, 2], hidden: [10] },
  { I: 4, O: 2, delays: [1, 2, 3, 4], hidden: [32] },
  { I: 8, O: 4, delays: [1, 2, 3, 4, 5, 6, 7, 8], hidden: [128, 64] },
];
for (const c of cases) {
  const m = new NARX({
    inputSize: c.I,
    outputSize: c.O,
    inputDelays: c.delays,
    feedbackDelays: c.delays,
    hiddenSizes: c.hidden,
    seed: 1,
  });
  const data = series(4096 + 8, c.I, c.O);
  const size = `I=${c.I} O=${c.O} delays=${c.delays.length} hidden=[${c.hidden}]`;
  const open = await time(m, data, { batchSize: 256, optimizer: 'adam' });
  rows.push({ case: size, mode: 'open', batch: '256 rows', ms_per_step: +open.toFixed(3) });
  for (const window of [50, 200]) {
    const ms = await time(m, data, { mode: 'closed', window, batchSize: 8, optimizer: 'adam' });
    rows.push({ case: size, mode: 'closed', batch: `8 x ${window} steps`, ms_per_step: +ms.toFixed(3) });
  }
  m.dispose();
}
console.log(JSON.stringify(backendInfo()));
console.table(rows);
