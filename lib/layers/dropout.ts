import { FieldSpec, resolveOptions } from '../options';
import type { Gen } from '../exec';
import type { Tensor } from '../device/tensor';
import { Act, ActShape, Ctx, Layer } from './layer';

/** Options of a Dropout layer. */
export interface DropoutOptions {
  /** Probability of zeroing an element while training, in [0, 1). Default 0.5. */
  p?: number;
}
export const DROPOUT_OPTIONS: Record<keyof DropoutOptions, FieldSpec> = {
  p: { type: 'number', min: 0, max: 0.999999, default: 0.5, doc: 'drop probability' },
};

/** Inverted dropout while training (kept elements scaled by 1/(1-p)); identity otherwise. */
export class Dropout extends Layer {
  readonly type = 'Dropout';
  readonly config: Required<DropoutOptions>;

  constructor(options: DropoutOptions = {}) {
    super();
    this.config = resolveOptions('Dropout', DROPOUT_OPTIONS, options);
  }
  build(input: ActShape): ActShape {
    if (input.kind === 'ids') throw new TypeError('Dropout: expected a seq or vec input, received token ids');
    return input;
  }
  initialize(): void {}

  *forward(x: Act, ctx: Ctx): Gen<Act> {
    if (x.kind === 'ids') throw new TypeError('Dropout: expected a seq or vec input, received token ids');
    if (!ctx.training || this.config.p === 0) {
      if (ctx.training) ctx.tape.record(this, null);
      return x;
    }
    const n = x.data.size;
    const mask = this.buffer(ctx, 'mask', ctx.dtype, n);
    ctx.device.dropoutMask({ p: this.config.p, seed: ctx.rng.seed(), mask });
    const y = this.buffer(ctx, 'y', ctx.dtype, n);
    ctx.device.mul({ n, x: x.data, y: mask, out: y });
    ctx.tape.record(this, mask);
    return { ...x, data: y };
  }

  *backward(dy: Act, ctx: Ctx): Gen<Act | null> {
    if (dy.kind === 'ids') throw new Error('Dropout.backward: unexpected ids');
    const m = ctx.tape.take<Tensor | null>(this, 'Dropout');
    if (!m) return dy;
    const n = dy.data.size;
    const dx = this.buffer(ctx, 'dx', ctx.dtype, n);
    ctx.device.mul({ n, x: dy.data, y: m, out: dx });
    return { ...dy, data: dx };
  }
}
