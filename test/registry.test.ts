// The layer registry: any Sequential of registered layers, the user's own included, can be fit,
// saved and loaded as a Model; an unregistered layer trains but refuses to be saved, naming it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  Dropout,
  GRU,
  Layer,
  Linear,
  LSTM,
  Model,
  registerLayer,
  resolveOptions,
  Rng,
  runSync,
  SequenceModel,
  TimePooling,
} from '../lib';
import type { Act, ActShape, Ctx, FlatParameters, Gen, Tensor } from '../lib';
import { ctxOn, expectParamGrads, forEachDevice, host, seqOn } from './device-helpers';
import { randn, rng } from './helpers';

/** A user layer: h = tanh(x Wᵀ) per step or per vector, with its own parameter. */
class TanhMix extends Layer {
  readonly type: string;
  readonly config: { units: number };
  private inF = 0;
  constructor(options: { units: number }, type = 'TanhMix') {
    super();
    this.type = type;
    this.config = resolveOptions('TanhMix', { units: { type: 'int', min: 1, doc: 'units' } }, options);
  }
  build(input: ActShape, params: FlatParameters): ActShape {
    this.inF = input.F;
    params.add(this.p('weight'), [this.config.units, input.F]);
    return { kind: input.kind, F: this.config.units };
  }
  initialize(params: FlatParameters, r: Rng): void {
    params.init(this.p('weight'), (w) => {
      for (let i = 0; i < w.length; i++) w[i] = r.uniform(-0.5, 0.5);
    });
  }
  *forward(x: Act, ctx: Ctx, params: FlatParameters): Gen<Act> {
    if (x.kind === 'ids') throw new TypeError('TanhMix: features expected');
    const N = x.kind === 'seq' ? x.T * x.B : x.B,
      O = this.config.units;
    const pre = this.buffer(ctx, 'pre', ctx.dtype, N * O),
      y = this.buffer(ctx, 'y', ctx.dtype, N * O);
    ctx.device.linearForward({ N, I: this.inF, O, x: x.data, weight: params.param(this.p('weight')), y: pre });
    ctx.device.activationForward({ kind: 'tanh', n: N * O, x: pre, y });
    if (ctx.training) ctx.tape.record(this, { x, y });
    return { ...x, data: y, F: O } as Act;
  }
  *backward(dy: Act, ctx: Ctx, params: FlatParameters): Gen<Act | null> {
    const { x, y } = ctx.tape.take<{ x: Act & { data: Tensor }; y: Tensor }>(this, 'TanhMix');
    if (x.kind === 'ids' || dy.kind === 'ids') throw new Error('TanhMix: unexpected ids');
    const N = x.kind === 'seq' ? x.T * x.B : x.B,
      O = this.config.units;
    const dPre = this.buffer(ctx, 'dPre', ctx.dtype, N * O, true);
    ctx.device.activationBackward({ kind: 'tanh', n: N * O, y, dy: dy.data, dx: dPre });
    const dx = this.needsInputGrad ? this.buffer(ctx, 'dx', ctx.dtype, N * this.inF, true) : null;
    ctx.device.linearBackward({
      N,
      I: this.inF,
      O,
      x: x.data,
      weight: params.param(this.p('weight')),
      dy: dPre,
      dx,
      dWeight: params.gradient(this.p('weight')),
    });
    return dx ? ({ ...x, data: dx } as Act) : null;
  }
}
registerLayer('TanhMix', (c) => new TanhMix(c as { units: number }));

const tmp = (f: string) => join(mkdtempSync(join(tmpdir(), 'rnnkit-registry-')), f);

function data(n: number, seed: number) {
  const r = new Rng(seed);
  const xs = Array.from({ length: n }, () =>
    Array.from({ length: 3 + r.int(4) }, () => [r.uniform(-1, 1), r.uniform(-1, 1)]),
  );
  return {
    xs,
    ys: xs.map((s) => (s[s.length - 1][0] > 0 ? 1 : 0)),
    tags: xs.map((s) => s.map((v) => (v[1] > 0 ? 1 : 0))),
  };
}

forEachDevice(() => {
  describe('Model over registered layers', () => {
    it("a user's layer inside a sequence classifier: fits, saves, loads and predicts the same", async () => {
      const d = data(48, 1);
      const m = new Model({
        inputSize: 2,
        seed: 3,
        layers: [
          ['rnn', new GRU({ hiddenSize: 6, returnSequences: false })],
          ['mix', new TanhMix({ units: 5 })],
          ['drop', new Dropout({ p: 0.1 })],
          ['head', new Linear({ outFeatures: 2 })],
        ],
      });
      const h = await m.fit(d.xs, d.ys, { epochs: 15, batchSize: 16, optimizer: { lr: 0.02 } });
      expect(h.epochs.at(-1)!.loss).toBeLessThan(h.epochs[0].loss);
      expect(m.parameters().map((p) => p.name)).toContain('mix.weight');
      const file = tmp('model.rnnkit');
      await m.save(file);
      const back = await SequenceModel.load(file);
      expect(back).toBeInstanceOf(Model);
      expect(back.predict(d.xs.slice(0, 4))).toEqual(m.predict(d.xs.slice(0, 4)));
      expect(back.epoch).toBe(15);
      expect(await back.evaluate(d.xs, d.ys)).toEqual(await m.evaluate(d.xs, d.ys));
    });

    it('a per-step network (tagger shape) with stacked LSTMs and pooling-free head; tbptt works', async () => {
      const d = data(24, 2);
      const m = new Model({
        inputSize: 2,
        layers: [new LSTM({ hiddenSize: 5, numLayers: 2 }), new TanhMix({ units: 4 }), new Linear({ outFeatures: 2 })],
      });
      const h = await m.fit(d.xs, d.tags, { epochs: 2, batchSize: 8, tbptt: 2 });
      expect(h.epochs).toHaveLength(2);
      expect((m.predict(d.xs.slice(0, 1)) as number[][][])[0]).toHaveLength(d.xs[0].length);
      const mean = new Model({
        inputSize: 2,
        layers: [new LSTM({ hiddenSize: 3 }), new TimePooling({ mode: 'mean' }), new Linear({ outFeatures: 2 })],
      });
      await expect(mean.fit(d.xs, d.ys, { tbptt: 2 })).rejects.toThrow(/tbptt needs pooling 'last'/);
      await expect(mean.fit(d.xs, d.ys, { learning: 'rtrl' })).rejects.toThrow(/a Model trains by BPTT/);
    });

    it("the user's layer passes a float64 gradient check per parameter tensor", () => {
      const dev = new Model({ inputSize: 2, layers: [new TanhMix({ units: 3 })] }).device;
      const m = new Model({
        inputSize: 2,
        dtype: 'float64',
        layers: [new GRU({ hiddenSize: 3 }), new TanhMix({ units: 3 }), new Linear({ outFeatures: 2 })],
      });
      const net = m.internals().net;
      const x = seqOn(dev, randn(4 * 2 * 2, rng(5)), 4, 2, 2, [4, 3]);
      const R = randn(4 * 2 * 2, rng(6));
      const loss = () => {
        const y = host(dev, runSync(net.forward(x, ctxOn(dev))).data);
        return y.reduce((a, v, i) => a + v * R[i], 0);
      };
      net.params.zeroGrad();
      const ctx = ctxOn(dev);
      const y = runSync(net.forward(x, ctx));
      runSync(net.backward({ ...y, data: dev.fromHost(Float64Array.from(R), y.data.shape) } as Act, ctx));
      expectParamGrads(net.params, Float64Array.from(net.params.hostGrads()), loss);
    });

    it('an unregistered layer trains but refuses to be saved, naming it; unknown types refuse to load', async () => {
      const d = data(8, 3);
      const m = new Model({
        inputSize: 2,
        layers: [
          new LSTM({ hiddenSize: 3, returnSequences: false }),
          ['odd', new TanhMix({ units: 2 }, 'Unregistered')],
          new Linear({ outFeatures: 2 }),
        ],
      });
      await m.fit(d.xs, d.ys);
      await expect(m.save(tmp('x.rnnkit'))).rejects.toThrow(
        /layer 'odd' of type 'Unregistered' is not registered; call registerLayer/,
      );
      expect(() => Model.fromConfig({ ...m.config, layers: [{ type: 'Nope', name: '0', config: {} }] })).toThrow(
        /unknown layer type 'Nope'; registered: .*LSTM/,
      );
      expect(() => new Model({ inputSize: 2, vocabSize: 3, layers: [new Linear({ outFeatures: 1 })] })).toThrow(
        /give exactly one of inputSize/,
      );
      expect(() => new Model({ inputSize: 2, layers: [] })).toThrow(/layers must be a non-empty array/);
    });
  });
});
