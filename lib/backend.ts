// The interface the layers talk to. A backend owns its buffers (host typed arrays for the CPU,
// GPU memory for the CUDA device, lib/device/cuda.ts) and runs every op on them; layers never call the
// addon directly, so another backend slots in behind the same calls.
import type {
  BackendInfo,
  EmbeddingBackwardArgs,
  EmbeddingForwardArgs,
  GemmArgs,
  HostArray,
  LinearBackwardArgs,
  LinearForwardArgs,
  MseLossArgs,
  OnlineRtrlUpdateArgs,
  OnlineSnap1AccumulateArgs,
  OnlineSnap1LocalUpdateArgs,
  OnlineSnap1UpdateArgs,
  OnlineUoroAccumulateArgs,
  OnlineUoroSignsArgs,
  OnlineUoroUpdateArgs,
  RnnStepJacobiansArgs,
  RnnStepJvpArgs,
  OptimStepArgs,
  OptimizerKind,
  RnnBackwardArgs,
  RnnForwardArgs,
  RnnSpec,
  SoftmaxCrossEntropyArgs,
  ActivationBackwardArgs,
  ActivationForwardArgs,
  AddSignArgs,
  AllFiniteArgs,
  ArgmaxRowsArgs,
  AttentionBackwardArgs,
  AttentionForwardArgs,
  AxpbyArgs,
  ClipByNormArgs,
  ClipByValueArgs,
  CopyColsArgs,
  CountCorrectArgs,
  CountCorrectMultilabelArgs,
  GatherRowsArgs,
  MergeHalvesArgs,
  MulArgs,
  ScaleArgs,
  ScatterAddRowsArgs,
  SigmoidBceArgs,
  SoftmaxRowsArgs,
  SplitHalvesBackwardArgs,
  TimeDelayBackwardArgs,
  TimeDelayForwardArgs,
  TimePoolBackwardArgs,
  TimePoolForwardArgs,
  TopkRowsArgs,
  CountResult,
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

  // Element-wise, row, pooling, attention, time-delay, loss/metric and gradient-tool ops
  // (shapes and += / overwrite in lib/native.ts and docs/engine.md).
  axpby(a: AxpbyArgs<A>): void;
  mul(a: MulArgs<A>): void;
  scale(a: ScaleArgs<A>): void;
  activationForward(a: ActivationForwardArgs<A>): void;
  activationBackward(a: ActivationBackwardArgs<A>): void;
  gatherRows(a: GatherRowsArgs<A>): void;
  scatterAddRows(a: ScatterAddRowsArgs<A>): void;
  copyCols(a: CopyColsArgs<A>): void;
  mergeHalves(a: MergeHalvesArgs<A>): void;
  splitHalvesBackward(a: SplitHalvesBackwardArgs<A>): void;
  softmaxRows(a: SoftmaxRowsArgs<A>): void;
  logSoftmaxRows(a: SoftmaxRowsArgs<A>): void;
  argmaxRows(a: ArgmaxRowsArgs<A>): void;
  topkRows(a: TopkRowsArgs<A>): void;
  timePoolForward(a: TimePoolForwardArgs<A>): void;
  timePoolBackward(a: TimePoolBackwardArgs<A>): void;
  attentionForward(a: AttentionForwardArgs<A>): void;
  attentionBackward(a: AttentionBackwardArgs<A>): void;
  timeDelayForward(a: TimeDelayForwardArgs<A>): void;
  timeDelayBackward(a: TimeDelayBackwardArgs<A>): void;
  sigmoidBce(a: SigmoidBceArgs<A>): number;
  countCorrect(a: CountCorrectArgs<A>): CountResult;
  countCorrectMultilabel(a: CountCorrectMultilabelArgs<A>): CountResult;
  clipByValue(a: ClipByValueArgs<A>): void;
  clipByNorm(a: ClipByNormArgs<A>): number;
  addSign(a: AddSignArgs<A>): void;
  /** True when every element of x is finite: the divergence check. */
  allFinite(a: AllFiniteArgs<A>): boolean;
}
