// The CUDA attention core and time-delay gather against the CPU kernels (cuda-ops-helpers.ts):
// with and without source lengths, both the batched-GEMM path (T >= 4) and the per-element path
// (a decoder's few target steps), only some gradients asked for, keys and values as one buffer
// (dot attention) with one shared gradient, taps past the start with and without history,
// repeated taps and zero lengths; then the argument checks.
import { afterAll, describe, expect, it } from 'vitest';
import { cpu, cudaDevice, type Tensor } from '../lib';
import { cudaState, floats, OpCase, relDiff, runBoth } from './cuda-ops-helpers';

const DTYPES = ['float32', 'float64'] as const;
type DT = (typeof DTYPES)[number];
const tolOf = (dt: DT) => (dt === 'float32' ? 1e-4 : 1e-10);

interface AttnShape {
  T: number;
  S: number;
  B: number;
  Hd: number;
  He: number;
  lengths: number[] | null;
}
const ATTN_SHAPES: AttnShape[] = [
  { T: 5, S: 4, B: 3, Hd: 6, He: 7, lengths: null }, // GEMM path
  { T: 5, S: 4, B: 3, Hd: 6, He: 7, lengths: [4, 1, 2] },
  { T: 2, S: 6, B: 3, Hd: 4, He: 5, lengths: null }, // per-element path
  { T: 2, S: 6, B: 3, Hd: 4, He: 5, lengths: [6, 1, 3] },
  { T: 1, S: 1, B: 1, Hd: 1, He: 1, lengths: null }, // a single row
  { T: 1, S: 3, B: 1, Hd: 2, He: 3, lengths: [2] },
  { T: 9, S: 1, B: 2, Hd: 3, He: 2, lengths: [1, 1] },
  { T: 4, S: 7, B: 1, Hd: 33, He: 35, lengths: [5] }, // past one 32-wide GEMM tile
];

const shapeName = (s: AttnShape) =>
  `T${s.T} S${s.S} B${s.B} Hd${s.Hd} He${s.He}${s.lengths ? ` lengths [${s.lengths}]` : ''}`;

function attentionCases(): OpCase[] {
  const out: OpCase[] = [];
  let seed = 100;
  for (const dt of DTYPES)
    for (const sh of ATTN_SHAPES) {
      const { T, S, B, Hd, He } = sh;
      const s0 = (seed += 10);
      const inputs = () => ({
        T,
        S,
        B,
        Hd,
        He,
        q: floats(dt, T * B * Hd, s0, 1.5),
        keys: floats(dt, S * B * Hd, s0 + 1, 1.5),
        values: floats(dt, S * B * He, s0 + 2),
        ...(sh.lengths ? { lengths: Int32Array.from(sh.lengths) } : {}),
      });
      out.push({
        name: `attentionForward ${shapeName(sh)} ${dt}`,
        op: 'attentionForward',
        make: () => ({ ...inputs(), alpha: floats(dt, T * B * S, 0), context: floats(dt, T * B * He, s0 + 3) }),
        outputs: ['alpha', 'context'],
        tol: tolOf(dt),
      });
      const alphaOf = (a: ReturnType<typeof inputs>) => {
        const alpha = floats(dt, T * B * S, 0);
        cpu().attentionForward({ ...a, alpha, context: floats(dt, T * B * He, 0) } as never);
        return alpha;
      };
      const grads = {
        all: ['dq', 'dKeys', 'dValues'],
        'dq only': ['dq'],
        'dKeys and dValues': ['dKeys', 'dValues'],
        'dValues only': ['dValues'],
      } as const;
      for (const [which, outs] of Object.entries(grads))
        out.push({
          name: `attentionBackward ${which} ${shapeName(sh)} ${dt}`,
          op: 'attentionBackward',
          make: () => {
            const a = inputs();
            const g = {
              dq: floats(dt, T * B * Hd, s0 + 5),
              dKeys: floats(dt, S * B * Hd, s0 + 6),
              dValues: floats(dt, S * B * He, s0 + 7),
            };
            return {
              ...a,
              alpha: alphaOf(a),
              dContext: floats(dt, T * B * He, s0 + 4),
              ...Object.fromEntries(outs.map((k) => [k, g[k]])),
            };
          },
          outputs: [...outs],
          tol: tolOf(dt),
        });
      // alpha not from attentionForward (non-zero past the lengths): only j < length is read.
      if (sh.lengths)
        out.push({
          name: `attentionBackward arbitrary alpha ${shapeName(sh)} ${dt}`,
          op: 'attentionBackward',
          make: () => ({
            ...inputs(),
            alpha: floats(dt, T * B * S, s0 + 8),
            dContext: floats(dt, T * B * He, s0 + 4),
            dq: floats(dt, T * B * Hd, s0 + 5),
            dKeys: floats(dt, S * B * Hd, s0 + 6),
            dValues: floats(dt, S * B * He, s0 + 7),
          }),
          outputs: ['dq', 'dKeys', 'dValues'],
          tol: tolOf(dt),
        });
    }
  return out;
}

interface DelayShape {
  T: number;
  B: number;
  F: number;
  taps: number[];
  lengths: number[] | null;
  history: boolean;
}
const DELAY_SHAPES: DelayShape[] = [
  { T: 5, B: 3, F: 2, taps: [3, 1, 0], lengths: null, history: false },
  { T: 5, B: 3, F: 2, taps: [3, 1, 0], lengths: null, history: true },
  { T: 5, B: 3, F: 2, taps: [3, 1, 0], lengths: [5, 0, 2], history: true },
  { T: 6, B: 2, F: 3, taps: [2, 0, 2, 4], lengths: [3, 6], history: true }, // a repeated tap
  { T: 3, B: 2, F: 4, taps: [7, 0], lengths: [0, 3], history: true }, // taps past the whole sequence
  { T: 4, B: 2, F: 3, taps: [0], lengths: [2, 4], history: false }, // D = 0
  { T: 1, B: 1, F: 1, taps: [1], lengths: null, history: true }, // a single row
];

function delayCases(): OpCase[] {
  const out: OpCase[] = [];
  let seed = 500;
  for (const dt of DTYPES)
    for (const sh of DELAY_SHAPES) {
      const { T, B, F } = sh;
      const K = sh.taps.length,
        D = Math.max(...sh.taps);
      const s0 = (seed += 10);
      const name = `T${T} B${B} F${F} taps [${sh.taps}]${sh.lengths ? ` lengths [${sh.lengths}]` : ''}${sh.history ? ' history' : ''} ${dt}`;
      const base = () => ({
        T,
        B,
        F,
        K,
        taps: Int32Array.from(sh.taps),
        ...(sh.lengths ? { lengths: Int32Array.from(sh.lengths) } : {}),
      });
      out.push({
        name: `timeDelayForward ${name}`,
        op: 'timeDelayForward',
        make: () => ({
          ...base(),
          x: floats(dt, T * B * F, s0),
          ...(sh.history ? { history: floats(dt, D * B * F, s0 + 1) } : {}),
          y: floats(dt, T * B * K * F, s0 + 2),
        }),
        outputs: ['y'],
        tol: tolOf(dt),
      });
      const variants: [string, string[]][] = sh.history
        ? [
            ['dx and dHistory', ['dx', 'dHistory']],
            ['dHistory only', ['dHistory']],
          ]
        : [['dx', ['dx']]];
      for (const [which, outs] of variants)
        out.push({
          name: `timeDelayBackward ${which} ${name}`,
          op: 'timeDelayBackward',
          make: () => {
            const g: Record<string, Float32Array | Float64Array> = {
              dx: floats(dt, T * B * F, s0 + 4),
              dHistory: floats(dt, D * B * F, s0 + 5),
            };
            return {
              ...base(),
              dy: floats(dt, T * B * K * F, s0 + 3),
              ...Object.fromEntries(outs.map((k) => [k, g[k]])),
            };
          },
          outputs: outs,
          tol: tolOf(dt),
        });
    }
  return out;
}

export const ATTENTION_CASES: OpCase[] = [...attentionCases(), ...delayCases()];

// The largest relative difference seen per op and dtype, printed at the end.
const worst: Record<string, number> = {};
function note(op: string, dt: DT, d: number) {
  const k = `${op} ${dt}`;
  worst[k] = Math.max(worst[k] ?? 0, d);
}
const dtypeOfCase = (c: OpCase): DT =>
  Object.values(c.make()).some((v) => v instanceof Float32Array) ? 'float32' : 'float64';

describe.skipIf(!cudaState.available)(`CUDA attention and time-delay ops (${cudaState.device ?? 'no device'})`, () => {
  afterAll(() => {
    console.log(
      'largest relative differences:\n' +
        Object.entries(worst)
          .map(([k, v]) => `  ${k}: ${v.toExponential(2)}`)
          .join('\n'),
    );
  });

  for (const c of ATTENTION_CASES)
    it(c.name, () => {
      const dt = dtypeOfCase(c);
      const { diffs } = runBoth(c);
      for (const [k, d] of Object.entries(diffs)) {
        note(c.op, dt, d);
        expect(d, `${c.name}: ${k}`).toBeLessThan(c.tol ?? tolOf(dt));
      }
    });

  // runBoth uploads each host array on its own; here keys and values are one device buffer and
  // dKeys and dValues one gradient, as LuongAttention's dot score passes them.
  for (const dt of DTYPES)
    for (const path of [
      { T: 5, S: 4, B: 2, H: 3, lengths: [4, 2] },
      { T: 2, S: 4, B: 2, H: 3, lengths: [3, 4] },
    ])
      it(`attention with keys === values and one gradient buffer T${path.T} ${dt}`, () => {
        const { T, S, B, H } = path;
        const dev = cudaDevice();
        const q = floats(dt, T * B * H, 7, 1.5),
          kv = floats(dt, S * B * H, 8, 1.5),
          dC = floats(dt, T * B * H, 9),
          dKV = floats(dt, S * B * H, 10),
          dq = floats(dt, T * B * H, 11);
        const lengths = Int32Array.from(path.lengths);
        const dims = { T, S, B, Hd: H, He: H };
        const alpha = floats(dt, T * B * S, 0),
          context = floats(dt, T * B * H, 0);
        cpu().attentionForward({ ...dims, q, keys: kv, values: kv, lengths, alpha, context } as never);
        const dqC = dq.slice(),
          dKVC = dKV.slice();
        cpu().attentionBackward({
          ...dims,
          q,
          keys: kv,
          values: kv,
          lengths,
          alpha,
          dContext: dC,
          dq: dqC,
          dKeys: dKVC,
          dValues: dKVC,
        } as never);
        const t = (a: Float32Array | Float64Array | Int32Array) => dev.fromHost(a);
        const [tq, tkv, tl, ta, tc, tdC, tdq, tdKV] = [
          q,
          kv,
          lengths,
          floats(dt, T * B * S, 0),
          floats(dt, T * B * H, 0),
          dC,
          dq,
          dKV,
        ].map(t);
        dev.attentionForward({ ...dims, q: tq, keys: tkv, values: tkv, lengths: tl, alpha: ta, context: tc });
        dev.attentionBackward({
          ...dims,
          q: tq,
          keys: tkv,
          values: tkv,
          lengths: tl,
          alpha: ta,
          dContext: tdC,
          dq: tdq,
          dKeys: tdKV,
          dValues: tdKV,
        });
        const checks: [string, Tensor, ArrayLike<number>][] = [
          ['alpha', ta, alpha],
          ['context', tc, context],
          ['dq', tdq, dqC],
          ['dKeys = dValues', tdKV, dKVC],
        ];
        for (const [k, tensor, want] of checks) {
          const d = relDiff(dev.toHostSync(tensor), want);
          note(k.startsWith('d') ? 'attentionBackward' : 'attentionForward', dt, d);
          expect(d, k).toBeLessThan(tolOf(dt));
        }
      });
});

describe.skipIf(!cudaState.available)('CUDA attention and time-delay argument checks', () => {
  const f = (n: number) => new Float32Array(n);
  const attnFwd = () => ({
    T: 2,
    S: 4,
    B: 3,
    Hd: 2,
    He: 5,
    q: f(12),
    keys: f(24),
    values: f(60),
    lengths: Int32Array.from([4, 1, 2]),
    alpha: f(24),
    context: f(30),
  });
  const attnBwd = () => {
    const { context: _c, ...rest } = attnFwd();
    return { ...rest, dContext: f(30), dq: f(12), dKeys: f(24), dValues: f(60) };
  };
  const delayFwd = () => ({
    T: 4,
    B: 2,
    F: 3,
    K: 2,
    taps: Int32Array.from([2, 0]),
    x: f(24),
    lengths: Int32Array.from([4, 1]),
    history: f(12),
    y: f(48),
  });
  const delayBwd = () => {
    const { x: _x, history: _h, y: _y, ...rest } = delayFwd();
    return { ...rest, dy: f(48), dx: f(24), dHistory: f(12) };
  };
  // The op, its arguments, a required input, and a buffer other than the one setting the dtype.
  const OPS: [string, () => Record<string, unknown>, string, string][] = [
    ['attentionForward', attnFwd, 'keys', 'values'],
    ['attentionBackward', attnBwd, 'dContext', 'dKeys'],
    ['timeDelayForward', delayFwd, 'x', 'history'],
    ['timeDelayBackward', delayBwd, 'dy', 'dx'],
  ];

  // Host arrays to device tensors (Int32Array included).
  function onDevice(a: Record<string, unknown>): Record<string, unknown> {
    const dev = cudaDevice();
    return Object.fromEntries(
      Object.entries(a).map(([k, v]) => [
        k,
        v instanceof Float32Array || v instanceof Float64Array || v instanceof Int32Array ? dev.fromHost(v) : v,
      ]),
    );
  }
  const call = (op: string, a: Record<string, unknown>) =>
    (cudaDevice() as unknown as Record<string, (a: unknown) => unknown>)[op](onDevice(a));
  const callCpu = (op: string, a: Record<string, unknown>) =>
    (cpu() as unknown as Record<string, (a: unknown) => unknown>)[op](a);

  for (const [op, make, field, other] of OPS) {
    it(`${op}: the valid arguments run on both`, () => {
      expect(() => callCpu(op, make())).not.toThrow();
      expect(() => call(op, make())).not.toThrow();
    });
    it(`${op}: a wrong element count names the field`, () => {
      const a = make();
      a[field] = f((a[field] as Float32Array).length + 1);
      expect(() => call(op, a)).toThrow(new RegExp(`${op}: ${field} must be a float32 cuda tensor of \\d+ elements`));
    });
    it(`${op}: an unknown field is refused`, () => {
      expect(() => call(op, { ...make(), bogus: 1 })).toThrow(new RegExp(`${op}: unknown field 'bogus'`));
    });
    it(`${op}: a float64 buffer among float32 ones names the field`, () => {
      const a = make();
      a[other] = new Float64Array((a[other] as Float32Array).length);
      expect(() => call(op, a)).toThrow(new RegExp(`${op}: ${other} must be a float32 cuda tensor .*float64`));
    });
  }

  // Out-of-range lengths and taps: the CPU's RangeError, word for word.
  const RANGE: [string, () => Record<string, unknown>, string, number][] = [
    ['attentionForward', attnFwd, 'lengths', 0],
    ['attentionForward', attnFwd, 'lengths', 5],
    ['attentionBackward', attnBwd, 'lengths', 0],
    ['timeDelayForward', delayFwd, 'lengths', 5],
    ['timeDelayForward', delayFwd, 'taps', -1],
    ['timeDelayBackward', delayBwd, 'lengths', -1],
    ['timeDelayBackward', delayBwd, 'taps', -3],
  ];
  for (const [op, make, field, bad] of RANGE)
    it(`${op}: ${field}[1] = ${bad} is the CPU's RangeError`, () => {
      const a = make();
      (a[field] as Int32Array)[1] = bad;
      let cpuMsg = '';
      try {
        callCpu(op, a);
      } catch (e) {
        cpuMsg = (e as Error).message;
      }
      expect(cpuMsg).toMatch(new RegExp(`${field}\\[1\\] must be an integer in`));
      expect(() => call(op, a)).toThrow(cpuMsg);
      expect(() => call(op, a)).toThrow(RangeError);
    });

  it('attentionForward: an output overlapping an input is refused', () => {
    const dev = cudaDevice();
    const a = onDevice(attnFwd());
    const big = dev.fromHost(f(30));
    a.context = big;
    a.alpha = dev.view(big, 6, [24]);
    expect(() => call('attentionForward', a)).toThrow(/alpha must be a buffer that does not overlap context/);
  });
  it('attentionBackward: dKeys and dValues may be one buffer only when keys and values are', () => {
    const dev = cudaDevice();
    const a = { ...attnBwd(), He: 2, values: f(24), dContext: f(12), dValues: f(24) };
    const d = onDevice(a);
    d.dValues = d.dKeys;
    expect(() => call('attentionBackward', d)).toThrow(/dKeys must be a buffer that does not overlap dValues/);
    d.values = d.keys;
    expect(() => call('attentionBackward', d)).not.toThrow();
  });
  it('timeDelayBackward: dx overlapping dy is refused', () => {
    const dev = cudaDevice();
    const a = onDevice(delayBwd());
    a.dx = dev.view(a.dy as Tensor, 0, [24]);
    expect(() => call('timeDelayBackward', a)).toThrow(/dx must be a buffer that does not overlap dy/);
  });
});
