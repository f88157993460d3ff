import { FieldSpec, resolveOptions } from '../options';
import type { Gen } from '../exec';
import type { Tensor } from '../device/tensor';
import { Act, ActShape, Ctx, Layer, SeqAct, expectKind } from './layer';

/** Options of a pooling-over-time layer. */
export interface PoolingOptions {
  /** 'last' valid step (default), 'mean' over valid steps, or 'max' over valid steps. */
  mode?: 'last' | 'mean' | 'max';
}
export const POOLING_OPTIONS: Record<keyof PoolingOptions, FieldSpec> = {
  mode: { type: 'enum', values: ['last', 'mean', 'max'], default: 'last', doc: 'how steps are pooled' },
};

/** [T,B,F] → [B,F] over each sequence's valid steps (a zero-length sequence pools to 0). */
export class TimePooling extends Layer {
  readonly type = 'TimePooling';
  readonly config: Required<PoolingOptions>;

  constructor(options: PoolingOptions = {}) {
    super();
    this.config = resolveOptions('TimePooling', POOLING_OPTIONS, options);
  }
  build(input: ActShape): ActShape {
    if (input.kind !== 'seq') throw new TypeError(`TimePooling: expected a seq input, received a ${input.kind} input`);
    return { kind: 'vec', F: input.F };
  }
  initialize(): void {}

  *forward(x: Act, ctx: Ctx): Gen<Act> {
    const s = expectKind('TimePooling', x, 'seq');
    const { T, B, F } = s;
    const y = this.buffer(ctx, 'y', ctx.dtype, B * F);
    const argmax = this.buffer(ctx, 'argmax', 'int32', B * F);
    ctx.device.timePoolForward({
      T,
      B,
      F,
      mode: this.config.mode,
      x: s.data,
      lengths: s.lengths?.dev ?? null,
      y,
      argmax,
    });
    if (ctx.training) ctx.tape.record(this, { s, argmax });
    return { kind: 'vec', data: y, B, F };
  }

  *backward(dy: Act, ctx: Ctx): Gen<Act | null> {
    const { s, argmax } = ctx.tape.take<{ s: SeqAct; argmax: Tensor }>(this, 'TimePooling');
    if (dy.kind !== 'vec') throw new Error('TimePooling.backward: expected a vec gradient');
    const { T, B, F } = s;
    const dx = this.buffer(ctx, 'dx', ctx.dtype, T * B * F, true);
    ctx.device.timePoolBackward({
      T,
      B,
      F,
      mode: this.config.mode,
      dy: dy.data,
      lengths: s.lengths?.dev ?? null,
      argmax: this.config.mode === 'max' ? argmax : null,
      dx,
    });
    return { ...s, data: dx };
  }
}
