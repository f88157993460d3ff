// Readers of the user's data files for `rnnkit train --data FILE --mode …`. Every reader streams
// its file line by line; a malformed line throws a DataError naming the file and the line.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Problem } from '../tasks';

export class DataError extends Error {
  override readonly name = 'DataError';
  constructor(
    readonly file: string,
    readonly line: number | null,
    problem: string,
  ) {
    super(line === null ? `${file}: ${problem}` : `${file}:${line}: ${problem}`);
  }
}

/** Calls `each(line, lineNumber)` for every line of the file (1-based), without reading it whole. */
export async function eachLine(file: string, each: (line: string, n: number) => void): Promise<number> {
  if (!existsSync(file)) throw new DataError(file, null, 'no such file');
  if (!statSync(file).isFile()) throw new DataError(file, null, 'not a regular file');
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const line of rl) each(line, ++n);
  return n;
}

export interface ReadOptions {
  /** CSV: input columns by name (default every column but the target). */
  columns?: string[];
  /** CSV: the column to forecast (default the last). */
  target?: string;
  /** CSV: steps of history per window (default 16) and steps ahead (default 1). */
  window?: number;
  horizon?: number;
  /** Fraction held out as the test set (the end of the data; default 0.2). */
  testFraction?: number;
  /** A trained model's vocabularies and scaling (evaluate, predict): used instead of new ones. */
  tokens?: string[];
  labels?: string[];
  scaler?: Scaling;
  /** predict: the label / tag / target field may be missing. */
  unlabelled?: boolean;
}

export interface Scaling {
  mean: number[];
  sd: number[];
  targetMean: number;
  targetSd: number;
  window: number;
  horizon: number;
  columns: string[];
  target: string;
}

function splitAt<T>(xs: T[], f: number): [T[], T[]] {
  if (f >= 1) return [[], xs];
  const k = Math.max(1, Math.min(xs.length - 1, Math.round(xs.length * (1 - f))));
  return [xs.slice(0, k), xs.slice(k)];
}

function needRows(file: string, n: number, what: string): void {
  if (n < 2) throw new DataError(file, null, `needs at least 2 ${what}, found ${n}`);
}

/** CSV time series with a header row; columns chosen by name. */
export async function readCsvSeries(file: string, o: ReadOptions = {}): Promise<Problem> {
  let header: string[] | null = null;
  let cols: number[] = [];
  let tcol = -1;
  const rows: number[][] = [];
  const targets: number[] = [];
  await eachLine(file, (line, n) => {
    if (line.trim() === '') return;
    const cells = line.split(',').map((c) => c.trim());
    if (header === null) {
      header = cells;
      const name = o.scaler?.target ?? o.target ?? header.at(-1)!;
      tcol = header.indexOf(name);
      if (tcol < 0) throw new DataError(file, n, `no column named '${name}' (columns: ${header.join(', ')})`);
      const want = o.scaler?.columns ?? o.columns ?? header.filter((_, i) => i !== tcol);
      cols = want.map((c) => {
        const i = header!.indexOf(c);
        if (i < 0) throw new DataError(file, n, `no column named '${c}' (columns: ${header!.join(', ')})`);
        return i;
      });
      if (cols.length === 0) cols = [tcol];
      return;
    }
    if (cells.length !== header.length)
      throw new DataError(file, n, `expected ${header.length} comma-separated values, found ${cells.length}`);
    const num = (i: number) => {
      const v = Number(cells[i]);
      if (cells[i] === '' || !Number.isFinite(v))
        throw new DataError(file, n, `column '${header![i]}': '${cells[i]}' is not a finite number`);
      return v;
    };
    rows.push(cols.map(num));
    targets.push(num(tcol));
  });
  if (header === null) throw new DataError(file, null, 'empty file (expected a header row of column names)');
  const W = o.scaler?.window ?? o.window ?? 16,
    H = o.scaler?.horizon ?? o.horizon ?? 1;
  if (rows.length < W + H + (o.scaler ? 0 : 2))
    throw new DataError(file, null, `needs more than ${W + H + 1} rows for window ${W}, found ${rows.length}`);
  // standardize with the training part's statistics
  const [trRows] = splitAt(rows, o.testFraction ?? 0.2);
  const F = cols.length;
  const mean = new Array<number>(F).fill(0),
    sd = new Array<number>(F).fill(0);
  for (const r of trRows) r.forEach((v, j) => (mean[j]! += v / trRows.length));
  for (const r of trRows) r.forEach((v, j) => (sd[j]! += (v - mean[j]!) ** 2 / trRows.length));
  let s = sd.map((v) => Math.sqrt(v) || 1);
  const tt = targets.slice(0, trRows.length);
  let tm = tt.reduce((a, b) => a + b, 0) / Math.max(1, tt.length);
  let ts = Math.sqrt(tt.reduce((a, b) => a + (b - tm) ** 2, 0) / Math.max(1, tt.length)) || 1;
  if (o.scaler) {
    mean.splice(0, F, ...o.scaler.mean);
    s = o.scaler.sd;
    tm = o.scaler.targetMean;
    ts = o.scaler.targetSd;
  }
  const z = rows.map((r) => r.map((v, j) => (v - mean[j]!) / s[j]!));
  const inputs: number[][][] = [],
    ys: number[][] = [];
  for (let t = W - 1; t + H < rows.length; t++) {
    inputs.push(z.slice(t - W + 1, t + 1));
    ys.push([(targets[t + H]! - tm) / ts]);
  }
  const [a, b] = splitAt(inputs, o.testFraction ?? 0.2);
  const [ya, yb] = splitAt(ys, o.testFraction ?? 0.2);
  const delays = [...new Set([0, Math.floor(W / 4), Math.floor(W / 2), W - 1])];
  return {
    task: file,
    mode: 'forecast',
    description: `forecast '${o.target ?? 'last column'}' ${H} step(s) ahead from windows of ${W} rows of ${F} column(s)`,
    train: { inputs: a, targets: ya },
    test: { inputs: b, targets: yb },
    model: {
      type: 'tdnn',
      inputSize: F,
      layers: [{ units: 20, delays }],
      outputSize: 1,
      task: 'regression',
      pooling: 'last',
    },
    fit: { epochs: 50, batchSize: 32, optimizer: { type: 'adam', lr: 0.005 } },
    scaler: {
      mean,
      sd: s,
      targetMean: tm,
      targetSd: ts,
      window: W,
      horizon: H,
      columns: cols.map((i) => header![i]!),
      target: header![tcol]!,
    },
  } as Problem;
}

/** Plain text for a language model. */
export async function readText(file: string, o: ReadOptions = {}): Promise<Problem> {
  const parts: string[] = [];
  await eachLine(file, (line) => parts.push(line));
  const text = parts.join('\n') + '\n';
  if (text.trim().length < 20)
    throw new DataError(file, null, `needs some text to learn from, found ${text.trim().length} characters`);
  const k = Math.round(text.length * (1 - (o.testFraction ?? 0.1)));
  return {
    task: file,
    mode: 'lm',
    description: `character language model on ${file}`,
    text: { train: text.slice(0, k), test: text.slice(k) },
    model: { type: 'lm', cell: 'lstm', embeddingDim: 32, hiddenSize: 128 },
    fit: { epochs: 5, batchSize: 16, seqLen: 64, optimizer: { type: 'adam', lr: 0.003 }, clipNorm: 5 },
  };
}

function tsvFields(file: string, line: string, n: number, what: string, unlabelled = false): [string, string] {
  const f = line.split('\t');
  if (unlabelled && f.length === 1 && f[0]!.trim() !== '') return [f[0]!.trim(), ''];
  if (f.length !== 2) throw new DataError(file, n, `expected ${what} separated by one tab, found ${f.length} field(s)`);
  if (f[0]!.trim() === '' || f[1]!.trim() === '') throw new DataError(file, n, `empty field (expected ${what})`);
  return [f[0]!.trim(), f[1]!.trim()];
}

/** Whitespace-separated numbers (one feature per step) or tokens (an embedding) per sequence. */
function sequences(seqs: string[][], known?: string[]): { inputs: unknown[]; tokens?: string[] } {
  const numeric = !known && seqs.every((s) => s.every((w) => w !== '' && Number.isFinite(Number(w))));
  if (numeric) return { inputs: seqs.map((s) => s.map((w) => [Number(w)])) };
  const tokens = known ?? ['<unk>', ...new Set(seqs.flat())];
  const id = new Map(tokens.map((t, i) => [t, i]));
  return { inputs: seqs.map((s) => s.map((w) => id.get(w) ?? 0)), tokens };
}

/** TSV `sequence<TAB>label`: sequence classification. */
export async function readClassify(file: string, o: ReadOptions = {}): Promise<Problem> {
  const seqs: string[][] = [],
    labs: string[] = [];
  await eachLine(file, (line, n) => {
    if (line.trim() === '') return;
    const [s, l] = tsvFields(file, line, n, 'a sequence and a label', o.unlabelled);
    if (o.labels && !o.unlabelled && !o.labels.includes(l))
      throw new DataError(file, n, `label '${l}' is not one of the model's labels (${o.labels.join(', ')})`);
    seqs.push(s.split(/\s+/));
    labs.push(l);
  });
  needRows(file, seqs.length, 'labelled sequences');
  const labels = o.labels ?? [...new Set(labs)].sort();
  if (labels.length < 2) throw new DataError(file, null, `needs at least 2 distinct labels, found ${labels.length}`);
  const { inputs, tokens } = sequences(seqs, o.tokens);
  const targets = labs.map((l) => Math.max(0, labels.indexOf(l)));
  const [a, b] = splitAt(inputs, o.testFraction ?? 0.2);
  const [ya, yb] = splitAt(targets, o.testFraction ?? 0.2);
  return {
    task: file,
    mode: 'classify',
    description: `sequence classification of ${file} (${labels.length} classes)`,
    train: { inputs: a, targets: ya },
    test: { inputs: b, targets: yb },
    labels,
    tokens,
    model: tokens
      ? {
          type: 'classifier',
          cell: 'lstm',
          vocabSize: tokens.length,
          embeddingDim: 32,
          hiddenSize: 64,
          outputSize: labels.length,
        }
      : { type: 'classifier', cell: 'lstm', inputSize: 1, hiddenSize: 64, outputSize: labels.length },
    fit: { epochs: 10, batchSize: 32, optimizer: { type: 'adam', lr: 0.003 } },
  };
}

/** TSV `token<TAB>tag` lines, a blank line between sentences: sequence labelling. */
export async function readTagged(file: string, o: ReadOptions = {}): Promise<Problem> {
  const sents: string[][] = [],
    tagss: string[][] = [];
  let w: string[] = [],
    t: string[] = [];
  const flush = () => {
    if (w.length) {
      sents.push(w);
      tagss.push(t);
    }
    w = [];
    t = [];
  };
  await eachLine(file, (line, n) => {
    if (line.trim() === '') return flush();
    const [a, b] = tsvFields(file, line, n, 'a token and a tag', o.unlabelled);
    if (o.labels && !o.unlabelled && !o.labels.includes(b))
      throw new DataError(file, n, `tag '${b}' is not one of the model's tags (${o.labels.join(', ')})`);
    w.push(a);
    t.push(b);
  });
  flush();
  needRows(file, sents.length, 'sentences (separated by blank lines)');
  const labels = o.labels ?? [...new Set(tagss.flat())].sort();
  const tokens = o.tokens ?? ['<unk>', ...new Set(sents.flat())];
  const id = new Map(tokens.map((x, i) => [x, i]));
  const inputs = sents.map((s) => s.map((x) => id.get(x) ?? 0));
  const targets = tagss.map((s) => s.map((x) => Math.max(0, labels.indexOf(x))));
  const [a, b] = splitAt(inputs, o.testFraction ?? 0.2);
  const [ya, yb] = splitAt(targets, o.testFraction ?? 0.2);
  return {
    task: file,
    mode: 'tag',
    description: `sequence labelling of ${file} (${labels.length} tags)`,
    train: { inputs: a, targets: ya },
    test: { inputs: b, targets: yb },
    labels,
    tokens,
    model: {
      type: 'tagger',
      cell: 'lstm',
      vocabSize: tokens.length,
      embeddingDim: 32,
      hiddenSize: 64,
      bidirectional: true,
      outputSize: labels.length,
    },
    fit: { epochs: 10, batchSize: 32, optimizer: { type: 'adam', lr: 0.005 } },
  };
}

/** TSV `source<TAB>target`: sequence to sequence, character by character. */
export async function readPairs(file: string, o: ReadOptions = {}): Promise<Problem> {
  const sources: string[] = [],
    targets: string[] = [];
  await eachLine(file, (line, n) => {
    if (line.trim() === '') return;
    const [s, t] = tsvFields(file, line, n, 'a source and a target', o.unlabelled);
    sources.push(s);
    targets.push(t);
  });
  needRows(file, sources.length, 'source/target pairs');
  const [sa, sb] = splitAt(sources, o.testFraction ?? 0.2);
  const [ta, tb] = splitAt(targets, o.testFraction ?? 0.2);
  return {
    task: file,
    mode: 'seq2seq',
    description: `sequence to sequence (characters) on ${file}`,
    pairs: { train: { sources: sa, targets: ta }, test: { sources: sb, targets: tb } },
    model: { type: 'seq2seq', cell: 'lstm', embeddingDim: 32, hiddenSize: 128, attention: 'general' },
    fit: { epochs: 10, batchSize: 32, optimizer: { type: 'adam', lr: 0.003 }, clipNorm: 5 },
  };
}

export const READERS: Record<string, (file: string, o?: ReadOptions) => Promise<Problem>> = {
  classify: readClassify,
  tag: readTagged,
  seq2seq: readPairs,
  lm: readText,
  forecast: readCsvSeries,
};
