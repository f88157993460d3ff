import { FieldSpec, resolveOptions } from '../options';
import type { Gen } from '../exec';
import { glorotUniform, uniform } from '../init';
import type { Tensor } from '../device/tensor';
import type { FlatParameters } from '../params';
import type { Rng } from '../rng';
import { Act, ActShape, Ctx, Layer } from './layer';

/** Options of a Linear layer (y = x Wᵀ + b on the last axis, PyTorch's nn.Linear layout). */
export interface LinearOptions {
  /** Output features O. Required. */
  outFeatures: number;
  /** Add a bias (default true). */
  bias?: boolean;
  /** 'glorot' (Keras glorot_uniform, default) or 'pytorch' (U(±1/sqrt(in)) for weight and bias). */
  init?: 'glorot' | 'pytorch';
  /** Full name of an [O, I] parameter to use as this layer's weight (weight tying, e.g. 'embedding.weight'); gradients add into it. */
  tiedTo?: string | null;
}
export const LINEAR_OPTIONS: Record<keyof LinearOptions, FieldSpec> = {
  outFeatures: { type: 'int', min: 1, doc: 'output features O' },
  bias: { type: 'bool', default: true, doc: 'add a bias' },
  init: { type: 'enum', values: ['glorot', 'pytorch'], default: 'glorot', doc: 'weight initializer' },
  tiedTo: { type: 'string', default: null, nullable: true, doc: 'shared weight parameter' },
};

/** Applies to a vector batch [B,F] or to every step of a sequence [T,B,F]. */
export class Linear extends Layer {
  readonly type = 'Linear';
  readonly config: Required<LinearOptions>;
  private inFeatures = 0;

  constructor(options: LinearOptions) {
    super();
    this.config = resolveOptions('Linear', LINEAR_OPTIONS, options);
  }

  private get weightName(): string {
    return this.config.tiedTo ?? this.p('weight');
  }

  build(input: ActShape, params: FlatParameters): ActShape {
    if (input.kind === 'ids')
      throw new TypeError('Linear: expected a seq or vec input, received token ids (add an Embedding first)');
    this.inFeatures = input.F;
    const tied = this.config.tiedTo;
    if (tied) {
      const e = params.list().find((x) => x.name === tied);
      if (!e) throw new RangeError(`Linear: tiedTo names no parameter registered before this layer: '${tied}'`);
      if (e.shape.length !== 2 || e.shape[0] !== this.config.outFeatures || e.shape[1] !== input.F) {
        throw new RangeError(
          `Linear: tiedTo '${tied}' must have shape [${this.config.outFeatures},${input.F}], received [${e.shape.join(',')}]`,
        );
      }
    } else params.add(this.p('weight'), [this.config.outFeatures, input.F]);
    if (this.config.bias) params.add(this.p('bias'), [this.config.outFeatures]);
    return { kind: input.kind, F: this.config.outFeatures };
  }

  initialize(params: FlatParameters, rng: Rng): void {
    const O = this.config.outFeatures,
      I = this.inFeatures;
    const tied = this.config.tiedTo !== null;
    if (this.config.init === 'pytorch') {
      if (!tied) params.init(this.weightName, (w) => uniform(w, 1 / Math.sqrt(I), rng));
      if (this.config.bias) params.init(this.p('bias'), (w) => uniform(w, 1 / Math.sqrt(I), rng));
    } else {
      if (!tied) params.init(this.weightName, (w) => glorotUniform(w, O, I, rng));
      if (this.config.bias) params.init(this.p('bias'), () => {});
    }
  }

  *forward(x: Act, ctx: Ctx, params: FlatParameters): Gen<Act> {
    if (x.kind === 'ids') throw new TypeError('Linear: expected a seq or vec input, received token ids');
    if (x.F !== this.inFeatures)
      throw new RangeError(`Linear: expected ${this.inFeatures} input features, received ${x.F}`);
    const N = x.kind === 'seq' ? x.T * x.B : x.B,
      O = this.config.outFeatures;
    const y = this.buffer(ctx, 'y', ctx.dtype, N * O);
    ctx.device.linearForward({
      N,
      I: this.inFeatures,
      O,
      x: x.data,
      weight: params.param(this.weightName),
      bias: this.config.bias ? params.param(this.p('bias')) : null,
      y,
    });
    if (ctx.training) ctx.tape.record(this, x);
    return x.kind === 'seq' ? { ...x, data: y, F: O } : { kind: 'vec', data: y, B: x.B, F: O };
  }

  /** @internal forward for N rows x [N,I] into y [N,O], a buffer the caller owns (decoder steps). */
  /** @internal weight [O,I] and bias [O] (or null), for the fused decoder step. */
  weights(params: FlatParameters): { weight: Tensor; bias: Tensor | null; I: number } {
    return {
      weight: params.param(this.weightName),
      bias: this.config.bias ? params.param(this.p('bias')) : null,
      I: this.inFeatures,
    };
  }

  applyInto(params: FlatParameters, x: Tensor, N: number, y: Tensor): void {
    params.device.linearForward({
      N,
      I: this.inFeatures,
      O: this.config.outFeatures,
      x,
      weight: params.param(this.weightName),
      bias: this.config.bias ? params.param(this.p('bias')) : null,
      y,
    });
  }

  *backward(dy: Act, ctx: Ctx, params: FlatParameters): Gen<Act | null> {
    const x = ctx.tape.take<Act>(this, 'Linear');
    if (x.kind === 'ids' || dy.kind === 'ids') throw new Error('Linear.backward: unexpected ids');
    const N = x.kind === 'seq' ? x.T * x.B : x.B;
    const dx = this.needsInputGrad ? this.buffer(ctx, 'dx', ctx.dtype, N * this.inFeatures, true) : null;
    ctx.device.linearBackward({
      N,
      I: this.inFeatures,
      O: this.config.outFeatures,
      x: x.data,
      weight: params.param(this.weightName),
      dy: dy.data,
      dx,
      dWeight: params.gradient(this.weightName),
      dBias: this.config.bias ? params.gradient(this.p('bias')) : null,
    });
    return dx ? { ...x, data: dx } : null;
  }
}
