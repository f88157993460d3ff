// The progress output of `rnnkit train`: a live line on a terminal, plain lines otherwise.
import { describe, expect, it } from 'vitest';
import { Progress } from '../lib/cli/progress';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  const out = { isTTY, columns: 160, write: (s: string) => chunks.push(s) } as unknown as NodeJS.WriteStream;
  return { out, chunks };
}
const batch = (epoch: number, b: number) => ({
  epoch,
  batch: b,
  step: b + 1,
  loss: 0.5,
  gradNorm: 1.25,
  lr: 0.01,
  skipped: false,
});
const epoch = {
  epoch: 0,
  loss: 0.4,
  metrics: { loss: 0.4 },
  valLoss: 0.45,
  valMetrics: { loss: 0.45, accuracy: 0.9 },
  gradNorm: 1.1,
  lr: 0.01,
};

describe('Progress', () => {
  it('on a terminal: one redrawn line with epoch, bar, batch, loss, gradient norm, throughput and ETA', async () => {
    const { out, chunks } = sink(true);
    const p = new Progress(out, 2, 10, 32, 'seq');
    await new Promise((r) => setTimeout(r, 120));
    p.batch(batch(0, 4));
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toMatch(
      /^\repoch 1\/2 \[#+-+\] 5\/10 loss 0\.5000 \|g\| 1\.250 \d+k? seq\/s ETA \d\d:\d\d\x1b\[K$/,
    );
    p.batch(batch(0, 5)); // within 100 ms of the last draw: not redrawn
    expect(chunks).toHaveLength(1);
    p.epoch(epoch, '');
    expect(chunks[1]).toMatch(
      /^\repoch 1\/2 loss 0\.4000 val_loss 0\.4500 accuracy 0\.9000 \|g\| 1\.100 lr 0\.0100 [\d.]+s\x1b\[K\n$/,
    );
  });
  it('otherwise: no bar, one plain line per epoch', () => {
    const { out, chunks } = sink(false);
    const p = new Progress(out, 1, 10, 32, 'seq');
    p.batch(batch(0, 0));
    p.epoch(epoch, '');
    expect(chunks).toHaveLength(1);
    expect(chunks[0]).toMatch(
      /^epoch 1\/1 loss 0\.4000 val_loss 0\.4500 accuracy 0\.9000 \|g\| 1\.100 lr 0\.0100 [\d.]+s\n$/,
    );
  });
});
