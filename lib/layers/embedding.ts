import { FieldSpec, resolveOptions } from '../options';
import type { Tensor } from '../device/tensor';
import type { Gen } from '../exec';
import type { FlatParameters } from '../params';
import type { Rng } from '../rng';
import { Act, ActShape, Ctx, Layer, expectKind } from './layer';

/** Options of an Embedding layer (PyTorch's nn.Embedding: weight [V,E]). */
export interface EmbeddingOptions {
  /** Vocabulary size V: ids must lie in [0, V). Required. */
  numEmbeddings: number;
  /** Embedding size E. Required. */
  embeddingDim: number;
  /** An id whose row gets no gradient (padding), or null (default). */
  paddingIdx?: number | null;
}
export const EMBEDDING_OPTIONS: Record<keyof EmbeddingOptions, FieldSpec> = {
  numEmbeddings: { type: 'int', min: 1, doc: 'vocabulary size V' },
  embeddingDim: { type: 'int', min: 1, doc: 'embedding size E' },
  paddingIdx: { type: 'int', min: 0, default: null, nullable: true, doc: 'id that gets no gradient' },
};

/** Token ids [T,B] to vectors [T,B,E]. Initialized N(0,1) like PyTorch; the padding row is 0. */
export class Embedding extends Layer {
  readonly type = 'Embedding';
  readonly config: Required<EmbeddingOptions>;

  constructor(options: EmbeddingOptions) {
    super();
    this.config = resolveOptions('Embedding', EMBEDDING_OPTIONS, options);
    const pad = this.config.paddingIdx;
    if (pad !== null && pad >= this.config.numEmbeddings) {
      throw new RangeError(
        `Embedding: paddingIdx must be < numEmbeddings (${this.config.numEmbeddings}), received ${pad}`,
      );
    }
  }

  build(input: ActShape, params: FlatParameters): ActShape {
    if (input.kind !== 'ids')
      throw new TypeError(`Embedding: expected token ids as input, received a ${input.kind} input`);
    params.add(this.p('weight'), [this.config.numEmbeddings, this.config.embeddingDim]);
    return { kind: 'seq', F: this.config.embeddingDim };
  }

  initialize(params: FlatParameters, rng: Rng): void {
    const pad = this.config.paddingIdx,
      E = this.config.embeddingDim;
    params.init(this.p('weight'), (w) => {
      for (let i = 0; i < w.length; i++) w[i] = rng.normal();
      if (pad !== null) w.fill(0, pad * E, (pad + 1) * E);
    });
  }

  *forward(x: Act, ctx: Ctx, params: FlatParameters): Gen<Act> {
    const ids = expectKind('Embedding', x, 'ids');
    const { numEmbeddings: V, embeddingDim: E } = this.config;
    const N = ids.T * ids.B;
    const y = this.buffer(ctx, 'y', ctx.dtype, N * E);
    // The kernel refuses ids outside [0,V) with a RangeError naming the position.
    ctx.device.embeddingForward({ N, V, E, ids: ids.data, weight: params.param(this.p('weight')), y });
    if (ctx.training) ctx.tape.record(this, ids.data);
    return { kind: 'seq', data: y, T: ids.T, B: ids.B, F: E, lengths: ids.lengths };
  }

  /** @internal the table [V,E] (the fused decoder step reads it). */
  table(params: FlatParameters): Tensor {
    return params.param(this.p('weight'));
  }

  /** @internal forward for N ids [N] into y [N,E], a buffer the caller owns (decoder steps). */
  lookupInto(params: FlatParameters, ids: Tensor, N: number, y: Tensor): void {
    const { numEmbeddings: V, embeddingDim: E } = this.config;
    params.device.embeddingForward({ N, V, E, ids, weight: params.param(this.p('weight')), y });
  }

  *backward(dy: Act, ctx: Ctx, params: FlatParameters): Gen<Act | null> {
    const lastIds = ctx.tape.take<Tensor>(this, 'Embedding');
    if (dy.kind === 'ids') throw new Error('Embedding.backward: unexpected ids');
    const { numEmbeddings: V, embeddingDim: E, paddingIdx } = this.config;
    ctx.device.embeddingBackward({
      N: lastIds.size,
      V,
      E,
      ids: lastIds,
      dy: dy.data,
      dWeight: params.gradient(this.p('weight')),
      paddingIdx: paddingIdx ?? -1,
    });
    return null;
  }
}
