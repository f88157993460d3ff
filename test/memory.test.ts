// The size guard (one limit for what a model, a call or a tensor implies, refused up front with a
// RangeError naming the option and the bytes), memoryInfo(), and scratch that shrinks back after
// a large call instead of holding its peak for the life of the process.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cpuDevice,
  LanguageModel,
  memoryInfo,
  memoryLimit,
  SequenceClassifier,
  SequenceTagger,
  setMemoryLimit,
  Vocabulary,
} from '../lib';

afterEach(() => setMemoryLimit(null));

const seq = (T: number, F = 1) => Array.from({ length: T }, (_, t) => Array.from({ length: F }, () => Math.sin(t)));

describe('size guard', () => {
  it('a model whose parameters exceed the limit is refused before anything is allocated, naming the option and the bytes', () => {
    const t0 = Date.now();
    const big = () => new SequenceClassifier({ inputSize: 3, outputSize: 2, hiddenSize: 100_000 });
    expect(big).toThrow(/^SequenceClassifier hiddenSize 100000: 40,002,200,002 float32 parameters /);
    expect(big).toThrow(/\(largest: rnn\.weight_hh_l0 \[400000,100000\]\) with their gradients needs 298\.0 GiB /);
    expect(big).toThrow(/\(320,017,600,016 bytes\), over the memory limit of/);
    expect(() => new SequenceClassifier({ vocabSize: 1e9, embeddingDim: 64, hiddenSize: 8, outputSize: 2 })).toThrow(
      /SequenceClassifier vocabSize 1000000000, embeddingDim 64: .*embedding\.weight \[1000000000,64\].* needs 476\.8 GiB/,
    );
    const vocab = Vocabulary.characters('abc');
    expect(() => new LanguageModel({ vocabulary: vocab, hiddenSize: 200_000, embeddingDim: 4 })).toThrow(RangeError);
    expect(Date.now() - t0).toBeLessThan(2000); // refused, not built and initialized first
  });

  it('the limit is the one set: a model under it builds, the same model over it is refused', () => {
    setMemoryLimit(10_000);
    expect(memoryLimit()).toBe(10_000);
    expect(() => new SequenceClassifier({ inputSize: 3, outputSize: 2, hiddenSize: 32 })).toThrow(
      /hiddenSize 32: .* over the memory limit of 9\.8 KiB \(10,000 bytes\)/,
    );
    setMemoryLimit(null);
    expect(new SequenceClassifier({ inputSize: 3, outputSize: 2, hiddenSize: 32 }).memoryInfo().parameterBytes).toBe(
      4 * (4 * 32 * (3 + 32) + 8 * 32 + 2 * 32 + 2),
    );
    expect(() => setMemoryLimit(-1)).toThrow(/setMemoryLimit: bytes must be a positive integer or null, received -1/);
  });

  it('a call whose buffers exceed the limit is refused with a RangeError naming the layer, the bytes and batchSize', () => {
    const m = new SequenceTagger({ inputSize: 2, outputSize: 3, hiddenSize: 8 });
    setMemoryLimit(200_000);
    const call = () => m.predict([seq(20_000, 2)]);
    expect(call).toThrow(/^LSTM 'rnn': buffer '\w+' \([\d,]+ elements\) brings this call to a total that needs /);
    expect(call).toThrow(/over the memory limit of .*; use a smaller batchSize or shorter sequences/);
    setMemoryLimit(null);
    expect(m.predict([seq(20_000, 2)])[0]).toHaveLength(20_000); // the model is still usable
  });

  it('one tensor over the limit or over the typed-array limit is a RangeError naming its shape, never a V8 message', () => {
    const d = cpuDevice();
    setMemoryLimit(1 << 20);
    expect(() => d.alloc('float64', [1 << 20])).toThrow(
      /^cpu\.alloc: a float64 tensor of shape \[1048576\] needs 8\.0 MiB \(8,388,608 bytes\), over the memory limit of 1\.0 MiB/,
    );
    setMemoryLimit(2 ** 45);
    expect(() => d.alloc('float32', [2 ** 33])).toThrow(
      /alloc: shape \[8589934592\] has 8589934592 elements, more than 2\^32/,
    );
  });

  it('RNNKIT_MEMORY_LIMIT sets the limit (with K/M/G suffixes) and a bad value is refused by name', () => {
    const run = (v: string) =>
      spawnSync(
        process.execPath,
        [
          '-e',
          `try { console.log(require(${JSON.stringify(join(__dirname, '..', 'dist'))}).memoryLimit()) } catch (e) { console.log(e.message) }`,
        ],
        { encoding: 'utf8', env: { ...process.env, RNNKIT_MEMORY_LIMIT: v } },
      ).stdout.trim();
    expect(run('8G')).toBe(String(8 * 2 ** 30));
    expect(run('1536M')).toBe(String(1536 * 2 ** 20));
    expect(run('123456')).toBe('123456');
    expect(run('lots')).toMatch(/RNNKIT_MEMORY_LIMIT must be a byte count such as 8G or 1073741824, received 'lots'/);
  });
});

describe('memoryInfo and scratch that shrinks', () => {
  it('after one long prediction neither native nor model scratch keeps its peak', () => {
    const m = new SequenceClassifier({ inputSize: 1, outputSize: 2, hiddenSize: 64 });
    m.predict([seq(100_000)]); // native inference reserve: 100k steps of 4 gates x 64 and the states, over 100 MB
    const info = memoryInfo();
    expect(info.nativeScratchBytes).toBeLessThanOrEqual(info.nativeScratchKeepBytes);
    expect(m.memoryInfo().scratchBytes).toBeLessThanOrEqual(64 * 2 ** 20);
    m.predict([seq(50)]); // ordinary calls keep their buffers for the next one
    expect(m.memoryInfo().scratchBytes).toBeGreaterThan(0);
  });

  it('model memoryInfo counts parameters, gradients and optimizer state; dispose gives them back', async () => {
    const m = new SequenceClassifier({ inputSize: 2, outputSize: 2, hiddenSize: 4 });
    const before = m.memoryInfo();
    expect(before.optimizerBytes).toBe(0);
    await m.fit([seq(5, 2), seq(4, 2)], [0, 1], { epochs: 1, optimizer: 'adam' });
    const after = m.memoryInfo();
    expect(after.optimizerBytes).toBe(2 * after.parameterBytes); // Adam: two moments per parameter
    expect(after.totalBytes).toBe(after.parameterBytes * 2 + after.optimizerBytes + after.scratchBytes);
    m.dispose();
    expect(() => m.memoryInfo()).toThrow(/SequenceClassifier\.memoryInfo: the model was disposed/);
  });
});
