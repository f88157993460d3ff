// safetensors files (lib/interop/safetensors.ts): the format as specified, hostile files refused
// with clear errors, every model class's weights through it, and both directions with PyTorch:
// files written by hand from a torch module's state_dict() (test/fixtures/safetensors_torch.py,
// numpy and torch only) load into the matching rnnkit model and predict what torch predicts, and
// files rnnkit writes load into torch with load_state_dict(strict=True). The PyTorch part needs
// Debian's /usr/bin/python3 with torch and numpy and is skipped without them.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GRU,
  LanguageModel,
  Linear,
  Model,
  NARX,
  Seq2Seq,
  SequenceClassifier,
  SequenceTagger,
  SafetensorsError,
  TDNN,
  TimePooling,
  Vocabulary,
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  loadSafetensorsSync,
  saveSafetensors,
  saveSafetensorsSync,
} from '../lib';
import type { WeightsModel } from '../lib';
import { rng } from './helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnnkit-safetensors-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = (name: string) => path.join(dir, name);

const PYTHON = '/usr/bin/python3';
const hasTorch =
  fs.existsSync(PYTHON) &&
  spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8', timeout: 120_000 }).status === 0;
const SCRIPT = path.join(__dirname, 'fixtures', 'safetensors_torch.py');

/** A hand-made file: header object (or text) and data bytes, with an optional header length. */
function raw(header: unknown, data: Uint8Array = new Uint8Array(0), length?: bigint): Buffer {
  const text = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  const n = Buffer.alloc(8);
  n.writeBigUInt64LE(length ?? BigInt(text.length));
  return Buffer.concat([n, text, data]);
}
const f32bytes = (...v: number[]) => new Uint8Array(Float32Array.from(v).buffer);
const refused = (buf: Uint8Array, pattern: RegExp) => {
  expect(() => decodeSafetensors(buf, 'x.safetensors')).toThrow(SafetensorsError);
  expect(() => decodeSafetensors(buf, 'x.safetensors')).toThrow(pattern);
};

describe('safetensors format', () => {
  it('writes the format as specified: u64 header length, JSON header, padded, contiguous little-endian data', () => {
    const buf = encodeSafetensors(
      { a: { shape: [2], data: Float32Array.of(1, -2) }, b: { shape: [1, 1], data: Float64Array.of(0.5) } },
      { format: 'pt' },
    );
    const n = Number(buf.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
    expect(header).toEqual({
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F64', shape: [1, 1], data_offsets: [8, 16] },
      __metadata__: { format: 'pt' },
    });
    expect(buf.length).toBe(8 + n + 16);
    expect(buf.readFloatLE(8 + n + 4)).toBe(-2);
    expect(buf.readDoubleLE(8 + n + 8)).toBe(0.5);
    const back = decodeSafetensors(buf);
    expect(back.metadata).toEqual({ format: 'pt' });
    expect(back.tensors.a).toEqual({ dtype: 'F32', shape: [2], data: Float32Array.of(1, -2) });
    expect(back.tensors.b.data).toEqual(Float64Array.of(0.5));
  });

  it('F16 and BF16: every bit pattern decodes exactly and encodes back (round to nearest even)', () => {
    for (const dtype of ['F16', 'BF16'] as const) {
      const bits = new Uint16Array(65536).map((_, i) => i);
      const header = { t: { dtype, shape: [65536], data_offsets: [0, 131072] } };
      const t = decodeSafetensors(raw(header, new Uint8Array(bits.buffer))).tensors.t;
      expect(t.data).toBeInstanceOf(Float32Array);
      const again = encodeSafetensors({ t: { dtype, shape: [65536], data: t.data as Float32Array } });
      const n = Number(again.readBigUInt64LE(0));
      const out = new Uint16Array(again.buffer.slice(again.byteOffset + 8 + n, again.byteOffset + again.length));
      for (let i = 0; i < 65536; i++) {
        if (Number.isNaN(t.data[i])) expect(Number.isNaN(decodeSafetensors(again).tensors.t.data[i])).toBe(true);
        else if (out[i] !== i)
          expect.fail(`${dtype} 0x${i.toString(16)}: ${t.data[i]} encoded as 0x${out[i].toString(16)}`);
      }
    }
    const f16 = (x: number) =>
      decodeSafetensors(encodeSafetensors({ t: { dtype: 'F16', shape: [1], data: Float32Array.of(x) } })).tensors.t
        .data[0];
    expect(f16(1 + 2 ** -11)).toBe(1); // a tie: to even
    expect(f16(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9);
    expect(f16(65520)).toBe(Infinity);
    expect(f16(2 ** -25)).toBe(0);
    expect(f16(3 * 2 ** -26)).toBe(2 ** -24);
    const bf16 = (x: number) =>
      decodeSafetensors(encodeSafetensors({ t: { dtype: 'BF16', shape: [1], data: Float32Array.of(x) } })).tensors.t
        .data[0];
    expect(bf16(1 + 2 ** -8)).toBe(1);
    expect(bf16(1 + 3 * 2 ** -8)).toBe(1 + 2 ** -6);
  });

  it('an empty header, zero-size tensors and metadata alone are valid', () => {
    expect(decodeSafetensors(raw({}))).toEqual({ tensors: {}, metadata: null });
    const z = decodeSafetensors(
      raw(
        {
          e: { dtype: 'F32', shape: [0, 3], data_offsets: [4, 4] },
          a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
        },
        f32bytes(7),
      ),
    );
    expect(z.tensors.e.data.length).toBe(0);
    expect(z.tensors.a.data[0]).toBe(7);
    expect(decodeSafetensors(raw('{"__metadata__":{"k":"v"}}     ')).metadata).toEqual({ k: 'v' });
  });

  it('every truncation of a small file is refused with a clear error', () => {
    const buf = encodeSafetensors(
      {
        'rnn.weight_ih_l0': { shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) },
        'head.bias': { shape: [2], data: Float64Array.of(1, 2) },
      },
      { format: 'pt' },
    );
    for (let k = 0; k < buf.length; k++) {
      let error: unknown = null;
      try {
        decodeSafetensors(buf.subarray(0, k), 'cut.safetensors');
      } catch (e) {
        error = e;
      }
      expect(error, `truncated to ${k} bytes`).toBeInstanceOf(SafetensorsError);
      expect((error as Error).message).toMatch(/^rnnkit safetensors cut\.safetensors: /);
      expect((error as Error).message, `truncated to ${k} bytes`).toMatch(/truncated|hole|JSON|must be a JSON object/);
    }
    expect(() => decodeSafetensors(buf)).not.toThrow();
    refused(Buffer.concat([buf, Buffer.of(0)]), /1 bytes after the last tensor/);
  });

  it('refuses hostile headers before allocating: huge lengths, bad offsets, dtypes, JSON, names, metadata', () => {
    refused(raw({}, undefined, 2n ** 64n - 1n), /header length 18446744073709551615 exceeds the 100000000-byte limit/);
    refused(raw({}, undefined, 99_000_000n), /truncated: the header length says 99000000 bytes of header, found 2/);
    refused(raw('[]'), /must be a JSON object starting with '\{'/);
    refused(raw('{"a":'), /header is not valid JSON/);
    refused(raw(' {}'), /starting with '\{'/);
    refused(
      Buffer.concat([raw('{"a":1}').subarray(0, 12), Buffer.of(0xff, 0x7d)]),
      /header length says|not valid UTF-8/,
    );
    const two = f32bytes(1, 2);
    refused(
      raw(
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
        },
        two,
      ),
      /tensors 'a' \(bytes 0\.\.8\) and 'b' \(bytes 4\.\.8\) overlap/,
    );
    refused(
      raw({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, two),
      /hole at bytes 0\.\.4 \(before tensor 'a'\)/,
    );
    refused(
      raw({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, two),
      /tensor 'a' has shape \[3\] of F32 \(12 bytes\) but data_offsets 0\.\.8 \(8 bytes\)/,
    );
    refused(
      raw({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 16] } }, two),
      /truncated: tensor 'a' lies at bytes 0\.\.16 of the data section, which has 8 bytes/,
    );
    refused(raw({ a: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, two), /data_offsets \[8,0\]/);
    refused(raw({ a: { dtype: 'F32', shape: [2], data_offsets: [0] } }, two), /data_offsets \[0\]/);
    refused(raw({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, two), /shape \[-2\]/);
    refused(raw({ a: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }, two), /safe product/);
    refused(raw({ a: { dtype: 'F32', shape: [2.5], data_offsets: [0, 8] } }, two), /shape \[2\.5\]/);
    refused(raw({ a: { dtype: 'Q4', shape: [2], data_offsets: [0, 8] } }, two), /tensor 'a' has unknown dtype "Q4"/);
    refused(
      raw({ a: { dtype: 'I32', shape: [2], data_offsets: [0, 8] } }, two),
      /tensor 'a' has dtype I32, which rnnkit does not load/,
    );
    refused(raw({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8], extra: 1 } }, two), /unexpected field 'extra'/);
    refused(raw({ a: 3 }, two), /tensor 'a' must be an object/);
    const entry = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
    refused(raw(`{"a":${entry},"a":${entry}}`, f32bytes(1)), /header names 'a' twice/);
    refused(
      raw(`{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f32bytes(1)),
      /names 'dtype' twice/,
    );
    refused(raw({ __metadata__: { format: 'pt', n: 3 } }), /__metadata__ 'n' must be a string, found 3/);
    refused(raw({ __metadata__: ['pt'] }), /__metadata__ must be an object of strings/);
    refused(raw(`{"a":${'['.repeat(100000)}${']'.repeat(100000)}}`), /JSON|must be an object/);
    expect(() => decodeSafetensors('abc' as never)).toThrow(TypeError);
  });

  it('encodeSafetensors checks its arguments', () => {
    expect(() => encodeSafetensors({ a: { shape: [3], data: Float32Array.of(1) } })).toThrow(
      /3 elements but data has 1/,
    );
    expect(() => encodeSafetensors({ a: { shape: [1], data: [1] as never } })).toThrow(/Float32Array or Float64Array/);
    expect(() => encodeSafetensors({ a: { dtype: 'I64' as never, shape: [1], data: Float32Array.of(1) } })).toThrow(
      /dtype must be/,
    );
    expect(() => encodeSafetensors({}, { n: 1 as never })).toThrow(/metadata 'n' must be a string/);
    expect(() => encodeSafetensors({ __metadata__: { shape: [1], data: Float32Array.of(1) } })).toThrow(/__metadata__/);
  });
});

describe('saveSafetensors / loadSafetensors with rnnkit models', () => {
  const vocab = Vocabulary.characters('abcdefgh');
  const makers: Array<[string, (seed: number) => WeightsModel]> = [
    ['SequenceClassifier', (seed) => new SequenceClassifier({ inputSize: 3, hiddenSize: 4, outputSize: 2, seed })],
    [
      'SequenceTagger',
      (seed) => new SequenceTagger({ vocabSize: 9, embeddingDim: 3, hiddenSize: 4, outputSize: 2, seed }),
    ],
    [
      'Model',
      (seed) =>
        new Model({
          inputSize: 3,
          seed,
          layers: [
            ['rnn', new GRU({ hiddenSize: 4, bidirectional: true })],
            ['pool', new TimePooling({ mode: 'mean' })],
            ['head', new Linear({ outFeatures: 2 })],
          ],
        }),
    ],
    ['TDNN', (seed) => new TDNN({ inputSize: 2, layers: [{ units: 3, delays: [0, 1] }], outputSize: 2, seed })],
    ['LanguageModel', (seed) => new LanguageModel({ vocabulary: vocab, hiddenSize: 4, embeddingDim: 3, seed })],
    ['Seq2Seq', (seed) => new Seq2Seq({ sourceVocabulary: vocab, hiddenSize: 4, seed })],
    ['NARX', (seed) => new NARX({ outputSize: 1, hiddenSizes: [4], scaler: null, dtype: 'float64', seed })],
  ];
  for (const [name, make] of makers) {
    it(`${name}: its weights go through a file unchanged, with its type and options in the metadata`, async () => {
      const a = make(1),
        b = make(2);
      const p = file(`${name}.safetensors`);
      await saveSafetensors(a, p);
      const { tensors, metadata } = decodeSafetensors(fs.readFileSync(p));
      expect(metadata!.format).toBe('pt');
      expect(metadata!['rnnkit.type']).toBe(name);
      expect(JSON.parse(metadata!['rnnkit.config'])).toEqual(JSON.parse(JSON.stringify(a.config)));
      const params = a.parameters();
      expect(Object.keys(tensors)).toEqual(params.map((q) => q.name));
      for (const q of params) expect(tensors[q.name].shape).toEqual(q.shape);
      await loadSafetensors(b, p);
      const sa = (a as unknown as { stateDict(): Record<string, ArrayLike<number>> }).stateDict();
      const sb = (b as unknown as { stateDict(): Record<string, ArrayLike<number>> }).stateDict();
      expect(sb).toEqual(sa);
    });
  }

  it('missing, unexpected and mis-shaped tensors are listed in one error; strict: false ignores the first two', () => {
    const m = new SequenceClassifier({ inputSize: 3, hiddenSize: 4, outputSize: 2, seed: 1 });
    const sd = Object.fromEntries(
      m.parameters().map((p) => [p.name, { shape: p.shape, data: Float32Array.from(p.data) }]),
    );
    const before = m.stateDict();
    delete sd['rnn.bias_hh_l0'];
    sd['rnn.weight_ih_l0'] = { shape: [16, 2], data: new Float32Array(32) };
    sd['head.weight'] = { shape: [3, 4], data: new Float32Array(12) };
    sd['extra.weight'] = { shape: [5], data: new Float32Array(5) };
    const p = file('mismatch.safetensors');
    fs.writeFileSync(p, encodeSafetensors(sd));
    let error: Error | null = null;
    try {
      loadSafetensorsSync(m, p);
    } catch (e) {
      error = e as Error;
    }
    expect(error).toBeInstanceOf(SafetensorsError);
    expect(error!.message).toContain(
      `rnnkit safetensors ${p}: the tensors do not match this SequenceClassifier's parameters`,
    );
    expect(error!.message).toContain('missing (1): rnn.bias_hh_l0 [16]');
    expect(error!.message).toContain('unexpected (1): extra.weight [5]');
    expect(error!.message).toContain(
      'wrong shape (2): rnn.weight_ih_l0: expected [16,3], found [16,2]; head.weight: expected [2,4], found [3,4]',
    );
    expect(m.stateDict()).toEqual(before); // nothing was loaded
    expect(() => loadSafetensorsSync(m, p, { strict: false })).toThrow(/wrong shape \(2\)/);
    expect(() => loadSafetensorsSync(m, p, { strict: false })).not.toThrow(/missing|unexpected/);

    sd['rnn.weight_ih_l0'] = { shape: [16, 3], data: new Float32Array(48).fill(0.25) };
    sd['head.weight'] = { shape: [2, 4], data: new Float32Array(8).fill(0.5) };
    fs.writeFileSync(p, encodeSafetensors(sd));
    expect(() => loadSafetensorsSync(m, p)).toThrow(/missing \(1\).*unexpected \(1\)/);
    loadSafetensorsSync(m, p, { strict: false });
    const after = m.stateDict();
    expect(after['rnn.weight_ih_l0'][0]).toBe(0.25);
    expect(after['head.weight'][7]).toBe(0.5);
    expect(after['rnn.bias_hh_l0']).toEqual(before['rnn.bias_hh_l0']);
  });

  it('F16, BF16 and F64 convert to the model dtype; integer tensors, non-finite values and bad arguments are refused', async () => {
    const a = new SequenceClassifier({ inputSize: 3, hiddenSize: 4, outputSize: 2, seed: 1, dtype: 'float64' });
    const b = new SequenceClassifier({ inputSize: 3, hiddenSize: 4, outputSize: 2, seed: 2 });
    for (const dtype of ['F16', 'BF16', 'F32', 'F64'] as const) {
      const sd = Object.fromEntries(
        a.parameters().map((p) => [p.name, { dtype, shape: p.shape, data: p.data as Float64Array }]),
      );
      const p = file(`${dtype}.safetensors`);
      fs.writeFileSync(p, encodeSafetensors(sd));
      const stored = decodeSafetensors(fs.readFileSync(p)).tensors;
      await loadSafetensors(b, p);
      const got = b.stateDict();
      for (const [name, t] of Object.entries(stored)) expect(got[name]).toEqual(Float32Array.from(t.data));
    }
    const sd = Object.fromEntries(
      a.parameters().map((p) => [p.name, { shape: p.shape, data: Float64Array.from(p.data) }]),
    );
    sd['head.bias'].data[1] = Infinity;
    fs.writeFileSync(file('inf.safetensors'), encodeSafetensors(sd));
    await expect(loadSafetensors(b, file('inf.safetensors'))).rejects.toThrow(
      /tensor 'head\.bias' must be finite, found Infinity at element 1/,
    );
    const ints = raw({ 'head.bias': { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, new Uint8Array(16));
    fs.writeFileSync(file('int.safetensors'), ints);
    await expect(loadSafetensors(b, file('int.safetensors'), { strict: false })).rejects.toThrow(
      /unsupported dtype \(rnnkit loads F16, BF16, F32, F64\) \(1\): head\.bias \(I64\)/,
    );
    await expect(loadSafetensors(b, file('nothing-here.safetensors'))).rejects.toThrow(/ENOENT/);
    await expect(loadSafetensors({} as never, file('int.safetensors'))).rejects.toThrow(/expected an rnnkit model/);
    await expect(loadSafetensors(b, 3 as never)).rejects.toThrow(/path must be a non-empty string/);
    await expect(loadSafetensors(b, file('int.safetensors'), { strict: 1 } as never)).rejects.toThrow(
      /strict must be a boolean/,
    );
    expect(() => saveSafetensorsSync(null as never, file('x'))).toThrow(TypeError);
  });

  it('saving is atomic: the target is replaced by a complete file, no temporary file stays', () => {
    const m = new SequenceClassifier({ inputSize: 3, hiddenSize: 4, outputSize: 2, seed: 1 });
    const sub = fs.mkdtempSync(path.join(dir, 'atomic-'));
    const p = path.join(sub, 'm.safetensors');
    fs.writeFileSync(p, 'old');
    saveSafetensorsSync(m, p);
    expect(fs.readdirSync(sub)).toEqual(['m.safetensors']);
    expect(Object.keys(decodeSafetensors(fs.readFileSync(p)).tensors)).toContain('head.weight');
  });
});

// ------------------------------------------------------------------------------------ PyTorch

interface Case {
  name: string;
  kind: 'tagger' | 'classifier';
  cell: 'lstm' | 'gru' | 'rnn';
  activation: 'tanh' | 'relu';
  inputSize?: number;
  vocabSize?: number;
  embeddingDim?: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  outputSize: number;
}
const CASES: Case[] = [
  {
    name: 'lstm_tagger',
    kind: 'tagger',
    cell: 'lstm',
    activation: 'tanh',
    vocabSize: 20,
    embeddingDim: 6,
    hiddenSize: 5,
    numLayers: 2,
    bidirectional: true,
    outputSize: 4,
  },
  {
    name: 'lstm_classifier',
    kind: 'classifier',
    cell: 'lstm',
    activation: 'tanh',
    inputSize: 3,
    hiddenSize: 5,
    numLayers: 2,
    bidirectional: true,
    outputSize: 3,
  },
  {
    name: 'gru_classifier',
    kind: 'classifier',
    cell: 'gru',
    activation: 'tanh',
    inputSize: 3,
    hiddenSize: 4,
    numLayers: 2,
    bidirectional: true,
    outputSize: 3,
  },
  {
    name: 'gru_tagger',
    kind: 'tagger',
    cell: 'gru',
    activation: 'tanh',
    inputSize: 2,
    hiddenSize: 4,
    numLayers: 1,
    bidirectional: false,
    outputSize: 3,
  },
  {
    name: 'rnn_tanh_classifier',
    kind: 'classifier',
    cell: 'rnn',
    activation: 'tanh',
    inputSize: 3,
    hiddenSize: 4,
    numLayers: 1,
    bidirectional: false,
    outputSize: 3,
  },
  {
    name: 'rnn_relu_classifier',
    kind: 'classifier',
    cell: 'rnn',
    activation: 'relu',
    inputSize: 3,
    hiddenSize: 4,
    numLayers: 2,
    bidirectional: true,
    outputSize: 2,
  },
];
const FILE_DTYPES = ['F32', 'F64', 'F16', 'BF16'] as const;
const TOLERANCE = { float32: 1e-5, float64: 1e-12 };

function rnnkitModel(c: Case, dtype: 'float32' | 'float64', seed: number): SequenceClassifier | SequenceTagger {
  const o = {
    cell: c.cell,
    hiddenSize: c.hiddenSize,
    numLayers: c.numLayers,
    bidirectional: c.bidirectional,
    outputSize: c.outputSize,
    dtype,
    seed,
    init: 'pytorch' as const,
    ...(c.vocabSize ? { vocabSize: c.vocabSize, embeddingDim: c.embeddingDim } : { inputSize: c.inputSize }),
    ...(c.cell === 'rnn' ? { activation: c.activation } : {}),
  };
  return c.kind === 'tagger' ? new SequenceTagger(o) : new SequenceClassifier(o);
}

function python(args: string[]): unknown {
  const r = spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', timeout: 300_000, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`safetensors_torch.py ${args[0]} failed (${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout);
}

function maxDiff(a: unknown, b: unknown): number {
  if (Array.isArray(a) && Array.isArray(b)) {
    expect(a.length).toBe(b.length);
    return a.reduce((m: number, x, i) => Math.max(m, maxDiff(x, b[i])), 0);
  }
  return Math.abs((a as number) - (b as number));
}

const report: string[] = [];
afterAll(() => {
  if (report.length) console.log(`largest differences from torch:\n${report.join('\n')}`);
});

describe.skipIf(!hasTorch)('safetensors with PyTorch (needs /usr/bin/python3 with torch and numpy)', () => {
  describe('PyTorch → rnnkit: state_dict() files written by hand load unchanged and predict as torch does', () => {
    let torchOut: Record<string, { inputs: number[][] | number[][][]; probs32: unknown; probs64: unknown }>;
    const cases = CASES.flatMap((c) =>
      FILE_DTYPES.map((d) => ({ ...c, name: `${c.name}_${d}`, fileDtype: d, seed: 7 })),
    );
    beforeAll(() => {
      const spec = file('torch-cases.json');
      fs.writeFileSync(spec, JSON.stringify(cases));
      torchOut = python(['write', spec, dir]) as typeof torchOut;
    }, 300_000);
    const worst: Record<string, number> = {};
    afterAll(() => {
      for (const [k, v] of Object.entries(worst)) report.push(`  torch → rnnkit ${k}: ${v.toExponential(2)}`);
    });
    for (const c of cases)
      for (const dtype of ['float32', 'float64'] as const)
        it(`${c.name} into a ${dtype} ${c.kind === 'tagger' ? 'SequenceTagger' : 'SequenceClassifier'}`, async () => {
          const m = rnnkitModel(c, dtype, 1);
          await loadSafetensors(m, file(`${c.name}.safetensors`));
          const out = torchOut[c.name];
          const d = maxDiff(m.predict(out.inputs), dtype === 'float32' ? out.probs32 : out.probs64);
          const key = `${c.fileDtype} file, ${dtype} model`;
          worst[key] = Math.max(worst[key] ?? 0, d);
          expect(d).toBeLessThan(TOLERANCE[dtype]);
          m.dispose();
        });
  });

  describe('rnnkit → PyTorch: saved files load into torch with load_state_dict(strict=True) and predict the same', () => {
    const cases = CASES.flatMap((c) => (['float32', 'float64'] as const).map((dtype) => ({ ...c, dtype })));
    const ours: Record<string, unknown> = {};
    let theirs: Record<string, unknown>;
    beforeAll(async () => {
      const spec: Array<{ name: string; file: string; inputs: unknown }> = [];
      for (const [i, c] of cases.entries()) {
        const m = rnnkitModel(c, c.dtype, 10 + i);
        const r = rng(20 + i);
        const inputs = c.vocabSize
          ? Array.from({ length: 3 }, () => Array.from({ length: 5 }, () => Math.floor(r() * c.vocabSize!)))
          : Array.from({ length: 3 }, () =>
              Array.from({ length: 5 }, () => Array.from({ length: c.inputSize! }, () => r() * 4 - 2)),
            );
        const name = `${c.name}_${c.dtype}`,
          p = file(`rnnkit_${name}.safetensors`);
        if (i % 2) saveSafetensorsSync(m, p);
        else await saveSafetensors(m, p);
        ours[name] = m.predict(inputs);
        spec.push({ name, file: p, inputs });
        m.dispose();
      }
      fs.writeFileSync(file('rnnkit-cases.json'), JSON.stringify(spec));
      theirs = python(['read', file('rnnkit-cases.json')]) as typeof theirs;
    }, 300_000);
    const worst: Record<string, number> = {};
    afterAll(() => {
      for (const [k, v] of Object.entries(worst)) report.push(`  rnnkit → torch ${k}: ${v.toExponential(2)}`);
    });
    for (const c of cases)
      it(`${c.name} (${c.dtype})`, () => {
        const name = `${c.name}_${c.dtype}`;
        const d = maxDiff(ours[name], theirs[name]);
        worst[c.dtype] = Math.max(worst[c.dtype] ?? 0, d);
        expect(d).toBeLessThan(TOLERANCE[c.dtype]);
      });
  });

  it("docs/interop.md's safetensors blocks run in order, Python and JavaScript in one folder", () => {
    const md = fs.readFileSync(path.join(__dirname, '..', 'docs', 'interop.md'), 'utf8');
    const section = md.slice(md.indexOf('## safetensors'), md.indexOf('## ONNX'));
    const blocks = [...section.matchAll(/^```(python|js)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], code: m[2] }));
    expect(blocks.filter((b) => b.lang === 'python').length).toBeGreaterThanOrEqual(2);
    const work = fs.mkdtempSync(path.join(dir, 'docs-'));
    fs.mkdirSync(path.join(work, 'node_modules'));
    fs.symlinkSync(path.join(__dirname, '..'), path.join(work, 'node_modules', 'rnnkit'), 'dir');
    const printed: number[][] = [];
    blocks.forEach((b, i) => {
      const f = path.join(work, `block${i}.${b.lang === 'js' ? 'mjs' : 'py'}`);
      fs.writeFileSync(f, b.code);
      const r = spawnSync(b.lang === 'js' ? process.execPath : PYTHON, [f], {
        cwd: work,
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(r.status, `block ${i} (${b.lang}):\n${b.code}\n${r.stderr}`).toBe(0);
      if (r.stdout.trim()) printed.push(JSON.parse(r.stdout) as number[]); // a list of probabilities
    });
    // what torch printed, rnnkit prints (tagger.safetensors), and the other way (classifier.safetensors)
    expect(printed.length).toBe(4);
    for (const [a, b] of [
      [printed[0], printed[1]],
      [printed[2], printed[3]],
    ]) {
      expect(a.length).toBeGreaterThan(1);
      expect(maxDiff(a, b)).toBeLessThan(1e-6);
    }
  }, 300_000);
});
