// Losses on model outputs, each returning the mean loss and dLoss/dOutput, computed on the
// device (the loss comes back as the one scalar of a step). Padding steps never count.
import type { Device } from '../device/device';
import type { Tensor } from '../device/tensor';
import type { Act, Lengths } from '../layers/layer';

export type Task = 'classification' | 'regression' | 'multilabel';

/** Targets on the device: class ids [N] (int32; time-major [T*B] for steps) or values [N,O]. */
export type Targets = { kind: 'classes'; data: Tensor } | { kind: 'values'; data: Tensor };

export const IGNORE = -100;

export interface LossResult {
  loss: number;
  grad: Act;
  count: number;
}

/** Rows that count: a [T*B] mask of valid steps (computed on the host from the lengths, uploaded once per batch). */
function validRows(device: Device, out: Act): { mask: Tensor | null; count: number } {
  if (out.kind !== 'seq') return { mask: null, count: out.B };
  if (!out.lengths) return { mask: null, count: out.T * out.B };
  const l = out.lengths as Lengths & { mask?: Tensor; count?: number };
  if (!l.mask) {
    const m = new Uint8Array(out.T * out.B);
    let n = 0;
    for (let t = 0; t < out.T; t++)
      for (let b = 0; b < out.B; b++)
        if (t < l.host[b]) {
          m[t * out.B + b] = 1;
          n++;
        }
    l.mask = device.fromHost(m);
    l.count = n;
  }
  return { mask: l.mask, count: l.count! };
}

export function computeLoss(
  device: Device,
  task: Task,
  out: Act,
  y: Targets,
  classWeights: Tensor | null,
  grad?: Tensor,
): LossResult {
  if (out.kind === 'ids') throw new Error('loss: model output cannot be token ids');
  const N = out.kind === 'seq' ? out.T * out.B : out.B,
    F = out.F;
  const g = grad ?? device.alloc(out.data.dtype, [N * F]);
  const { mask, count } = validRows(device, out);
  const result = (loss: number) => ({ loss, grad: { ...out, data: g } as Act, count });
  if (task === 'classification') {
    if (y.kind !== 'classes') throw new TypeError('loss: classification needs class ids');
    return result(
      device.softmaxCrossEntropy({
        N,
        C: F,
        logits: out.data,
        targets: y.data,
        weights: classWeights,
        mask,
        ignoreIndex: IGNORE,
        dlogits: g,
      }),
    );
  }
  if (y.kind !== 'values') throw new TypeError(`loss: ${task} needs target values`);
  if (count === 0) {
    device.fill(g, 0);
    return result(0);
  }
  if (task === 'regression')
    return result(device.mseLoss({ n: N * F, F, pred: out.data, target: y.data, mask, dpred: g }));
  return result(device.sigmoidBce({ N, F, logits: out.data, targets: y.data, mask, dlogits: g }));
}

/** Correct predictions and counted rows (classes: argmax; multilabel: every label right at 0.5). */
export function countCorrect(device: Device, task: Task, out: Act, y: Targets): { correct: number; total: number } {
  if (out.kind === 'ids' || task === 'regression') return { correct: 0, total: 0 };
  const N = out.kind === 'seq' ? out.T * out.B : out.B,
    F = out.F;
  const { mask } = validRows(device, out);
  if (task === 'classification')
    return device.countCorrect({ N, C: F, logits: out.data, targets: y.data, mask, ignoreIndex: IGNORE });
  return device.countCorrectMultilabel({ N, F, logits: out.data, targets: y.data, mask });
}
