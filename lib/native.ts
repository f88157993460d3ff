// Loads the compiled addon (build/Release, or a prebuild under prebuilds/) through
// node-gyp-build and describes its functions. Everything here is a thin, validated native call:
// the addon checks every argument and throws a TypeError/RangeError naming what it expected.
import * as path from 'node:path';

export type HostArray = Float32Array | Float64Array;

/** Fields shared by every recurrent-layer call (shape letters: docs/conventions.md). */
export interface RnnSpec {
  cell: 'elman' | 'lstm' | 'gru';
  T: number;
  B: number;
  I: number;
  H: number;
  /** Elman only; default 'tanh'. */
  activation?: 'tanh' | 'relu' | 'sigmoid';
  /** GRU only; default 'pytorch' (reset gate applied to W_hn h + b_hn). */
  gruVariant?: 'pytorch' | 'original';
  /** Process t = T-1 .. 0 (the backward direction of a bidirectional layer). */
  reverse?: boolean;
  /**
   * Row stride of y (forward) and dy (backward), default H. With 2H both directions of a
   * bidirectional layer share one [T,B,2H] buffer: pass it for the forward direction and
   * `buf.subarray(H)` for the reverse one.
   */
  yStride?: number;
}

export interface RnnForwardArgs<A = HostArray> extends RnnSpec {
  x: A; // [T,B,I]
  h0?: A | null; // [B,H], zeros when absent
  c0?: A | null; // [B,H], LSTM
  lengths?: Int32Array | null; // [B], each in [0,T]
  wIh: A; // [G*H,I]
  wHh: A; // [G*H,H]
  bIh?: A | null; // [G*H]
  bHh?: A | null; // [G*H]
  y: A; // [T,B,H] out (rows yStride apart)
  hN?: A | null; // [B,H] out
  cN?: A | null; // [B,H] out, LSTM
  reserve?: A | null; // [rnnReserveSize] out; omit for inference
}

export interface RnnBackwardArgs<A = HostArray> extends RnnSpec {
  x: A; // [T,B,I]
  lengths?: Int32Array | null; // [B]
  wIh: A;
  wHh: A;
  reserve: A; // filled by the matching forward
  dy?: A | null; // [T,B,H] (rows yStride apart)
  dhN?: A | null; // [B,H]
  dcN?: A | null; // [B,H]
  dx?: A | null; // [T,B,I] accumulated
  dh0?: A | null; // [B,H] overwritten
  dc0?: A | null; // [B,H] overwritten
  dwIh: A; // accumulated
  dwHh: A; // accumulated
  dbIh?: A | null; // accumulated
  dbHh?: A | null; // accumulated
}

/** One step of one sequence and the rows of its Jacobians (RTRL): s = h, or [h; c] for LSTM. */
export interface RnnStepJacobiansArgs<A = HostArray> {
  cell: RnnSpec['cell'];
  I: number;
  H: number;
  activation?: RnnSpec['activation'];
  gruVariant?: RnnSpec['gruVariant'];
  x: A; // [I]
  h0: A; // [H]
  c0?: A | null; // [H] LSTM
  wIh: A;
  wHh: A;
  bIh?: A | null;
  bHh?: A | null;
  h1: A; // [H] out
  c1?: A | null; // [H] out, LSTM
  jss: A; // [S,S] out: ∂s'/∂s
  jsx: A; // [S,I] out: ∂s'/∂x
  jth: A; // [S,P] out: ∂s'/∂θ (w_ih, w_hh, b_ih, b_hh)
}

/** One step of one sequence and the tangent of its new state (J·v + ∂s'/∂x·u), O(n²). */
export interface RnnStepJvpArgs<A = HostArray> {
  cell: RnnSpec['cell'];
  I: number;
  H: number;
  activation?: RnnSpec['activation'];
  gruVariant?: RnnSpec['gruVariant'];
  x: A;
  h0: A;
  c0?: A | null;
  wIh: A;
  wHh: A;
  bIh?: A | null;
  bHh?: A | null;
  u?: A | null; // [I] input tangent
  vh: A; // [H] tangent of h
  vc?: A | null; // [H] tangent of c (LSTM)
  h1: A;
  c1?: A | null; // new state out
  th1: A;
  tc1?: A | null; // its tangent out
}

/**
 * Online learning (native/kernels/online.h). S: state units of one layer (H, 2H for LSTM);
 * P: parameters of the stack; Pl = G*H*(I+H+2) of one layer; K: state rows per unit (2 for LSTM);
 * a SnAp-1 layer keeps [H,K,n] entries, n = G*(I+H+2) (each unit's rows times its own parameters).
 */
export interface OnlineRtrlUpdateArgs<A = HostArray> {
  S: number;
  P: number;
  I: number;
  Pl: number;
  /** Column of the layer's first parameter in the stack, in [0, P-Pl]. */
  offset: number;
  jss: A; // [S,S]
  jsx?: A | null; // [S,I], with below
  prev: A; // [S,P] this layer's rows of P_{t-1}
  below?: A | null; // [I,P] h rows of P_t of the layer below (none for the first layer)
  jth: A; // [S,Pl]
  out: A; // [S,P] out: jss·prev + jsx·below + jth at columns [offset, offset+Pl)
}
interface OnlineLayerArgs {
  cell: RnnSpec['cell'];
  I: number;
  H: number;
}
export interface OnlineSnap1UpdateArgs<A = HostArray> extends OnlineLayerArgs {
  jss: A; // [S,S]
  jth: A; // [S,Pl]
  sens: A; // [H,K,n] updated
}
export interface OnlineSnap1LocalUpdateArgs<A = HostArray> extends OnlineLayerArgs {
  wHh: A; // [G*H,H]
  g: A; // [K,Pl] parameter gradients of the backward steps seeded with ones on h (and on c)
  dh0: A; // [K,H]
  dc0?: A | null; // [K,H] LSTM
  sens: A; // [H,K,n] updated
}
export interface OnlineSnap1AccumulateArgs<A = HostArray> extends OnlineLayerArgs {
  dh: A; // [H]
  sens: A; // [H,K,n]
  grads: A; // [Pl] accumulated
}
export interface OnlineUoroSignsArgs<A = HostArray> {
  S: number;
  state: Uint32Array; // [4] xoshiro128** state (lib/rng.ts), advanced
  nu: A; // [S] out: ±1
}
export interface OnlineUoroUpdateArgs<A = HostArray> {
  S: number;
  P: number;
  js: A; // [S] J s̃ (+ input term)
  nu: A; // [S]
  nuI: A; // [P] νᵀ I
  sTilde: Float64Array; // [S] updated
  thTilde: Float64Array; // [P] updated
  sModel?: A | null; // [S] out: s̃ in the call's dtype
}
export interface OnlineUoroAccumulateArgs<A = HostArray> {
  S: number;
  P: number;
  H: number;
  /** First state row of the top layer's h, in [0, S-H]. */
  row: number;
  dh: A; // [H]
  sTilde: Float64Array; // [S]
  thTilde: Float64Array; // [P]
  grads: A; // [P] accumulated
}

export interface LinearForwardArgs<A = HostArray> {
  N: number;
  I: number;
  O: number;
  x: A;
  weight: A;
  bias?: A | null;
  y: A;
}
export interface LinearBackwardArgs<A = HostArray> {
  N: number;
  I: number;
  O: number;
  x: A;
  weight: A;
  dy: A;
  dx?: A | null;
  dWeight: A;
  dBias?: A | null;
}
export interface EmbeddingForwardArgs<A = HostArray> {
  N: number;
  V: number;
  E: number;
  ids: Int32Array;
  weight: A;
  y: A;
}
export interface EmbeddingBackwardArgs<A = HostArray> {
  N: number;
  V: number;
  E: number;
  ids: Int32Array;
  dy: A;
  dWeight: A;
  paddingIdx?: number;
}
export interface SoftmaxCrossEntropyArgs<A = HostArray> {
  N: number;
  C: number;
  logits: A;
  targets: Int32Array;
  weights?: A | null;
  ignoreIndex?: number;
  mask?: Uint8Array | null;
  scale?: number;
  dlogits?: A | null;
}
/**
 * Mean squared error over n elements. With `mask`, the buffers are rows [N,F] (N = n/F) and
 * only rows with mask[r] != 0 count (mean over counted rows * F; masked rows get dpred 0; no
 * counted row: loss 0). Without mask the behaviour is the plain mean over n (F is only checked).
 */
export interface MseLossArgs<A = HostArray> {
  n: number;
  pred: A;
  target: A;
  scale?: number;
  dpred?: A | null; // [n]; dpred overwritten
  F?: number; // features per row, a divisor of n (default 1)
  mask?: Uint8Array | null; // [n/F]
}
export interface GemmArgs<A = HostArray> {
  M: number;
  N: number;
  K: number;
  a: A;
  b: A;
  c: A;
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
}

// ---- element-wise (flat buffers [n]) ----
/** y = a*x + b*y in place (b = 0: y is only written). */
export interface AxpbyArgs<A = HostArray> {
  n: number;
  a: number;
  x: A;
  b: number;
  y: A;
} // x, y: [n]
/** out = x ⊙ y (out overwritten, disjoint from x and y). */
export interface MulArgs<A = HostArray> {
  n: number;
  x: A;
  y: A;
  out: A;
} // [n]
/** x *= alpha in place. */
export interface ScaleArgs<A = HostArray> {
  n: number;
  alpha: number;
  x: A;
} // [n]
export type ActivationKind = 'tanh' | 'sigmoid' | 'relu' | 'identity';
/** y = f(x), overwritten. */
export interface ActivationForwardArgs<A = HostArray> {
  kind: ActivationKind;
  n: number;
  x: A;
  y: A;
} // [n]
/** dx += dy ⊙ f'(x), with f' computed from the forward output y. */
export interface ActivationBackwardArgs<A = HostArray> {
  kind: ActivationKind;
  n: number;
  y: A;
  dy: A;
  dx: A;
} // [n]

// ---- rows ----
/** dst[n] = src[idx[n]] (overwritten); idx all 0 broadcasts a row. */
export interface GatherRowsArgs<A = HostArray> {
  R: number;
  N: number;
  F: number;
  src: A; // [R,F]
  idx: Int32Array; // [N], each in [0,R)
  dst: A; // [N,F] out
}
/** dst[idx[n]] += src[n]; idx may repeat (idx all 0 sums the rows). */
export interface ScatterAddRowsArgs<A = HostArray> {
  R: number;
  N: number;
  F: number;
  src: A; // [N,F]
  idx: Int32Array; // [N], each in [0,R)
  dst: A; // [R,F] accumulated
}
/** dst[n, dstOffset + j] = (or += with accumulate) src[n, srcOffset + j], j < width. */
export interface CopyColsArgs<A = HostArray> {
  N: number;
  srcF: number;
  srcOffset: number;
  width: number;
  dstF: number;
  dstOffset: number;
  src: A; // [N,srcF]
  dst: A; // [N,dstF]: the column block is overwritten (or accumulated), the rest untouched
  accumulate?: boolean; // default false
}
/** y = x[:, :H] + x[:, H:] ('sum') or their mean. */
export interface MergeHalvesArgs<A = HostArray> {
  N: number;
  H: number;
  mode: 'sum' | 'mean';
  x: A; // [N,2H]
  y: A; // [N,H] out
}
/** Backward of mergeHalves: both halves of dx += dy ('mean': dy/2). */
export interface SplitHalvesBackwardArgs<A = HostArray> {
  N: number;
  H: number;
  mode: 'sum' | 'mean';
  dy: A; // [N,H]
  dx: A; // [N,2H] accumulated
}
/** Max-subtracted softmax or log-softmax of every row. */
export interface SoftmaxRowsArgs<A = HostArray> {
  N: number;
  C: number;
  x: A;
  y: A;
} // [N,C]; y overwritten
/** out[n] = the first column holding the row's maximum. */
export interface ArgmaxRowsArgs<A = HostArray> {
  N: number;
  C: number;
  x: A; // [N,C]
  out: Int32Array; // [N] out
}
/** The k largest entries of every row, value descending, ties by the lower column. */
export interface TopkRowsArgs<A = HostArray> {
  N: number;
  C: number;
  k: number; // 1 <= k <= C
  x: A; // [N,C]
  values: A; // [N,k] out
  indices: Int32Array; // [N,k] out
}

// ---- pooling over time ----
export type TimePoolMode = 'last' | 'mean' | 'max';
/** [T,B,F] → [B,F] over each row's valid steps (zero length: 0, argmax -1; max ties: earliest step). */
export interface TimePoolForwardArgs<A = HostArray> {
  T: number;
  B: number;
  F: number;
  mode: TimePoolMode;
  x: A; // [T,B,F]
  lengths?: Int32Array | null; // [B], each in [0,T]
  y: A; // [B,F] out
  argmax?: Int32Array | null; // [B,F] out, the chosen step (required for 'max'; -1 for other modes)
}
export interface TimePoolBackwardArgs<A = HostArray> {
  T: number;
  B: number;
  F: number;
  mode: TimePoolMode;
  dy: A; // [B,F]
  lengths?: Int32Array | null; // [B]
  argmax?: Int32Array | null; // [B,F] from timePoolForward (required for 'max')
  dx: A; // [T,B,F] accumulated
}

// ---- attention core (Luong dot score; W_a, W_c and tanh are separate ops) ----
/** score = q·key; alpha = softmax over j < lengths[b] (0 beyond); context = Σ_j alpha_j value_j. */
export interface AttentionForwardArgs<A = HostArray> {
  T: number;
  S: number;
  B: number;
  Hd: number;
  He: number;
  q: A; // [T,B,Hd]
  keys: A; // [S,B,Hd]
  values: A; // [S,B,He] (may be the keys buffer itself)
  lengths?: Int32Array | null; // [B] source lengths, each in [1,S]
  alpha: A; // [T,B,S] out
  context: A; // [T,B,He] out
}
/** Gradients accumulate; when keys === values, dKeys and dValues may be one buffer. */
export interface AttentionBackwardArgs<A = HostArray> {
  T: number;
  S: number;
  B: number;
  Hd: number;
  He: number;
  q: A;
  keys: A;
  values: A;
  lengths?: Int32Array | null;
  alpha: A; // [T,B,S] from attentionForward
  dContext: A; // [T,B,He]
  dq?: A | null; // [T,B,Hd] accumulated
  dKeys?: A | null; // [S,B,Hd] accumulated
  dValues?: A | null; // [S,B,He] accumulated
}

// ---- time-delay gather (TDNN) ----
/**
 * y[t,b,k*F+f] = x[t-taps[k],b,f] when t-taps[k] >= 0, else history[D+t-taps[k],b,f] when given
 * (D = max tap; history row D-1 is the step just before t = 0), else 0; padding steps are 0.
 */
export interface TimeDelayForwardArgs<A = HostArray> {
  T: number;
  B: number;
  F: number;
  K: number;
  taps: Int32Array; // [K], each >= 0
  x: A; // [T,B,F]
  lengths?: Int32Array | null; // [B], each in [0,T]
  history?: A | null; // [D,B,F]
  y: A; // [T,B,K*F] out
}
export interface TimeDelayBackwardArgs<A = HostArray> {
  T: number;
  B: number;
  F: number;
  K: number;
  taps: Int32Array; // [K]
  lengths?: Int32Array | null; // [B]
  dy: A; // [T,B,K*F]
  dx?: A | null; // [T,B,F] accumulated
  dHistory?: A | null; // [D,B,F] accumulated
}

// ---- masked losses and metrics ----
/**
 * Mean of max(z,0) - z t + log1p(exp(-|z|)) over counted elements (rows with mask != 0, times F);
 * dlogits (overwritten) = scale * (sigmoid(z) - t) / count, 0 on masked rows. Returns the loss.
 */
export interface SigmoidBceArgs<A = HostArray> {
  N: number;
  F: number;
  logits: A; // [N,F]
  targets: A; // [N,F]
  mask?: Uint8Array | null; // [N]
  scale?: number; // default 1
  dlogits?: A | null; // [N,F] out
}
/** Rows whose first-max argmax equals the target (ignoreIndex, default -100, and masked rows skipped). */
export interface CountCorrectArgs<A = HostArray> {
  N: number;
  C: number;
  logits: A; // [N,C]
  targets: Int32Array; // [N] in [0,C) or ignoreIndex
  ignoreIndex?: number;
  mask?: Uint8Array | null; // [N]
}
/** Rows where every (logit > 0) equals (target > 0.5); masked rows skipped. */
export interface CountCorrectMultilabelArgs<A = HostArray> {
  N: number;
  F: number;
  logits: A; // [N,F]
  targets: A; // [N,F]
  mask?: Uint8Array | null; // [N]
}
/** `correct` rows out of `total` counted rows. */
export interface CountResult {
  correct: number;
  total: number;
}

// ---- gradient tools ----
/** x = clamp(x, -value, value) in place. */
export interface ClipByValueArgs<A = HostArray> {
  n: number;
  x: A;
  value: number;
} // [n]
/** PyTorch clip_grad_norm_: x *= maxNorm/(norm+1e-6) when that is < 1; returns the norm before. */
export interface ClipByNormArgs<A = HostArray> {
  n: number;
  x: A;
  maxNorm: number;
} // [n]
/** True when every element of x is finite (the divergence check). */
export interface AllFiniteArgs<A = HostArray> {
  x: A;
} // [n], any length
/** g += alpha * sign(p) (the L1 gradient). */
export interface AddSignArgs<A = HostArray> {
  n: number;
  alpha: number;
  p: A;
  g: A;
} // [n]

export type OptimizerKind = 'sgd' | 'adam' | 'adamw' | 'rmsprop' | 'adagrad';
/** Hyper-parameters, with PyTorch's names (camelCase) and defaults. */
export interface OptimHyper {
  /** Learning rate (fit's default: 1e-3 for adam/adamw; 1e-2 for sgd, rmsprop and adagrad, as Keras). */
  lr: number;
  /** L2 added to the gradient; decoupled (p *= 1 - lr*wd) for AdamW (default 0). */
  weightDecay?: number;
  /** SGD / RMSprop momentum (default 0). */
  momentum?: number;
  /** SGD dampening (default 0). */
  dampening?: number;
  /** SGD Nesterov momentum (default false; needs momentum > 0). */
  nesterov?: boolean;
  /** Adam/AdamW beta1 (default 0.9). */
  beta1?: number;
  /** Adam/AdamW beta2 (default 0.999). */
  beta2?: number;
  /** Denominator epsilon (default 1e-8; Adagrad 1e-10). */
  eps?: number;
  /** RMSprop smoothing constant (default 0.99). */
  alpha?: number;
  /** RMSprop: normalize by the centered second moment (default false). */
  centered?: boolean;
  /** Adagrad learning-rate decay (default 0). */
  lrDecay?: number;
}
export interface OptimStepArgs<A = HostArray> extends OptimHyper {
  kind: OptimizerKind;
  /** 1 on the first update. */
  step: number;
  params: A;
  grads: A;
  state: A[];
}

export interface BackendInfo {
  backend: string;
  gemm: 'openblas' | 'builtin';
  simd: 'avx512' | 'avx2' | 'generic';
  threads: number;
  openblasLinked: boolean;
  /**
   * Whether this build may create ArrayBuffers over native memory (false in a build made with
   * NODE_API_NO_EXTERNAL_BUFFERS_ALLOWED, as Electron requires: CPU tensors then use plain memory).
   */
  externalBuffers: boolean;
}

/** A row of the native cell table (native/kernels/cell_table.h). */
export interface NativeCellRow {
  name: string;
  gates: number;
  states: number;
  stepJacobians: boolean;
}

// ---- fused decoder step (native/binding/decoder_binding.cpp) ----
/** An opaque handle made by decoderPlan; it holds the memory of every buffer it was given. */
export type DecoderPlanHandle = { readonly __decoderPlan: unique symbol };
/**
 * One decoding call's decoder: weights, the encoder's state and every step buffer, checked once.
 * Buffers are CPU-device tensors (memory rnnkit allocated); lists have one entry per layer.
 */
export interface DecoderPlanArgs<A = unknown> {
  cell: string;
  activation?: RnnSpec['activation'];
  gruVariant?: RnnSpec['gruVariant'];
  L: number;
  H: number;
  E: number;
  Vin: number;
  V: number;
  maxRows: number;
  S: number; // source steps (0 without attention)
  He: number; // encoder output size (0: no attention)
  k: number; // top entries per row (0: the full log-probabilities)
  R0: number; // rows of the encoder's state
  wEmb: A; // [Vin,E]
  wIh: A[]; // [G*H,E] for layer 0, [G*H,H] above
  wHh: A[]; // [G*H,H]
  bIh: A[] | null;
  bHh: A[] | null;
  h0: A[]; // [R0,H]
  c0: A[] | null; // LSTM
  wC: A | null; // [H,He+H] (attention)
  wOut: A; // [V,H]
  bOut: A | null; // [V]
  ids: Int32Array | A; // [maxRows], written before each step
  parents: Int32Array | A; // [maxRows]
  emb: A; // [maxRows,E]
  hA: A[];
  hB: A[];
  cA: A[] | null;
  cB: A[] | null;
  alpha: A | null; // [maxRows,S]
  context: A | null; // [maxRows,He]
  cat: A | null; // [maxRows,He+H]
  pre: A | null; // [maxRows,H]
  out: A | null; // [maxRows,H]
  logits: A; // [maxRows,V]
  lp: A; // [maxRows,V]
  values: A | null; // [maxRows,k]
  indices: Int32Array | A | null; // [maxRows,k]
}

export interface NativeAddon {
  backendInfo(): BackendInfo;
  /** Zero-filled memory outside the JS heap (the opaque test device's tensors). */
  allocExternal(o: { bytes: number }): ArrayBuffer;
  memoryInfo(): { scratchBytes: number; scratchKeepBytes: number; hostBlockBytes: number };
  cellTable(): NativeCellRow[];
  setNumThreads(o: { threads: number }): void;
  setGemm(o: { gemm: 'openblas' | 'builtin' }): void;
  rnnReserveSize(spec: RnnSpec): number;
  rnnForward(a: RnnForwardArgs): void;
  rnnForwardAsync(a: RnnForwardArgs): Promise<void>;
  rnnBackward(a: RnnBackwardArgs): void;
  rnnBackwardAsync(a: RnnBackwardArgs): Promise<void>;
  rnnStepJacobians(a: RnnStepJacobiansArgs): void;
  rnnStepJvp(a: RnnStepJvpArgs): void;
  onlineRtrlUpdate(a: OnlineRtrlUpdateArgs): void;
  onlineSnap1Update(a: OnlineSnap1UpdateArgs): void;
  onlineSnap1LocalUpdate(a: OnlineSnap1LocalUpdateArgs): void;
  onlineSnap1Accumulate(a: OnlineSnap1AccumulateArgs): void;
  onlineUoroSigns(a: OnlineUoroSignsArgs): void;
  onlineUoroUpdate(a: OnlineUoroUpdateArgs): void;
  onlineUoroAccumulate(a: OnlineUoroAccumulateArgs): void;
  linearForward(a: LinearForwardArgs): void;
  linearBackward(a: LinearBackwardArgs): void;
  embeddingForward(a: EmbeddingForwardArgs): void;
  embeddingBackward(a: EmbeddingBackwardArgs): void;
  softmaxCrossEntropy(a: SoftmaxCrossEntropyArgs): number;
  mseLoss(a: MseLossArgs): number;
  dropoutMask(a: { p: number; seed: number; mask: HostArray }): void;
  l2Norm(a: { x: HostArray }): number;
  /** Modified Gram–Schmidt over the rows of the n×n matrix q, in place (lib/init.ts). */
  orthogonalize(a: { n: number; q: Float64Array }): void;
  gemm(a: GemmArgs): void;
  optimStateCount(a: { kind: OptimizerKind }): number;
  optimStep(a: OptimStepArgs): void;
  optimStepAsync(a: OptimStepArgs): Promise<void>;
  axpby(a: AxpbyArgs): void;
  mul(a: MulArgs): void;
  scale(a: ScaleArgs): void;
  activationForward(a: ActivationForwardArgs): void;
  activationBackward(a: ActivationBackwardArgs): void;
  gatherRows(a: GatherRowsArgs): void;
  scatterAddRows(a: ScatterAddRowsArgs): void;
  copyCols(a: CopyColsArgs): void;
  mergeHalves(a: MergeHalvesArgs): void;
  splitHalvesBackward(a: SplitHalvesBackwardArgs): void;
  softmaxRows(a: SoftmaxRowsArgs): void;
  logSoftmaxRows(a: SoftmaxRowsArgs): void;
  argmaxRows(a: ArgmaxRowsArgs): void;
  topkRows(a: TopkRowsArgs): void;
  timePoolForward(a: TimePoolForwardArgs): void;
  timePoolBackward(a: TimePoolBackwardArgs): void;
  attentionForward(a: AttentionForwardArgs): void;
  attentionBackward(a: AttentionBackwardArgs): void;
  timeDelayForward(a: TimeDelayForwardArgs): void;
  timeDelayBackward(a: TimeDelayBackwardArgs): void;
  sigmoidBce(a: SigmoidBceArgs): number;
  countCorrect(a: CountCorrectArgs): CountResult;
  countCorrectMultilabel(a: CountCorrectMultilabelArgs): CountResult;
  clipByValue(a: ClipByValueArgs): void;
  clipByNorm(a: ClipByNormArgs): number;
  allFinite(a: AllFiniteArgs): boolean;
  addSign(a: AddSignArgs): void;
  decoderPlan(a: DecoderPlanArgs): DecoderPlanHandle;
  /** One step of R rows (ids and parents written into the plan's buffers first). */
  decoderStep(
    plan: DecoderPlanHandle,
    R: number,
    withParents: boolean,
    enc: unknown,
    keys: unknown,
    lengths: unknown,
  ): void;
}

let cached: NativeAddon | undefined;

/**
 * Loads the addon of the package in `dir` (internal; exported for the load-failure test). A
 * failure names what was looked for and what to install instead of node-gyp-build's message.
 */
export function loadNativeFrom(dir: string): NativeAddon {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = require('node-gyp-build') as (dir: string) => unknown;
  try {
    return load(dir) as NativeAddon;
  } catch (e) {
    const target = `${process.platform}-${process.arch}`;
    const cause = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new Error(
      `rnnkit: could not load its native addon for ${target} (Node ${process.versions.node}, ` +
        `N-API ${process.versions.napi}). Tried ${path.join(dir, 'build', 'Release', 'rnnkit.node')} ` +
        `(a local build) and ${path.join(dir, 'prebuilds', target)}${path.sep} (the prebuilds shipped ` +
        `in the package; linux-x64 with glibc only). To build it from source, install a C++17 ` +
        `compiler, make and Python 3 (on Debian/Ubuntu: apt-get install g++ make python3; optionally ` +
        `libopenblas-dev), then run \`npm rebuild rnnkit\` (with npm 11, first \`npm install-scripts ` +
        `approve rnnkit\`). Loader said: ${cause}`,
      { cause: e },
    );
  }
}

/** The CPU addon, loaded on first use. */
export function loadNative(): NativeAddon {
  if (!cached) cached = loadNativeFrom(path.resolve(__dirname, '..'));
  return cached;
}
