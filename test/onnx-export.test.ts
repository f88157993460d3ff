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
  Seq2Seq,
  SequenceClassifier,
  SequenceTagger,
  TDNN,
  Vocabulary,
} from '../lib';
import type { TDNNOptions } from '../lib';
import type { ClassifierOptions, ModelOptions, NARXOptions, Seq2SeqOptions } from '../lib';
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
    const custom = { type: 'Model', config: {}, stateDict: () => ({}) };
    expect(() => encodeOnnx(custom)).toThrow(
      /cannot export a Model; supported: SequenceClassifier, SequenceTagger, LanguageModel, TDNN, Seq2Seq, NARX/,
    );
    expect(() => encodeOnnx({})).toThrow(/cannot export this value/);
    const vocab = Vocabulary.characters('abc');
    const s2s = new Seq2Seq({ sourceVocabulary: vocab, hiddenSize: 4, embeddingDim: 3 });
    expect(() => encodeOnnx(s2s)).toThrow(/a Seq2Seq model has two graphs; pass \{ graph: 'encoder' \}/);
    expect(() => encodeOnnx(new NARX({ outputSize: 1 }), { graph: 'decoder' })).toThrow(/Seq2Seq models only/);
  });
});

describe('exportOnnx of Seq2Seq: greedy decoding with the two graphs in onnxruntime-node', () => {
  const text = 'the quick brown fox jumps over the lazy dog';
  const vocab = Vocabulary.characters(text);
  const sources = ['the fox', 'lazy', 'quick brown', 'dog'];
  const cases: Array<[string, Partial<Seq2SeqOptions>]> = [];
  for (const cell of ['lstm', 'gru'] as const) {
    cases.push([`${cell} unidirectional, no attention`, { cell }]);
    cases.push([`${cell} bidirectional, no attention`, { cell, bidirectional: true }]);
    cases.push([`${cell} unidirectional, dot attention`, { cell, attention: 'dot' }]);
    cases.push([`${cell} unidirectional, general attention`, { cell, attention: 'general' }]);
    cases.push([`${cell} bidirectional, general attention`, { cell, bidirectional: true, attention: 'general' }]);
  }
  cases.push(['rnn bidirectional, general attention', { cell: 'rnn', bidirectional: true, attention: 'general' }]);
  for (const [name, o] of cases)
    it(`${name}, 2-layer encoder and decoder`, async () => {
      const m = new Seq2Seq({ sourceVocabulary: vocab, hiddenSize: 6, embeddingDim: 5, numLayers: 2, seed: 5, ...o });
      perturb(m);
      await checkGreedy(name, m, vocab, sources, 6, o);
    });
  it('lstm bidirectional, general attention, as initialised: sources that end at different steps', async () => {
    const v = Vocabulary.characters('abcdefgh');
    const o = { bidirectional: true, attention: 'general' } as const;
    const m = new Seq2Seq({ sourceVocabulary: v, hiddenSize: 8, ...o });
    const ended = await checkGreedy(
      'lstm, ends early',
      m,
      v,
      [
        [5, 6, 7],
        [8, 9],
        [4, 5, 6, 7, 8],
      ],
      20,
      o,
    );
    expect(ended).toBeGreaterThan(0);
  });

  async function checkGreedy(
    name: string,
    m: Seq2Seq,
    vocab: Vocabulary,
    sources: Array<string | number[]>,
    maxLength: number,
    o: Partial<Seq2SeqOptions>,
  ): Promise<number> {
    {
      const p = join(dir, `s2s${fileNo++}.onnx`);
      const paths = await exportOnnx(m, p);
      expect(paths).toEqual([p, p.replace(/\.onnx$/, '.decoder.onnx')]);
      files.push(...paths);
      const encoder = await ort.InferenceSession.create(paths[0]);
      const decoder = await ort.InferenceSession.create(paths[1]);
      const want = m.greedy(sources, { maxLength });
      // the encoder: a time-major batch of the sources, padded
      const ids = sources.map((s) => (typeof s === 'string' ? vocab.encode(s) : s));
      const S = Math.max(...ids.map((s) => s.length)),
        B = ids.length,
        V = vocab.size;
      const input = new BigInt64Array(S * B);
      ids.forEach((s, b) => s.forEach((id, t) => (input[t * B + b] = BigInt(id))));
      const lens = new ort.Tensor('int32', Int32Array.from(ids.map((s) => s.length)), [B]);
      const enc = await encoder.run({ input: new ort.Tensor('int64', input, [S, B]), sequence_lens: lens });
      // the decoding loop, as Seq2Seq.greedy runs it
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = { h: enc.h };
      if (enc.c) feeds.c = enc.c;
      if (o.attention && o.attention !== 'none') {
        feeds.encoder_outputs = enc.encoder_outputs;
        feeds.source_lens = lens;
        if (o.attention === 'general') feeds.keys = enc.keys;
      }
      expect(Object.keys(feeds).sort()).toEqual([...decoder.inputNames].filter((n) => n !== 'tokens').sort());
      let tokens = new Array<number>(B).fill(vocab.bos);
      const got = ids.map(() => ({ tokens: [] as number[], logProb: 0, attention: [] as number[][] }));
      const done = new Array<boolean>(B).fill(false);
      for (let step = 0; step < maxLength && done.some((d) => !d); step++) {
        const r = await decoder.run({
          ...feeds,
          tokens: new ort.Tensor('int64', BigInt64Array.from(tokens.map(BigInt)), [B]),
        });
        const lp = r.log_probs.data as Float32Array;
        tokens = tokens.map((_, b) => {
          const row = lp.subarray(b * V, (b + 1) * V);
          let best = 0;
          for (let k = 1; k < V; k++) if (row[k] > row[best]) best = k;
          if (!done[b]) {
            got[b].logProb += row[best];
            if (r.attention)
              got[b].attention.push(Array.from((r.attention.data as Float32Array).subarray(b * S, (b + 1) * S)));
            if (best === vocab.eos) done[b] = true;
            else got[b].tokens.push(best);
          }
          return best;
        });
        feeds.h = r.h_next;
        if (r.c_next) feeds.c = r.c_next;
      }
      let d = 0;
      want.forEach((w, b) => {
        expect(got[b].tokens, `${name}: tokens of source ${b}`).toEqual(w.tokens);
        d = Math.max(d, Math.abs(w.logProb - got[b].logProb));
        expect(got[b].attention.length).toBe(w.attention.length);
        w.attention.forEach((row, t) => row.forEach((v, j) => (d = Math.max(d, Math.abs(v - got[b].attention[t][j])))));
        // padding positions of the shorter sources get no weight
        for (const row of got[b].attention) for (let j = ids[b].length; j < S; j++) expect(row[j]).toBe(0);
      });
      record(`seq2seq ${name}`, d);
      return done.filter((x) => x).length;
    }
  }

  it('writes the decoder where decoderPath says, and refuses decoderPath elsewhere', async () => {
    const m = new Seq2Seq({ sourceVocabulary: vocab, hiddenSize: 4, embeddingDim: 3 });
    const p = join(dir, 'named-encoder');
    const q = join(dir, 'named-step.onnx');
    expect(await exportOnnx(m, p, { decoderPath: q })).toEqual([p, q]);
    expect(await exportOnnx(m, join(dir, 'plain'))).toEqual([join(dir, 'plain'), join(dir, 'plain.decoder.onnx')]);
    await expect(exportOnnx(new NARX({ outputSize: 1 }), p, { decoderPath: q })).rejects.toThrow(
      /decoderPath applies to Seq2Seq models only/,
    );
  });
});

describe('exportOnnx of NARX: the open-loop one-step model in onnxruntime-node', () => {
  /** A small series: inputs [T][I] and targets [T][O] from a driven nonlinear system. */
  function series(T: number, I: number, O: number) {
    const rng = new Rng(9);
    const inputs = Array.from({ length: T }, () => Array.from({ length: I }, () => rng.next() * 3 - 1));
    const targets: number[][] = [];
    for (let t = 0; t < T; t++)
      targets.push(
        Array.from({ length: O }, (_, j) => {
          const prev = t > 0 ? targets[t - 1][j] : 0;
          return 5 + 0.6 * prev + Math.sin(t / 3 + j) + (I ? inputs[Math.max(0, t - 1)][j % I] : 0);
        }),
      );
    return I ? { inputs, targets } : { targets };
  }
  const cases: Array<[string, NARXOptions, boolean]> = [
    [
      'minmax scaler, 2 hidden layers',
      { inputSize: 2, outputSize: 2, inputDelays: [0, 2], feedbackDelays: [1, 3], hiddenSizes: [5, 4] },
      true,
    ],
    ['standard scaler, relu', { inputSize: 1, outputSize: 1, scaler: 'standard', activation: 'relu' }, true],
    [
      'no scaler, sigmoid',
      { inputSize: 3, outputSize: 1, scaler: null, activation: 'sigmoid', inputDelays: [1] },
      true,
    ],
    ['before a fit (scalers not fitted yet)', { inputSize: 2, outputSize: 1 }, false],
    ['NAR (no inputs)', { outputSize: 2, feedbackDelays: [1, 2, 4], hiddenSizes: [6] }, true],
    [
      'inputs only (no feedback delays)',
      { inputSize: 2, outputSize: 1, inputDelays: [0, 1], feedbackDelays: [] },
      true,
    ],
    ['no hidden layers', { inputSize: 1, outputSize: 1, hiddenSizes: [] }, true],
  ];
  for (const [name, o, fit] of cases)
    it(name, async () => {
      const m = new NARX({ ...o, seed: 2 });
      const s = series(40, o.inputSize ?? 0, o.outputSize);
      if (fit) await m.fit(s, { epochs: 2, batchSize: 8 });
      perturb(m);
      const session = await ort.InferenceSession.create(await written(m));
      const want = m.predict(s) as number[][];
      const c = m.config,
        D = m.maxDelay,
        N = s.targets.length - D,
        I = c.inputSize,
        O = c.outputSize;
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
      if (I > 0 && c.inputDelays.length) {
        const a = new Float32Array(N * c.inputDelays.length * I);
        for (let r = 0; r < N; r++)
          c.inputDelays.forEach((d, k) =>
            s.inputs!.at(D + r - d)!.forEach((v, j) => (a[(r * c.inputDelays.length + k) * I + j] = v)),
          );
        feeds.input_taps = new ort.Tensor('float32', a, [N, c.inputDelays.length, I]);
      }
      if (c.feedbackDelays.length) {
        const a = new Float32Array(N * c.feedbackDelays.length * O);
        for (let r = 0; r < N; r++)
          c.feedbackDelays.forEach((d, k) =>
            s.targets[D + r - d].forEach((v, j) => (a[(r * c.feedbackDelays.length + k) * O + j] = v)),
          );
        feeds.target_taps = new ort.Tensor('float32', a, [N, c.feedbackDelays.length, O]);
      }
      expect(Object.keys(feeds).sort()).toEqual([...session.inputNames].sort());
      const out = (await session.run(feeds)).output;
      expect(out.dims).toEqual([N, O]);
      const got = out.data as Float32Array;
      let d = 0;
      want.forEach((row, r) =>
        row.forEach((v, j) => (d = Math.max(d, Math.abs(v - got[r * O + j]) / Math.max(1, Math.abs(v))))),
      );
      record(`narx ${name}`, d);
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
