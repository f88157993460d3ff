// A NARX model identifies a nonlinear plant, y(t+1) = y(t) / (1 + y(t)^2) + u(t)^3, from its
// input and output, then simulates it in closed loop (only the inputs known) on held-out steps:
// `node examples/narx-plant.mjs`.
import { NARX, nrmse, Rng } from 'rnnkit';

const epochs = Number(process.env.EPOCHS ?? 500);
const rng = new Rng(7);
const T = 3000;
const u = Array.from({ length: T }, () => rng.uniform(-1, 1));
const y = new Array(T).fill(0);
for (let t = 0; t + 1 < T; t++) y[t + 1] = y[t] / (1 + y[t] ** 2) + u[t] ** 3;
const part = (a, b) => ({ inputs: u.slice(a, b).map((v) => [v]), targets: y.slice(a, b).map((v) => [v]) });

const model = new NARX({
  inputSize: 1,
  outputSize: 1,
  inputDelays: [1, 2],
  feedbackDelays: [1, 2],
  hiddenSizes: [20],
  scaler: 'standard',
  seed: 1,
});
await model.fit(part(0, 2000), {
  mode: 'open', // series-parallel: the true past outputs are fed back
  epochs,
  batchSize: 32,
  optimizer: { type: 'adam', lr: 0.01 },
  schedule: { type: 'cosine', tMax: epochs },
});

// closed loop: from the last 2 true steps before t = 2500, its own outputs fed back for 500 steps
const history = part(2498, 2500);
const future = u.slice(2500, 3000).map((v) => [v]);
const simulated = model.forecast(history, 500, future).map((r) => r[0]);
console.log(`NARX closed-loop simulation of 500 steps, NRMSE: ${nrmse(simulated, y.slice(2500, 3000)).toFixed(4)}`);
