// The tensor contract every device is held to (docs/engine.md): tensors only the device can
// read, and the host transfers of a training step: the batch in, a few scalars out (loss,
// gradient norm, finiteness, accuracy counts), nothing per timestep and no array out.
import { describe, expect, it } from 'vitest';
import {
  cpuDevice,
  LanguageModel,
  opaqueDevice,
  Rng,
  Seq2Seq,
  SequenceClassifier,
  SequenceTagger,
  Vocabulary,
} from '../lib';
import type { OpaqueDevice, TransferCounts } from '../lib';

function seqs(n: number, T: number, seed: number) {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => Array.from({ length: T }, () => [r.uniform(-1, 1), r.uniform(-1, 1)]));
}

/** Counter changes of every training step after the first (first-step set-up excluded). */
async function stepTransfers(
  dev: OpaqueDevice,
  fit: (onBatchEnd: () => void) => Promise<unknown>,
): Promise<TransferCounts[]> {
  const snaps: TransferCounts[] = [];
  await fit(() => {
    snaps.push({ ...dev.transfers });
  });
  return snaps.slice(1).map((s, i) => {
    const p = snaps[i];
    return {
      toDevice: s.toDevice - p.toDevice,
      toDeviceBytes: s.toDeviceBytes - p.toDeviceBytes,
      toHostCalls: s.toHostCalls - p.toHostCalls,
      toHostBytes: s.toHostBytes - p.toHostBytes,
      scalars: s.scalars - p.scalars,
    };
  });
}

describe('opaque tensors', () => {
  it('cannot be read from JavaScript; only the device copies them out', async () => {
    const dev = opaqueDevice();
    const t = dev.fromHost(Float32Array.from([1, 2, 3]));
    expect(() => (t as unknown as { data: unknown }).data).toThrow(/its elements live on the device/);
    expect(() => (t as unknown as number[])[0]).toThrow(/its elements live on the device/);
    expect(() => (t as unknown as { length: number }).length).toThrow(/its elements live on the device/);
    expect(t.shape).toEqual([3]);
    expect(Array.from(await dev.toHost(t))).toEqual([1, 2, 3]);
    expect(dev.transfers.toDevice).toBe(1);
    expect(dev.transfers.toHostCalls).toBe(1);
    expect(() => cpuDevice().toHostSync(t)).toThrow(/lives on device 'opaque', not 'cpu'/);
  });
  it('the CPU device wraps host arrays without copying', () => {
    const a = Float32Array.from([1, 2]);
    const t = cpuDevice().fromHost(a);
    expect(cpuDevice().toHostSync(t)).toBe(a);
  });
});

describe('host transfers of one training step (opaque device)', () => {
  for (const [what, make] of [
    [
      'classifier',
      (dev: OpaqueDevice) =>
        new SequenceClassifier({
          inputSize: 2,
          hiddenSize: 6,
          outputSize: 3,
          numLayers: 2,
          bidirectional: true,
          device: dev,
        }),
    ],
    ['tagger', (dev: OpaqueDevice) => new SequenceTagger({ inputSize: 2, hiddenSize: 6, outputSize: 3, device: dev })],
  ] as const) {
    it(`${what}: the batch in, a few scalars out, the same for 4 and 40 steps`, async () => {
      const per: Record<number, TransferCounts[]> = {};
      for (const T of [4, 40]) {
        const dev = opaqueDevice();
        const m = make(dev);
        const xs = seqs(8, T, T);
        const ys = what === 'classifier' ? xs.map((_, i) => i % 3) : xs.map((s) => s.map((_, t) => t % 3));
        per[T] = await stepTransfers(dev, (onBatchEnd) =>
          m.fit(xs, ys as number[], { epochs: 4, batchSize: 8, clipNorm: 1, onBatchEnd }),
        );
      }
      for (const T of [4, 40]) {
        for (const s of per[T]) {
          expect(s.toHostCalls, 'no array leaves the device during training').toBe(0);
          expect(s.toDevice, 'inputs, lengths, targets and the loss mask').toBeLessThanOrEqual(4);
          expect(s.scalars, 'loss, accuracy counts, gradient norm, finiteness of the weights').toBeLessThanOrEqual(5);
        }
      }
      expect(per[4].length).toBe(3);
      expect(per[4][0].toDevice, 'the batch does go in').toBeGreaterThanOrEqual(2);
      expect(per[4][0].scalars, 'the loss does come out').toBeGreaterThanOrEqual(1);
      // nothing per timestep: counts do not grow with T (bytes do, with the batch)
      expect(per[40].map((s) => [s.toDevice, s.scalars, s.toHostCalls])).toEqual(
        per[4].map((s) => [s.toDevice, s.scalars, s.toHostCalls]),
      );
    });
  }

  it('language model and Seq2Seq steps move no arrays to the host either', async () => {
    const text = 'abcabcabd'.repeat(30);
    const dev = opaqueDevice();
    const lm = new LanguageModel({
      vocabulary: Vocabulary.characters(text),
      hiddenSize: 8,
      embeddingDim: 4,
      device: dev,
    });
    for (const s of await stepTransfers(dev, (onBatchEnd) => lm.fit(text, { batchSize: 4, seqLen: 10, onBatchEnd }))) {
      expect(s.toHostCalls).toBe(0);
      expect(s.toDevice).toBeLessThanOrEqual(4);
    }
    const dev2 = opaqueDevice();
    const s2s = new Seq2Seq({
      sourceVocabulary: Vocabulary.characters('abcd'),
      hiddenSize: 6,
      attention: 'general',
      device: dev2,
    });
    const src = Array.from({ length: 32 }, (_, i) => 'abcd'.slice(0, 1 + (i % 4)));
    for (const s of await stepTransfers(dev2, (onBatchEnd) =>
      s2s.fit(
        src,
        src.map((x) => [...x].reverse().join('')),
        { batchSize: 8, onBatchEnd },
      ),
    )) {
      expect(s.toHostCalls).toBe(0);
      expect(s.toDevice).toBeLessThanOrEqual(6);
    }
  });

  it('predict copies each batch of results out once', () => {
    const dev = opaqueDevice();
    const m = new SequenceTagger({ inputSize: 2, hiddenSize: 4, outputSize: 2, device: dev });
    m.predict(seqs(10, 7, 1), { batchSize: 4 });
    expect(dev.transfers.toHostCalls).toBe(3);
  });
});
