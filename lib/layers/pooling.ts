import { FieldSpec, resolveOptions } from '../options';
import type { Gen } from '../exec';
import { Act, ActShape, Ctx, Layer, SeqAct, allocLike, expectKind } from './layer';

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
    const y = allocLike(ctx.dtype, B * F);
    const mode = this.config.mode;
    const am = mode === 'max' ? new Int32Array(B * F).fill(-1) : null;
    for (let b = 0; b < B; b++) {
      const len = s.lengths ? s.lengths[b] : T;
      if (len === 0) continue;
      if (mode === 'last') {
        y.set(s.data.subarray(((len - 1) * B + b) * F, ((len - 1) * B + b + 1) * F), b * F);
      } else if (mode === 'mean') {
        for (let t = 0; t < len; t++) for (let j = 0; j < F; j++) y[b * F + j] += s.data[(t * B + b) * F + j];
        for (let j = 0; j < F; j++) y[b * F + j] /= len;
      } else {
        for (let j = 0; j < F; j++) {
          let best = -Infinity, at = 0;
          for (let t = 0; t < len; t++) { const v = s.data[(t * B + b) * F + j]; if (v > best) { best = v; at = t; } }
          y[b * F + j] = best;
          am![b * F + j] = at;
        }
      }
    }
    if (ctx.training) ctx.tape.record(this, { s, am });
    return { kind: 'vec', data: y, B, F };
  }

  *backward(dy: Act, ctx: Ctx): Gen<Act | null> {
    const { s, am } = ctx.tape.take<{ s: SeqAct; am: Int32Array | null }>(this, 'TimePooling');
    if (dy.kind !== 'vec') throw new Error('TimePooling.backward: expected a vec gradient');
    const { T, B, F } = s;
    const dx = this.buffer(ctx, 'dx', ctx.dtype, T * B * F, true);
    for (let b = 0; b < B; b++) {
      const len = s.lengths ? s.lengths[b] : T;
      if (len === 0) continue;
      for (let j = 0; j < F; j++) {
        const g = dy.data[b * F + j];
        if (this.config.mode === 'last') dx[((len - 1) * B + b) * F + j] = g;
        else if (this.config.mode === 'mean') for (let t = 0; t < len; t++) dx[(t * B + b) * F + j] = g / len;
        else dx[(am![b * F + j] * B + b) * F + j] = g;
      }
    }
    return { ...s, data: dx };
  }
}
