// The interface the layers talk to. A backend owns its buffers (host typed arrays for the CPU,
// device memory for a future CUDA backend) and runs every op on them; layers never call the
// addon directly, so another backend slots in behind the same calls.
import type {
  BackendInfo, EmbeddingBackwardArgs, EmbeddingForwardArgs, GemmArgs, HostArray, LinearBackwardArgs,
  LinearForwardArgs, MseLossArgs, OnlineRtrlUpdateArgs, OnlineSnap1AccumulateArgs, OnlineSnap1LocalUpdateArgs,
  OnlineSnap1UpdateArgs, OnlineUoroAccumulateArgs, OnlineUoroSignsArgs, OnlineUoroUpdateArgs, RnnStepJacobiansArgs, RnnStepJvpArgs, OptimStepArgs, OptimizerKind, RnnBackwardArgs, RnnForwardArgs, RnnSpec,
  SoftmaxCrossEntropyArgs,
} from './native';

export type DType = 'float32' | 'float64';

/** What a backend can run beyond the required ops. */
export interface BackendCapabilities {
  /** The online-learning kernels (OnlineKernels): RTRL, SnAp-1 and UORO need them. */
  online: boolean;
}

/** The per-element kernels of online learning (docs/online.md); present when capabilities.online. */
export interface OnlineKernels<A = HostArray> {
  onlineRtrlUpdate(a: OnlineRtrlUpdateArgs<A>): void;
  onlineSnap1Update(a: OnlineSnap1UpdateArgs<A>): void;
  onlineSnap1LocalUpdate(a: OnlineSnap1LocalUpdateArgs<A>): void;
  onlineSnap1Accumulate(a: OnlineSnap1AccumulateArgs<A>): void;
  onlineUoroSigns(a: OnlineUoroSignsArgs<A>): void;
  onlineUoroUpdate(a: OnlineUoroUpdateArgs<A>): void;
  onlineUoroAccumulate(a: OnlineUoroAccumulateArgs<A>): void;
}

export interface Backend<A = HostArray> extends Partial<OnlineKernels<A>> {
  readonly name: string;
  readonly capabilities: BackendCapabilities;
  info(): BackendInfo;
  setNumThreads(n: number): void;

  /** A zero-filled buffer of `length` elements. */
  alloc(dtype: DType, length: number): A;
  /** A backend buffer holding a copy of host data. */
  upload(data: HostArray): A;
  /** Host copy (or, for the CPU backend, the buffer itself). */
  download(buf: A): HostArray;
  fill(buf: A, value: number): void;

  rnnReserveSize(spec: RnnSpec): number;
  rnnForward(a: RnnForwardArgs<A>): void;
  rnnForwardAsync(a: RnnForwardArgs<A>): Promise<void>;
  rnnBackward(a: RnnBackwardArgs<A>): void;
  rnnBackwardAsync(a: RnnBackwardArgs<A>): Promise<void>;
  rnnStepJacobians(a: RnnStepJacobiansArgs<A>): void;
  rnnStepJvp(a: RnnStepJvpArgs<A>): void;
  linearForward(a: LinearForwardArgs<A>): void;
  linearBackward(a: LinearBackwardArgs<A>): void;
  embeddingForward(a: EmbeddingForwardArgs<A>): void;
  embeddingBackward(a: EmbeddingBackwardArgs<A>): void;
  softmaxCrossEntropy(a: SoftmaxCrossEntropyArgs<A>): number;
  mseLoss(a: MseLossArgs<A>): number;
  dropoutMask(p: number, seed: number, mask: A): void;
  l2Norm(x: A): number;
  gemm(a: GemmArgs<A>): void;
  optimStateCount(kind: OptimizerKind): number;
  optimStep(a: OptimStepArgs<A>): void;
  optimStepAsync(a: OptimStepArgs<A>): Promise<void>;
}
