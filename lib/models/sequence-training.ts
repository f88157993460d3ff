// How one batch of a SequenceClassifier or SequenceTagger is trained: backpropagation through
// time over whole sequences or truncated windows (the state carried between windows, and
// between batches in stateful mode), or gradients carried forward in time (RTRL, SnAp-1, UORO).
// The trainer (lib/train/trainer.ts) runs the update after each window.
import type { DType } from '../backend';
import { CpuDevice } from '../device/cpu';
import type { Device } from '../device/device';
import type { Tensor } from '../device/tensor';
import { runAsync, runSync } from '../exec';
import type { HostArray } from '../native';
import type { Scratch } from '../graph/tape';
import type { Act, Ctx, Layer, RecurrentState, VecAct } from '../layers/layer';
import { copyStates } from '../layers/layer';
import { ExactRtrl } from '../online/exact-rtrl';
import type { OnlineAlgorithm } from '../online/exact-rtrl';
import type { Rng } from '../rng';
import type { Sequential } from '../sequential';
import { targetsOnDevice, toDevice } from '../train/data';
import type { DataSpec, HostBatch, HostTargets } from '../train/data';
import { computeLoss, countCorrect } from '../train/losses';
import { isNonFiniteInput } from '../train/pipeline';
import { BatchStats, emptyStats, StepRunner } from '../train/trainer';

/** What the batch code needs of its model. */
export interface SequenceNet {
  readonly what: string;
  readonly net: Sequential;
  readonly spec: DataSpec;
  readonly dtype: DType;
  readonly device: Device;
  readonly config: Record<string, unknown>;
  rng(): Rng;
  ctx(async: boolean, training: boolean, scratch: Scratch): Ctx;
}

/**
 * BPTT over the windows [t0, t1) of a batch (one window: whole sequences). `carried` holds the
 * recurrent states entering the first window and receives those leaving the last one.
 */
export async function trainWindows(
  m: SequenceNet,
  batch: HostBatch,
  windows: Array<[number, number]>,
  carried: Map<Layer, RecurrentState>,
  classWeights: Tensor | null,
  run: StepRunner,
): Promise<{ stats: BatchStats; carried: Map<Layer, RecurrentState> }> {
  const s = emptyStats();
  let skipped = false;
  const keep = windows.length > 1 || windows[0][1] !== batch.T || carried.size > 0;
  for (const [t0, t1] of windows) {
    run.checkAbort();
    const w = toDevice(
      m.device,
      t0 === 0 && t1 === batch.T ? batch : sliceWindow(batch, t0, t1, m.spec.level === 'step'),
    );
    const ctx = m.ctx(true, true, run.scratch);
    ctx.initialStates = carried;
    m.net.params.zeroGrad();
    let out: Act, r: ReturnType<typeof computeLoss>;
    try {
      out = await runAsync(m.net.forward(w.x, ctx));
      if (keep) carried = copyStates(m.device, ctx.finalStates);
      // a sequence-level loss sits on the final state: only the last window of a batch has it
      if (m.spec.level === 'sequence' && t1 !== batch.T) continue;
      r = computeLoss(m.device, m.spec.task, out, w.y!, classWeights);
      if (!Number.isFinite(r.loss) && run.nonFinite(`loss ${r.loss}`)) {
        skipped = true;
        continue;
      }
      await runAsync(m.net.backward(r.grad, ctx));
    } catch (e) {
      // a kernel refused a non-finite activation between layers (diverged weights)
      if (isNonFiniteInput(e) && run.nonFinite(`activations (${e.message})`)) {
        skipped = true;
        continue;
      }
      throw e;
    }
    const u = await run.update();
    if (u.skipped) {
      skipped = true;
      continue;
    }
    const c = countCorrect(m.device, m.spec.task, out, w.y!);
    s.lossSum += r.loss * r.count;
    s.count += r.count;
    s.normSum += u.gradNorm;
    s.updates++;
    s.correct += c.correct;
    s.total += c.total;
  }
  s.skipped = skipped && s.updates === 0;
  return { stats: s, carried };
}

/**
 * One batch with gradients carried forward in time (RTRL, SnAp-1, UORO): the recurrent stack
 * steps through the batch, the head's loss is taken at every valid step (taggers) or at each
 * sequence's last step (classifiers), and one update follows, as with BPTT.
 */
export async function trainOnline(
  m: SequenceNet,
  batch: HostBatch,
  learning: OnlineAlgorithm,
  classWeights: HostArray | null,
  run: StepRunner,
): Promise<BatchStats> {
  const dev = m.device;
  if (!(dev instanceof CpuDevice) || !dev.capabilities.online) {
    throw new RangeError(
      `${m.what}: learning '${learning}' runs on host memory and needs a device with the 'online' capability (CPU); device '${dev.name}' has none`,
    );
  }
  const c = m.config;
  const x = batch.x,
    y = batch.y!;
  if (x.kind !== 'seq') throw new RangeError(`${m.what}: learning '${learning}' needs feature inputs`);
  const { T, B, F } = x;
  const H = c.hiddenSize as number,
    O = m.spec.outSize;
  const P = m.net.params;
  const hostP = dev.hostMemory(P.params) as HostArray,
    hostG = dev.hostMemory(P.grads) as HostArray;
  const rnnOffset = P.list().find((e) => e.name === 'rnn.weight_ih_l0')!.offset;
  const engine = new ExactRtrl(dev.kernels, {
    algorithm: learning,
    seed: m.rng().nextU32(),
    cell: c.cell === 'rnn' ? 'elman' : (c.cell as 'lstm' | 'gru'),
    inputSize: F,
    hiddenSize: H,
    numLayers: c.numLayers as number,
    activation: c.activation as 'tanh',
    gruVariant: c.gruVariant as 'pytorch',
    dtype: m.dtype,
  });
  engine.reset(B);
  P.zeroGrad();
  const rnnParams = hostP.subarray(rnnOffset, rnnOffset + engine.P),
    rnnGrads = hostG.subarray(rnnOffset, rnnOffset + engine.P);
  const head = m.net.layers[m.net.layers.length - 1];
  const lengths = x.lengths ?? new Int32Array(B).fill(T);
  const seqLevel = m.spec.level === 'sequence';
  const alloc = (n: number): HostArray => (m.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n));
  // BPTT's loss is one mean over every counted row (weighted by class weights): each step's
  // share of it is its rows' total weight over the batch's
  const rowWeight = (t: number, b: number) =>
    y.kind === 'classes' && classWeights ? classWeights[y.data[seqLevel ? b : t * B + b]] : 1;
  let totalWeight = 0;
  for (let b = 0; b < B; b++) {
    if (seqLevel) totalWeight += rowWeight(lengths[b] - 1, b);
    else for (let t = 0; t < lengths[b]; t++) totalWeight += rowWeight(t, b);
  }
  const weights = classWeights ? dev.fromHost(classWeights) : null;
  const s = emptyStats();
  let loss = 0;
  try {
    for (let t = 0; t < T; t++) {
      const h = engine.step(x.data.subarray(t * B * F, (t + 1) * B * F), rnnParams);
      const rows: number[] = [];
      for (let b = 0; b < B; b++) if (seqLevel ? t === lengths[b] - 1 : t < lengths[b]) rows.push(b);
      if (rows.length === 0) continue;
      const ctx = m.ctx(false, true, run.scratch);
      const out = runSync(head.forward({ kind: 'vec', data: dev.fromHost(h, [B, H]), B, F: H }, ctx, P)) as VecAct;
      const outH = dev.hostMemory(out.data) as HostArray;
      // the loss of this step: its counted rows only, weighted as in the batch-wide mean of BPTT
      const subH = alloc(rows.length * O);
      rows.forEach((b, i) => subH.set(outH.subarray(b * O, (b + 1) * O), i * O));
      const sub: VecAct = { kind: 'vec', data: dev.fromHost(subH, [rows.length, O]), B: rows.length, F: O };
      const tRow = (b: number) => (seqLevel ? b : t * B + b);
      let targetsH: HostTargets;
      if (y.kind === 'classes') targetsH = { kind: 'classes', data: Int32Array.from(rows, (b) => y.data[tRow(b)]) };
      else {
        const d = alloc(rows.length * O);
        rows.forEach((b, i) => d.set(y.data.subarray(tRow(b) * O, (tRow(b) + 1) * O), i * O));
        targetsH = { kind: 'values', data: d };
      }
      const targets = targetsOnDevice(dev, targetsH);
      const r = computeLoss(dev, m.spec.task, sub, targets, weights);
      if (!Number.isFinite(r.loss) && run.nonFinite(`loss ${r.loss}`)) return { ...emptyStats(), skipped: true };
      const dOut = alloc(B * O);
      const share = rows.reduce((a, b2) => a + rowWeight(t, b2), 0) / totalWeight;
      const gH = dev.hostMemory(r.grad.data as Tensor) as HostArray;
      rows.forEach((b, i) => {
        for (let j = 0; j < O; j++) dOut[b * O + j] = gH[i * O + j] * share;
      });
      const dh = runSync(head.backward({ kind: 'vec', data: dev.fromHost(dOut, [B, O]), B, F: O }, ctx, P)) as VecAct;
      engine.accumulate(dev.hostMemory(dh.data) as HostArray, rnnGrads);
      const cc = countCorrect(dev, m.spec.task, sub, targets);
      loss += r.loss * share;
      s.count += rows.length;
      s.correct += cc.correct;
      s.total += cc.total;
    }
  } catch (e) {
    // as with BPTT: a kernel refused a non-finite activation (diverged weights); the batch's
    // gradients are dropped and 'skip' goes on with the next batch, 'error' names the batch
    if (isNonFiniteInput(e) && run.nonFinite(`activations (${e.message})`)) {
      P.zeroGrad();
      return { ...emptyStats(), skipped: true };
    }
    throw e;
  }
  const u = await run.update();
  if (u.skipped) return { ...emptyStats(), skipped: true };
  // loss is already the batch-wide (weighted) mean, as BPTT reports it
  s.lossSum = loss * s.count;
  s.normSum = u.gradNorm;
  s.updates = 1;
  return s;
}

/** The windows [t0, t1) of T steps, k at a time (one window: the whole sequence). */
export function splitWindows(T: number, k: number | null): Array<[number, number]> {
  if (k === null) return [[0, T]];
  const w: Array<[number, number]> = [];
  for (let t = 0; t < T; t += k) w.push([t, Math.min(T, t + k)]);
  return w;
}

/** Steps [t0, t1) of a batch, lengths clipped to the window (padding carries the state). */
export function sliceWindow(b: HostBatch, t0: number, t1: number, perStep: boolean): HostBatch {
  const W = t1 - t0,
    B = b.B;
  const x = b.x;
  const lens = x.lengths ? Int32Array.from(x.lengths, (l) => Math.max(0, Math.min(W, l - t0))) : null;
  const xs: HostBatch['x'] =
    x.kind === 'ids'
      ? { kind: 'ids', data: x.data.slice(t0 * B, t1 * B), T: W, B, lengths: lens }
      : { kind: 'seq', data: x.data.slice(t0 * B * x.F, t1 * B * x.F), T: W, B, F: x.F, lengths: lens };
  let y: HostTargets | null = b.y;
  if (y && perStep) {
    // per-step targets are time-major [T*B] or [T*B,O]; sequence targets stay whole
    const per = y.data.length / (b.T * B);
    y =
      y.kind === 'classes'
        ? { kind: 'classes', data: y.data.slice(t0 * B, t1 * B) }
        : { kind: 'values', data: y.data.slice(t0 * B * per, t1 * B * per) };
  }
  return { x: xs, y, B, T: W };
}
