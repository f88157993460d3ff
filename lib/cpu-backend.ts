// The CPU backend: buffers are plain typed arrays handed to the addon without copying.
import type { Backend, BackendCapabilities, DType, OnlineKernels } from './backend';
import { HostArray, loadNative, NativeAddon } from './native';

const MAX_LENGTH = 2 ** 32;

export class CpuBackend implements Backend<HostArray>, OnlineKernels<HostArray> {
  readonly name = 'cpu';
  readonly capabilities: BackendCapabilities = { online: true };
  private readonly n: NativeAddon = loadNative();

  info() {
    return this.n.backendInfo();
  }
  setNumThreads(threads: number) {
    this.n.setNumThreads({ threads });
  }
  /** Test hook: run matrix products through the built-in kernel even when OpenBLAS is linked. */
  setGemm(gemm: 'openblas' | 'builtin') {
    this.n.setGemm({ gemm });
  }

  alloc(dtype: DType, length: number): HostArray {
    if (!Number.isInteger(length) || length < 0 || length > MAX_LENGTH) {
      throw new RangeError(`alloc: length must be an integer in [0, 2^32], received ${String(length)}`);
    }
    if (dtype === 'float32') return new Float32Array(length);
    if (dtype === 'float64') return new Float64Array(length);
    throw new TypeError(`alloc: dtype must be one of 'float32' 'float64', received ${String(dtype)}`);
  }
  upload(data: HostArray): HostArray {
    return data.slice();
  }
  download(buf: HostArray): HostArray {
    return buf;
  }
  fill(buf: HostArray, value: number) {
    buf.fill(value);
  }

  rnnReserveSize(spec: Parameters<NativeAddon['rnnReserveSize']>[0]) {
    return this.n.rnnReserveSize(spec);
  }
  rnnForward: NativeAddon['rnnForward'] = (a) => this.n.rnnForward(a);
  rnnForwardAsync: NativeAddon['rnnForwardAsync'] = (a) => this.n.rnnForwardAsync(a);
  rnnBackward: NativeAddon['rnnBackward'] = (a) => this.n.rnnBackward(a);
  rnnBackwardAsync: NativeAddon['rnnBackwardAsync'] = (a) => this.n.rnnBackwardAsync(a);
  rnnStepJacobians: NativeAddon['rnnStepJacobians'] = (a) => this.n.rnnStepJacobians(a);
  rnnStepJvp: NativeAddon['rnnStepJvp'] = (a) => this.n.rnnStepJvp(a);
  onlineRtrlUpdate: NativeAddon['onlineRtrlUpdate'] = (a) => this.n.onlineRtrlUpdate(a);
  onlineSnap1Update: NativeAddon['onlineSnap1Update'] = (a) => this.n.onlineSnap1Update(a);
  onlineSnap1LocalUpdate: NativeAddon['onlineSnap1LocalUpdate'] = (a) => this.n.onlineSnap1LocalUpdate(a);
  onlineSnap1Accumulate: NativeAddon['onlineSnap1Accumulate'] = (a) => this.n.onlineSnap1Accumulate(a);
  onlineUoroSigns: NativeAddon['onlineUoroSigns'] = (a) => this.n.onlineUoroSigns(a);
  onlineUoroUpdate: NativeAddon['onlineUoroUpdate'] = (a) => this.n.onlineUoroUpdate(a);
  onlineUoroAccumulate: NativeAddon['onlineUoroAccumulate'] = (a) => this.n.onlineUoroAccumulate(a);
  linearForward: NativeAddon['linearForward'] = (a) => this.n.linearForward(a);
  linearBackward: NativeAddon['linearBackward'] = (a) => this.n.linearBackward(a);
  embeddingForward: NativeAddon['embeddingForward'] = (a) => this.n.embeddingForward(a);
  embeddingBackward: NativeAddon['embeddingBackward'] = (a) => this.n.embeddingBackward(a);
  softmaxCrossEntropy: NativeAddon['softmaxCrossEntropy'] = (a) => this.n.softmaxCrossEntropy(a);
  mseLoss: NativeAddon['mseLoss'] = (a) => this.n.mseLoss(a);
  dropoutMask(p: number, seed: number, mask: HostArray) {
    this.n.dropoutMask({ p, seed, mask });
  }
  l2Norm(x: HostArray) {
    return this.n.l2Norm({ x });
  }
  gemm: NativeAddon['gemm'] = (a) => this.n.gemm(a);
  optimStateCount(kind: Parameters<NativeAddon['optimStateCount']>[0]['kind']) {
    return this.n.optimStateCount({ kind });
  }
  optimStep: NativeAddon['optimStep'] = (a) => this.n.optimStep(a);
  optimStepAsync: NativeAddon['optimStepAsync'] = (a) => this.n.optimStepAsync(a);
  axpby: NativeAddon['axpby'] = (a) => this.n.axpby(a);
  mul: NativeAddon['mul'] = (a) => this.n.mul(a);
  scale: NativeAddon['scale'] = (a) => this.n.scale(a);
  activationForward: NativeAddon['activationForward'] = (a) => this.n.activationForward(a);
  activationBackward: NativeAddon['activationBackward'] = (a) => this.n.activationBackward(a);
  gatherRows: NativeAddon['gatherRows'] = (a) => this.n.gatherRows(a);
  scatterAddRows: NativeAddon['scatterAddRows'] = (a) => this.n.scatterAddRows(a);
  copyCols: NativeAddon['copyCols'] = (a) => this.n.copyCols(a);
  mergeHalves: NativeAddon['mergeHalves'] = (a) => this.n.mergeHalves(a);
  splitHalvesBackward: NativeAddon['splitHalvesBackward'] = (a) => this.n.splitHalvesBackward(a);
  softmaxRows: NativeAddon['softmaxRows'] = (a) => this.n.softmaxRows(a);
  logSoftmaxRows: NativeAddon['logSoftmaxRows'] = (a) => this.n.logSoftmaxRows(a);
  argmaxRows: NativeAddon['argmaxRows'] = (a) => this.n.argmaxRows(a);
  topkRows: NativeAddon['topkRows'] = (a) => this.n.topkRows(a);
  timePoolForward: NativeAddon['timePoolForward'] = (a) => this.n.timePoolForward(a);
  timePoolBackward: NativeAddon['timePoolBackward'] = (a) => this.n.timePoolBackward(a);
  attentionForward: NativeAddon['attentionForward'] = (a) => this.n.attentionForward(a);
  attentionBackward: NativeAddon['attentionBackward'] = (a) => this.n.attentionBackward(a);
  timeDelayForward: NativeAddon['timeDelayForward'] = (a) => this.n.timeDelayForward(a);
  timeDelayBackward: NativeAddon['timeDelayBackward'] = (a) => this.n.timeDelayBackward(a);
  sigmoidBce: NativeAddon['sigmoidBce'] = (a) => this.n.sigmoidBce(a);
  countCorrect: NativeAddon['countCorrect'] = (a) => this.n.countCorrect(a);
  countCorrectMultilabel: NativeAddon['countCorrectMultilabel'] = (a) => this.n.countCorrectMultilabel(a);
  clipByValue: NativeAddon['clipByValue'] = (a) => this.n.clipByValue(a);
  clipByNorm: NativeAddon['clipByNorm'] = (a) => this.n.clipByNorm(a);
  addSign: NativeAddon['addSign'] = (a) => this.n.addSign(a);
  allFinite: NativeAddon['allFinite'] = (a) => this.n.allFinite(a);
}

let instance: CpuBackend | undefined;
/** The process-wide CPU backend. */
export function cpu(): CpuBackend {
  if (!instance) instance = new CpuBackend();
  return instance;
}
