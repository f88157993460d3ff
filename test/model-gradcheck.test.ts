// Float64 gradient checks of composed models: every parameter and the input, through stacked
// bidirectional layers with variable lengths, pooling, heads and embeddings.
import { Tape } from '../lib/graph/tape';
import { describe, expect, it } from 'vitest';
import { cpu, Embedding, Exec, GRU, Linear, LSTM, Rng, runSync, Sequential, SimpleRNN, TimePooling } from '../lib';
import type { Act, Ctx, Layer } from '../lib';
import { dot, numericGrad, randn, relErr, rng } from './helpers';

function ctxFor(): Ctx {
  return { exec: new Exec(cpu(), false), training: true, rng: new Rng(1), dtype: 'float64', initialStates: new Map(), finalStates: new Map(), tape: new Tape() };
}

function check(layers: Array<[string, Layer]>, x: Act, seed: number) {
  const m = new Sequential(layers, 'float64');
  const inShape = x.kind === 'ids' ? { kind: 'ids' as const, F: 0 } : { kind: x.kind, F: x.F };
  const out = m.build(inShape, true);
  m.initialize(new Rng(seed));
  // perturb every parameter away from special init values (zero biases, identity)
  const r = rng(seed);
  const p = m.params.params as Float64Array;
  for (let i = 0; i < p.length; i++) p[i] += (r() - 0.5) * 0.2;
  const y0 = runSync(m.forward(x, ctxFor()));
  const R = randn(y0.data.length, r);
  const loss = () => dot(runSync(m.forward(x, ctxFor())).data, R);
  m.params.zeroGrad();
  const ctx = ctxFor();
  const y = runSync(m.forward(x, ctx));
  const dIn = runSync(m.backward({ ...y, data: Float64Array.from(R) } as Act, ctx));
  const analytic = Float64Array.from(m.params.grads);
  const numeric = numericGrad(p, loss);
  expect(relErr(analytic, numeric), 'parameters').toBeLessThan(1e-6);
  if (x.kind !== 'ids') {
    const num = numericGrad(x.data as Float64Array, loss);
    expect(relErr(dIn!.data, num), 'input').toBeLessThan(1e-6);
  }
  return out;
}

const seqX = (T: number, B: number, F: number, lengths: number[] | null, seed: number): Act => ({
  kind: 'seq', data: randn(T * B * F, rng(seed)), T, B, F, lengths: lengths ? Int32Array.from(lengths) : null,
});

describe('composed models, float64 gradient checks', () => {
  it('stacked bidirectional LSTM, variable lengths, concat, sequences out', () => {
    check([['rnn', new LSTM({ hiddenSize: 3, numLayers: 2, bidirectional: true })]], seqX(5, 3, 2, [5, 3, 1], 1), 1);
  });
  it('stacked bidirectional GRU (original variant) with learnable initial state, final states out, sum merge, head', () => {
    check([
      ['rnn', new GRU({ hiddenSize: 3, numLayers: 2, bidirectional: true, returnSequences: false, merge: 'sum', initialState: 'learnable', gruVariant: 'original' })],
      ['head', new Linear({ outFeatures: 2 })],
    ], seqX(4, 3, 2, [4, 2, 3], 2), 2);
  });
  it('bidirectional SimpleRNN (relu), mean merge, mean pooling, head', () => {
    check([
      ['rnn', new SimpleRNN({ hiddenSize: 4, bidirectional: true, merge: 'mean', activation: 'relu' })],
      ['pool', new TimePooling({ mode: 'mean' })],
      ['head', new Linear({ outFeatures: 3 })],
    ], seqX(4, 2, 3, [4, 2], 3), 3);
  });
  it('LSTM with learnable state and max pooling', () => {
    check([
      ['rnn', new LSTM({ hiddenSize: 3, initialState: 'learnable' })],
      ['pool', new TimePooling({ mode: 'max' })],
      ['head', new Linear({ outFeatures: 2 })],
    ], seqX(4, 2, 2, [4, 3], 4), 4);
  });
  it('tagger: embedding, bidirectional GRU, per-step head over padded batch', () => {
    const ids: Act = { kind: 'ids', data: Int32Array.from([1, 2, 0, 3, 4, 0, 2, 0, 0]), T: 3, B: 3, lengths: Int32Array.from([3, 2, 1]) };
    check([
      ['embedding', new Embedding({ numEmbeddings: 5, embeddingDim: 3 })],
      ['rnn', new GRU({ hiddenSize: 3, bidirectional: true })],
      ['head', new Linear({ outFeatures: 4 })],
    ], ids, 5);
  });
  it('parameters carry PyTorch names', () => {
    const m = new Sequential([['rnn', new LSTM({ hiddenSize: 4, bidirectional: true })], ['head', new Linear({ outFeatures: 2 })]]);
    m.build({ kind: 'seq', F: 3 });
    expect(m.parameters().map((p) => `${p.name}:${p.shape.join('x')}`)).toEqual([
      'rnn.weight_ih_l0:16x3', 'rnn.weight_hh_l0:16x4', 'rnn.bias_ih_l0:16', 'rnn.bias_hh_l0:16',
      'rnn.weight_ih_l0_reverse:16x3', 'rnn.weight_hh_l0_reverse:16x4', 'rnn.bias_ih_l0_reverse:16', 'rnn.bias_hh_l0_reverse:16',
      'head.weight:2x8', 'head.bias:2',
    ]);
  });
});

describe('losses through a padded batch', () => {
  it('tagger loss: padding steps get no gradient and the analytic gradient matches', async () => {
    const { computeLoss } = await import('../lib/train/losses');
    const m = new Sequential([['rnn', new GRU({ hiddenSize: 3 })], ['head', new Linear({ outFeatures: 3 })]], 'float64');
    m.build({ kind: 'seq', F: 2 });
    m.initialize(new Rng(3));
    const x = seqX(4, 2, 2, [4, 2], 9);
    const targets = { kind: 'classes' as const, data: Int32Array.from([0, 2, 1, 1, 2, -100, 0, -100]) };
    const p = m.params.params as Float64Array;
    const loss = () => computeLoss(cpu(), 'classification', runSync(m.forward(x, ctxFor())), targets, null).loss;
    m.params.zeroGrad();
    const ctx = ctxFor();
    const out = runSync(m.forward(x, ctx));
    const r = computeLoss(cpu(), 'classification', out, targets, null);
    expect(r.count).toBe(6);
    for (const row of [5, 7]) for (let j = 0; j < 3; j++) expect(r.grad.data[row * 3 + j]).toBe(0);
    runSync(m.backward(r.grad, ctx));
    expect(relErr(Float64Array.from(m.params.grads), numericGrad(p, loss))).toBeLessThan(1e-6);
    for (const task of ['regression', 'multilabel'] as const) {
      const vals = { kind: 'values' as const, data: randn(8 * 3, rng(4)).map((v) => (task === 'multilabel' ? (v > 0 ? 1 : 0) : v)) };
      const f = () => computeLoss(cpu(), task, runSync(m.forward(x, ctxFor())), vals, null).loss;
      m.params.zeroGrad();
      const c2 = ctxFor();
      const o2 = runSync(m.forward(x, c2));
      const r2 = computeLoss(cpu(), task, o2, vals, null);
      for (const row of [5, 7]) for (let j = 0; j < 3; j++) expect(r2.grad.data[row * 3 + j]).toBe(0);
      runSync(m.backward(r2.grad, c2));
      expect(relErr(Float64Array.from(m.params.grads), numericGrad(p, f)), task).toBeLessThan(1e-6);
    }
  });
});
