// What fit reports while it runs: `verbose` lines (or a progress bar on a terminal) written to
// the `log` stream, and a metrics log (`metricsLog`): one JSON object per line, appended, synced
// to disk when the fit call ends.
import * as fs from 'fs';
import type { BatchInfo, EpochInfo, History, Metrics } from './fit-options';

/** Anything with write(text): process.stderr, a file stream, a collecting object in tests. */
export interface LogStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** A number in a log line: 4 significant digits, exponent form for very small or large values. */
export function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a < 1e-3 || a >= 1e5 ? v.toExponential(2) : String(Number(v.toPrecision(4)));
}

const METRIC_KEYS: Array<keyof Metrics> = ['accuracy', 'perTokenAccuracy', 'perplexity', 'mse'];

/** `epoch 3/10 - loss 0.41 - accuracy 0.875 - valLoss 0.52 - valAccuracy 0.8 - gradNorm 1.2 - lr 0.001 - 0.84s` */
export function epochLine(info: EpochInfo, end: number, seconds: number): string {
  const parts = [`epoch ${info.epoch + 1}/${end}`, `loss ${fmt(info.loss)}`];
  for (const k of METRIC_KEYS) if (info.metrics[k] !== undefined) parts.push(`${k} ${fmt(info.metrics[k])}`);
  if (info.valMetrics) {
    parts.push(`valLoss ${fmt(info.valLoss)}`);
    for (const k of METRIC_KEYS)
      if (info.valMetrics[k] !== undefined)
        parts.push(`val${k[0].toUpperCase()}${k.slice(1)} ${fmt(info.valMetrics[k])}`);
  }
  parts.push(`gradNorm ${fmt(info.gradNorm)}`, `lr ${fmt(info.lr)}`);
  if (info.teacherForcing !== undefined) parts.push(`teacherForcing ${fmt(info.teacherForcing)}`);
  parts.push(`${seconds.toFixed(2)}s`);
  return parts.join(' - ');
}

/**
 * verbose 1: one line per epoch. verbose 2: on a terminal (log.isTTY), a progress bar redrawn
 * after every batch and replaced by the epoch's line; elsewhere the same lines as verbose 1.
 */
export class ProgressReporter {
  /** Batches of the previous epoch: the bar's length (unknown during the first epoch). */
  private batches: number | null = null;
  private drawn = false;
  private lastDraw = 0;
  constructor(
    private readonly log: LogStream,
    private readonly verbose: number,
    private readonly end: number,
  ) {}

  batch(info: BatchInfo, done: number): void {
    if (this.verbose < 2 || this.log.isTTY !== true) return;
    const now = Date.now();
    if (now - this.lastDraw < 50 && done !== this.batches) return; // at most 20 redraws a second
    this.lastDraw = now;
    const n = this.batches,
      head = `epoch ${info.epoch + 1}/${this.end} `;
    let bar: string;
    if (n !== null && n > 0) {
      const width = 30,
        full = Math.min(width, Math.round((done / n) * width));
      bar = `[${'='.repeat(full)}${full < width ? '>' : ''}${' '.repeat(Math.max(0, width - full - 1))}] ${done}/${n}`;
    } else bar = `batch ${done}`;
    this.log.write(`\r${head}${bar} - loss ${fmt(info.loss)}\x1b[K`);
    this.drawn = true;
  }

  epoch(info: EpochInfo, batches: number, seconds: number): void {
    this.batches = batches;
    if (this.verbose < 1) return;
    this.log.write(`${this.drawn ? '\r\x1b[K' : ''}${epochLine(info, this.end, seconds)}\n`);
    this.drawn = false;
  }

  /** The run ended (normally or not): finish a half-drawn bar's line. */
  close(history: History | null): void {
    if (this.drawn) this.log.write('\n');
    this.drawn = false;
    if (this.verbose >= 1 && history) {
      if (history.stoppedEarly) this.log.write(`stopped early after epoch ${history.epochs.length}\n`);
      if (history.outOfTime) this.log.write('stopped: time limit reached\n');
    }
  }
}

/** One record of a metrics log (`type` 'fit' | 'epoch' | 'batch' | 'end'). */
export type MetricsRecord = { type: 'fit' | 'epoch' | 'batch' | 'end'; time: string } & Record<string, unknown>;

/**
 * A JSON-lines metrics log: `fit({ metricsLog: 'run.jsonl' })` or
 * `fit({ metricsLog: new MetricsLog('run.jsonl', { batches: true }) })`. Each record is one
 * `write` of one line to a file opened for appending (O_APPEND: lines of concurrent writers do
 * not interleave); the file is fsynced and closed when the fit call ends, and reopened by the
 * next one. Non-finite numbers are written as null (JSON has no NaN).
 */
export class MetricsLog {
  readonly path: string;
  /** Also one record per batch (default false: epochs only). */
  readonly batches: boolean;
  private fd: number | null = null;

  constructor(path: string, options: { batches?: boolean } = {}) {
    if (typeof path !== 'string' || path.length === 0)
      throw new TypeError(`MetricsLog: path must be a non-empty string, received ${JSON.stringify(path)}`);
    if (options === null || typeof options !== 'object')
      throw new TypeError('MetricsLog: options must be an object such as { batches: true }');
    for (const k of Object.keys(options))
      if (k !== 'batches') throw new RangeError(`MetricsLog: unknown option '${k}'; known: batches`);
    if (options.batches !== undefined && typeof options.batches !== 'boolean')
      throw new TypeError(`MetricsLog: batches must be a boolean, received ${typeof options.batches}`);
    this.path = path;
    this.batches = options.batches ?? false;
  }

  /** Appends one record (opening the file on first use). */
  write(record: Omit<MetricsRecord, 'time'> & { time?: string }): void {
    if (this.fd === null) this.fd = fs.openSync(this.path, 'a');
    const line = JSON.stringify({ ...record, time: record.time ?? new Date().toISOString() }) + '\n';
    fs.writeSync(this.fd, line);
  }

  /** Flushes to disk and closes; the next write reopens the file. */
  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Every record of a metrics log file (a torn last line, from a crash mid-write, is skipped). */
  static read(path: string): MetricsRecord[] {
    const lines = fs.readFileSync(path, 'utf8').split('\n');
    const out: MetricsRecord[] = [];
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        out.push(JSON.parse(line) as MetricsRecord);
      } catch (e) {
        if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l.trim() !== ''))
          throw new SyntaxError(`MetricsLog.read: ${path} line ${i + 1} is not JSON (${(e as Error).message})`);
      }
    });
    return out;
  }
}
