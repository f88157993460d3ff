// Optimizer kernels against PyTorch (torch.optim, recorded in test/fixtures/torch_optim.json)
// and against hand-computed first steps.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpu } from '../lib';
import type { OptimHyper, OptimizerKind } from '../lib/native';
import { relErr } from './helpers';

const be = cpu();
interface Fixture {
  p0: number[];
  grads: number[][];
  cases: Array<{ kind: OptimizerKind; hyper: Record<string, unknown>; after: number[][] }>;
}
const fx = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'torch_optim.json'), 'utf8')) as Fixture;

function toHyper(h: Record<string, unknown>): OptimHyper & { init: number } {
  const out: OptimHyper & { init: number } = { lr: h.lr as number, init: 0 };
  if (h.momentum !== undefined) out.momentum = h.momentum as number;
  if (h.dampening !== undefined) out.dampening = h.dampening as number;
  if (h.nesterov !== undefined) out.nesterov = h.nesterov as boolean;
  if (h.weight_decay !== undefined) out.weightDecay = h.weight_decay as number;
  if (h.betas !== undefined) [out.beta1, out.beta2] = h.betas as [number, number];
  if (h.eps !== undefined) out.eps = h.eps as number;
  if (h.alpha !== undefined) out.alpha = h.alpha as number;
  if (h.centered !== undefined) out.centered = h.centered as boolean;
  if (h.lr_decay !== undefined) out.lrDecay = h.lr_decay as number;
  if (h.initial_accumulator_value !== undefined) out.init = h.initial_accumulator_value as number;
  return out;
}

describe('optimizers equal torch.optim', () => {
  for (const c of fx.cases) {
    it(`${c.kind} ${JSON.stringify(c.hyper)}`, () => {
      const { init, ...hyper } = toHyper(c.hyper);
      const params = Float64Array.from(fx.p0);
      const state = Array.from({ length: be.optimStateCount(c.kind) }, () => new Float64Array(params.length));
      if (c.kind === 'adagrad') state[0].fill(init);
      fx.grads.forEach((g, i) => {
        be.optimStep({ kind: c.kind, ...hyper, step: i + 1, params, grads: Float64Array.from(g), state });
        expect(relErr(params, c.after[i]), `step ${i + 1}`).toBeLessThan(1e-12);
      });
    });
  }
});

describe('optimizer first steps by hand', () => {
  it('SGD: p - lr*g; Adam: p - lr*sign(g) on step 1', () => {
    const p = Float32Array.from([1, -2]),
      g = Float32Array.from([0.5, -4]);
    be.optimStep({ kind: 'sgd', lr: 0.1, step: 1, params: p, grads: g, state: [new Float32Array(2)] });
    expect(Array.from(p)).toEqual([Math.fround(1 - 0.05), Math.fround(-2 + 0.4)]);
    const q = Float64Array.from([1, -2]);
    be.optimStep({
      kind: 'adam',
      lr: 0.1,
      eps: 0,
      step: 1,
      params: q,
      grads: Float64Array.from([0.5, -4]),
      state: [new Float64Array(2), new Float64Array(2)],
    });
    expect(q[0]).toBeCloseTo(0.9, 14);
    expect(q[1]).toBeCloseTo(-1.9, 14);
  });
  it('the async step gives the same result as the sync one', async () => {
    const a = Float32Array.from([1, 2, 3]),
      b = a.slice(),
      g = Float32Array.from([0.1, -0.2, 0.3]);
    const sa = [new Float32Array(3), new Float32Array(3)],
      sb = [new Float32Array(3), new Float32Array(3)];
    be.optimStep({ kind: 'adamw', lr: 0.01, weightDecay: 0.1, step: 1, params: a, grads: g, state: sa });
    await be.optimStepAsync({ kind: 'adamw', lr: 0.01, weightDecay: 0.1, step: 1, params: b, grads: g, state: sb });
    expect(Array.from(b)).toEqual(Array.from(a));
  });
});
