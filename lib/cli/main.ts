// The `rnnkit` command (bin/rnnkit.js): train, predict, generate, evaluate, inspect, bench, info.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { backendInfo, cudaInfo } from '../index';
import { loadCheckpointSync } from '../checkpoint';
import { LanguageModel } from '../models/language-model';
import { Seq2Seq } from '../models/seq2seq';
import { findTask, TASKS, type Problem } from '../tasks';
import { DataError, READERS, type ReadOptions, type Scaling } from './readers';
import { deviceFor, evaluateOn, loadModel, runBeside, train, UsageError } from './run';

// yargs 17 ships no types of its own; the few calls used here are typed by hand
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yargs = require('yargs') as (argv: string[]) => Argv;
interface Argv {
  scriptName(n: string): Argv;
  usage(u: string): Argv;
  command(cmd: string, desc: string, builder: (y: Argv) => Argv, handler: (a: Args) => Promise<void>): Argv;
  option(name: string, o: Record<string, unknown>): Argv;
  positional(name: string, o: Record<string, unknown>): Argv;
  demandCommand(n: number, msg: string): Argv;
  strict(): Argv;
  fail(f: (msg: string | null, err: Error | null) => void): Argv;
  help(): Argv;
  version(v: string): Argv;
  epilogue(s: string): Argv;
  wrap(n: number | null): Argv;
  parseAsync(): Promise<unknown>;
}
type Args = Record<string, unknown>;

const MODES = ['classify', 'tag', 'seq2seq', 'lm', 'forecast'];
const CONFIG_KEYS = [
  'task',
  'data',
  'mode',
  'seed',
  'epochs',
  'tiny',
  'device',
  'columns',
  'target',
  'window',
  'horizon',
  'model',
  'fit',
];

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

/** Reads a JSON file; a syntax error names the file and line. */
function readJson(file: string, what: string): Record<string, unknown> {
  if (!existsSync(file)) throw new UsageError(`${file}: no such ${what} file`);
  const text = readFileSync(file, 'utf8');
  try {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v))
      throw new DataError(file, 1, `${what} must be a JSON object`);
    return v as Record<string, unknown>;
  } catch (e) {
    if (e instanceof DataError) throw e;
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    const line = pos ? text.slice(0, Number(pos[1])).split('\n').length : null;
    const lc = /line (\d+)/.exec(msg);
    throw new DataError(file, line ?? (lc ? Number(lc[1]) : null), `invalid JSON: ${msg}`);
  }
}

function readOptions(a: Args): ReadOptions {
  return {
    columns:
      typeof a.columns === 'string' ? a.columns.split(',').map((s) => s.trim()) : (a.columns as string[] | undefined),
    target: a.target as string | undefined,
    window: a.window as number | undefined,
    horizon: a.horizon as number | undefined,
  };
}

/** The problem of a run: a built-in task or the user's data, then the config file's and flags' overrides. */
async function problemOf(a: Args): Promise<Problem> {
  const cfg = a.config ? readJson(String(a.config), 'config') : {};
  for (const k of Object.keys(cfg))
    if (!CONFIG_KEYS.includes(k))
      throw new DataError(String(a.config), null, `unknown field '${k}'; known fields: ${CONFIG_KEYS.join(', ')}`);
  const get = (k: string) => (a[k] !== undefined ? a[k] : cfg[k]);
  const seed = Number(get('seed') ?? 1);
  const tiny = Boolean(get('tiny'));
  let p: Problem;
  const data = get('data') as string | undefined;
  if (data !== undefined) {
    if (get('task') !== undefined) throw new UsageError('give --task or --data, not both');
    const mode = get('mode') as string | undefined;
    if (mode === undefined) throw new UsageError(`--data ${data} needs --mode (${MODES.join(', ')})`);
    if (!MODES.includes(mode)) throw new UsageError(`--mode ${mode}: not one of ${MODES.join(', ')}`);
    p = await READERS[mode]!(data, readOptions({ ...cfg, ...a }));
  } else {
    const name = String(get('task') ?? 'adding');
    const t = findTask(name);
    if (!t) throw new UsageError(`--task ${name}: no such task; tasks: ${TASKS.map((x) => x.name).join(', ')}`);
    p = t.make(seed, tiny);
  }
  for (const [k, what] of [
    ['model', 'model'],
    ['fit', 'fit'],
  ] as const) {
    const v = cfg[k];
    if (v !== undefined && (v === null || typeof v !== 'object' || Array.isArray(v)))
      throw new DataError(String(a.config), null, `'${what}' must be an object of ${what} options`);
  }
  p.model = { ...p.model, seed, ...((cfg.model as object) ?? {}) };
  p.fit = { ...p.fit, seed, ...((cfg.fit as object) ?? {}) };
  const epochs = get('epochs');
  if (epochs !== undefined) p.fit.epochs = epochs;
  if (tiny && a.epochs === undefined && (cfg.fit as Args | undefined)?.epochs === undefined) p.fit.epochs = 1;
  return p;
}

/** The run description needed to rebuild a model's problem (evaluate, predict). */
function sourceOf(a: Args): Record<string, unknown> {
  const s: Record<string, unknown> = {};
  for (const k of [
    'task',
    'data',
    'mode',
    'config',
    'seed',
    'epochs',
    'tiny',
    'device',
    'columns',
    'target',
    'window',
    'horizon',
  ])
    if (a[k] !== undefined) s[k] = k === 'data' || k === 'config' ? resolve(String(a[k])) : a[k];
  return s;
}

interface RunMeta {
  mode: string;
  task: string;
  labels?: string[];
  tokens?: string[];
  scaler?: Scaling;
  source: Args;
}

function metaOf(model: string): RunMeta | null {
  return runBeside(model) as RunMeta | null;
}

async function cmdTrain(a: Args): Promise<void> {
  const p = await problemOf(a);
  const source = sourceOf(a);
  await train(p, { out: String(a.out), device: a.device as string | undefined, quiet: Boolean(a.quiet), source });
  // run.json: the whole configuration, so that `rnnkit train --config DIR/run.json` repeats the run
  const { config: _c, epochs: _e, ...rest } = source;
  const run = { ...rest, seed: p.fit.seed, model: p.model, fit: p.fit };
  writeFileSync(join(resolve(String(a.out)), 'run.json'), JSON.stringify(run, null, 2) + '\n');
}

/** Data of a trained model's kind: --data read with the model's vocabularies, or the run's own test split. */
async function dataFor(a: Args, meta: RunMeta | null, unlabelled: boolean): Promise<Problem> {
  const mode = (a.mode as string | undefined) ?? meta?.mode;
  if (a.data !== undefined) {
    if (!mode) throw new UsageError('--mode is needed (no metrics.json beside the model names it)');
    const m = mode === 'regress' ? 'forecast' : mode;
    if (!READERS[m]) throw new UsageError(`--mode ${mode}: not one of ${MODES.join(', ')}`);
    return READERS[m]!(String(a.data), {
      testFraction: 1,
      labels: meta?.labels,
      tokens: meta?.tokens,
      scaler: meta?.scaler,
      unlabelled,
    });
  }
  if (!meta) throw new UsageError('give --data FILE (no metrics.json beside the model to rebuild its test data from)');
  return problemOf({ ...meta.source, out: undefined });
}

async function cmdEvaluate(a: Args): Promise<void> {
  const meta = metaOf(String(a.model));
  const model = await loadModel(String(a.model), deviceFor(a.device as string | undefined));
  const p = await dataFor(a, meta, false);
  const { final, samples } = await evaluateOn(model, p);
  if (a.json) process.stdout.write(JSON.stringify(final) + '\n');
  else {
    for (const [k, v] of Object.entries(final)) process.stdout.write(`${k}: ${Number(v.toPrecision(5))}\n`);
    for (const s of samples.slice(0, 5)) process.stdout.write(`  ${s}\n`);
  }
}

const argmax = (r: number[]) => r.reduce((b, v, i) => (v > r[b]! ? i : b), 0);

async function cmdPredict(a: Args): Promise<void> {
  const meta = metaOf(String(a.model));
  const model = await loadModel(String(a.model), deviceFor(a.device as string | undefined));
  if (model instanceof LanguageModel) throw new UsageError(`${a.model} is a language model: use rnnkit generate`);
  const p = await dataFor(a, meta, true);
  const w = (s: string) => process.stdout.write(s + '\n');
  if (model instanceof Seq2Seq) {
    const src = p.pairs!.test.sources;
    for (const d of model.greedy(src, { maxLength: Number(a['max-length'] ?? 100) })) w(d.text);
    return;
  }
  const pred = (await model.predictAsync(p.test!.inputs as never)) as unknown[];
  const lab = (i: number) => meta?.labels?.[i] ?? String(i);
  const mode = meta?.mode ?? p.mode;
  for (const r of pred) {
    if (mode === 'classify') w(lab(argmax(r as number[])));
    else if (
      mode === 'tag' &&
      meta?.labels &&
      typeof (r as number[][])[0]?.[0] === 'number' &&
      model.config.task !== 'multilabel'
    )
      w((r as number[][]).map((s) => lab(argmax(s))).join(' '));
    else if (mode === 'forecast' && meta?.scaler)
      w(String((r as number[])[0]! * meta.scaler.targetSd + meta.scaler.targetMean));
    else w(JSON.stringify(r));
  }
}

async function cmdGenerate(a: Args): Promise<void> {
  const model = await loadModel(String(a.model), deviceFor(a.device as string | undefined));
  if (!(model instanceof LanguageModel))
    throw new UsageError(`${a.model} is a ${model.type}, not a language model (generate needs one)`);
  const prompt = String(a.prompt ?? '');
  const text = model.generate(prompt, {
    maxTokens: a.length as number,
    temperature: a.temperature as number,
    topK: (a['top-k'] as number | undefined) ?? null,
    seed: a.seed as number,
  });
  process.stdout.write(prompt + text + '\n');
}

async function cmdInspect(a: Args): Promise<void> {
  const file = String(a.file);
  if (!existsSync(file)) throw new UsageError(`${file}: no such model file`);
  const ck = loadCheckpointSync(file);
  const meta = ck.meta as { type?: string; options?: unknown; training?: { epoch?: number; step?: number } };
  const model = await loadModel(file);
  const params = model
    .parameters()
    .map((e) => ({ name: e.name, shape: e.shape, size: e.shape.reduce((x, y) => x * y, 1) }));
  const total = params.reduce((x, e) => x + e.size, 0);
  const run = metaOf(file) as
    | (RunMeta & { history?: Array<Record<string, unknown>>; final?: Record<string, number> })
    | null;
  if (a.json) {
    process.stdout.write(
      JSON.stringify({
        type: meta.type,
        options: meta.options,
        epoch: model.epoch,
        parameters: { total, tensors: params },
        history: run?.history ?? null,
        final: run?.final ?? null,
      }) + '\n',
    );
    return;
  }
  const w = (s: string) => process.stdout.write(s + '\n');
  w(`${file}: ${meta.type}, trained for ${model.epoch} epoch(s)`);
  w(`options: ${JSON.stringify(meta.options)}`);
  w(`parameters: ${total.toLocaleString('en-US')}`);
  for (const e of params) w(`  ${e.name.padEnd(32)} ${e.shape.join(' x ').padEnd(14)} ${e.size}`);
  if (run?.history) {
    w(`history (${run.task}, from metrics.json):`);
    for (const e of run.history)
      w(
        `  epoch ${String(e.epoch).padStart(3)}  loss ${Number(e.loss).toFixed(4)}  ` +
          `val_loss ${e.valLoss === null ? '-' : Number(e.valLoss).toFixed(4)}  ` +
          `|g| ${Number(e.gradNorm).toFixed(3)}  lr ${Number(e.lr).toPrecision(3)}`,
      );
    if (run.final)
      w(
        `final: ${Object.entries(run.final)
          .map(([k, v]) => `${k} ${Number(v.toPrecision(4))}`)
          .join(', ')}`,
      );
  } else w('history: no metrics.json beside the file');
}

function cmdBench(a: Args): void {
  const script = join(__dirname, '..', '..', 'bench', 'run.mjs');
  if (!existsSync(script)) {
    process.stdout.write(
      'rnnkit bench: bench/run.mjs is missing from this install (the package ships it; reinstall rnnkit)\n',
    );
    return;
  }
  const argv: string[] = [];
  for (const k of ['workloads', 'threads', 'gemm', 'rounds'] as const)
    if (a[k] !== undefined) argv.push(`--${k}`, String(a[k]));
  if (a.quick) argv.push('--quick');
  if (a.json) argv.push('--json');
  if (a.baselines === false) argv.push('--no-baselines');
  const r = spawnSync(process.execPath, [script, ...argv], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
}

/** One line on the CUDA backend: the device and its GEMM, or why it is unavailable. */
function cudaSummary(): string {
  const c = cudaInfo();
  if (!c.available) return `unavailable (${c.reason})`;
  const gb = c.totalBytes ? `, ${(c.totalBytes / 2 ** 30).toFixed(1)} GiB` : '';
  return `${c.device}${c.emulated ? '' : ` (compute ${c.computeCapability}${gb})`}, gemm ${c.gemm}`;
}

function cmdInfo(a: Args): void {
  const info = {
    ...backendInfo(),
    devices: cudaInfo().available ? ['cpu', 'cuda'] : ['cpu'],
    cuda: cudaSummary(),
    rnnkit: version(),
    node: process.version,
    napi: process.versions.napi,
    platform: `${process.platform}-${process.arch}`,
  };
  if (a.json) process.stdout.write(JSON.stringify(info) + '\n');
  else
    for (const [k, v] of Object.entries(info))
      process.stdout.write(`${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}\n`);
}

const modelOpt = { type: 'string', demandOption: true, describe: 'model file (model.rnnkit of a run)' };
const device = { type: 'string', describe: 'device to run on: cpu (default) or cuda' };

export async function main(argv: string[]): Promise<number> {
  // output piped into `head`: a closed pipe ends the command quietly
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  let code = 0;
  const fail = (msg: string) => {
    process.stderr.write(`rnnkit: ${msg}\nRun 'rnnkit --help' for usage.\n`);
    code = 2;
  };
  // yargs validates unknown options after a command's handler has started: the handler only
  // records the command, which runs once parsing has succeeded
  let chosen: (() => Promise<void> | void) | null = null;
  const wrap = (f: (a: Args) => Promise<void> | void) => async (a: Args) => {
    chosen = () => f(a);
  };
  const parser = yargs(argv);
  try {
    await parser
      .scriptName('rnnkit')
      .usage('$0 <command> [options]')
      .command(
        'train',
        'train a model on a built-in task (default: adding) or on your data',
        (y) =>
          y
            .option('task', { type: 'string', describe: `built-in task: ${TASKS.map((t) => t.name).join(', ')}` })
            .option('data', { type: 'string', describe: 'your data file (with --mode)' })
            .option('mode', { type: 'string', choices: MODES, describe: 'how to read --data' })
            .option('config', { type: 'string', describe: 'run.json: task/data and every model and fit option' })
            .option('device', device)
            .option('epochs', { type: 'number', describe: 'epochs (overrides the task and config)' })
            .option('out', { type: 'string', default: 'rnnkit-run', describe: 'output folder' })
            .option('seed', { type: 'number', describe: 'seed of data, initialization and shuffling (default 1)' })
            .option('tiny', { type: 'boolean', describe: 'a budget of seconds (small data, 1 epoch)' })
            .option('columns', { type: 'string', describe: 'forecast CSV: input columns, comma-separated' })
            .option('target', { type: 'string', describe: 'forecast CSV: column to forecast (default the last)' })
            .option('window', { type: 'number', describe: 'forecast CSV: steps of history (default 16)' })
            .option('horizon', { type: 'number', describe: 'forecast CSV: steps ahead (default 1)' })
            .option('quiet', { type: 'boolean', describe: 'no progress output' }),
        wrap(cmdTrain),
      )
      .command(
        'predict',
        "predict with a trained model (--data, or the run's own test data)",
        (y) =>
          y
            .option('model', modelOpt)
            .option('data', { type: 'string', describe: 'inputs in the format of the training mode (labels optional)' })
            .option('mode', { type: 'string', choices: MODES })
            .option('max-length', { type: 'number', describe: 'seq2seq: longest output' })
            .option('device', device),
        wrap(cmdPredict),
      )
      .command(
        'generate',
        'generate text with a language model',
        (y) =>
          y
            .option('model', modelOpt)
            .option('prompt', { type: 'string', default: '' })
            .option('length', { type: 'number', default: 200, describe: 'tokens to generate' })
            .option('temperature', { type: 'number', default: 0.8 })
            .option('top-k', { type: 'number', describe: 'sample among the k most likely tokens' })
            .option('seed', { type: 'number', default: 0 })
            .option('device', device),
        wrap(cmdGenerate),
      )
      .command(
        'evaluate',
        "metrics of a trained model on --data (labelled) or on the run's own test data",
        (y) =>
          y
            .option('model', modelOpt)
            .option('data', { type: 'string' })
            .option('mode', { type: 'string', choices: MODES })
            .option('json', { type: 'boolean' })
            .option('device', device),
        wrap(cmdEvaluate),
      )
      .command(
        'inspect <file>',
        'architecture, parameter counts and training history of a model file',
        (y) => y.positional('file', { type: 'string' }).option('json', { type: 'boolean' }),
        wrap(cmdInspect),
      )
      .command(
        'bench',
        'time the W1–W6 workloads (with PyTorch and onnxruntime-node beside them where installed)',
        (y) =>
          y
            .option('workloads', { type: 'string', describe: 'comma-separated, e.g. W1,W5b1 (default: all)' })
            .option('quick', { type: 'boolean', describe: 'fewer iterations' })
            .option('rounds', { type: 'number', describe: 'interleaved rounds (default 5)' })
            .option('json', { type: 'boolean' })
            .option('threads', { type: 'number' })
            .option('gemm', { type: 'string', choices: ['openblas', 'builtin'] })
            .option('baselines', { type: 'boolean', default: true, describe: '--no-baselines: rnnkit only' }),
        wrap(cmdBench),
      )
      .command(
        'info',
        'backend, GEMM, SIMD, threads, devices, versions',
        (y) => y.option('json', { type: 'boolean' }),
        wrap(cmdInfo),
      )
      .demandCommand(1, 'give a command: train, predict, generate, evaluate, inspect, bench or info')
      .strict()
      .fail((msg, err) => {
        if (err) throw err;
        fail(msg ?? 'bad arguments');
      })
      .epilogue('Docs: docs/cli.md. Default run: rnnkit train (writes ./rnnkit-run/report.html).')
      .version(version())
      .wrap(Math.min(120, process.stdout.columns ?? 100))
      .help()
      .parseAsync();
    if (code === 0 && chosen) await (chosen as () => Promise<void> | void)();
  } catch (e) {
    const err = e as Error;
    // expected problems: one line, no stack trace
    const known =
      err instanceof UsageError ||
      err instanceof DataError ||
      err instanceof TypeError ||
      err instanceof RangeError ||
      err.name === 'CheckpointError';
    process.stderr.write(`rnnkit: ${known ? err.message : String(err.stack ?? err)}\n`);
    return known && !(err instanceof DataError) ? 2 : 1;
  }
  return code || (typeof process.exitCode === 'number' ? process.exitCode : 0);
}
