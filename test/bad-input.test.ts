// Bad input from JavaScript becomes a TypeError or RangeError naming what was expected and what
// was received; the process stays alive and the next good call works.
import { describe, expect, it } from 'vitest';
import { cpu, cpuDevice } from '../lib';
import { loadNative } from '../lib/native';
import { expectThrows } from './helpers';

const be = cpu();
const addon = loadNative() as unknown as Record<string, (a?: unknown) => unknown>;
const T = 3,
  B = 2,
  I = 4,
  H = 5;
const f32 = (n: number) => new Float32Array(n).fill(0.1);
const good = () => ({
  cell: 'lstm',
  T,
  B,
  I,
  H,
  x: f32(T * B * I),
  wIh: f32(4 * H * I),
  wHh: f32(4 * H * H),
  y: f32(T * B * H),
});

const cases: Array<[string, () => unknown, ErrorConstructor, RegExp]> = [
  [
    'no argument',
    () => addon.rnnForward(),
    TypeError,
    /rnnForward: argument must be an options object, received undefined/,
  ],
  [
    'a number instead of options',
    () => addon.rnnForward(3 as never),
    TypeError,
    /argument must be an options object, received number 3/,
  ],
  [
    'missing x',
    () => addon.rnnForward({ ...good(), x: undefined }),
    TypeError,
    /x must be a Float32Array or Float64Array, received undefined/,
  ],
  [
    'x of the wrong array type',
    () => addon.rnnForward({ ...good(), x: new Int32Array(24) }),
    TypeError,
    /x must be a Float32Array or Float64Array, received Int32Array of length 24/,
  ],
  [
    'x of the wrong length',
    () => addon.rnnForward({ ...good(), x: f32(23) }),
    RangeError,
    /x must be a Float32Array of length 24 \[T,B,I\], received Float32Array of length 23/,
  ],
  [
    'weights of another dtype than x',
    () => addon.rnnForward({ ...good(), wIh: new Float64Array(80) }),
    TypeError,
    /wIh must be a Float32Array of length 80 \[G\*H,I\], received Float64Array of length 80/,
  ],
  [
    'a plain Array for weights',
    () => addon.rnnForward({ ...good(), wHh: [1, 2, 3] }),
    TypeError,
    /wHh must be a Float32Array of length 100 \[G\*H,H\], received Array of length 3/,
  ],
  [
    'an unknown cell',
    () => addon.rnnForward({ ...good(), cell: 'transformer' }),
    RangeError,
    /cell must be one of 'elman' 'lstm' 'gru', received string "transformer"/,
  ],
  [
    'a fractional T',
    () => addon.rnnForward({ ...good(), T: 2.5 }),
    RangeError,
    /T must be an integer in \[1, 2147483647\], received number 2.5/,
  ],
  [
    'B = 0',
    () => addon.rnnForward({ ...good(), B: 0 }),
    RangeError,
    /B must be an integer in \[1, 2147483647\], received number 0/,
  ],
  [
    'H as a string',
    () => addon.rnnForward({ ...good(), H: '5' }),
    TypeError,
    /H must be an integer in \[1, 2147483647\], received string "5"/,
  ],
  [
    'an unknown activation',
    () => addon.rnnForward({ ...good(), cell: 'elman', activation: 'gelu' }),
    RangeError,
    /activation must be one of 'tanh' 'relu' 'sigmoid', received string "gelu"/,
  ],
  [
    'a length beyond T',
    () => addon.rnnForward({ ...good(), lengths: Int32Array.from([3, 4]) }),
    RangeError,
    /lengths\[1\] must be an integer in \[0, 3\], received number 4/,
  ],
  [
    'a negative length',
    () => addon.rnnForward({ ...good(), lengths: Int32Array.from([-1, 2]) }),
    RangeError,
    /lengths\[0\] must be an integer in \[0, 3\], received number -1/,
  ],
  [
    'lengths as floats',
    () => addon.rnnForward({ ...good(), lengths: Float32Array.from([3, 3]) }),
    TypeError,
    /lengths must be an Int32Array of length 2 \[B\], received Float32Array of length 2/,
  ],
  [
    'NaN in x',
    () => {
      const g = good();
      g.x[7] = NaN;
      return addon.rnnForward(g);
    },
    RangeError,
    /x\[7\] must be a finite number, received number NaN/,
  ],
  [
    'Infinity in h0',
    () => {
      const h0 = f32(B * H);
      h0[2] = Infinity;
      return addon.rnnForward({ ...good(), h0 });
    },
    RangeError,
    /h0\[2\] must be a finite number, received number Infinity/,
  ],
  [
    'an output that overlaps an input',
    () => {
      const g = good();
      const buf = f32(200);
      return addon.rnnForward({ ...g, x: buf.subarray(0, 24), y: buf.subarray(10, 40) });
    },
    RangeError,
    /y must be a buffer that does not overlap x, received an overlapping view/,
  ],
  [
    'sizes whose product overflows',
    () => addon.rnnForward({ ...good(), T: 2147483647, B: 2147483647 }),
    RangeError,
    /T\*B\*G\*H must be at most 2\^40 elements, received a size that overflows/,
  ],
  [
    'a backward reserve of the wrong size',
    () => addon.rnnBackward({ ...good(), reserve: f32(10), dwIh: f32(80), dwHh: f32(100) }),
    RangeError,
    /reserve must be a Float32Array of length \d+ \[rnnReserveSize\] \(filled by rnnForward\), received Float32Array of length 10/,
  ],
  [
    'a detached buffer',
    () => {
      const g = good();
      structuredClone(g.x.buffer, { transfer: [g.x.buffer] });
      return addon.rnnForward(g);
    },
    TypeError,
    /x must be a Float32Array of length 24 \[T,B,I\], received a detached buffer/,
  ],
  [
    'a token id outside the vocabulary',
    () => addon.embeddingForward({ N: 2, V: 4, E: 3, ids: Int32Array.from([1, 4]), weight: f32(12), y: f32(6) }),
    RangeError,
    /ids\[1\] must be an integer in \[0, 3\], received number 4/,
  ],
  [
    'a class target out of range',
    () => addon.softmaxCrossEntropy({ N: 2, C: 3, logits: f32(6), targets: Int32Array.from([0, 7]) }),
    RangeError,
    /targets\[1\] must be an integer in \[0, 2\] or -100, received number 7/,
  ],
  [
    'a NaN learning rate',
    () => addon.optimStep({ kind: 'sgd', lr: NaN, step: 1, params: f32(3), grads: f32(3), state: [f32(3)] }),
    RangeError,
    /lr must be a finite number in \[0, 1000000\], received number NaN/,
  ],
  [
    'optimizer state of the wrong count',
    () => addon.optimStep({ kind: 'adam', lr: 0.1, step: 1, params: f32(3), grads: f32(3), state: [f32(3)] }),
    TypeError,
    /state must be an Array of 2 buffers like params, received Array of length 1/,
  ],
  [
    'Nesterov without momentum',
    () =>
      addon.optimStep({
        kind: 'sgd',
        lr: 0.1,
        nesterov: true,
        step: 1,
        params: f32(3),
        grads: f32(3),
        state: [f32(3)],
      }),
    RangeError,
    /nesterov must be used with momentum > 0 and dampening 0/,
  ],
  [
    'step 0',
    () => addon.optimStep({ kind: 'sgd', lr: 0.1, step: 0, params: f32(3), grads: f32(3), state: [f32(3)] }),
    RangeError,
    /step must be an integer in \[1, \d+\], received number 0/,
  ],
  [
    'a dropout probability above 1',
    () => addon.dropoutMask({ p: 1.5, seed: 1, mask: f32(4) }),
    RangeError,
    /dropoutMask: p must be a finite number in \[0, 1\], received number 1.5/,
  ],
  [
    'zero threads',
    () => addon.setNumThreads({ threads: 0 }),
    RangeError,
    /setNumThreads: threads must be an integer in \[1, 256\], received number 0/,
  ],
  [
    'an unknown optimizer',
    () => addon.optimStateCount({ kind: 'lamb' }),
    RangeError,
    /kind must be one of 'sgd' 'adam' 'adamw' 'rmsprop' 'adagrad', received string "lamb"/,
  ],
  [
    'RTRL Jacobians with a jth of the wrong size',
    () =>
      addon.rnnStepJacobians({
        cell: 'gru',
        I: 2,
        H: 3,
        x: f32(2),
        h0: f32(3),
        wIh: f32(18),
        wHh: f32(27),
        bIh: f32(9),
        bHh: f32(9),
        h1: f32(3),
        jss: f32(9),
        jsx: f32(6),
        jth: f32(5),
      }),
    RangeError,
    /rnnStepJacobians: jth must be a Float32Array of length 189 \[S,P\], received Float32Array of length 5/,
  ],
  [
    'RTRL Jacobians with one bias only',
    () =>
      addon.rnnStepJacobians({
        cell: 'elman',
        I: 2,
        H: 3,
        x: f32(2),
        h0: f32(3),
        wIh: f32(6),
        wHh: f32(9),
        bIh: f32(3),
        h1: f32(3),
        jss: f32(9),
        jsx: f32(6),
        jth: f32(21),
      }),
    TypeError,
    /bHh must be given together with bIh, received undefined/,
  ],
  [
    'a JVP tangent with NaN',
    () => {
      const vh = f32(3);
      vh[1] = NaN;
      return addon.rnnStepJvp({
        cell: 'elman',
        I: 2,
        H: 3,
        x: f32(2),
        h0: f32(3),
        wIh: f32(6),
        wHh: f32(9),
        vh,
        h1: f32(3),
        th1: f32(3),
      });
    },
    RangeError,
    /rnnStepJvp: vh\[1\] must be a finite number, received number NaN/,
  ],
  [
    'alloc with a negative length',
    () => be.alloc('float32', -1),
    RangeError,
    /alloc: length must be an integer in \[0, 2\^32\], received -1/,
  ],
];

describe('bad input throws a clear error and the process lives on', () => {
  for (const [name, call, type, message] of cases) {
    it(name, () => expectThrows(call, type, message));
  }
  it('async variants reject bad input before queueing work', () => {
    expect(() => addon.rnnForwardAsync({ ...good(), x: f32(1) })).toThrow(RangeError);
  });
  it(`covers at least 15 distinct bad inputs (${cases.length}) and a good call still works afterwards`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
    const g = good();
    addon.rnnForward(g);
    expect(g.y.some((v) => v !== 0)).toBe(true);
  });
});

describe('fit and evaluate: clear errors for missing pieces', () => {
  it('missing targets and a schedule given as a string name what is expected', async () => {
    const { SequenceClassifier } = await import('../lib');
    const m = new SequenceClassifier({ inputSize: 2, hiddenSize: 3, outputSize: 2 });
    const xs = [
      [
        [1, 2],
        [3, 4],
      ],
    ];
    await expect(m.fit(xs, null as never)).rejects.toThrow(
      /SequenceClassifier.fit: targets must be given .*received null/,
    );
    await expect(m.fit(xs, undefined as never)).rejects.toThrow(/targets must be given .*received undefined/);
    await expect(m.evaluate(xs, null as never)).rejects.toThrow(/SequenceClassifier.evaluate: targets must be given/);
    await expect(m.fit(xs, [0], { schedule: 'cosine' as never })).rejects.toThrow(
      /schedule must be an object such as \{ type: 'cosine', tMax: 10 \}, received string "cosine"/,
    );
  });
});

describe('constructors: options that are not an object', () => {
  it('null, a string, a number or an array is refused by name, never read as empty options or as keys', async () => {
    const lib = await import('../lib');
    for (const name of ['SequenceClassifier', 'SequenceTagger', 'LanguageModel', 'Seq2Seq', 'Model'] as const) {
      const C = lib[name] as unknown as new (o: unknown) => unknown;
      for (const [v, shown] of [
        [null, 'null'],
        ['big', 'string "big"'],
        [5, 'number 5'],
        [[], 'Array of length 0'],
      ] as const)
        expectThrows(() => new C(v), TypeError, new RegExp(`^${name}: options must be an object, received ${shown}$`));
    }
  });
});

describe('memory the kernels refuse', () => {
  const be = cpu();
  const f32 = (n: number) => new Float32Array(n);
  const lin = (x: Float32Array) => be.linearForward({ N: 1, I: 2, O: 1, x, weight: f32(2), y: f32(1) });
  it('shared, resizable and detached buffers give a TypeError naming the field and the reason', () => {
    expect(() => lin(new Float32Array(new SharedArrayBuffer(8)))).toThrow(
      /linearForward: x must be a Float32Array of length 2 \[N,I\], received Float32Array of length 2 backed by a SharedArrayBuffer/,
    );
    const growable = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(8, {
      maxByteLength: 64,
    });
    expect(() => lin(new Float32Array(growable))).toThrow(/backed by a resizable ArrayBuffer/);
    const gone = f32(2);
    structuredClone(gone.buffer, { transfer: [gone.buffer] });
    expect(() => lin(gone)).toThrow(/x must be a Float32Array of length 2 \[N,I\], received a detached buffer/);
    expect(() =>
      be.embeddingForward({
        N: 1,
        V: 2,
        E: 1,
        ids: new Int32Array(new SharedArrayBuffer(4)),
        weight: f32(2),
        y: f32(1),
      }),
    ).toThrow(/ids must be an Int32Array .* backed by a SharedArrayBuffer/);
    expect(() => lin(f32(2))).not.toThrow();
  });
  it('a CPU tensor (native memory) after a transfer: still usable, or refused as detached', () => {
    const dev = cpuDevice();
    const x = dev.alloc('float32', [2]).handle as Float32Array;
    expect(() => lin(x)).not.toThrow();
    // Node 20 copies an external ArrayBuffer instead of detaching it; a runtime that detaches
    // it must get the detached-buffer refusal, not the native-memory shortcut of the checks.
    structuredClone(x.buffer, { transfer: [x.buffer as ArrayBuffer] });
    if (x.length === 0)
      expect(() => lin(x)).toThrow(/x must be a Float32Array of length 2 \[N,I\], received a detached buffer/);
    else expect(() => lin(x)).not.toThrow();
  });
});
