// The CUDA kernels against the CPU kernels (cuda-ops-helpers.ts): every cell and variant of the
// recurrent layer with and without lengths, reversed and with a shared bidirectional output,
// forward and backward, then the other ops. Float32 within 1e-4 per whole sequence, float64
// within 1e-10. Skipped, with the reason, where neither a GPU nor the emulation build is there.
import { describe, expect, it } from 'vitest';
import { cpu } from '../lib';
import { cudaReason, cudaState, floats, OpCase, runBoth } from './cuda-ops-helpers';

const DTYPES = ['float32', 'float64'] as const;
const tolOf = (dt: string) => (dt === 'float32' ? 1e-4 : 1e-10);

function rnnCases(): OpCase[] {
  const out: OpCase[] = [];
  const shapes = [
    { cell: 'elman', activation: 'tanh' },
    { cell: 'elman', activation: 'relu' },
    { cell: 'elman', activation: 'sigmoid' },
    { cell: 'lstm' },
    { cell: 'gru', gruVariant: 'pytorch' },
    { cell: 'gru', gruVariant: 'original' },
  ] as const;
  let seed = 1;
  for (const dt of DTYPES)
    for (const sh of shapes)
      for (const variant of ['plain', 'lengths', 'reverse', 'bidirectional'] as const) {
        const T = 5,
          B = 3,
          I = 4,
          H = 6;
        const G = sh.cell === 'lstm' ? 4 : sh.cell === 'gru' ? 3 : 1;
        const lengths = variant === 'plain' ? null : Int32Array.from([5, 2, 0]);
        const reverse = variant === 'reverse' || variant === 'bidirectional';
        const ldy = variant === 'bidirectional' ? 2 * H : H;
        const yLen = variant === 'bidirectional' ? (T * B - 1) * ldy + H : T * B * H;
        const spec = { ...sh, T, B, I, H, reverse, ...(ldy !== H ? { yStride: ldy } : {}) };
        const reserve = cpu().rnnReserveSize(spec);
        const s0 = seed;
        seed += 20;
        const common = () => ({
          ...spec,
          x: floats(dt, T * B * I, s0),
          wIh: floats(dt, G * H * I, s0 + 1, 0.5),
          wHh: floats(dt, G * H * H, s0 + 2, 0.5),
          bIh: floats(dt, G * H, s0 + 3, 0.2),
          bHh: floats(dt, G * H, s0 + 4, 0.2),
          ...(lengths ? { lengths: lengths.slice() } : {}),
        });
        const name = `${sh.cell}${'activation' in sh ? `/${sh.activation}` : ''}${'gruVariant' in sh ? `/${sh.gruVariant}` : ''} ${variant} ${dt}`;
        out.push({
          name: `rnnForward ${name}`,
          op: 'rnnForward',
          make: () => ({
            ...common(),
            h0: floats(dt, B * H, s0 + 5),
            ...(sh.cell === 'lstm' ? { c0: floats(dt, B * H, s0 + 6), cN: floats(dt, B * H, 0) } : {}),
            y: floats(dt, yLen, 0),
            hN: floats(dt, B * H, 0),
          }),
          outputs: ['y', 'hN', ...(sh.cell === 'lstm' ? ['cN'] : [])],
          tol: tolOf(dt),
        });
        // Backward after a forward that filled the reserve on each side.
        out.push({
          name: `rnnBackward ${name}`,
          op: 'rnnBackward',
          make: () => {
            const { bIh, bHh, ...c } = common();
            const r = floats(dt, reserve, 0);
            cpu().rnnForward({
              ...c,
              bIh,
              bHh,
              h0: floats(dt, B * H, s0 + 5),
              y: floats(dt, yLen, 0),
              reserve: r,
            } as never);
            return {
              ...c,
              reserve: r,
              dy: floats(dt, yLen, s0 + 7),
              dhN: floats(dt, B * H, s0 + 8),
              ...(sh.cell === 'lstm' ? { dcN: floats(dt, B * H, s0 + 9), dc0: floats(dt, B * H, 0) } : {}),
              dx: floats(dt, T * B * I, s0 + 10),
              dh0: floats(dt, B * H, 0),
              dwIh: floats(dt, G * H * I, s0 + 11),
              dwHh: floats(dt, G * H * H, s0 + 12),
              dbIh: floats(dt, G * H, s0 + 13),
              dbHh: floats(dt, G * H, s0 + 14),
            };
          },
          outputs: ['dx', 'dh0', 'dwIh', 'dwHh', 'dbIh', 'dbHh', ...(sh.cell === 'lstm' ? ['dc0'] : [])],
          tol: tolOf(dt),
        });
      }
  return out;
}

function elementwiseCases(): OpCase[] {
  const out: OpCase[] = [];
  for (const dt of DTYPES) {
    const n = 1000;
    out.push(
      {
        name: `gemm ${dt}`,
        op: 'gemm',
        make: () => ({ M: 7, N: 9, K: 5, a: floats(dt, 35, 1), b: floats(dt, 45, 2), c: floats(dt, 63, 3), beta: 0.5 }),
        outputs: ['c'],
      },
      {
        name: `gemm transposed ${dt}`,
        op: 'gemm',
        make: () => ({
          M: 7,
          N: 9,
          K: 5,
          transA: true,
          transB: true,
          alpha: 2,
          a: floats(dt, 35, 4),
          b: floats(dt, 45, 5),
          c: floats(dt, 63, 6),
        }),
        outputs: ['c'],
      },
      {
        name: `axpby ${dt}`,
        op: 'axpby',
        make: () => ({ n, a: 0.5, x: floats(dt, n, 7), b: -2, y: floats(dt, n, 8) }),
        outputs: ['y'],
      },
      {
        name: `mul ${dt}`,
        op: 'mul',
        make: () => ({ n, x: floats(dt, n, 9), y: floats(dt, n, 10), out: floats(dt, n, 0) }),
        outputs: ['out'],
      },
      { name: `scale ${dt}`, op: 'scale', make: () => ({ n, alpha: 3, x: floats(dt, n, 11) }), outputs: ['x'] },
    );
    for (const kind of ['tanh', 'sigmoid', 'relu', 'identity'])
      out.push(
        {
          name: `activationForward ${kind} ${dt}`,
          op: 'activationForward',
          make: () => ({ kind, n, x: floats(dt, n, 12, 4), y: floats(dt, n, 0) }),
          outputs: ['y'],
        },
        {
          name: `activationBackward ${kind} ${dt}`,
          op: 'activationBackward',
          make: () => ({ kind, n, y: floats(dt, n, 13), dy: floats(dt, n, 14), dx: floats(dt, n, 15) }),
          outputs: ['dx'],
        },
      );
  }
  return out;
}

export const CASES: OpCase[] = [...rnnCases(), ...elementwiseCases()];

describe.skipIf(!cudaState.available)(`CUDA ops against the CPU (${cudaState.device ?? 'no device'})`, () => {
  for (const c of CASES)
    it(c.name, () => {
      const { diffs } = runBoth(c);
      const dt = Object.values(c.make()).find((v) => v instanceof Float32Array) ? 'float32' : 'float64';
      for (const [k, d] of Object.entries(diffs)) expect(d, `${c.name}: ${k}`).toBeLessThan(c.tol ?? tolOf(dt));
    });
});

describe('CUDA backend availability', () => {
  it.skipIf(cudaState.available)(`reports why it is unavailable: ${cudaReason}`, () => {
    expect(cudaState.reason).toMatch(/driver|not built|no CUDA device/);
  });
});
