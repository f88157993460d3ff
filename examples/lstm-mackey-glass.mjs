// An LSTM reads the Mackey–Glass series step by step and predicts x(t+6) at every step: no delays
// given, it learns what to remember: `node examples/lstm-mackey-glass.mjs`.
import { mackeyGlass, ndei, SequenceTagger, StandardScaler } from 'rnnkit';

const epochs = Number(process.env.EPOCHS ?? 800);
const raw = Array.from(mackeyGlass({ length: 1200 }));
const scaler = new StandardScaler().fit(raw.slice(118, 624).map((v) => [v]));
const x = scaler.transform(raw.map((v) => [v])).map((r) => r[0]);

const inputs = x.slice(100, 1118).map((v) => [v]); // x(100) … x(1117)
const targets = x.slice(106, 1124).map((v) => [v]); // x(106) … x(1123)
// training: overlapping 50-step windows of the first 518 steps (targets up to x(623))
const windows = [],
  windowTargets = [];
for (let a = 0; a + 50 <= 518; a += 10) {
  windows.push(inputs.slice(a, a + 50));
  windowTargets.push(targets.slice(a, a + 50));
}
const model = new SequenceTagger({ inputSize: 1, hiddenSize: 24, outputSize: 1, task: 'regression', seed: 1 });
await model.fit(windows, windowTargets, {
  epochs,
  batchSize: 8,
  optimizer: { type: 'adam', lr: 0.01 },
  schedule: { type: 'cosine', tMax: epochs },
});
// one pass over the whole stream; the last 500 steps are the test part
const predicted = scaler.inverseTransform(model.predict([inputs])[0]).map((r) => r[0]);
console.log(`LSTM test NDEI: ${ndei(predicted.slice(518), raw.slice(624, 1124)).toFixed(4)}`);
