// The CUDA training core against the CPU kernels (cuda-ops-helpers.ts): linear and embedding
// layers, the losses and metrics (with their returned values), every optimizer kind and option,
// and the gradient tools, on float32 (1e-4) and float64 (1e-10), with edge shapes (a single row,
// repeated ids, padding, all rows masked or ignored). Then the refusals: wrong counts, unknown
// fields, ids and targets out of range and non-finite loss inputs, with the CPU's messages.
import { describe, expect, it } from 'vitest';
import { cpu, cudaDevice } from '../lib';
import { cudaState, floats, Host, OpCase, relDiff, runBoth, uniform } from './cuda-ops-helpers';

const DTYPES = ['float32', 'float64'] as const;
type DT = (typeof DTYPES)[number];
const tolOf = (dt: DT) => (dt === 'float32' ? 1e-4 : 1e-10);
const scalarTolOf = (dt: DT) => (dt === 'float32' ? 1e-5 : 1e-10);

interface TrainCase extends OpCase {
  dt: DT;
  /** How to compare the op's returned value: a number (relative), an exact object, or not at all. */
  result?: 'number' | 'exact';
}

function ints(n: number, seed: number, hi: number): Int32Array {
  const r = uniform(seed);
  return Int32Array.from({ length: n }, () => Math.min(hi - 1, Math.floor(((r() + 1) / 2) * hi)));
}
function bytes(values: number[]): Uint8Array {
  return Uint8Array.from(values);
}
/** Floats in [lo, lo + 1): optimizer state that must stay positive (second moments, sums). */
function positive(dt: DT, n: number, seed: number, lo = 0): Float32Array | Float64Array {
  const a = floats(dt, n, seed);
  for (let i = 0; i < n; i++) a[i] = lo + Math.abs(a[i]);
  return a;
}
/** Small integers: logits with ties, for the first-maximum rule of countCorrect. */
function tied(dt: DT, n: number, seed: number): Float32Array | Float64Array {
  const a = floats(dt, n, seed);
  for (let i = 0; i < n; i++) a[i] = Math.round(a[i] * 2);
  return a;
}

function layerCases(dt: DT): TrainCase[] {
  const out: TrainCase[] = [];
  let s = dt === 'float32' ? 100 : 200;
  for (const [N, I, O] of [
    [1, 1, 1],
    [1, 5, 3],
    [7, 4, 6],
    [33, 17, 9],
  ])
    for (const bias of [true, false]) {
      const k = (s += 10);
      const tag = `${N}x${I}->${O}${bias ? '' : ' no bias'} ${dt}`;
      out.push({
        dt,
        name: `linearForward ${tag}`,
        op: 'linearForward',
        make: () => ({
          N,
          I,
          O,
          x: floats(dt, N * I, k),
          weight: floats(dt, O * I, k + 1),
          ...(bias ? { bias: floats(dt, O, k + 2) } : {}),
          y: floats(dt, N * O, k + 3),
        }),
        outputs: ['y'],
      });
      out.push({
        dt,
        name: `linearBackward ${tag}${bias ? '' : ', no dx'}`,
        op: 'linearBackward',
        make: () => ({
          N,
          I,
          O,
          x: floats(dt, N * I, k),
          weight: floats(dt, O * I, k + 1),
          dy: floats(dt, N * O, k + 4),
          ...(bias ? { dx: floats(dt, N * I, k + 5), dBias: floats(dt, O, k + 6) } : {}),
          dWeight: floats(dt, O * I, k + 7),
        }),
        outputs: ['dWeight', ...(bias ? ['dx', 'dBias'] : [])],
      });
    }
  const embeddings: { N: number; V: number; E: number; ids: number[]; pad?: number }[] = [
    { N: 1, V: 1, E: 1, ids: [0] },
    { N: 1, V: 5, E: 3, ids: [4] },
    { N: 12, V: 5, E: 7, ids: [3, 1, 3, 3, 0, 4, 1, 3, 2, 0, 3, 1] },
    { N: 12, V: 5, E: 7, ids: [3, 1, 3, 3, 0, 4, 1, 3, 2, 0, 3, 1], pad: 3 },
    { N: 4, V: 6, E: 2, ids: [2, 2, 2, 2], pad: 2 },
    { N: 4, V: 6, E: 2, ids: [5, 5, 0, 5], pad: -1 },
    { N: 3000, V: 50, E: 9, ids: Array.from(ints(3000, 77, 50)), pad: 7 },
  ];
  for (const e of embeddings) {
    const k = (s += 10);
    const tag = `N=${e.N} V=${e.V} E=${e.E}${e.pad !== undefined ? ` paddingIdx ${e.pad}` : ''} ${dt}`;
    if (e.pad === undefined)
      out.push({
        dt,
        name: `embeddingForward ${tag}`,
        op: 'embeddingForward',
        make: () => ({
          N: e.N,
          V: e.V,
          E: e.E,
          ids: Int32Array.from(e.ids),
          weight: floats(dt, e.V * e.E, k),
          y: floats(dt, e.N * e.E, k + 1),
        }),
        outputs: ['y'],
      });
    out.push({
      dt,
      name: `embeddingBackward ${tag}`,
      op: 'embeddingBackward',
      make: () => ({
        N: e.N,
        V: e.V,
        E: e.E,
        ids: Int32Array.from(e.ids),
        dy: floats(dt, e.N * e.E, k + 2),
        dWeight: floats(dt, e.V * e.E, k + 3),
        ...(e.pad !== undefined ? { paddingIdx: e.pad } : {}),
      }),
      outputs: ['dWeight'],
    });
  }
  return out;
}

function lossCases(dt: DT): TrainCase[] {
  const out: TrainCase[] = [];
  let s = dt === 'float32' ? 1000 : 2000;
  const sce: { tag: string; N: number; C: number; extra?: (k: number) => Record<string, unknown>; grad?: boolean }[] = [
    { tag: 'plain', N: 6, C: 5 },
    { tag: 'a single row', N: 1, C: 4 },
    { tag: 'one class', N: 3, C: 1 },
    { tag: 'no dlogits', N: 6, C: 5, grad: false },
    { tag: 'weights', N: 8, C: 5, extra: (k) => ({ weights: positive(dt, 5, k, 0.1) }) },
    { tag: 'scale', N: 8, C: 5, extra: () => ({ scale: 0.25 }) },
    {
      tag: 'ignoreIndex default',
      N: 6,
      C: 4,
      extra: () => ({ targets: Int32Array.from([1, -100, 3, 0, -100, 2]) }),
    },
    {
      tag: 'ignoreIndex 2',
      N: 6,
      C: 4,
      extra: () => ({ targets: Int32Array.from([1, 2, 3, 0, 2, 2]), ignoreIndex: 2 }),
    },
    { tag: 'mask', N: 6, C: 4, extra: () => ({ mask: bytes([1, 0, 1, 1, 0, 1]) }) },
    {
      tag: 'weights, mask and ignore',
      N: 6,
      C: 4,
      extra: (k) => ({
        weights: positive(dt, 4, k, 0.1),
        mask: bytes([1, 1, 0, 1, 1, 1]),
        targets: Int32Array.from([1, -100, 3, 0, 2, 2]),
        scale: 3,
      }),
    },
    { tag: 'every row masked', N: 4, C: 3, extra: () => ({ mask: bytes([0, 0, 0, 0]) }) },
    { tag: 'every row ignored', N: 3, C: 3, extra: () => ({ targets: Int32Array.from([-100, -100, -100]) }) },
    {
      tag: 'zero weights',
      N: 3,
      C: 3,
      extra: () => ({ weights: dt === 'float32' ? new Float32Array(3) : new Float64Array(3) }),
    },
    { tag: 'wide rows', N: 3, C: 300, extra: (k) => ({ logits: floats(dt, 900, k, 8) }) },
    {
      tag: 'many rows',
      N: 3000,
      C: 7,
      extra: () => ({ mask: bytes(Array.from({ length: 3000 }, (_, i) => i % 5 && 1)) }),
    },
  ];
  for (const c of sce) {
    const k = (s += 10);
    out.push({
      dt,
      result: 'number',
      name: `softmaxCrossEntropy ${c.tag} ${dt}`,
      op: 'softmaxCrossEntropy',
      make: () => ({
        N: c.N,
        C: c.C,
        logits: floats(dt, c.N * c.C, k, 3),
        targets: ints(c.N, k + 1, c.C),
        ...(c.grad === false ? {} : { dlogits: floats(dt, c.N * c.C, k + 2) }),
        ...(c.extra ? c.extra(k + 3) : {}),
      }),
      outputs: c.grad === false ? [] : ['dlogits'],
    });
  }
  const mse: { tag: string; n: number; extra?: Record<string, unknown>; grad?: boolean }[] = [
    { tag: 'plain', n: 1000 },
    { tag: 'long', n: 300000 },
    { tag: 'one element', n: 1 },
    { tag: 'scale', n: 50, extra: { scale: -2.5 } },
    { tag: 'no dpred', n: 50, grad: false },
    { tag: 'F only', n: 12, extra: { F: 4 } },
    { tag: 'mask', n: 12, extra: { F: 3, mask: bytes([1, 0, 1, 1]), scale: 0.5 } },
    { tag: 'mask, no dpred', n: 12, extra: { F: 3, mask: bytes([0, 1, 1, 0]) }, grad: false },
    { tag: 'every row masked', n: 6, extra: { F: 2, mask: bytes([0, 0, 0]) } },
  ];
  for (const c of mse) {
    const k = (s += 10);
    out.push({
      dt,
      result: 'number',
      name: `mseLoss ${c.tag} ${dt}`,
      op: 'mseLoss',
      make: () => ({
        n: c.n,
        pred: floats(dt, c.n, k),
        target: floats(dt, c.n, k + 1),
        ...(c.grad === false ? {} : { dpred: floats(dt, c.n, k + 2) }),
        ...(c.extra ?? {}),
      }),
      outputs: c.grad === false ? [] : ['dpred'],
    });
  }
  const bce: { tag: string; N: number; F: number; extra?: Record<string, unknown>; grad?: boolean }[] = [
    { tag: 'plain', N: 9, F: 4 },
    { tag: 'a single row', N: 1, F: 1 },
    { tag: 'scale', N: 5, F: 3, extra: { scale: 4 } },
    { tag: 'no dlogits', N: 5, F: 3, grad: false },
    { tag: 'mask', N: 5, F: 3, extra: { mask: bytes([1, 0, 0, 1, 1]) } },
    { tag: 'every row masked', N: 3, F: 2, extra: { mask: bytes([0, 0, 0]) } },
  ];
  for (const c of bce) {
    const k = (s += 10);
    const t = positive(dt, c.N * c.F, k + 1);
    for (let i = 0; i < t.length; i++) if (i % 3 === 0) t[i] = Math.round(t[i]);
    out.push({
      dt,
      result: 'number',
      name: `sigmoidBce ${c.tag} ${dt}`,
      op: 'sigmoidBce',
      make: () => ({
        N: c.N,
        F: c.F,
        logits: floats(dt, c.N * c.F, k, 6),
        targets: t.slice(),
        ...(c.grad === false ? {} : { dlogits: floats(dt, c.N * c.F, k + 2) }),
        ...(c.extra ?? {}),
      }),
      outputs: c.grad === false ? [] : ['dlogits'],
    });
  }
  const counts: { tag: string; N: number; C: number; extra?: Record<string, unknown> }[] = [
    { tag: 'ties', N: 40, C: 5 },
    { tag: 'a single row', N: 1, C: 3 },
    { tag: 'one class', N: 4, C: 1 },
    { tag: 'ignore and mask', N: 6, C: 3, extra: { targets: Int32Array.from([0, 7, 2, 1, 7, 0]), ignoreIndex: 7 } },
    { tag: 'mask', N: 6, C: 3, extra: { mask: bytes([1, 1, 0, 1, 0, 1]) } },
  ];
  for (const c of counts) {
    const k = (s += 10);
    out.push({
      dt,
      result: 'exact',
      name: `countCorrect ${c.tag} ${dt}`,
      op: 'countCorrect',
      make: () => ({
        N: c.N,
        C: c.C,
        logits: tied(dt, c.N * c.C, k),
        targets: ints(c.N, k + 1, c.C),
        ...(c.extra ?? {}),
      }),
      outputs: [],
    });
  }
  for (const c of [
    { tag: 'plain', N: 30, F: 2 },
    { tag: 'a single row', N: 1, F: 1 },
    { tag: 'mask', N: 6, F: 3, mask: bytes([1, 0, 1, 1, 1, 0]) },
  ]) {
    const k = (s += 10);
    out.push({
      dt,
      result: 'exact',
      name: `countCorrectMultilabel ${c.tag} ${dt}`,
      op: 'countCorrectMultilabel',
      make: () => ({
        N: c.N,
        F: c.F,
        logits: floats(dt, c.N * c.F, k),
        targets: tied(dt, c.N * c.F, k + 1).map((v) => (v > 0 ? 1 : 0)),
        ...(c.mask ? { mask: c.mask.slice() } : {}),
      }),
      outputs: [],
    });
  }
  return out;
}

const OPTIMIZERS: { kind: string; tag: string; hyper: Record<string, unknown>; states: number }[] = [
  { kind: 'sgd', tag: 'plain', hyper: { lr: 0.1 }, states: 1 },
  { kind: 'sgd', tag: 'momentum, first step', hyper: { lr: 0.1, momentum: 0.9, step: 1 }, states: 1 },
  { kind: 'sgd', tag: 'momentum', hyper: { lr: 0.1, momentum: 0.9 }, states: 1 },
  {
    kind: 'sgd',
    tag: 'dampening, weight decay',
    hyper: { lr: 0.05, momentum: 0.5, dampening: 0.3, weightDecay: 0.01 },
    states: 1,
  },
  { kind: 'sgd', tag: 'nesterov', hyper: { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.1 }, states: 1 },
  { kind: 'adam', tag: 'defaults, first step', hyper: { lr: 0.001, step: 1 }, states: 2 },
  {
    kind: 'adam',
    tag: 'betas, eps, weight decay',
    hyper: { lr: 0.01, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1 },
    states: 2,
  },
  { kind: 'adamw', tag: 'defaults', hyper: { lr: 0.001 }, states: 2 },
  { kind: 'adamw', tag: 'weight decay', hyper: { lr: 0.01, weightDecay: 0.05, step: 7 }, states: 2 },
  { kind: 'rmsprop', tag: 'plain', hyper: { lr: 0.01 }, states: 3 },
  { kind: 'rmsprop', tag: 'centered', hyper: { lr: 0.01, centered: true, alpha: 0.9 }, states: 3 },
  { kind: 'rmsprop', tag: 'momentum', hyper: { lr: 0.01, momentum: 0.5, weightDecay: 0.02 }, states: 3 },
  {
    kind: 'rmsprop',
    tag: 'centered momentum',
    hyper: { lr: 0.01, momentum: 0.9, centered: true, eps: 1e-4 },
    states: 3,
  },
  { kind: 'adagrad', tag: 'plain', hyper: { lr: 0.1 }, states: 1 },
  {
    kind: 'adagrad',
    tag: 'lrDecay, weight decay',
    hyper: { lr: 0.1, lrDecay: 0.01, weightDecay: 0.1, eps: 1e-6 },
    states: 1,
  },
];

/** State buffers whose values the update rules may take the square root of stay positive. */
function optimState(kind: string, dt: DT, n: number, count: number, seed: number): (Float32Array | Float64Array)[] {
  return Array.from({ length: count }, (_, i) => {
    if (kind === 'rmsprop' && i === 0) return positive(dt, n, seed + i, 1);
    if ((kind === 'adam' || kind === 'adamw') && i === 1) return positive(dt, n, seed + i);
    if (kind === 'adagrad') return positive(dt, n, seed + i, 0.1);
    return floats(dt, n, seed + i, 0.5);
  });
}

function optimCases(dt: DT): TrainCase[] {
  const out: TrainCase[] = [];
  let s = dt === 'float32' ? 3000 : 4000;
  for (const o of OPTIMIZERS)
    for (const n of [1, 1000]) {
      const k = (s += 10);
      out.push({
        dt,
        name: `optimStep ${o.kind} ${o.tag} n=${n} ${dt}`,
        op: 'optimStep',
        make: () => ({
          kind: o.kind,
          step: 3,
          ...o.hyper,
          params: floats(dt, n, k),
          grads: floats(dt, n, k + 1),
          state: optimState(o.kind, dt, n, o.states, k + 2),
        }),
        outputs: ['params', 'state'],
      });
    }
  return out;
}

function toolCases(dt: DT): TrainCase[] {
  const out: TrainCase[] = [];
  const s = dt === 'float32' ? 5000 : 6000;
  for (const n of [1, 7, 1000, 300000]) {
    out.push({
      dt,
      name: `clipByValue n=${n} ${dt}`,
      op: 'clipByValue',
      make: () => ({ n, x: floats(dt, n, s + n, 3), value: 1.5 }),
      outputs: ['x'],
    });
    for (const maxNorm of [0.5, 1e6])
      out.push({
        dt,
        result: 'number',
        name: `clipByNorm n=${n} maxNorm ${maxNorm} ${dt}`,
        op: 'clipByNorm',
        make: () => ({ n, x: floats(dt, n, s + n + 1, 2), maxNorm }),
        outputs: ['x'],
      });
    out.push({
      dt,
      name: `addSign n=${n} ${dt}`,
      op: 'addSign',
      make: () => {
        const p = floats(dt, n, s + n + 2);
        for (let i = 0; i < n; i += 3) p[i] = 0; // sign(0) = 0
        return { n, alpha: 0.01, p, g: floats(dt, n, s + n + 3) };
      },
      outputs: ['g'],
    });
  }
  out.push({
    dt,
    result: 'number',
    name: `clipByNorm of zeros ${dt}`,
    op: 'clipByNorm',
    make: () => ({ n: 5, x: dt === 'float32' ? new Float32Array(5) : new Float64Array(5), maxNorm: 1 }),
    outputs: ['x'],
  });
  return out;
}

const CASES: TrainCase[] = DTYPES.flatMap((dt) => [
  ...layerCases(dt),
  ...lossCases(dt),
  ...optimCases(dt),
  ...toolCases(dt),
]);

function relScalar(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}

/** The options with every host array on the CUDA device (as runBoth makes them). */
function onDevice(o: Record<string, unknown>): Record<string, unknown> {
  const dev = cudaDevice();
  const isHost = (v: unknown): v is Host =>
    v instanceof Float32Array || v instanceof Float64Array || v instanceof Int32Array || v instanceof Uint8Array;
  const r: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (isHost(v)) r[k] = dev.fromHost(v);
    else if (Array.isArray(v) && v.length > 0 && isHost(v[0])) r[k] = (v as Host[]).map((x) => dev.fromHost(x));
    else r[k] = v;
  }
  return r;
}
function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the call to throw');
}
function opOf(target: unknown, op: string): (a: unknown) => unknown {
  return (target as Record<string, (a: unknown) => unknown>)[op];
}

describe.skipIf(!cudaState.available)(`CUDA training ops against the CPU (${cudaState.device ?? 'no device'})`, () => {
  const worst: Record<string, number> = {};
  for (const c of CASES)
    it(c.name, () => {
      const { diffs, cpuResult, cudaResult } = runBoth(c);
      const key = `${c.op} ${c.dt}`;
      for (const [k, d] of Object.entries(diffs)) {
        expect(d, `${c.name}: ${k}`).toBeLessThan(c.tol ?? tolOf(c.dt));
        worst[key] = Math.max(worst[key] ?? 0, d);
      }
      if (c.result === 'number') {
        expect(typeof cudaResult).toBe('number');
        const d = relScalar(cudaResult as number, cpuResult as number);
        expect(d, `${c.name}: returned ${String(cudaResult)}, the CPU ${String(cpuResult)}`).toBeLessThan(
          scalarTolOf(c.dt),
        );
        worst[`${key} (returned)`] = Math.max(worst[`${key} (returned)`] ?? 0, d);
      } else if (c.result === 'exact') expect(cudaResult).toEqual(cpuResult);
      else expect(cudaResult).toBeUndefined();
    });

  it('optimizer runs of several steps stay with the CPU (every kind)', () => {
    const dev = cudaDevice();
    for (const dt of DTYPES)
      for (const o of OPTIMIZERS) {
        const n = 257;
        const hp = { ...o.hyper };
        delete hp.step;
        const params = floats(dt, n, 7),
          state = optimState(o.kind, dt, n, o.states, 8).map((a) => (o.kind === 'adagrad' ? a : a.fill(0)));
        const dParams = dev.fromHost(params.slice()),
          dState = state.map((a) => dev.fromHost(a.slice()));
        for (let step = 1; step <= 6; step++) {
          const grads = floats(dt, n, 100 + step);
          cpu().optimStep({ kind: o.kind as never, ...hp, lr: hp.lr as number, step, params, grads, state });
          opOf(
            dev,
            'optimStep',
          )({ kind: o.kind, ...hp, step, params: dParams, grads: dev.fromHost(grads), state: dState });
        }
        const what = `${o.kind} ${o.tag} ${dt}`;
        expect(relDiff(dev.toHostSync(dParams), params), what).toBeLessThan(tolOf(dt));
        state.forEach((s, i) =>
          expect(relDiff(dev.toHostSync(dState[i]), s), `${what} state[${i}]`).toBeLessThan(tolOf(dt)),
        );
      }
  });

  it('records the largest differences', () => {
    // Printed for the record of the port (the per-case checks above are the assertions).
    console.log(
      Object.entries(worst)
        .map(([k, v]) => `${k}: ${v.toExponential(2)}`)
        .join('\n'),
    );
    expect(Object.keys(worst).length).toBeGreaterThan(0);
  });
});

// A valid call of every op (float32), for the refusal tests to break one field at a time.
const VALID: Record<string, () => Record<string, unknown>> = {
  linearForward: () => ({
    N: 2,
    I: 3,
    O: 4,
    x: floats('float32', 6, 1),
    weight: floats('float32', 12, 2),
    y: floats('float32', 8, 3),
  }),
  linearBackward: () => ({
    N: 2,
    I: 3,
    O: 4,
    x: floats('float32', 6, 1),
    weight: floats('float32', 12, 2),
    dy: floats('float32', 8, 3),
    dWeight: floats('float32', 12, 4),
  }),
  embeddingForward: () => ({
    N: 3,
    V: 10,
    E: 2,
    ids: Int32Array.from([1, 9, 0]),
    weight: floats('float32', 20, 1),
    y: floats('float32', 6, 2),
  }),
  embeddingBackward: () => ({
    N: 3,
    V: 10,
    E: 2,
    ids: Int32Array.from([1, 9, 0]),
    dy: floats('float32', 6, 1),
    dWeight: floats('float32', 20, 2),
  }),
  softmaxCrossEntropy: () => ({ N: 3, C: 4, logits: floats('float32', 12, 1), targets: Int32Array.from([0, 3, 1]) }),
  mseLoss: () => ({ n: 4, pred: floats('float32', 4, 1), target: floats('float32', 4, 2) }),
  sigmoidBce: () => ({ N: 2, F: 2, logits: floats('float32', 4, 1), targets: floats('float32', 4, 2) }),
  countCorrect: () => ({ N: 3, C: 4, logits: floats('float32', 12, 1), targets: Int32Array.from([0, 3, 1]) }),
  countCorrectMultilabel: () => ({ N: 2, F: 2, logits: floats('float32', 4, 1), targets: floats('float32', 4, 2) }),
  optimStep: () => ({
    kind: 'adam',
    lr: 0.01,
    step: 1,
    params: floats('float32', 5, 1),
    grads: floats('float32', 5, 2),
    state: [floats('float32', 5, 3), positive('float32', 5, 4)],
  }),
  clipByValue: () => ({ n: 4, x: floats('float32', 4, 1), value: 0.5 }),
  clipByNorm: () => ({ n: 4, x: floats('float32', 4, 1), maxNorm: 0.5 }),
  addSign: () => ({ n: 4, alpha: 0.1, p: floats('float32', 4, 1), g: floats('float32', 4, 2) }),
};
// The field given one element too many in the wrong-count test.
const COUNTED: Record<string, string> = {
  linearForward: 'y',
  linearBackward: 'dWeight',
  embeddingForward: 'weight',
  embeddingBackward: 'dy',
  softmaxCrossEntropy: 'logits',
  mseLoss: 'target',
  sigmoidBce: 'targets',
  countCorrect: 'targets',
  countCorrectMultilabel: 'logits',
  optimStep: 'grads',
  clipByValue: 'x',
  clipByNorm: 'x',
  addSign: 'g',
};

describe.skipIf(!cudaState.available)('CUDA training ops refuse bad arguments as the CPU does', () => {
  for (const op of Object.keys(VALID)) {
    it(`${op}: the valid call runs`, () => {
      const { diffs } = runBoth({ name: op, op, make: VALID[op], outputs: [] });
      expect(diffs).toEqual({});
    });
    it(`${op}: a wrong element count names the field`, () => {
      const o = VALID[op]();
      const f = COUNTED[op];
      const v = o[f] as Host;
      const longer = new (v.constructor as new (n: number) => Host)(v.length + 1);
      const e = thrown(() => opOf(cudaDevice(), op)(onDevice({ ...o, [f]: longer })));
      expect(e.message).toContain(`${op}: ${f} must be`);
      expect(e.message).toContain(`${v.length} elements`);
    });
    it(`${op}: an unknown field is refused`, () => {
      const e = thrown(() => opOf(cudaDevice(), op)(onDevice({ ...VALID[op](), bogus: 1 })));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toContain(`${op}: unknown field 'bogus'`);
    });
  }

  it('optimStep: a state Array of the wrong length, and a state buffer of the wrong count', () => {
    const o = VALID.optimStep();
    const e = thrown(() => opOf(cudaDevice(), 'optimStep')(onDevice({ ...o, state: (o.state as Host[]).slice(0, 1) })));
    expect(e.message).toContain('optimStep: state must be an Array of 2 buffers like params');
    const bad = [(o.state as Host[])[0], new Float32Array(6)];
    expect(thrown(() => opOf(cudaDevice(), 'optimStep')(onDevice({ ...o, state: bad }))).message).toContain(
      'optimStep: state[1] must be a float32 cuda tensor of 5 elements',
    );
  });

  it('out-of-range hyper-parameters and options carry the CPU message', () => {
    const cases: [string, Record<string, unknown>][] = [
      ['optimStep', { ...VALID.optimStep(), beta1: 1 }],
      ['optimStep', { ...VALID.optimStep(), kind: 'sgd', nesterov: true, state: [floats('float32', 5, 3)] }],
      ['optimStep', { ...VALID.optimStep(), step: 0 }],
      ['mseLoss', { ...VALID.mseLoss(), F: 3 }],
      ['embeddingBackward', { ...VALID.embeddingBackward(), paddingIdx: 10 }],
      ['clipByValue', { ...VALID.clipByValue(), value: -1 }],
    ];
    for (const [op, o] of cases) {
      const want = thrown(() => opOf(cpu(), op)(o));
      const got = thrown(() => opOf(cudaDevice(), op)(onDevice(o)));
      expect(got.message, op).toBe(want.message);
      expect(got.constructor, op).toBe(want.constructor);
    }
  });

  it('ids and targets out of range: a RangeError with the CPU message', () => {
    const cases: [string, Record<string, unknown>][] = [
      ['embeddingForward', { ...VALID.embeddingForward(), ids: Int32Array.from([1, 10, 0]) }],
      ['embeddingBackward', { ...VALID.embeddingBackward(), ids: Int32Array.from([-1, 2, 0]) }],
      ['softmaxCrossEntropy', { ...VALID.softmaxCrossEntropy(), targets: Int32Array.from([0, 4, 1]) }],
      ['softmaxCrossEntropy', { ...VALID.softmaxCrossEntropy(), targets: Int32Array.from([0, -100, -1]) }],
      ['countCorrect', { ...VALID.countCorrect(), targets: Int32Array.from([0, 1, 5]), ignoreIndex: 4 }],
    ];
    for (const [op, o] of cases) {
      const want = thrown(() => opOf(cpu(), op)(o));
      const got = thrown(() => opOf(cudaDevice(), op)(onDevice(o)));
      expect(got).toBeInstanceOf(RangeError);
      expect(got.message, op).toBe(want.message);
    }
  });

  it('losses refuse non-finite inputs (masked rows included) with the CPU message and code', () => {
    const nan = (a: Float32Array | Float64Array, i: number, v = NaN) => {
      a[i] = v;
      return a;
    };
    const cases: [string, Record<string, unknown>][] = [
      ['softmaxCrossEntropy', { ...VALID.softmaxCrossEntropy(), logits: nan(floats('float32', 12, 1), 5) }],
      [
        'softmaxCrossEntropy',
        { ...VALID.softmaxCrossEntropy(), logits: nan(floats('float32', 12, 1), 9, Infinity), mask: bytes([1, 1, 0]) },
      ],
      ['softmaxCrossEntropy', { ...VALID.softmaxCrossEntropy(), weights: nan(floats('float32', 4, 2), 2) }],
      ['mseLoss', { ...VALID.mseLoss(), target: nan(floats('float32', 4, 2), 3, -Infinity) }],
      ['mseLoss', { ...VALID.mseLoss(), pred: nan(floats('float32', 4, 1), 1), F: 2, mask: bytes([1, 0]) }],
      ['sigmoidBce', { ...VALID.sigmoidBce(), logits: nan(floats('float32', 4, 1), 2), mask: bytes([1, 0]) }],
      ['sigmoidBce', { ...VALID.sigmoidBce(), targets: nan(floats('float32', 4, 2), 0) }],
    ];
    for (const [op, o] of cases) {
      const want = thrown(() => opOf(cpu(), op)(o));
      const got = thrown(() => opOf(cudaDevice(), op)(onDevice(o)));
      expect(got.message, op).toBe(want.message);
      expect((got as { code?: string }).code).toBe('ERR_RNNKIT_NON_FINITE');
    }
  });

  it('an output overlapping an input is refused', () => {
    const dev = cudaDevice();
    const t = dev.fromHost(floats('float32', 8, 1));
    const e = thrown(() => opOf(dev, 'addSign')({ n: 4, alpha: 1, p: dev.view(t, 2, [4]), g: dev.view(t, 0, [4]) }));
    expect(e.message).toBe('addSign: g must be a buffer that does not overlap p, received an overlapping view');
  });
});
