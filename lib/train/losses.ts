// Losses on model outputs, each returning the mean loss and dLoss/dOutput. Padding steps of a
// sequence never count.
import type { Backend } from '../backend';
import type { HostArray } from '../native';
import type { Act } from '../layers/layer';
import { allocLike } from '../layers/layer';

export type Task = 'classification' | 'regression' | 'multilabel';

/** Targets in the model's internal layout: class ids [N] (time-major [T*B] for steps) or values [N,O]. */
export type Targets = { kind: 'classes'; data: Int32Array } | { kind: 'values'; data: HostArray };

export const IGNORE = -100;

export interface LossResult { loss: number; grad: Act; count: number }

/** Rows that count: all for vectors; valid steps for sequences. */
function validRows(out: Act): Uint8Array | null {
  if (out.kind !== 'seq' || !out.lengths) return null;
  const m = new Uint8Array(out.T * out.B);
  for (let t = 0; t < out.T; t++) for (let b = 0; b < out.B; b++) m[t * out.B + b] = t < out.lengths[b] ? 1 : 0;
  return m;
}

export function computeLoss(be: Backend<HostArray>, task: Task, out: Act, y: Targets, classWeights: HostArray | null): LossResult {
  if (out.kind === 'ids') throw new Error('loss: model output cannot be token ids');
  const N = out.kind === 'seq' ? out.T * out.B : out.B, F = out.F;
  const dtype = out.data instanceof Float64Array ? 'float64' : 'float32';
  const grad = allocLike(dtype, N * F);
  const mask = validRows(out);
  const count = mask ? mask.reduce((a, v) => a + v, 0) : N;
  if (task === 'classification') {
    if (y.kind !== 'classes') throw new TypeError('loss: classification needs class ids');
    const loss = be.softmaxCrossEntropy({ N, C: F, logits: out.data, targets: y.data, weights: classWeights, mask, ignoreIndex: IGNORE, dlogits: grad });
    return { loss, grad: { ...out, data: grad }, count };
  }
  if (y.kind !== 'values') throw new TypeError(`loss: ${task} needs target values`);
  let total = 0;
  const n = count * F;
  if (n === 0) return { loss: 0, grad: { ...out, data: grad }, count };
  for (let r = 0; r < N; r++) {
    if (mask && !mask[r]) continue;
    for (let j = 0; j < F; j++) {
      const i = r * F + j, z = out.data[i], t = y.data[i];
      if (task === 'regression') {
        const d = z - t;
        total += d * d;
        grad[i] = (2 * d) / n;
      } else {
        // binary cross-entropy on logits, numerically stable: max(z,0) - z t + log(1 + e^-|z|)
        total += Math.max(z, 0) - z * t + Math.log1p(Math.exp(-Math.abs(z)));
        grad[i] = (1 / (1 + Math.exp(-z)) - t) / n;
      }
    }
  }
  return { loss: total / n, grad: { ...out, data: grad }, count };
}

/** Correct predictions and counted rows (classes: argmax; multilabel: every label right at 0.5). */
export function countCorrect(task: Task, out: Act, y: Targets): { correct: number; total: number } {
  if (out.kind === 'ids' || task === 'regression') return { correct: 0, total: 0 };
  const N = out.kind === 'seq' ? out.T * out.B : out.B, F = out.F;
  const mask = validRows(out);
  let correct = 0, total = 0;
  for (let r = 0; r < N; r++) {
    if (mask && !mask[r]) continue;
    if (task === 'classification') {
      const t = (y.data as Int32Array)[r];
      if (t === IGNORE) continue;
      let best = 0;
      for (let j = 1; j < F; j++) if (out.data[r * F + j] > out.data[r * F + best]) best = j;
      total++;
      if (best === t) correct++;
    } else {
      total++;
      let ok = true;
      for (let j = 0; j < F; j++) if ((out.data[r * F + j] > 0) !== (y.data[r * F + j] > 0.5)) { ok = false; break; }
      if (ok) correct++;
    }
  }
  return { correct, total };
}
