// A time-delay network predicts the Mackey–Glass series 6 steps ahead from x(t-18), x(t-12),
// x(t-6) and x(t) (the classic set-up): `node examples/tdnn-mackey-glass.mjs`.
import { mackeyGlass, ndei, StandardScaler, TDNN } from 'rnnkit';

const epochs = Number(process.env.EPOCHS ?? 600);
const raw = Array.from(mackeyGlass({ length: 1200 }));
const scaler = new StandardScaler().fit(raw.slice(118, 624).map((v) => [v]));
const x = scaler.transform(raw.map((v) => [v])).map((r) => r[0]);

// each sample: the 19 steps x(t-18) … x(t); its target: x(t+6)
const pairs = (from, to) => {
  const inputs = [],
    targets = [];
  for (let t = from; t <= to; t++) {
    inputs.push(x.slice(t - 18, t + 1).map((v) => [v]));
    targets.push([x[t + 6]]);
  }
  return { inputs, targets };
};
const train = pairs(118, 617),
  test = pairs(618, 1117);

const model = new TDNN({
  inputSize: 1,
  layers: [{ units: 20, delays: [0, 6, 12, 18] }], // the last step sees x(t), x(t-6), x(t-12), x(t-18)
  outputSize: 1,
  task: 'regression',
  pooling: 'last',
  seed: 1,
});
await model.fit(train.inputs, train.targets, {
  epochs,
  batchSize: 25,
  optimizer: { type: 'adam', lr: 0.005 },
  schedule: { type: 'cosine', tMax: epochs },
});
const predicted = scaler.inverseTransform(model.predict(test.inputs)).map((r) => r[0]);
console.log(`TDNN test NDEI: ${ndei(predicted, raw.slice(624, 1124)).toFixed(4)}`);
