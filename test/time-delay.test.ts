// The TimeDelay layer: a plain-JS reference forward, float64 finite-difference checks of every
// parameter tensor and of the input and history gradients (every tap pattern, variable lengths,
// with and without history), bad options and inputs, and a Model([TimeDelay, LSTM, Linear]).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Linear, LSTM, Model, registeredLayers, Rng, runSync, Sequential, SequenceModel, TimeDelay } from '../lib';
import type { Act, Device, Tensor, TimeDelayOptions } from '../lib';
import { ctxOn, expectParamGrads, forEachDevice, host, seqOn } from './device-helpers';
import { dot, expectThrows, numericGrad, randn, relErr, rng } from './helpers';

const act = (kind: string, z: number) =>
  kind === 'tanh' ? Math.tanh(z) : kind === 'sigmoid' ? 1 / (1 + Math.exp(-z)) : kind === 'relu' ? Math.max(0, z) : z;

/** y[t,b,o] = act(b_o + Σ_j Σ_f W[o,f,j] x[t - taps[j], b, f]) on valid steps, else 0. */
export function referenceTimeDelay(
  o: { taps: readonly number[]; units: number; activation: string },
  W: ArrayLike<number>,
  bias: ArrayLike<number> | null,
  x: ArrayLike<number>,
  T: number,
  B: number,
  F: number,
  lengths: number[] | null,
  history: ArrayLike<number> | null,
): Float64Array {
  const K = o.taps.length,
    O = o.units,
    D = Math.max(...o.taps);
  const y = new Float64Array(T * B * O);
  for (let t = 0; t < T; t++)
    for (let b = 0; b < B; b++) {
      if (lengths && t >= lengths[b]) continue;
      for (let u = 0; u < O; u++) {
        let z = bias ? bias[u] : 0;
        for (let j = 0; j < K; j++) {
          const s = t - o.taps[j];
          for (let f = 0; f < F; f++) {
            const v = s >= 0 ? x[(s * B + b) * F + f] : history ? history[((D + s) * B + b) * F + f] : 0;
            z += W[(u * F + f) * K + j] * v;
          }
        }
        y[(t * B + b) * O + u] = act(o.activation, z);
      }
    }
  return y;
}

const PATTERNS: Array<[string, TimeDelayOptions]> = [
  ['single tap [0]', { units: 3, delays: [0], activation: 'linear' }],
  ['gapped [0,1,2,5]', { units: 3, delays: [0, 1, 2, 5], activation: 'tanh' }],
  ['window 3, dilation 2', { units: 2, window: 3, dilation: 2, activation: 'sigmoid' }],
];

forEachDevice((name, make) => {
  describe(`TimeDelay (${name})`, () => {
    const dev: Device = make();
    const T = 6,
      B = 3,
      F = 2;

    it('registers, names its parameters as Conv1d, keeps taps in kernel order', () => {
      expect(registeredLayers()).toContain('TimeDelay');
      const l = new TimeDelay({ units: 4, delays: [0, 2, 1, 5] });
      expect(l.taps).toEqual([5, 2, 1, 0]);
      expect(l.config).toEqual({
        units: 4,
        delays: [0, 2, 1, 5],
        window: null,
        dilation: null,
        activation: 'tanh',
        bias: true,
        init: 'glorot',
      });
      const w = new TimeDelay({ units: 4, window: 3 });
      expect(w.taps).toEqual([2, 1, 0]);
      expect(w.config.dilation).toBe(1);
      const m = new Sequential([['td', l]], 'float32', undefined, dev);
      m.build({ kind: 'seq', F: 3 });
      expect(m.parameters().map((p) => `${p.name}:${p.shape.join('x')}`)).toEqual(['td.weight:4x3x4', 'td.bias:4']);
    });

    it('window + dilation is a causal Conv1d(F, units, K, dilation) with the same weight [O,F,K] and bias', () => {
      // PyTorch: y = conv(F.pad(x, ((K-1)*d, 0))) on [B,F,T]: y[b,o,t] = bias[o] + Σ_f Σ_j W[o,f,j] xpad[b,f,t+j*d]
      const K = 3,
        d = 2,
        O = 2;
      const l = new TimeDelay({ units: O, window: K, dilation: d, activation: 'linear' });
      const m = new Sequential([['conv', l]], 'float64', undefined, dev);
      m.build({ kind: 'seq', F });
      m.initialize(new Rng(9));
      const x = randn(T * B * F, rng(9));
      const y = host(dev, runSync(m.forward(seqOn(dev, x.slice(), T, B, F), ctxOn(dev, 'float64', false))).data);
      const { 'conv.weight': W, 'conv.bias': bias } = m.stateDict();
      const pad = (K - 1) * d;
      for (let b = 0; b < B; b++)
        for (let o = 0; o < O; o++)
          for (let t = 0; t < T; t++) {
            let z = bias[o];
            for (let f = 0; f < F; f++)
              for (let j = 0; j < K; j++) {
                const s = t + j * d - pad; // index into x of xpad[t + j*d]
                if (s >= 0) z += W[(o * F + f) * K + j] * x[(s * B + b) * F + f];
              }
            expect(y[(t * B + b) * O + o]).toBeCloseTo(z, 12);
          }
    });

    for (const activation of ['tanh', 'relu', 'sigmoid', 'linear'] as const)
      for (const [label, o] of PATTERNS)
        it(`forward equals the plain-JS reference (${label}, ${activation})`, () => {
          for (const lengths of [null, [6, 4, 0]])
            for (const withHistory of [false, true]) {
              const l = new TimeDelay({ ...o, activation });
              const m = new Sequential([['td', l]], 'float64', undefined, dev);
              m.build({ kind: 'seq', F });
              m.initialize(new Rng(3));
              const r = rng(5);
              const p = Float64Array.from(m.params.hostParams()).map((v) => v + (r() - 0.5) * 0.4);
              m.params.setHostParams(p);
              const x = randn(T * B * F, r);
              const D = l.maxDelay;
              const hist = withHistory && D > 0 ? randn(D * B * F, r) : null;
              const ctx = ctxOn(dev, 'float64', false);
              if (hist) ctx.history = new Map([[l, dev.fromHost(hist.slice())]]);
              const y = runSync(m.forward(seqOn(dev, x.slice(), T, B, F, lengths), ctx));
              const sd = m.stateDict();
              const want = referenceTimeDelay(
                { taps: l.taps, units: o.units, activation },
                sd['td.weight'],
                sd['td.bias'],
                x,
                T,
                B,
                F,
                lengths,
                hist,
              );
              expect(relErr(host(dev, y.data), want)).toBeLessThan(1e-12);
              if (lengths) {
                const got = host(dev, y.data);
                for (let u = 0; u < o.units; u++) expect(got[(5 * B + 1) * o.units + u]).toBe(0);
              }
            }
        });

    for (const [label, o] of PATTERNS)
      for (const lengths of [null, [6, 4, 1]])
        for (const withHistory of [false, true])
          it(`float64 gradients of parameters, input, history (${label}, lengths ${lengths ? 'variable' : 'full'}, history ${withHistory})`, () => {
            // two stacked layers: the second sees the first's output at its own delays
            const l0 = new TimeDelay(o);
            const l1 = new TimeDelay({ units: 2, delays: [0, 2], activation: 'tanh' });
            const m = new Sequential(
              [
                ['td0', l0],
                ['td1', l1],
              ],
              'float64',
              undefined,
              dev,
            );
            m.build({ kind: 'seq', F }, true);
            m.initialize(new Rng(7));
            const r = rng(11);
            m.params.setHostParams(Float64Array.from(m.params.hostParams()).map((v) => v + (r() - 0.5) * 0.4));
            const x = randn(T * B * F, r);
            const D0 = l0.maxDelay;
            const h0 = withHistory && D0 > 0 ? randn(D0 * B * F, r) : null;
            const h1 = withHistory ? randn(l1.maxDelay * B * o.units, r) : null;
            const R = randn(T * B * 2, r);
            const ctxWith = (xs: Float64Array, hs0: Float64Array | null, hs1: Float64Array | null, training = true) => {
              const ctx = ctxOn(dev, 'float64', training);
              const hist = new Map<TimeDelay, Tensor>();
              if (hs0) hist.set(l0, dev.fromHost(hs0.slice()));
              if (hs1) hist.set(l1, dev.fromHost(hs1.slice()));
              ctx.history = hist;
              return { ctx, x: seqOn(dev, xs.slice(), T, B, F, lengths) };
            };
            const lossOf = (xs: Float64Array, hs0: Float64Array | null, hs1: Float64Array | null) => {
              const { ctx, x: xa } = ctxWith(xs, hs0, hs1, false);
              return dot(host(dev, runSync(m.forward(xa, ctx)).data), R);
            };
            m.params.zeroGrad();
            const { ctx, x: xa } = ctxWith(x, h0, h1);
            ctx.historyGrads = new Map();
            const y = runSync(m.forward(xa, ctx));
            const dIn = runSync(m.backward({ ...y, data: dev.fromHost(R.slice(), y.data.shape) } as Act, ctx));
            expectParamGrads(m.params, Float64Array.from(m.params.hostGrads()), () => lossOf(x, h0, h1));
            const gx = host(dev, dIn!.data);
            const xs = x.slice();
            const nx = numericGrad(xs, () => lossOf(xs, h0, h1));
            expect(relErr(gx, nx), 'input').toBeLessThan(1e-6);
            if (lengths)
              for (let f = 0; f < F; f++) expect(gx[(5 * B + 2) * F + f], 'padding gets no gradient').toBe(0);
            if (h0) {
              const hs = h0.slice();
              const nh = numericGrad(hs, () => lossOf(x, hs, h1));
              expect(relErr(host(dev, ctx.historyGrads.get(l0)!), nh), 'history of layer 0').toBeLessThan(1e-6);
            } else expect(ctx.historyGrads.has(l0)).toBe(false);
            if (h1) {
              const hs = h1.slice();
              const nh = numericGrad(hs, () => lossOf(x, h0, hs));
              expect(relErr(host(dev, ctx.historyGrads.get(l1)!), nh), 'history of layer 1').toBeLessThan(1e-6);
            }
          });

    it('refuses bad options with clear errors', () => {
      expectThrows(
        () => new TimeDelay({ units: 2, delays: [0, -1] }),
        RangeError,
        /delays\[1\] must be an integer >= 0/,
      );
      expectThrows(
        () => new TimeDelay({ units: 2, delays: [0, 1, 1] }),
        RangeError,
        /delays must be distinct, received 1 twice/,
      );
      expectThrows(
        () => new TimeDelay({ units: 2, delays: [0, 1], window: 2 }),
        RangeError,
        /give delays or window \(with dilation\), not both/,
      );
      expectThrows(() => new TimeDelay({ units: 2, delays: [0], dilation: 2 }), RangeError, /not both/);
      expectThrows(() => new TimeDelay({ units: 2 }), TypeError, /give delays .* or window/);
      expectThrows(() => new TimeDelay({ units: 2, dilation: 2 }), RangeError, /dilation needs window/);
      expectThrows(() => new TimeDelay({ units: 2, delays: [] }), TypeError, /delays must be a non-empty array/);
      expectThrows(() => new TimeDelay({ units: 2, delays: [0.5] }), RangeError, /delays\[0\] must be an integer/);
      expectThrows(() => new TimeDelay({ units: 2, window: 0 }), RangeError, /window must be an integer >= 1/);
      expectThrows(
        () => new TimeDelay({ units: 2, delays: [0], activation: 'gelu' as never }),
        RangeError,
        /activation must be one of 'tanh' 'relu' 'sigmoid' 'linear'/,
      );
      expectThrows(() => new TimeDelay({ units: 2, delay: [0] } as never), RangeError, /unknown option 'delay'/);
    });

    it('refuses a wrong feature count, a history of the wrong size, and a history for tap 0 only', () => {
      const l = new TimeDelay({ units: 2, delays: [0, 3] });
      const m = new Sequential([['td', l]], 'float64', undefined, dev);
      m.build({ kind: 'seq', F });
      m.initialize(new Rng(1));
      const x = seqOn(dev, randn(T * B * 3, rng(1)), T, B, 3);
      expectThrows(
        () => runSync(m.forward(x, ctxOn(dev))),
        RangeError,
        /TimeDelay: expected 2 input features, received 3/,
      );
      const ctx = ctxOn(dev);
      ctx.history = new Map([[l, dev.fromHost(new Float64Array(2 * B * F))]]);
      expectThrows(
        () => runSync(m.forward(seqOn(dev, randn(T * B * F, rng(2)), T, B, F), ctx)),
        RangeError,
        /history must have 18 elements \(\[D,B,F\] = \[3,3,2\]: the 3 steps before t = 0\), received 12/,
      );
      const l0 = new TimeDelay({ units: 2, delays: [0] });
      const m0 = new Sequential([['td', l0]], 'float64', undefined, dev);
      m0.build({ kind: 'seq', F });
      m0.initialize(new Rng(1));
      const c0 = ctxOn(dev);
      c0.history = new Map([[l0, dev.fromHost(new Float64Array(B * F))]]);
      expectThrows(
        () => runSync(m0.forward(seqOn(dev, randn(T * B * F, rng(2)), T, B, F), c0)),
        RangeError,
        /look at no step before t = 0/,
      );
      expect(() => m.build({ kind: 'seq', F })).toThrow(/already built/);
      const bad = new Sequential([['td', new TimeDelay({ units: 2, delays: [0] })]], 'float64', undefined, dev);
      expectThrows(
        () => bad.build({ kind: 'vec', F }),
        TypeError,
        /TimeDelay: expected a seq input, received a vec input/,
      );
    });

    describe('Model([TimeDelay, LSTM, Linear]) end to end', () => {
      const dir = mkdtempSync(join(tmpdir(), 'rnnkit-td-'));
      afterAll(() => rmSync(dir, { recursive: true, force: true }));
      // class: whether the input 3 steps back was positive (the delay tap carries it)
      const data = () => {
        const r = rng(21);
        const xs: number[][][] = [],
          ys: number[][] = [];
        for (let n = 0; n < 48; n++) {
          const len = 6 + (n % 4);
          const seq = Array.from({ length: len }, () => [r() * 2 - 1]);
          xs.push(seq);
          ys.push(seq.map((_, t) => (t >= 3 && seq[t - 3][0] > 0 ? 1 : 0)));
        }
        return { xs, ys };
      };
      const build = () =>
        new Model({
          inputSize: 1,
          layers: [
            ['td', new TimeDelay({ units: 6, delays: [0, 3] })],
            ['rnn', new LSTM({ hiddenSize: 6 })],
            ['head', new Linear({ outFeatures: 2 })],
          ],
          seed: 4,
        });
      it('trains, saves and loads bit for bit, and resumes training exactly', async () => {
        const { xs, ys } = data();
        const m = build();
        const h = await m.fit(xs, ys, { epochs: 25, batchSize: 16, optimizer: { type: 'adam', lr: 0.02 } });
        expect(h.epochs[h.epochs.length - 1].loss).toBeLessThan(h.epochs[0].loss);
        const path = join(dir, 'td-lstm.rnnkit');
        await m.save(path);
        const back = await SequenceModel.load(path);
        expect(back.predict(xs.slice(0, 5))).toEqual(m.predict(xs.slice(0, 5)));
        const a = await m.fit(xs, ys, { epochs: 2, batchSize: 16 });
        const b = await back.fit(xs, ys, { epochs: 2, batchSize: 16 });
        expect(b.epochs.map((e) => e.loss)).toEqual(a.epochs.map((e) => e.loss));
        expect(back.stateDict()).toEqual(m.stateDict());
      });
    });
  });
});

describe('TimeDelay inside a Model', () => {
  it('refuses tbptt and stateful training (a window would see zeros instead of the steps before it)', async () => {
    const { Model, TimeDelay, LSTM, Linear } = await import('../lib');
    const m = new Model({
      inputSize: 1,
      task: 'regression',
      layers: [
        new TimeDelay({ units: 3, delays: [0, 2] }),
        new LSTM({ hiddenSize: 3 }),
        new Linear({ outFeatures: 1 }),
      ],
    });
    const xs = [[[1], [2], [3], [4]]];
    for (const o of [{ tbptt: 2 }, { tbptt: 2, stateful: true }])
      await expect(m.fit(xs, xs, o)).rejects.toThrow(
        /^Model\.fit: tbptt and stateful training cut sequences into windows, and the TimeDelay layer '0' would see zeros/,
      );
  });
});
