// ONNX export: every exported model runs in onnxruntime-node and gives rnnkit's outputs within
// 1e-5, at two batch and sequence sizes from one file (dynamic axes), with variable lengths
// through sequence_lens; the files pass onnx.checker where /usr/bin/python3 has onnx.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  encodeOnnx,
  exportOnnx,
  LanguageModel,
  NARX,
  SequenceClassifier,
  SequenceTagger,
  TDNN,
  Vocabulary,
} from '../lib';
import type { TDNNOptions } from '../lib';
import type { ClassifierOptions, ModelOptions } from '../lib';
import { Rng } from '../lib/rng';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');

const dir = mkdtempSync(join(tmpdir(), 'rnnkit-onnx-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const files: string[] = [];
const largest: Record<string, number> = {};
afterAll(() => console.log('onnx export, largest differences:', JSON.stringify(largest, null, 1)));

const TOL = 1e-5;
let fileNo = 0;
async function written(model: unknown): Promise<string> {
  const p = join(dir, `m${fileNo++}.onnx`);
  await exportOnnx(model, p);
  files.push(p);
  return p;
}

/** Random sequences of the given lengths (features or token ids), and the time-major batch of them. */
function batch(rng: Rng, lens: number[], F: number | null, vocab: number | null) {
  const T = Math.max(...lens),
    B = lens.length;
  const seqs = lens.map((L) =>
    Array.from({ length: L }, () =>
      vocab !== null ? 1 + Math.floor(rng.next() * (vocab - 1)) : Array.from({ length: F! }, () => rng.next() * 4 - 2),
    ),
  );
  const width = vocab !== null ? 1 : F!;
  const flat = vocab !== null ? new BigInt64Array(T * B) : new Float32Array(T * B * width);
  seqs.forEach((s, b) =>
    s.forEach((step, t) => {
      if (vocab !== null) (flat as BigInt64Array)[t * B + b] = BigInt(step as number);
      else (step as number[]).forEach((v, f) => ((flat as Float32Array)[(t * B + b) * width + f] = v));
    }),
  );
  const input =
    vocab !== null
      ? new ort.Tensor('int64', flat as BigInt64Array, [T, B])
      : new ort.Tensor('float32', flat as Float32Array, [T, B, width]);
  return { seqs, T, B, feeds: { input, sequence_lens: new ort.Tensor('int32', Int32Array.from(lens), [B]) } };
}

function record(name: string, d: number) {
  largest[name] = Math.max(largest[name] ?? 0, d);
  expect(d, name).toBeLessThan(TOL);
}

const SIZES = [
  [5, 2, 7, 3],
  [9, 1, 4],
];

async function checkSequenceModel(name: string, model: SequenceClassifier | SequenceTagger | TDNN, tagger: boolean) {
  const c = model.config as unknown as {
    inputSize: number | null;
    vocabSize: number | null;
    task: string;
    outputSize: number;
  };
  const session = await ort.InferenceSession.create(await written(model));
  const rng = new Rng(7);
  const key = c.task === 'regression' ? 'output' : 'probabilities';
  for (const lens of SIZES) {
    const { seqs, B, feeds } = batch(rng, lens, c.inputSize, c.vocabSize ?? null);
    const out = await session.run(feeds);
    const got = out[key].data as Float32Array,
      C = c.outputSize;
    const want = model.predict(seqs as never) as number[][] | number[][][];
    let d = 0;
    if (!tagger)
      (want as number[][]).forEach((row, b) => row.forEach((v, k) => (d = Math.max(d, Math.abs(v - got[b * C + k])))));
    else
      (want as number[][][]).forEach((rows, b) =>
        rows.forEach((row, t) => row.forEach((v, k) => (d = Math.max(d, Math.abs(v - got[(t * B + b) * C + k]))))),
      );
    expect(out[key].dims[out[key].dims.length - 1]).toBe(C);
    record(name, d);
  }
}

const base = { hiddenSize: 6, outputSize: 4, init: 'pytorch' as const, seed: 3 };
const classifiers: Array<[string, ClassifierOptions]> = [
  ['classifier lstm', { ...base, cell: 'lstm', inputSize: 3 }],
  [
    'classifier lstm bidirectional 2 layers',
    { ...base, cell: 'lstm', inputSize: 3, numLayers: 2, bidirectional: true },
  ],
  [
    'classifier gru pytorch bidirectional sum',
    { ...base, cell: 'gru', inputSize: 3, bidirectional: true, merge: 'sum' },
  ],
  ['classifier gru original 2 layers', { ...base, cell: 'gru', gruVariant: 'original', inputSize: 3, numLayers: 2 }],
  ['classifier rnn tanh mean pooling', { ...base, cell: 'rnn', inputSize: 3, pooling: 'mean' }],
  [
    'classifier rnn relu bidirectional max pooling',
    { ...base, cell: 'rnn', activation: 'relu', inputSize: 3, bidirectional: true, pooling: 'max' },
  ],
  ['classifier rnn sigmoid', { ...base, cell: 'rnn', activation: 'sigmoid', inputSize: 3 }],
  [
    'classifier gru bidirectional mean merge, mean pooling',
    { ...base, cell: 'gru', inputSize: 3, bidirectional: true, merge: 'mean', pooling: 'mean' },
  ],
  [
    'classifier lstm learnable initial state',
    { ...base, cell: 'lstm', inputSize: 3, numLayers: 2, bidirectional: true, initialState: 'learnable' },
  ],
  ['classifier lstm token ids', { ...base, cell: 'lstm', vocabSize: 11, embeddingDim: 5, bidirectional: true }],
  ['classifier regression', { ...base, cell: 'gru', inputSize: 3, task: 'regression' }],
  ['classifier multilabel', { ...base, cell: 'lstm', inputSize: 3, task: 'multilabel' }],
];
const taggers: Array<[string, ModelOptions]> = [
  ['tagger lstm bidirectional 2 layers', { ...base, cell: 'lstm', inputSize: 3, numLayers: 2, bidirectional: true }],
  ['tagger gru token ids', { ...base, cell: 'gru', vocabSize: 13, embeddingDim: 4 }],
  [
    'tagger gru original bidirectional mean merge',
    { ...base, cell: 'gru', gruVariant: 'original', inputSize: 3, bidirectional: true, merge: 'mean' },
  ],
  ['tagger rnn relu', { ...base, cell: 'rnn', activation: 'relu', inputSize: 3, numLayers: 2 }],
];

/** Nudges every parameter so that zero biases and initial states are not what the test sees. */
function perturb(m: {
  stateDict(): Record<string, ArrayLike<number>>;
  loadStateDict(sd: Record<string, ArrayLike<number>>): void;
}) {
  const rng = new Rng(11);
  const sd = m.stateDict();
  for (const k of Object.keys(sd)) sd[k] = Float32Array.from(sd[k], (v) => v + (rng.next() - 0.5) * 0.4);
  m.loadStateDict(sd);
}

describe('exportOnnx: onnxruntime-node gives rnnkit outputs', () => {
  for (const [name, o] of classifiers)
    it(name, async () => {
      const m = new SequenceClassifier(o);
      perturb(m);
      await checkSequenceModel(name, m, false);
    });
  for (const [name, o] of taggers)
    it(name, async () => {
      const m = new SequenceTagger(o);
      perturb(m);
      await checkSequenceModel(name, m, true);
    });

  for (const cell of ['lstm', 'gru', 'rnn'] as const)
    it(`language model ${cell}, 2 layers: next-token probabilities and carried states`, async () => {
      const text = 'the quick brown fox jumps over the lazy dog';
      const vocab = Vocabulary.characters(text);
      const tie = cell === 'gru'; // one tied output layer
      const lm = new LanguageModel({
        vocabulary: vocab,
        cell,
        hiddenSize: 8,
        embeddingDim: tie ? 8 : 6,
        tieWeights: tie,
        numLayers: 2,
        seed: 2,
      });
      perturb(lm);
      const session = await ort.InferenceSession.create(await written(lm));
      const H = 8,
        L = 2,
        V = vocab.size;
      const run = async (ids: number[], h: Float32Array, c: Float32Array) => {
        const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
          input: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [ids.length, 1]),
          sequence_lens: new ort.Tensor('int32', Int32Array.of(ids.length), [1]),
          initial_h: new ort.Tensor('float32', h, [L, 1, H]),
        };
        if (cell === 'lstm') feeds.initial_c = new ort.Tensor('float32', c, [L, 1, H]);
        return session.run(feeds);
      };
      const prompt = 'the quick bro';
      const ids = vocab.encode(prompt);
      const zeros = new Float32Array(L * H);
      const whole = await run(ids, zeros, zeros);
      const want = lm.nextTokenProbabilities(prompt);
      const lastRow = (o: typeof whole, T: number) =>
        (o.probabilities.data as Float32Array).subarray((T - 1) * V, T * V);
      let d = Math.max(...want.map((v, k) => Math.abs(v - lastRow(whole, ids.length)[k])));
      // the same prompt in two calls, the state carried through final_h / final_c
      const first = await run(ids.slice(0, 5), zeros, zeros);
      const second = await run(
        ids.slice(5),
        first.final_h.data as Float32Array,
        cell === 'lstm' ? (first.final_c.data as Float32Array) : zeros,
      );
      d = Math.max(d, ...want.map((v, k) => Math.abs(v - lastRow(second, ids.length - 5)[k])));
      record(`language model ${cell}`, d);
    });

  const tdnns: Array<[string, TDNNOptions]> = [
    ['tdnn mean pooling', { inputSize: 3, layers: [{ units: 5, delays: [0, 1, 3] }], outputSize: 4 }],
    [
      'tdnn 2 layers max pooling',
      {
        inputSize: 3,
        layers: [
          { units: 5, window: 2, dilation: 2, activation: 'relu' },
          { units: 4, delays: [0, 2] },
        ],
        outputSize: 3,
        pooling: 'max',
      },
    ],
    [
      'tdnn last pooling, linear, no bias',
      {
        inputSize: 3,
        layers: [{ units: 4, delays: [1, 0], activation: 'linear', bias: false }],
        outputSize: 2,
        pooling: 'last',
      },
    ],
    [
      'tdnn per step, sigmoid, regression',
      {
        inputSize: 3,
        layers: [{ units: 4, delays: [0, 1, 2], activation: 'sigmoid' }],
        outputSize: 2,
        output: 'step',
        task: 'regression',
      },
    ],
  ];
  for (const [name, o] of tdnns)
    it(name, async () => {
      const m = new TDNN({ ...o, seed: 4 });
      perturb(m);
      await checkSequenceModel(name, m, o.output === 'step');
    });

  it('refuses models it cannot export, naming what is supported', () => {
    const narx = new NARX({ outputSize: 1 });
    expect(() => encodeOnnx(narx)).toThrow(
      /cannot export a NARX; supported: SequenceClassifier, SequenceTagger, LanguageModel, TDNN/,
    );
    expect(() => encodeOnnx({})).toThrow(/cannot export this value/);
  });
});

describe('exported files pass onnx.checker', () => {
  const py = spawnSync('/usr/bin/python3', ['-c', 'import onnx; print(onnx.__version__)'], { encoding: 'utf8' });
  const have = py.status === 0;
  it.skipIf(!have)(`onnx.checker.check_model (full check) on every exported file`, () => {
    expect(files.length).toBeGreaterThan(10);
    const list = join(dir, 'files.json');
    writeFileSync(list, JSON.stringify(files));
    const r = spawnSync(
      '/usr/bin/python3',
      [
        '-c',
        'import json, sys, onnx\nfor p in json.load(open(sys.argv[1])):\n  onnx.checker.check_model(onnx.load(p), full_check=True)\nprint("ok")',
        list,
      ],
      { encoding: 'utf8' },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('ok');
  });
  if (!have) it.skip('onnx.checker: /usr/bin/python3 cannot import onnx', () => {});
});
