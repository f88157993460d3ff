// ONNX import: models exported by torch.onnx.export (opset 14, Debian's torch, through
// /usr/bin/python3 and test/fixtures/make_onnx_torch.py) load and predict torch's outputs within
// 1e-5 at two input sizes; rnnkit's own exports round-trip; unsupported operators are refused by
// name; malformed files (truncated, garbage, huge dims, short data, external data) are refused.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeOnnx,
  encodeOnnx,
  importOnnx,
  importOnnxSync,
  LanguageModel,
  SequenceClassifier,
  SequenceTagger,
  setMemoryLimit,
  TDNN,
  Vocabulary,
} from '../lib';
import { DT, encodeModel } from '../lib/interop/onnx-proto';
import type { ModelProto } from '../lib/interop/onnx-proto';
import { Rng } from '../lib/rng';

const dir = mkdtempSync(join(tmpdir(), 'rnnkit-onnx-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const largest: Record<string, number> = {};
afterAll(() => console.log('onnx import, largest differences:', JSON.stringify(largest, null, 1)));

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};

interface Run {
  input: { dims: number[]; data: number[] };
  outputs: Record<string, { dims: number[]; data: number[] }>;
}
const torch = spawnSync('/usr/bin/python3', ['-c', 'import torch, onnx'], { encoding: 'utf8' });
const haveTorch = torch.status === 0;
let index: Record<string, { path: string; runs: Run[] }> = {};
if (haveTorch) {
  const r = spawnSync('/usr/bin/python3', [join(__dirname, 'fixtures', 'make_onnx_torch.py'), dir], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`make_onnx_torch.py failed: ${r.stderr}`);
  index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
}

describe('importOnnx: models exported by torch.onnx.export', () => {
  if (!haveTorch) it.skip('/usr/bin/python3 cannot import torch and onnx', () => {});
  for (const name of [
    'lstm_classifier',
    'gru_tagger_embedding',
    'bilstm_2layers',
    'rnn_tanh',
    'rnn_relu_bidirectional',
    'bigru_logsoftmax',
  ])
    it.skipIf(!haveTorch)(`${name}: torch's outputs within 1e-5 at two input sizes`, async () => {
      const m = await importOnnx(index[name].path);
      expect(m.inputs.map((i) => i.name)).toEqual(['input']);
      for (const run of index[name].runs) {
        const out = m.predict({ input: run.input });
        for (const [k, want] of Object.entries(run.outputs)) {
          expect(out[k].dims).toEqual(want.dims);
          const d = maxDiff(out[k].data, want.data);
          largest[name] = Math.max(largest[name] ?? 0, d);
          expect(d, `${name} ${k}`).toBeLessThan(1e-5);
        }
      }
    });
  it.skipIf(!haveTorch)('refuses a graph with Conv, naming the operator and the node', () => {
    expect(() => importOnnxSync(index.conv.path)).toThrow(
      /importOnnx: operator 'Conv' \(node '[^']*'\) is not supported; supported: LSTM, GRU, RNN, Gemm/,
    );
  });
  it.skipIf(!haveTorch)('refuses a graph with LayerNormalization (opset 17)', () => {
    expect(() => importOnnxSync(index.layernorm.path)).toThrow(
      /operator 'LayerNormalization' \(node '[^']*'\) is not supported/,
    );
  });
});

describe('importOnnx: rnnkit exports round-trip', () => {
  const rng = new Rng(5);
  const seqs = (lens: number[], F: number) =>
    lens.map((L) => Array.from({ length: L }, () => Array.from({ length: F }, () => rng.next() * 2 - 1)));
  const timeMajor = (s: number[][][], F: number) => {
    const T = Math.max(...s.map((x) => x.length)),
      B = s.length;
    const data = new Float32Array(T * B * F);
    s.forEach((q, b) => q.forEach((row, t) => row.forEach((v, f) => (data[(t * B + b) * F + f] = v))));
    return { input: { data, dims: [T, B, F] }, sequence_lens: { data: s.map((q) => q.length), dims: [B] } };
  };
  it('classifiers (last, mean and max pooling; every cell) and a tagger', () => {
    const opts = [
      { cell: 'lstm', numLayers: 2, bidirectional: true },
      { cell: 'gru', bidirectional: true, merge: 'sum', pooling: 'max' },
      { cell: 'gru', gruVariant: 'original', pooling: 'mean' },
      { cell: 'rnn', activation: 'relu', initialState: 'learnable' },
    ] as const;
    for (const o of opts) {
      const m = new SequenceClassifier({ inputSize: 3, hiddenSize: 5, outputSize: 3, init: 'pytorch', seed: 1, ...o });
      const imported = decodeOnnx(encodeOnnx(m));
      const s = seqs([4, 7, 2], 3);
      const got = imported.predict(timeMajor(s, 3)).probabilities;
      const d = maxDiff(got.data, m.predict(s).flat());
      largest[`round trip classifier ${o.cell}`] = Math.max(largest[`round trip classifier ${o.cell}`] ?? 0, d);
      expect(d).toBeLessThan(1e-5);
    }
    const tagger = new SequenceTagger({ cell: 'gru', inputSize: 3, hiddenSize: 5, outputSize: 2, bidirectional: true });
    const s = seqs([5, 5], 3);
    const got = decodeOnnx(encodeOnnx(tagger)).predict(timeMajor(s, 3)).probabilities;
    const want = tagger.predict(s); // [b][t][k]; got is [t][b][k]
    const d = maxDiff(
      got.data,
      [0, 1, 2, 3, 4].flatMap((t) => [0, 1].flatMap((b) => want[b][t])),
    );
    largest['round trip tagger'] = d;
    expect(d).toBeLessThan(1e-5);
  });
  it('a TDNN (Pad, Slice, Concat, MatMul; last-step pooling)', () => {
    const m = new TDNN({
      inputSize: 3,
      layers: [{ units: 4, delays: [0, 2] }],
      outputSize: 3,
      pooling: 'last',
      seed: 2,
    });
    const s = seqs([6, 3], 3);
    const d = maxDiff(
      decodeOnnx(encodeOnnx(m)).predict(timeMajor(s, 3)).probabilities.data,
      (m.predict(s) as number[][]).flat(),
    );
    largest['round trip tdnn'] = d;
    expect(d).toBeLessThan(1e-5);
  });
  it('a language model', () => {
    const vocab = Vocabulary.characters('abcdefgh');
    const lm = new LanguageModel({ vocabulary: vocab, cell: 'lstm', hiddenSize: 6, embeddingDim: 4, seed: 1 });
    const imported = decodeOnnx(encodeOnnx(lm));
    expect(imported.inputs.map((i) => `${i.name}: ${i.type} [${i.dims.join(', ')}]`)).toEqual([
      'sequence_lens: int32 [batch]',
      'input: int64 [seq, batch]',
      'initial_h: float32 [1, batch, 6]',
      'initial_c: float32 [1, batch, 6]',
    ]);
    const ids = vocab.encode('abcab');
    const zeros = { data: new Float32Array(6), dims: [1, 1, 6] };
    const out = imported.predict({
      input: { data: ids, dims: [5, 1] },
      sequence_lens: { data: [5], dims: [1] },
      initial_h: zeros,
      initial_c: zeros,
    });
    const V = vocab.size;
    const d = maxDiff(out.probabilities.data.subarray(4 * V), lm.nextTokenProbabilities('abcab'));
    largest['round trip language model'] = d;
    expect(d).toBeLessThan(1e-5);
  });
});

describe('importOnnx: malformed and hostile files', () => {
  const good = encodeOnnx(new SequenceClassifier({ inputSize: 2, hiddenSize: 3, outputSize: 2 }));
  const at = (name: string, bytes: Uint8Array) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const graph = (extra: Partial<ModelProto['graph']> = {}, opset = 14): Uint8Array =>
    encodeModel({
      irVersion: 8,
      opsetImport: [{ domain: '', version: opset }],
      graph: {
        name: 'g',
        node: [{ opType: 'Identity', input: ['x'], output: ['y'], name: 'id' }],
        input: [{ name: 'x', type: { tensorType: { elemType: DT.FLOAT, shape: { dim: [{ dimValue: 2 }] } } } }],
        output: [{ name: 'y', type: { tensorType: { elemType: DT.FLOAT, shape: { dim: [{ dimValue: 2 }] } } } }],
        ...extra,
      },
    });
  it('a well-formed small graph runs (the baseline of the cases below)', () => {
    expect(Array.from(decodeOnnx(graph()).predict({ x: [1, 2] }).y.data)).toEqual([1, 2]);
  });
  it('truncated files', async () => {
    for (const n of [1, 10, good.length >> 1, good.length - 3])
      await expect(importOnnx(at(`cut${n}.onnx`, good.subarray(0, n)))).rejects.toThrow(/importOnnx: /);
  });
  it('garbage', async () => {
    const rng = new Rng(3);
    for (let k = 0; k < 20; k++) {
      const junk = Uint8Array.from({ length: 64 + k * 50 }, () => Math.floor(rng.next() * 256));
      expect(() => importOnnxSync(at(`junk${k}.onnx`, junk))).toThrow(/importOnnx: /);
    }
    expect(() => decodeOnnx(new TextEncoder().encode('not a model at all'))).toThrow(/importOnnx: /);
  });
  it('huge dims are refused before anything that size is allocated', () => {
    const init = { name: 'w', dims: [1e9, 1e9], dataType: DT.FLOAT, rawData: new Uint8Array(8) };
    expect(() => decodeOnnx(graph({ initializer: [init] }))).toThrow(
      /initializer 'w' of dims \[1000000000, 1000000000\] is over the memory limit/,
    );
    const neg = { name: 'w', dims: [-1], dataType: DT.FLOAT, rawData: new Uint8Array(8) };
    expect(() => decodeOnnx(graph({ initializer: [neg] }))).toThrow(/invalid dimension -1/);
  });
  it('data shorter or longer than the dims say', () => {
    const short = { name: 'w', dims: [4, 4], dataType: DT.FLOAT, rawData: new Uint8Array(60) };
    expect(() => decodeOnnx(graph({ initializer: [short] }))).toThrow(/needs 64 bytes of raw_data, holds 60/);
    const floats = { name: 'w', dims: [3], dataType: DT.FLOAT, floatData: [1, 2] };
    expect(() => decodeOnnx(graph({ initializer: [floats] }))).toThrow(/needs 3 values, holds 2/);
  });
  it('external data, unknown element types, other opsets and domains', () => {
    const ext = {
      name: 'w',
      dims: [2],
      dataType: DT.FLOAT,
      dataLocation: 1,
      externalData: [{ key: 'location', value: 'w.bin' }],
    };
    expect(() => decodeOnnx(graph({ initializer: [ext] }))).toThrow(/external data is not supported/);
    const f16 = { name: 'w', dims: [2], dataType: DT.FLOAT16, rawData: new Uint8Array(4) };
    expect(() => decodeOnnx(graph({ initializer: [f16] }))).toThrow(/element type 10; supported: float, double/);
    expect(() => decodeOnnx(graph({}, 21))).toThrow(/opset 21 of the default domain; supported: 9 to 18/);
    const ml = graph({ node: [{ opType: 'Foo', domain: 'com.example', input: ['x'], output: ['y'], name: 'bar' }] });
    expect(() => decodeOnnx(ml)).toThrow(/operator 'com.example.Foo' \(node 'bar'\) is not supported/);
    const foo = graph({ node: [{ opType: 'Foo', input: ['x'], output: ['y'], name: 'bar' }] });
    expect(() => decodeOnnx(foo)).toThrow(
      /importOnnx: operator 'Foo' \(node 'bar'\) is not supported; supported: LSTM/,
    );
  });
  it('run-time sizes are checked too (ConstantOfShape of a huge shape)', () => {
    const big = {
      name: 's',
      dims: [2],
      dataType: DT.INT64,
      int64Data: [1e8, 1e8],
    };
    const m = decodeOnnx(
      graph({ initializer: [big], node: [{ opType: 'ConstantOfShape', input: ['s'], output: ['y'], name: 'c' }] }),
    );
    expect(() => m.predict({ x: [1, 2] })).toThrow(/over the memory limit/);
  });
  it('a file over the size limit is refused before it is read', () => {
    const p = at('big.onnx', good);
    setMemoryLimit(100);
    try {
      expect(() => importOnnxSync(p)).toThrow(/over the limit of 100 bytes/);
    } finally {
      setMemoryLimit(null);
    }
  });
  it('predict checks its feeds', () => {
    const m = decodeOnnx(good);
    expect(() => m.predict({})).toThrow(/input '(input|sequence_lens)' is missing/);
    expect(() => m.predict({ input: { data: [1, 2, 3], dims: [1, 1, 2] }, sequence_lens: [1] })).toThrow(
      /3 values do not fill/,
    );
    expect(() => m.predict({ input: { data: [1, 2, 3], dims: [1, 1, 3] }, sequence_lens: [1] })).toThrow(
      /dimension 2 must be 2/,
    );
    expect(() => m.predict({ input: { data: [1, 2], dims: [1, 1, 2] }, sequence_lens: [1], extra: [1] })).toThrow(
      /no input 'extra'/,
    );
  });
});
