// Float64 central-difference gradient checks of the recurrent kernels, for every cell,
// activation, GRU variant, with and without per-sequence lengths, in both directions.
import { describe, expect, it } from 'vitest';
import { cpu } from '../lib';
import type { RnnSpec } from '../lib/native';
import { dot, gates, numericGrad, randn, referenceRnn, relErr, rng } from './helpers';

const be = cpu();

const variants: Array<Pick<RnnSpec, 'cell' | 'activation' | 'gruVariant'>> = [
  { cell: 'elman', activation: 'tanh' },
  { cell: 'elman', activation: 'relu' },
  { cell: 'elman', activation: 'sigmoid' },
  { cell: 'lstm' },
  { cell: 'gru', gruVariant: 'pytorch' },
  { cell: 'gru', gruVariant: 'original' },
];

function setup(v: (typeof variants)[number], reverse: boolean, withLengths: boolean, seed: number) {
  const r = rng(seed);
  const s: RnnSpec = { ...v, T: 5, B: 3, I: 3, H: 4, reverse };
  const G = gates(s.cell);
  const { T, B, I, H } = s;
  const p = {
    x: randn(T * B * I, r),
    h0: randn(B * H, r, 0.5),
    c0: randn(B * H, r, 0.5),
    wIh: randn(G * H * I, r, 0.6),
    wHh: randn(G * H * H, r, 0.6),
    bIh: randn(G * H, r, 0.3),
    bHh: randn(G * H, r, 0.3),
  };
  // relu at exactly 0 has no derivative: keep pre-activations away from the kink by a shift.
  if (s.activation === 'relu') for (let i = 0; i < p.bIh.length; i++) p.bIh[i] += 0.05;
  const lengths = withLengths ? Int32Array.from([T, 2, 0]) : null;
  // The loss is a fixed random projection of every output: L = <y,Ry> + <hN,Rh> + <cN,Rc>.
  const Ry = randn(T * B * H, r),
    Rh = randn(B * H, r),
    Rc = randn(B * H, r);
  return { s, p, lengths, Ry, Rh, Rc };
}

function forward(s: RnnSpec, p: ReturnType<typeof setup>['p'], lengths: Int32Array | null, reserve?: Float64Array) {
  const { T, B, H } = s;
  const y = new Float64Array(T * B * H),
    hN = new Float64Array(B * H),
    cN = new Float64Array(B * H);
  be.rnnForward({
    ...s,
    ...p,
    c0: s.cell === 'lstm' ? p.c0 : null,
    lengths,
    y,
    hN,
    cN: s.cell === 'lstm' ? cN : null,
    reserve,
  });
  return { y, hN, cN };
}

describe('recurrent kernels, float64', () => {
  for (const v of variants) {
    for (const reverse of [false, true]) {
      for (const withLengths of [false, true]) {
        const name =
          `${v.cell}${v.activation ? '/' + v.activation : ''}${v.gruVariant ? '/' + v.gruVariant : ''}` +
          `${reverse ? ' reverse' : ''}${withLengths ? ' lengths' : ''}`;
        it(`${name}: forward equals the reference`, () => {
          const { s, p, lengths } = setup(v, reverse, withLengths, 11);
          const got = forward(s, p, lengths);
          const ref = referenceRnn(s, { ...p, c0: s.cell === 'lstm' ? p.c0 : null, lengths });
          expect(relErr(got.y, ref.y)).toBeLessThan(1e-12);
          expect(relErr(got.hN, ref.hN)).toBeLessThan(1e-12);
          if (s.cell === 'lstm') expect(relErr(got.cN, ref.cN)).toBeLessThan(1e-12);
          if (lengths) {
            // padding steps output zeros
            const { T, B, H } = s;
            for (let t = 0; t < T; t++)
              for (let b = 0; b < B; b++)
                if (t >= lengths[b]) for (let j = 0; j < H; j++) expect(got.y[(t * B + b) * H + j]).toBe(0);
          }
        });

        it(`${name}: BPTT gradients match central differences`, () => {
          const { s, p, lengths, Ry, Rh, Rc } = setup(v, reverse, withLengths, 23);
          const lstm = s.cell === 'lstm';
          const loss = () => {
            const o = forward(s, p, lengths);
            return dot(o.y, Ry) + dot(o.hN, Rh) + (lstm ? dot(o.cN, Rc) : 0);
          };
          const reserve = new Float64Array(be.rnnReserveSize(s));
          forward(s, p, lengths, reserve);
          const g = {
            x: new Float64Array(p.x.length),
            h0: new Float64Array(p.h0.length),
            c0: new Float64Array(p.c0.length),
            wIh: new Float64Array(p.wIh.length),
            wHh: new Float64Array(p.wHh.length),
            bIh: new Float64Array(p.bIh.length),
            bHh: new Float64Array(p.bHh.length),
          };
          be.rnnBackward({
            ...s,
            x: p.x,
            lengths,
            wIh: p.wIh,
            wHh: p.wHh,
            reserve,
            dy: Ry,
            dhN: Rh,
            dcN: lstm ? Rc : null,
            dx: g.x,
            dh0: g.h0,
            dc0: lstm ? g.c0 : null,
            dwIh: g.wIh,
            dwHh: g.wHh,
            dbIh: g.bIh,
            dbHh: g.bHh,
          });
          const names: Array<keyof typeof p> = [
            'x',
            'h0',
            'wIh',
            'wHh',
            'bIh',
            'bHh',
            ...(lstm ? ['c0' as const] : []),
          ];
          for (const k of names) {
            const num = numericGrad(p[k], loss);
            const err = relErr(g[k], num);
            expect(err, `${k}: max relative error ${err}`).toBeLessThan(1e-6);
          }
        });
      }
    }
  }

  it('backward accumulates into dx and the weight gradients (+=)', () => {
    const { s, p, Ry } = setup(variants[3], false, false, 5);
    const reserve = new Float64Array(be.rnnReserveSize(s));
    forward(s, p, null, reserve);
    const run = (dx: Float64Array, dw: Float64Array) =>
      be.rnnBackward({
        ...s,
        x: p.x,
        wIh: p.wIh,
        wHh: p.wHh,
        reserve,
        dy: Ry,
        dx,
        dwIh: dw,
        dwHh: new Float64Array(p.wHh.length),
      });
    const dx1 = new Float64Array(p.x.length),
      dw1 = new Float64Array(p.wIh.length);
    run(dx1, dw1);
    const dx2 = dx1.slice(),
      dw2 = dw1.slice();
    run(dx2, dw2);
    expect(
      relErr(
        dx2,
        dx1.map((v) => 2 * v),
      ),
    ).toBeLessThan(1e-14);
    expect(
      relErr(
        dw2,
        dw1.map((v) => 2 * v),
      ),
    ).toBeLessThan(1e-14);
  });

  it('a layer without biases matches the reference and its gradient', () => {
    const { s, p, Ry } = setup(variants[4], false, true, 9);
    const q = { ...p, bIh: null, bHh: null };
    const { T, B, H } = s;
    const y = new Float64Array(T * B * H);
    be.rnnForward({ ...s, ...q, c0: null, y });
    const ref = referenceRnn(s, { ...q, c0: null });
    expect(relErr(y, ref.y)).toBeLessThan(1e-12);
    const reserve = new Float64Array(be.rnnReserveSize(s));
    be.rnnForward({ ...s, ...q, c0: null, y, reserve });
    const dW = new Float64Array(p.wHh.length);
    be.rnnBackward({
      ...s,
      x: p.x,
      wIh: p.wIh,
      wHh: p.wHh,
      reserve,
      dy: Ry,
      dwIh: new Float64Array(p.wIh.length),
      dwHh: dW,
    });
    const num = numericGrad(p.wHh, () => {
      be.rnnForward({ ...s, ...q, c0: null, y });
      return dot(y, Ry);
    });
    expect(relErr(dW, num)).toBeLessThan(1e-6);
  });
});
