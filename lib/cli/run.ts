// What the `rnnkit` subcommands do, apart from parsing arguments (main.ts).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadCheckpointSync } from '../checkpoint';
import { cpuDevice } from '../device/cpu';
import { cudaDevice, cudaInfo } from '../device/cuda';
import type { Device } from '../device/device';
import { SequenceModel } from '../models/base';
import { LanguageModel } from '../models/language-model';
import { SequenceClassifier, SequenceTagger } from '../models/ready';
import { Seq2Seq } from '../models/seq2seq';
import { TDNN } from '../models/tdnn';
import type { Problem, Split } from '../tasks';
import { Vocabulary } from '../text/vocab';
import type { BatchInfo, EpochInfo, History, Metrics } from '../train/fit-options';
import { Progress } from './progress';
import { lineChart, renderReport, type Series } from './report';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type AnyModel = SequenceModel | LanguageModel | Seq2Seq;

export function deviceFor(name: string | undefined): Device | undefined {
  if (name === undefined || name === 'cpu') return name === undefined ? undefined : cpuDevice();
  if (name === 'cuda') {
    const info = cudaInfo();
    if (!info.available) throw new UsageError(`--device cuda: not available here (${info.reason})`);
    return cudaDevice() as unknown as Device;
  }
  throw new UsageError(`--device ${name}: unknown; the devices are cpu and cuda`);
}

/** Builds the model a problem asks for (options as in the library's constructors). */
export function buildModel(p: Problem, device: Device | undefined): AnyModel {
  const { type, ...opts } = p.model;
  const o = { ...opts, ...(device ? { device } : {}) } as never;
  switch (type) {
    case 'classifier':
      return new SequenceClassifier(o);
    case 'tagger':
      return new SequenceTagger(o);
    case 'tdnn':
      return new TDNN(o);
    case 'lm':
      return new LanguageModel({
        vocabulary: Vocabulary.characters(p.text!.train + p.text!.test),
        ...(o as object),
      } as never);
    case 'seq2seq': {
      const pr = p.pairs!;
      const src = Vocabulary.characters([...pr.train.sources, ...pr.test.sources].join(''));
      const tgt = Vocabulary.characters([...pr.train.targets, ...pr.test.targets].join(''));
      return new Seq2Seq({ sourceVocabulary: src, targetVocabulary: tgt, ...(o as object) } as never);
    }
    default:
      throw new UsageError(`model.type '${String(type)}' is not one of classifier, tagger, tdnn, lm, seq2seq`);
  }
}

/** Loads any model file, choosing the loader from the file's type. */
export async function loadModel(file: string, device?: Device): Promise<AnyModel> {
  if (!existsSync(file)) throw new UsageError(`${file}: no such model file`);
  const type = (loadCheckpointSync(file).meta as { type?: string }).type;
  const o = device ? { device } : {};
  if (type === 'LanguageModel') return LanguageModel.load(file, o);
  if (type === 'Seq2Seq') return Seq2Seq.load(file, o);
  return SequenceModel.load(file, o);
}

const argmax = (r: number[]) => r.reduce((b, v, i) => (v > r[b]! ? i : b), 0);

export interface RunInfo {
  problem: Problem;
  modelFile: string;
  metrics: Record<string, unknown>;
}

/** Evaluates a model on a problem's test part: the library's metrics plus the task's own score. */
export async function evaluateOn(
  model: AnyModel,
  p: Problem,
): Promise<{ final: Record<string, number>; samples: string[] }> {
  const final: Record<string, number> = {};
  const samples: string[] = [];
  const put = (m: object) => {
    for (const [k, v] of Object.entries(m)) if (typeof v === 'number') final[k] = v;
  };
  if (model instanceof LanguageModel) {
    put(await model.evaluate(p.text!.test));
    const prompts = p
      .text!.test.split('\n')
      .filter((l) => l.length > 3)
      .slice(0, 3);
    for (const [i, pr] of prompts.entries()) {
      const start = pr.slice(0, Math.min(8, pr.length));
      samples.push(JSON.stringify(start + model.generate(start, { maxTokens: 120, temperature: 0.7, seed: i })));
    }
  } else if (model instanceof Seq2Seq) {
    const { sources, targets } = p.pairs!.test;
    put(await model.evaluate(sources, targets));
    const out = model.greedy(sources, { maxLength: Math.max(...targets.map((t) => t.length)) + 5 });
    let exact = 0;
    out.forEach((d, i) => (exact += d.text === targets[i] ? 1 : 0));
    final.exactMatch = exact / sources.length;
    out
      .slice(0, 12)
      .forEach((d, i) =>
        samples.push(`${sources[i]}  ->  ${d.text}  (target ${targets[i]})${d.text === targets[i] ? '' : '  (!)'}`),
      );
  } else {
    const test = p.test!;
    put(await model.evaluate(test.inputs as never, test.targets as never));
    const pred = (await model.predictAsync(test.inputs as never)) as unknown[];
    if (p.score) Object.assign(final, p.score(pred, test));
    for (let i = 0; i < Math.min(8, pred.length); i++)
      samples.push(
        p.show
          ? p.show(test.inputs[i], pred[i], test.targets[i])
          : defaultShow(p, test.inputs[i], pred[i], test.targets[i]),
      );
  }
  return { final, samples };
}

function defaultShow(p: Problem, x: unknown, pred: unknown, y: unknown): string {
  const lab = (i: number) => p.labels?.[i] ?? String(i);
  const tok = (t: unknown) => (typeof t === 'number' ? (p.tokens?.[t] ?? String(t)) : JSON.stringify(t));
  if (p.mode === 'classify')
    return `${(x as unknown[]).map(tok).join(' ').slice(0, 80)}  ->  ${lab(argmax(pred as number[]))}  (label ${lab(y as number)})`;
  if (p.mode === 'tag')
    return (x as unknown[]).map((w, t) => `${tok(w)}/${lab(argmax((pred as number[][])[t]!))}`).join(' ');
  return `target ${JSON.stringify(y)}  predicted ${JSON.stringify((pred as number[]).map((v) => Number(v.toPrecision(4))))}`;
}

export interface TrainOptions {
  out: string;
  device?: string;
  quiet?: boolean;
  stdout?: NodeJS.WriteStream;
  source: Record<string, unknown>;
}

function countBatches(p: Problem, fit: Record<string, unknown>): { batches: number; items: number; unit: string } {
  const B = Number(fit.batchSize ?? 32);
  if (p.mode === 'lm') {
    const T = Number(fit.seqLen ?? 64);
    return { batches: Math.max(1, Math.ceil((p.text!.train.length - 1) / B / T)), items: B * T, unit: 'tok' };
  }
  const n = p.mode === 'seq2seq' ? p.pairs!.train.sources.length : p.train!.inputs.length;
  return { batches: Math.max(1, Math.ceil(n / B)), items: B, unit: 'seq' };
}

/** Trains a problem's model, then writes model.rnnkit, metrics.json and report.html into `out`. */
export async function train(p: Problem, o: TrainOptions): Promise<RunInfo> {
  const device = deviceFor(o.device);
  const out = resolve(o.out);
  mkdirSync(out, { recursive: true });
  const model = buildModel(p, device);
  const stdout = o.stdout ?? process.stdout;
  const { batches, items, unit } = countBatches(p, p.fit);
  const epochs = Number(p.fit.epochs ?? 1);
  const progress = new Progress(stdout, epochs, batches, items, unit);
  const batchLog: Array<Pick<BatchInfo, 'step' | 'loss' | 'gradNorm' | 'lr'>> = [];
  const epochLog: Array<EpochInfo & { seconds: number }> = [];
  let t = Date.now();
  const t0 = t;
  const cb = {
    onBatchEnd: (b: BatchInfo) => {
      batchLog.push({ step: b.step, loss: b.loss, gradNorm: b.gradNorm, lr: b.lr });
      if (!o.quiet) progress.batch(b);
    },
    onEpochEnd: (e: EpochInfo) => {
      epochLog.push({ ...e, seconds: (Date.now() - t) / 1000 });
      t = Date.now();
      if (!o.quiet) progress.epoch(e, '');
    },
  };
  const n =
    p.mode === 'seq2seq'
      ? p.pairs!.train.sources.length
      : p.mode === 'lm'
        ? p.text!.train.length
        : p.train!.inputs.length;
  if (!o.quiet)
    stdout.write(
      `rnnkit train: ${p.description}\n${n} training ${p.mode === 'lm' ? 'characters' : 'examples'}, ${epochs} epoch(s), model ${p.model.type}\n`,
    );
  let history: History;
  if (model instanceof LanguageModel)
    history = await model.fit(p.text!.train, { ...p.fit, validationText: p.text!.test, ...cb } as never);
  else if (model instanceof Seq2Seq)
    history = await model.fit(p.pairs!.train.sources, p.pairs!.train.targets, {
      ...p.fit,
      validationData: { inputs: p.pairs!.test.sources, targets: p.pairs!.test.targets },
      ...cb,
    } as never);
  else
    history = await model.fit(
      p.train!.inputs as never,
      p.train!.targets as never,
      { ...p.fit, validationData: { inputs: p.test!.inputs, targets: p.test!.targets }, ...cb } as never,
    );
  const seconds = (Date.now() - t0) / 1000;
  const { final, samples } = await evaluateOn(model, p);
  const modelFile = join(out, 'model.rnnkit');
  await model.save(modelFile);
  const parameters = model
    .parameters()
    .map((e) => ({ name: e.name, shape: e.shape, size: e.shape.reduce((a, b) => a * b, 1) }));
  const total = parameters.reduce((a, e) => a + e.size, 0);
  const { score: _s, show: _sh, train: _tr, test: _te, text: _tx, pairs: _pa, ...meta } = p;
  const metrics = {
    rnnkit: 'run',
    ...meta,
    source: o.source,
    modelFile: 'model.rnnkit',
    parameters: { total, tensors: parameters },
    seconds,
    stoppedEarly: history.stoppedEarly,
    outOfTime: history.outOfTime,
    history: epochLog.map((e) => ({ ...e, epoch: e.epoch + 1 })),
    batches: batchLog,
    final,
    samples,
  };
  writeFileSync(join(out, 'metrics.json'), JSON.stringify(metrics, null, 1) + '\n');
  writeFileSync(join(out, 'report.html'), report(metrics as never, p, parameters));
  if (!o.quiet) {
    stdout.write(
      `\nfinal (test): ${Object.entries(final)
        .map(([k, v]) => `${k} ${Number(v.toPrecision(4))}`)
        .join(', ')}\n`,
    );
    for (const s of samples.slice(0, 4)) stdout.write(`  ${s}\n`);
    stdout.write(`${total.toLocaleString('en-US')} parameters, ${seconds.toFixed(1)} s of training\n`);
    stdout.write(`wrote ${modelFile}, ${join(out, 'metrics.json')}, ${join(out, 'report.html')}\n`);
  }
  model.dispose();
  return { problem: p, modelFile, metrics };
}

type Hist = Array<EpochInfo & { seconds: number }>;
function report(
  m: {
    history: Hist;
    batches: BatchInfo[];
    final: Record<string, number>;
    samples: string[];
    seconds: number;
  } & Record<string, unknown>,
  p: Problem,
  parameters: Array<{ name: string; shape: number[]; size: number }>,
): string {
  const h = m.history;
  const ser = (name: string, f: (e: EpochInfo) => number | null | undefined): Series => ({
    name,
    points: h.map((e) => [e.epoch, f(e) ?? NaN] as [number, number]),
  });
  const charts = [
    lineChart('Loss', [ser('training', (e) => e.loss), ser('validation', (e) => e.valLoss)], 'epoch', true),
  ];
  const keys = [...new Set(h.flatMap((e) => Object.keys(e.valMetrics ?? {}).filter((k) => k !== 'loss')))];
  if (keys.length)
    charts.push(
      lineChart(
        'Validation metrics',
        keys.map((k) => ser(k, (e) => (e.valMetrics as Metrics | null)?.[k as keyof Metrics])),
        'epoch',
      ),
    );
  const every = Math.max(1, Math.floor(m.batches.length / 400));
  const thin = m.batches.filter((_, i) => i % every === 0);
  charts.push(lineChart('Batch loss', [{ name: 'loss', points: thin.map((b) => [b.step, b.loss]) }], 'step', true));
  charts.push(
    lineChart(
      'Gradient norm (before clipping)',
      [{ name: '|g|', points: thin.map((b) => [b.step, b.gradNorm]) }],
      'step',
      true,
    ),
  );
  charts.push(lineChart('Learning rate', [{ name: 'lr', points: thin.map((b) => [b.step, b.lr]) }], 'step'));
  const last = h.at(-1);
  return renderReport({
    title: `rnnkit run: ${p.task}`,
    description: p.description,
    summary: [
      ['mode', p.mode],
      ['model', p.model.type],
      ['epochs', h.length],
      ['training time', `${m.seconds.toFixed(1)} s`],
      ['final training loss', last ? Number(last.loss.toPrecision(4)) : '-'],
      ['final validation loss', last?.valLoss != null ? Number(last.valLoss.toPrecision(4)) : '-'],
    ],
    charts,
    final: m.final,
    samples: m.samples,
    samplesTitle: p.mode === 'lm' ? 'Generated text' : 'Sample predictions (test set)',
    parameters,
    config: { model: p.model, fit: p.fit, source: m.source },
  });
}

/** The metrics.json beside a model file, if any. */
export function runBeside(modelFile: string): Record<string, unknown> | null {
  const f = join(dirname(resolve(modelFile)), 'metrics.json');
  if (!existsSync(f)) return null;
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

export type { Split };
