// How one batch of a SequenceClassifier or SequenceTagger is trained: backpropagation through
// time over whole sequences or truncated windows (the state carried between windows, and
// between batches in stateful mode), or gradients carried forward in time (RTRL, SnAp-1, UORO).
// The trainer (lib/train/trainer.ts) runs the update after each window.
import { cpu } from '../cpu-backend';
import type { DType } from '../backend';
import { runAsync, runSync } from '../exec';
import type { HostArray } from '../native';
import type { Scratch } from '../graph/tape';
import type { Act, Ctx, Layer, RecurrentState, SeqAct, VecAct } from '../layers/layer';
import { allocLike, copyStates } from '../layers/layer';
import { ExactRtrl } from '../online/exact-rtrl';
import type { OnlineAlgorithm } from '../online/exact-rtrl';
import type { Rng } from '../rng';
import type { Sequential } from '../sequential';
import type { Batch, DataSpec } from '../train/data';
import { computeLoss, countCorrect, Targets } from '../train/losses';
import { isNonFiniteInput } from '../train/pipeline';
import { BatchStats, emptyStats, StepRunner } from '../train/trainer';

/** What the batch code needs of its model. */
export interface SequenceNet {
  readonly what: string;
  readonly net: Sequential;
  readonly spec: DataSpec;
  readonly dtype: DType;
  readonly config: Record<string, unknown>;
  rng(): Rng;
  ctx(async: boolean, training: boolean, scratch: Scratch): Ctx;
}

/**
 * BPTT over the windows [t0, t1) of a batch (one window: whole sequences). `carried` holds the
 * recurrent states entering the first window and receives those leaving the last one.
 */
export async function trainWindows(
  m: SequenceNet, batch: Batch, windows: Array<[number, number]>, carried: Map<Layer, RecurrentState>,
  classWeights: HostArray | null, run: StepRunner,
): Promise<{ stats: BatchStats; carried: Map<Layer, RecurrentState> }> {
  const s = emptyStats();
  let skipped = false;
  const keep = windows.length > 1 || windows[0][1] !== batch.T || carried.size > 0;
  for (const [t0, t1] of windows) {
    run.checkAbort();
    const w = t0 === 0 && t1 === batch.T ? batch : sliceWindow(batch, t0, t1, m.spec.level === 'step');
    const ctx = m.ctx(true, true, run.scratch);
    ctx.initialStates = carried;
    m.net.params.zeroGrad();
    let out: Act, r: ReturnType<typeof computeLoss>;
    try {
      out = await runAsync(m.net.forward(w.x, ctx));
      if (keep) carried = copyStates(ctx.finalStates);
      // a sequence-level loss sits on the final state: only the last window of a batch has it
      if (m.spec.level === 'sequence' && t1 !== batch.T) continue;
      r = computeLoss(cpu(), m.spec.task, out, w.y!, classWeights);
      if (!Number.isFinite(r.loss) && run.nonFinite(`loss ${r.loss}`)) { skipped = true; continue; }
      await runAsync(m.net.backward(r.grad, ctx));
    } catch (e) {
      // a kernel refused a non-finite activation between layers (diverged weights)
      if (isNonFiniteInput(e) && run.nonFinite(`activations (${e.message})`)) { skipped = true; continue; }
      throw e;
    }
    const u = await run.update();
    if (u.skipped) { skipped = true; continue; }
    const c = countCorrect(m.spec.task, out, w.y!);
    s.lossSum += r.loss * r.count; s.count += r.count; s.normSum += u.gradNorm; s.updates++;
    s.correct += c.correct; s.total += c.total;
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
  m: SequenceNet, batch: Batch, learning: OnlineAlgorithm, classWeights: HostArray | null, run: StepRunner,
): Promise<BatchStats> {
  const c = m.config;
  const x = batch.x as SeqAct, y = batch.y!;
  const { T, B, F } = x;
  const H = c.hiddenSize as number, O = m.spec.outSize;
  const P = m.net.params, g = P.grads;
  const rnnOffset = P.list().find((e) => e.name === 'rnn.weight_ih_l0')!.offset;
  const engine = new ExactRtrl(cpu(), {
    algorithm: learning, seed: m.rng().nextU32(), cell: c.cell === 'rnn' ? 'elman' : (c.cell as 'lstm' | 'gru'), inputSize: F,
    hiddenSize: H, numLayers: c.numLayers as number, activation: c.activation as 'tanh', gruVariant: c.gruVariant as 'pytorch', dtype: m.dtype,
  });
  engine.reset(B);
  P.zeroGrad();
  const rnnParams = P.params.subarray(rnnOffset, rnnOffset + engine.P), rnnGrads = g.subarray(rnnOffset, rnnOffset + engine.P);
  const head = m.net.layers[m.net.layers.length - 1];
  const lengths = x.lengths ?? new Int32Array(B).fill(T);
  const seqLevel = m.spec.level === 'sequence';
  // BPTT's loss is one mean over every counted row (weighted by class weights): each step's
  // share of it is its rows' total weight over the batch's
  const rowWeight = (t: number, b: number) => (y.kind === 'classes' && classWeights ? classWeights[y.data[seqLevel ? b : t * B + b]] : 1);
  let totalWeight = 0;
  for (let b = 0; b < B; b++) {
    if (seqLevel) totalWeight += rowWeight(lengths[b] - 1, b);
    else for (let t = 0; t < lengths[b]; t++) totalWeight += rowWeight(t, b);
  }
  const s = emptyStats();
  let loss = 0;
  for (let t = 0; t < T; t++) {
    const h = engine.step(x.data.subarray(t * B * F, (t + 1) * B * F), rnnParams);
    const rows: number[] = [];
    for (let b = 0; b < B; b++) if (seqLevel ? t === lengths[b] - 1 : t < lengths[b]) rows.push(b);
    if (rows.length === 0) continue;
    const ctx = m.ctx(false, true, run.scratch);
    const out = runSync(head.forward({ kind: 'vec', data: h, B, F: H }, ctx, P)) as VecAct;
    // the loss of this step: its counted rows only, weighted as in the batch-wide mean of BPTT
    const sub: VecAct = { kind: 'vec', data: allocLike(m.dtype, rows.length * O), B: rows.length, F: O };
    rows.forEach((b, i) => sub.data.set(out.data.subarray(b * O, (b + 1) * O), i * O));
    const tRow = (b: number) => (seqLevel ? b : t * B + b);
    let targets: Targets;
    if (y.kind === 'classes') targets = { kind: 'classes', data: Int32Array.from(rows, (b) => y.data[tRow(b)]) };
    else {
      const d = allocLike(m.dtype, rows.length * O);
      rows.forEach((b, i) => d.set(y.data.subarray(tRow(b) * O, (tRow(b) + 1) * O), i * O));
      targets = { kind: 'values', data: d };
    }
    const r = computeLoss(cpu(), m.spec.task, sub, targets, classWeights);
    if (!Number.isFinite(r.loss) && run.nonFinite(`loss ${r.loss}`)) return { ...emptyStats(), skipped: true };
    const dOut = allocLike(m.dtype, B * O);
    const share = rows.reduce((a, b2) => a + rowWeight(t, b2), 0) / totalWeight;
    rows.forEach((b, i) => { for (let j = 0; j < O; j++) dOut[b * O + j] = r.grad.data[i * O + j] * share; });
    const dh = runSync(head.backward({ kind: 'vec', data: dOut, B, F: O }, ctx, P)) as VecAct;
    engine.accumulate(dh.data, rnnGrads);
    const cc = countCorrect(m.spec.task, sub, targets);
    loss += r.loss * share; s.count += rows.length; s.correct += cc.correct; s.total += cc.total;
  }
  const u = await run.update();
  if (u.skipped) return { ...emptyStats(), skipped: true };
  // loss is already the batch-wide (weighted) mean, as BPTT reports it
  s.lossSum = loss * s.count; s.normSum = u.gradNorm; s.updates = 1;
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
export function sliceWindow(b: Batch, t0: number, t1: number, perStep: boolean): Batch {
  const W = t1 - t0, B = b.B;
  const x = b.x;
  const lens = x.kind !== 'vec' && x.lengths ? Int32Array.from(x.lengths, (l) => Math.max(0, Math.min(W, l - t0))) : null;
  let xs: Act;
  if (x.kind === 'ids') xs = { kind: 'ids', data: x.data.slice(t0 * B, t1 * B), T: W, B, lengths: lens };
  else if (x.kind === 'seq') xs = { kind: 'seq', data: x.data.slice(t0 * B * x.F, t1 * B * x.F), T: W, B, F: x.F, lengths: lens };
  else xs = x;
  let y: Targets | null = b.y;
  if (y && perStep) { // per-step targets are time-major [T*B] or [T*B,O]; sequence targets stay whole
    const per = y.data.length / (b.T * B);
    y = y.kind === 'classes' ? { kind: 'classes', data: y.data.slice(t0 * B, t1 * B) } : { kind: 'values', data: y.data.slice(t0 * B * per, t1 * B * per) };
  }
  return { x: xs, y, B, T: W };
}
