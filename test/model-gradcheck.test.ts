// Float64 gradient checks of composed models, one relative error per parameter tensor and for
// the input: through stacked bidirectional layers with variable lengths, pooling, heads and
// embeddings, on every device.
import { describe, expect, it } from 'vitest';
import { Embedding, GRU, Linear, LSTM, Rng, runSync, Sequential, SimpleRNN, TimePooling } from '../lib';
import type { Act, Device, Layer } from '../lib';
import { computeLoss } from '../lib/train/losses';
import { ctxOn, DEVICES, expectParamGrads, host, idsOn, seqOn } from './device-helpers';
import { dot, numericGrad, randn, relErr, rng } from './helpers';

function check(dev: Device, layers: Array<[string, Layer]>, x: Act, xHost: Float64Array | null, seed: number) {
  const m = new Sequential(layers, 'float64', undefined, dev);
  const inShape = x.kind === 'ids' ? { kind: 'ids' as const, F: 0 } : { kind: x.kind, F: x.F };
  m.build(inShape, true);
  m.initialize(new Rng(seed));
  // perturb every parameter away from special init values (zero biases, identity)
  const r = rng(seed);
  const p = Float64Array.from(m.params.hostParams());
  for (let i = 0; i < p.length; i++) p[i] += (r() - 0.5) * 0.2;
  m.params.setHostParams(p);
  const y0 = runSync(m.forward(x, ctxOn(dev)));
  const R = randn(y0.data.size, r);
  const lossOf = (input: Act) => dot(host(dev, runSync(m.forward(input, ctxOn(dev))).data), R);
  m.params.zeroGrad();
  const ctx = ctxOn(dev);
  const y = runSync(m.forward(x, ctx));
  const dIn = runSync(m.backward({ ...y, data: dev.fromHost(Float64Array.from(R), y.data.shape) } as Act, ctx));
  expectParamGrads(m.params, Float64Array.from(m.params.hostGrads()), () => lossOf(x));
  if (x.kind !== 'ids' && xHost) {
    const xs = xHost.slice();
    const num = numericGrad(xs, () => lossOf({ ...x, data: dev.fromHost(xs.slice(), x.data.shape) } as Act));
    expect(relErr(host(dev, dIn!.data), num), 'input').toBeLessThan(1e-6);
  }
}

for (const [name, make] of DEVICES) {
  describe(`composed models, float64 gradient checks (${name})`, () => {
    const dev = make();
    const seqX = (T: number, B: number, F: number, lengths: number[] | null, seed: number) => {
      const d = randn(T * B * F, rng(seed));
      return { x: seqOn(dev, d.slice(), T, B, F, lengths), d };
    };
    it('stacked bidirectional LSTM, variable lengths, concat, sequences out', () => {
      const { x, d } = seqX(5, 3, 2, [5, 3, 1], 1);
      check(dev, [['rnn', new LSTM({ hiddenSize: 3, numLayers: 2, bidirectional: true })]], x, d, 1);
    });
    it('stacked bidirectional GRU (original variant) with learnable initial state, final states out, sum merge, head', () => {
      const { x, d } = seqX(4, 3, 2, [4, 2, 3], 2);
      check(
        dev,
        [
          [
            'rnn',
            new GRU({
              hiddenSize: 3,
              numLayers: 2,
              bidirectional: true,
              returnSequences: false,
              merge: 'sum',
              initialState: 'learnable',
              gruVariant: 'original',
            }),
          ],
          ['head', new Linear({ outFeatures: 2 })],
        ],
        x,
        d,
        2,
      );
    });
    it('bidirectional SimpleRNN (relu), mean merge, mean pooling, head', () => {
      const { x, d } = seqX(4, 2, 3, [4, 2], 3);
      check(
        dev,
        [
          ['rnn', new SimpleRNN({ hiddenSize: 4, bidirectional: true, merge: 'mean', activation: 'relu' })],
          ['pool', new TimePooling({ mode: 'mean' })],
          ['head', new Linear({ outFeatures: 3 })],
        ],
        x,
        d,
        3,
      );
    });
    it('LSTM with learnable state and max pooling; stacked dropout-free LSTM with learnable c0', () => {
      const { x, d } = seqX(4, 2, 2, [4, 3], 4);
      check(
        dev,
        [
          ['rnn', new LSTM({ hiddenSize: 3, numLayers: 2, initialState: 'learnable' })],
          ['pool', new TimePooling({ mode: 'max' })],
          ['head', new Linear({ outFeatures: 2 })],
        ],
        x,
        d,
        4,
      );
    });
    it('tagger: embedding, bidirectional GRU, per-step head over padded batch', () => {
      check(
        dev,
        [
          ['embedding', new Embedding({ numEmbeddings: 5, embeddingDim: 3 })],
          ['rnn', new GRU({ hiddenSize: 3, bidirectional: true })],
          ['head', new Linear({ outFeatures: 4 })],
        ],
        idsOn(dev, [1, 2, 0, 3, 4, 0, 2, 0, 0], 3, 3, [3, 2, 1]),
        null,
        5,
      );
    });
    it('parameters carry PyTorch names', () => {
      const m = new Sequential(
        [
          ['rnn', new LSTM({ hiddenSize: 4, bidirectional: true })],
          ['head', new Linear({ outFeatures: 2 })],
        ],
        'float32',
        undefined,
        dev,
      );
      m.build({ kind: 'seq', F: 3 });
      expect(m.parameters().map((p) => `${p.name}:${p.shape.join('x')}`)).toEqual([
        'rnn.weight_ih_l0:16x3',
        'rnn.weight_hh_l0:16x4',
        'rnn.bias_ih_l0:16',
        'rnn.bias_hh_l0:16',
        'rnn.weight_ih_l0_reverse:16x3',
        'rnn.weight_hh_l0_reverse:16x4',
        'rnn.bias_ih_l0_reverse:16',
        'rnn.bias_hh_l0_reverse:16',
        'head.weight:2x8',
        'head.bias:2',
      ]);
    });
  });

  describe(`losses through a padded batch (${name})`, () => {
    const dev = make();
    it('tagger loss: padding steps get no gradient and the analytic gradient matches', () => {
      const m = new Sequential(
        [
          ['rnn', new GRU({ hiddenSize: 3 })],
          ['head', new Linear({ outFeatures: 3 })],
        ],
        'float64',
        undefined,
        dev,
      );
      m.build({ kind: 'seq', F: 2 });
      m.initialize(new Rng(3));
      const x = seqOn(dev, randn(4 * 2 * 2, rng(9)), 4, 2, 2, [4, 2]);
      const targets = { kind: 'classes' as const, data: dev.fromHost(Int32Array.from([0, 2, 1, 1, 2, -100, 0, -100])) };
      const run = (task: 'classification' | 'regression' | 'multilabel', y: typeof targets) => {
        const loss = () => computeLoss(dev, task, runSync(m.forward(x, ctxOn(dev))), y, null).loss;
        m.params.zeroGrad();
        const ctx = ctxOn(dev);
        const r = computeLoss(dev, task, runSync(m.forward(x, ctx)), y, null);
        expect(r.count).toBe(6);
        const g = host(dev, r.grad.data);
        for (const row of [5, 7]) for (let j = 0; j < 3; j++) expect(g[row * 3 + j]).toBe(0);
        runSync(m.backward(r.grad, ctx));
        expectParamGrads(m.params, Float64Array.from(m.params.hostGrads()), loss);
      };
      run('classification', targets);
      for (const task of ['regression', 'multilabel'] as const) {
        const vals = randn(8 * 3, rng(4)).map((v) => (task === 'multilabel' ? (v > 0 ? 1 : 0) : v));
        run(task, { kind: 'values', data: dev.fromHost(vals) } as never);
      }
    });
  });
}
