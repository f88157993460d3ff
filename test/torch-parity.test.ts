// rnnkit reproduces PyTorch: outputs and gradients of a bidirectional nn.RNN / nn.LSTM / nn.GRU
// (plain and packed variable-length batches) recorded by test/fixtures/make_torch_reference.py,
// computed here from the very same named weights, with no conversion.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpu } from '../lib';
import type { RnnSpec } from '../lib/native';
import { relErr } from './helpers';

interface Case {
  name: string;
  packed: boolean;
  T: number;
  B: number;
  I: number;
  H: number;
  lengths: number[] | null;
  x: number[];
  h0: number[];
  c0: number[] | null;
  y: number[];
  hN: number[];
  cN: number[] | null;
  ry: number[];
  rh: number[];
  dx: number[];
  dh0: number[];
  params: Record<string, number[]>;
  grads: Record<string, number[]>;
}
const fixture = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'torch_reference.json'), 'utf8')) as {
  cases: Case[];
};
const be = cpu();
const f64 = (a: number[]) => Float64Array.from(a);

describe('parity with PyTorch', () => {
  for (const c of fixture.cases) {
    it(`${c.name}${c.packed ? ' packed' : ''}: outputs and gradients equal torch's`, () => {
      const { T, B, I, H } = c;
      const cell: RnnSpec['cell'] = c.name.startsWith('elman') ? 'elman' : (c.name as 'lstm' | 'gru');
      const activation = c.name === 'elman_relu' ? 'relu' : 'tanh';
      const lstm = cell === 'lstm';
      const lengths = c.lengths ? Int32Array.from(c.lengths) : null;
      const x = f64(c.x);
      const y = new Float64Array(T * B * 2 * H);
      const hN = new Float64Array(2 * B * H),
        cN = new Float64Array(2 * B * H);
      const dx = new Float64Array(x.length),
        dh0 = new Float64Array(2 * B * H);
      const grads: Record<string, Float64Array> = {};
      for (const dir of [0, 1]) {
        const sfx = dir ? '_reverse' : '';
        const spec: RnnSpec = { cell, activation, T, B, I, H, reverse: dir === 1 };
        const w = (k: string) => f64(c.params[`${k}_l0${sfx}`]);
        const wIh = w('weight_ih'),
          wHh = w('weight_hh'),
          bIh = w('bias_ih'),
          bHh = w('bias_hh');
        const yd = new Float64Array(T * B * H),
          hd = new Float64Array(B * H),
          cd = new Float64Array(B * H);
        const reserve = new Float64Array(be.rnnReserveSize(spec));
        const h0 = f64(c.h0.slice(dir * B * H, (dir + 1) * B * H));
        const c0 = lstm ? f64(c.c0!.slice(dir * B * H, (dir + 1) * B * H)) : null;
        be.rnnForward({
          ...spec,
          x,
          h0,
          c0,
          lengths,
          wIh,
          wHh,
          bIh,
          bHh,
          y: yd,
          hN: hd,
          cN: lstm ? cd : null,
          reserve,
        });
        for (let tb = 0; tb < T * B; tb++) y.set(yd.subarray(tb * H, (tb + 1) * H), tb * 2 * H + dir * H);
        hN.set(hd, dir * B * H);
        cN.set(cd, dir * B * H);
        const dy = new Float64Array(T * B * H);
        for (let tb = 0; tb < T * B; tb++) dy.set(c.ry.slice(tb * 2 * H + dir * H, tb * 2 * H + dir * H + H), tb * H);
        const g = {
          wIh: new Float64Array(wIh.length),
          wHh: new Float64Array(wHh.length),
          bIh: new Float64Array(bIh.length),
          bHh: new Float64Array(bHh.length),
        };
        be.rnnBackward({
          ...spec,
          x,
          lengths,
          wIh,
          wHh,
          reserve,
          dy,
          dhN: f64(c.rh.slice(dir * B * H, (dir + 1) * B * H)),
          dx,
          dh0: dh0.subarray(dir * B * H, (dir + 1) * B * H),
          dwIh: g.wIh,
          dwHh: g.wHh,
          dbIh: g.bIh,
          dbHh: g.bHh,
        });
        grads[`weight_ih_l0${sfx}`] = g.wIh;
        grads[`weight_hh_l0${sfx}`] = g.wHh;
        grads[`bias_ih_l0${sfx}`] = g.bIh;
        grads[`bias_hh_l0${sfx}`] = g.bHh;
      }
      expect(relErr(y, c.y)).toBeLessThan(1e-12);
      expect(relErr(hN, c.hN)).toBeLessThan(1e-12);
      if (lstm) expect(relErr(cN, c.cN!)).toBeLessThan(1e-12);
      expect(relErr(dx, c.dx)).toBeLessThan(1e-12);
      expect(relErr(dh0, c.dh0)).toBeLessThan(1e-12);
      for (const [k, v] of Object.entries(c.grads)) expect(relErr(grads[k], v), k).toBeLessThan(1e-12);
    });
  }
});
