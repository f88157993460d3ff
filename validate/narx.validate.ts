// npm run validate: NARX learning checks.
// 1. Mackey–Glass (tau 17), the classic set-up: x(t-18), x(t-12), x(t-6), x(t) predict x(t+6),
//    t = 118 … 1117; the first 500 pairs train, the last 500 test. As a NAR model on the series
//    itself: the target at step s = t + 6 is fed back with delays 6, 12, 18, 24, which are exactly
//    those four inputs, so open-loop (series-parallel) prediction is the classic one-shot
//    prediction. Test NDEI at most 0.05; the closed-loop 84-step forecast (each prediction fed
//    back, 14 feedback rounds) is reported.
// 2. Plant identification (Narendra & Parthasarathy 1990, example 2 family):
//    y(t+1) = y(t) / (1 + y(t)^2) + u(t)^3, u uniform in [-1, 1]. A NARX with input and feedback
//    delays [1, 2] trains open loop on 2,000 steps; its closed-loop simulation of 500 held-out
//    steps (only the inputs known, its own outputs fed back) must track the plant: NRMSE <= 0.02.
import { describe, expect, it } from 'vitest';
import { mackeyGlass, NARX, ndei, nrmse, Rng } from '../lib';

describe('NARX learning', () => {
  it('Mackey–Glass x(t+6) from x(t-18), x(t-12), x(t-6), x(t): test NDEI <= 0.05', async () => {
    const x = Array.from(mackeyGlass({ length: 1200 }));
    const rows = (a: number, b: number) => x.slice(a, b).map((v) => [v]);
    // targets x(124) … x(623) train and x(624) … x(1123) test, each after 24 steps of history
    const train = { targets: rows(100, 624) },
      test = { targets: rows(600, 1124) };
    const m = new NARX({
      outputSize: 1,
      feedbackDelays: [6, 12, 18, 24],
      hiddenSizes: [20],
      scaler: 'standard',
      seed: 1,
    });
    const t0 = Date.now();
    const h = await m.fit(train, {
      epochs: 1000,
      batchSize: 25,
      optimizer: { type: 'adam', lr: 0.005 },
      schedule: { type: 'cosine', tMax: 1000 },
    });
    const secs = (Date.now() - t0) / 1000;
    const pred = (m.predict(test) as number[][]).map((r) => r[0]);
    const testNdei = ndei(pred, x.slice(624, 1124));
    const trainNdei = ndei(
      (m.predict(train) as number[][]).map((r) => r[0]),
      x.slice(124, 624),
    );
    const f = m.forecast({ targets: rows(0, 624) }, 84).map((r) => r[0]);
    const truth84 = x.slice(624, 708);
    console.log(
      `VALIDATE narx mackey-glass: open loop train NDEI ${trainNdei.toFixed(4)}, test NDEI ${testNdei.toFixed(4)} ` +
        `(${secs.toFixed(1)} s, final loss ${h.epochs.at(-1)!.loss.toExponential(3)}); closed-loop 84-step forecast ` +
        `NDEI ${ndei(f, truth84).toFixed(4)}, NRMSE ${nrmse(f, truth84).toFixed(4)}`,
    );
    expect(testNdei).toBeLessThanOrEqual(0.05);
  });

  it('plant identification y(t+1) = y(t)/(1+y(t)^2) + u(t)^3: closed-loop simulation of 500 held-out steps, NRMSE <= 0.02', async () => {
    const r = new Rng(7);
    const T = 3000;
    const u = Array.from({ length: T }, () => r.uniform(-1, 1));
    const y = new Array<number>(T).fill(0);
    for (let t = 0; t + 1 < T; t++) y[t + 1] = y[t] / (1 + y[t] ** 2) + u[t] ** 3;
    const part = (a: number, b: number) => ({
      inputs: u.slice(a, b).map((v) => [v]),
      targets: y.slice(a, b).map((v) => [v]),
    });
    const m = new NARX({
      inputSize: 1,
      outputSize: 1,
      inputDelays: [1, 2],
      feedbackDelays: [1, 2],
      hiddenSizes: [20],
      scaler: 'standard',
      seed: 1,
    });
    const t0 = Date.now();
    await m.fit(part(0, 2000), {
      epochs: 500,
      batchSize: 32,
      optimizer: { type: 'adam', lr: 0.01 },
      schedule: { type: 'cosine', tMax: 500 },
    });
    const secs = (Date.now() - t0) / 1000;
    // steps 2500 … 2999 are held out; the simulation starts from the two steps before them
    const simulate = () =>
      nrmse(
        m
          .forecast(
            part(2498, 2500),
            500,
            u.slice(2500, 3000).map((v) => [v]),
          )
          .map((v) => v[0]),
        y.slice(2500, 3000),
      );
    const openNrmse = nrmse(
      (m.predict(part(2498, 3000)) as number[][]).map((v) => v[0]),
      y.slice(2500, 3000),
    );
    const closed = simulate();
    // closed-loop fine-tuning (BPTT through the feedback over windows of 50 steps)
    const t1 = Date.now();
    await m.fit(part(0, 2000), {
      mode: 'closed',
      window: 50,
      epochs: 10,
      batchSize: 8,
      optimizer: { type: 'adam', lr: 0.0005 },
    });
    const tuned = simulate();
    console.log(
      `VALIDATE narx plant: open-loop training ${secs.toFixed(1)} s; held-out one-step NRMSE ${openNrmse.toFixed(4)}, ` +
        `closed-loop 500-step simulation NRMSE ${closed.toFixed(4)}; after 10 closed-loop epochs ` +
        `(${((Date.now() - t1) / 1000).toFixed(1)} s) ${tuned.toFixed(4)}`,
    );
    expect(closed).toBeLessThanOrEqual(0.02);
    expect(tuned).toBeLessThanOrEqual(0.02);
  });
});
