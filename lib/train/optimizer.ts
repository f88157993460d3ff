// An optimizer over a model's flat parameter buffer: hyper-parameters validated once, state
// buffers owned here (and saved in checkpoints), updates run natively in one call.
import { FieldSpec, resolveOptions } from '../options';
import type { Tensor } from '../device/tensor';
import type { OptimHyper, OptimizerKind } from '../native';
import { Exec } from '../exec';
import type { Step } from '../exec';

/** Optimizer options: the hyper-parameters of OptimHyper (all optional here) plus the rule. */
export interface OptimizerOptions extends Partial<Omit<OptimHyper, 'weightDecay'>> {
  /** 'sgd', 'adam' (default), 'adamw', 'rmsprop' or 'adagrad'. */
  type?: OptimizerKind;
  /** Adagrad initial accumulator value (default 0). */
  initialAccumulatorValue?: number;
}

export const OPTIMIZER_OPTIONS: Record<keyof OptimizerOptions, FieldSpec> = {
  type: { type: 'enum', values: ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'], default: 'adam', doc: 'update rule' },
  lr: { type: 'number', min: 0, max: 1e6, default: null, nullable: true, doc: 'learning rate' },
  momentum: { type: 'number', min: 0, max: 1e6, default: 0, doc: 'momentum' },
  dampening: { type: 'number', min: 0, max: 1, default: 0, doc: 'SGD dampening' },
  nesterov: { type: 'bool', default: false, doc: 'Nesterov momentum' },
  beta1: { type: 'number', min: 0, max: 0.999999999, default: 0.9, doc: 'Adam beta1' },
  beta2: { type: 'number', min: 0, max: 0.999999999, default: 0.999, doc: 'Adam beta2' },
  eps: { type: 'number', min: 0, max: 1, default: null, nullable: true, doc: 'epsilon' },
  alpha: { type: 'number', min: 0, max: 1, default: 0.99, doc: 'RMSprop alpha' },
  centered: { type: 'bool', default: false, doc: 'RMSprop centered' },
  lrDecay: { type: 'number', min: 0, max: 1e6, default: 0, doc: 'Adagrad lr decay' },
  initialAccumulatorValue: { type: 'number', min: 0, max: 1e6, default: 0, doc: 'Adagrad initial accumulator' },
};

export type ResolvedOptimizer = Required<{ [K in keyof OptimizerOptions]: Exclude<OptimizerOptions[K], undefined> }>;

export class Optimizer {
  readonly config: ResolvedOptimizer;
  /** Number of updates done (PyTorch's per-parameter 'step'). */
  step = 0;
  readonly state: Tensor[];

  private readonly exec: Exec;

  constructor(
    options: OptimizerOptions | OptimizerKind | undefined,
    exec: Exec,
    size: number,
    dtype: 'float32' | 'float64',
  ) {
    // Small updates run inline (a worker round trip costs more than the update itself; even at
    // 1M parameters an update takes a few ms of main-thread time).
    this.exec = size <= 1 << 20 ? new Exec(exec.device, false) : exec;
    // Keras' shorthand: optimizer: 'sgd' is { type: 'sgd' } with the defaults.
    const given = typeof options === 'string' ? { type: options } : options;
    const c = resolveOptions<ResolvedOptimizer>('optimizer', OPTIMIZER_OPTIONS, given);
    if (c.lr === null) c.lr = c.type === 'adam' || c.type === 'adamw' ? 1e-3 : 1e-2;
    if (c.eps === null) c.eps = c.type === 'adagrad' ? 1e-10 : 1e-8;
    if (c.nesterov && (c.momentum <= 0 || c.dampening !== 0)) {
      throw new RangeError(
        `optimizer: nesterov needs momentum > 0 and dampening 0, received momentum ${c.momentum}, dampening ${c.dampening}`,
      );
    }
    this.config = c;
    const dev = exec.device;
    this.state = Array.from({ length: dev.optimStateCount(c.type) }, () => dev.alloc(dtype, [size]));
    if (c.type === 'adagrad') dev.fill(this.state[0], c.initialAccumulatorValue);
  }

  /** One update of params from grads at learning rate lr; weightDecay as the optimizer defines it. */
  update(params: Tensor, grads: Tensor, lr: number, weightDecay: number): Step {
    this.step += 1;
    const c = this.config;
    return this.exec.optimStep({
      kind: c.type,
      lr,
      weightDecay,
      momentum: c.momentum,
      dampening: c.dampening,
      nesterov: c.nesterov,
      beta1: c.beta1,
      beta2: c.beta2,
      eps: c.eps,
      alpha: c.alpha,
      centered: c.centered,
      lrDecay: c.lrDecay,
      step: this.step,
      params,
      grads,
      state: this.state,
    });
  }
}
