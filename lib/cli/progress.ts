// Progress of `rnnkit train`: a live bar on a terminal, plain lines otherwise.
import type { BatchInfo, EpochInfo } from '../train/fit-options';

const fmt = (v: number | null | undefined, d = 4) =>
  v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(d);
function clock(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--:--';
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, '0')}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

export class Progress {
  private start = Date.now();
  private epochStart = Date.now();
  private items = 0;
  private lastDraw = 0;
  private done = 0;
  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly epochs: number,
    private readonly batchesPerEpoch: number,
    private readonly itemsPerBatch: number,
    private readonly unit: string,
    private readonly tty = Boolean(out.isTTY),
  ) {}

  batch(b: BatchInfo): void {
    this.items += this.itemsPerBatch;
    this.done++;
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const total = this.epochs * this.batchesPerEpoch;
    const frac = Math.min(1, this.done / Math.max(1, total));
    const elapsed = (now - this.start) / 1000;
    const width = 20;
    const fill = Math.round(frac * width);
    const rate = this.items / Math.max(1e-3, elapsed);
    const bar = '#'.repeat(fill) + '-'.repeat(width - fill);
    const r = rate >= 1e4 ? `${(rate / 1000).toFixed(0)}k` : rate.toFixed(0);
    const line =
      `epoch ${b.epoch + 1}/${this.epochs} [${bar}] ${b.batch + 1}/${this.batchesPerEpoch} ` +
      `loss ${fmt(b.loss)} |g| ${fmt(b.gradNorm, 3)} ${r} ${this.unit}/s ETA ${clock((elapsed / frac) * (1 - frac))}`;
    this.out.write(`\r${line.slice(0, (this.out.columns ?? 160) - 1)}\x1b[K`);
  }

  epoch(e: EpochInfo, extra: string): void {
    const secs = (Date.now() - this.epochStart) / 1000;
    this.epochStart = Date.now();
    const val = e.valLoss === null ? '' : ` val_loss ${fmt(e.valLoss)}`;
    const m = Object.entries(e.valMetrics ?? e.metrics)
      .filter(([k]) => k !== 'loss')
      .map(([k, v]) => ` ${k} ${fmt(v as number)}`)
      .join('');
    const line =
      `epoch ${e.epoch + 1}/${this.epochs} loss ${fmt(e.loss)}${val}${m} ` +
      `|g| ${fmt(e.gradNorm, 3)} lr ${e.lr.toPrecision(3)} ${secs.toFixed(1)}s${extra}`;
    this.out.write(this.tty ? `\r${line}\x1b[K\n` : `${line}\n`);
  }
}
