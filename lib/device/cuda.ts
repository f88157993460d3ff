// The CUDA device: tensors are handles to GPU memory (blocks the CUDA addon allocates, freed by
// free()/dispose() or by a finalizer when collected), and every op runs the addon's kernels on
// one stream. Data crosses only through fromHost / write / toHost and the scalars an op returns.
// The addon (cuda/, `npm run build:cuda`) is separate from the CPU addon and loaded only here.
// RNNKIT_CUDA_EMULATION=1 loads its host emulation build instead (`npm run build:cuda-emu`):
// the same kernel sources run as loops on the CPU, which is how CI without a GPU runs them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cpu } from '../cpu-backend';
import type { OptimizerKind, RnnSpec } from '../native';
import { bytesPerElement, formatBytes, guardBytes } from '../memory';
import { checkShape, DEVICE_OPS, type Device, type TransferCounts, zeroTransfers } from './device';
import { dtypeOf, HostData, hostArrayOf, isTensor, Tensor, TensorDType, TENSOR_DTYPES } from './tensor';

/** What the CUDA addon reports about the device (cudaInfo()). */
export interface CudaInfo {
  backend: 'cuda';
  /** Whether a device is usable; reason says why not. */
  available: boolean;
  reason?: string;
  /** The host emulation build (CI without a GPU): kernels run as loops on the CPU. */
  emulated: boolean;
  device?: string;
  deviceCount?: number;
  computeCapability?: string;
  totalBytes?: number;
  freeBytesAtStart?: number;
  /** 'cublas' when libcublas loaded at run time, else 'builtin' (our tiled kernel). */
  gemm?: 'cublas' | 'builtin';
  /** The cuBLAS library that loaded, or what was tried. */
  cublas?: string;
  /** The addon file that loaded. */
  addon?: string;
}

type Block = object; // an External the addon made
type Ref = [Block, number, number, number]; // block, byte offset, elements, dtype code
interface Handle {
  block: Block;
  offset: number; // bytes
  owner: boolean; // this tensor allocated the block (views do not)
}

interface CudaAddon {
  info(): Omit<CudaInfo, 'addon'>;
  memoryInfo(): { allocatedBytes: number; workspaceBytes: number };
  alloc(o: { bytes: number }): Block;
  free(b: Block): void;
  upload(o: { block: Block; offset: number; data: HostData }): void;
  download(o: { block: Block; offset: number; data: HostData }): void;
  copy(o: { src: Block; srcOffset: number; dst: Block; dstOffset: number; bytes: number }): void;
  synchronize(): void;
  releaseWorkspace(): void;
  [op: string]: unknown;
}

const DTYPE_CODE: Record<TensorDType, number> = { float32: 0, float64: 1, int32: 2, uint8: 3 };

/** Where the CUDA addon may be, in the order tried. */
function candidates(): string[] {
  const root = path.resolve(__dirname, '..', '..');
  if (process.env.RNNKIT_CUDA_EMULATION === '1')
    return [path.join(root, 'build-cuda-emu', 'Release', 'rnnkit_cuda_emu.node')];
  const list = [
    path.join(root, 'build-cuda', 'Release', 'rnnkit_cuda.node'),
    path.join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'rnnkit_cuda.node'),
  ];
  if (process.env.RNNKIT_CUDA_ADDON) list.unshift(path.resolve(process.env.RNNKIT_CUDA_ADDON));
  return list;
}

let loaded: { addon: CudaAddon; file: string } | { error: string } | undefined;

function load(): { addon: CudaAddon; file: string } | { error: string } {
  if (loaded) return loaded;
  const tried: string[] = [];
  for (const file of candidates()) {
    if (!fs.existsSync(file)) {
      tried.push(`${file} (absent)`);
      continue;
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = { addon: require(file) as CudaAddon, file };
      return loaded;
    } catch (e) {
      tried.push(`${file} (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
    }
  }
  loaded = {
    error:
      `the CUDA addon is not built: run \`npm run build:cuda\` (needs nvcc; the addon then needs only an ` +
      `NVIDIA driver at run time). Tried ${tried.join('; ')}`,
  };
  return loaded;
}

/** What the CUDA backend can do here: the device, its memory and GEMM, or why it is unavailable. */
export function cudaInfo(): CudaInfo {
  const l = load();
  if ('error' in l) return { backend: 'cuda', available: false, emulated: false, reason: l.error };
  return { ...l.addon.info(), addon: l.file } as CudaInfo;
}

/** Whether cudaDevice() will succeed. */
export function cudaAvailable(): boolean {
  return cudaInfo().available;
}

let instance: CudaDevice | undefined;

/** The process-wide CUDA device; throws, saying why, when there is no usable GPU or addon. */
export function cudaDevice(): CudaDevice {
  if (instance) return instance;
  const info = cudaInfo();
  if (!info.available) throw new Error(`rnnkit: CUDA device unavailable: ${info.reason}`);
  const l = load() as { addon: CudaAddon; file: string };
  instance = new CudaDevice(l.addon, info);
  return instance;
}

export class CudaDevice {
  readonly name = 'cuda';
  readonly capabilities = { online: false };
  readonly transfers: TransferCounts = zeroTransfers();
  private readonly freed = new WeakSet<Tensor>();

  constructor(
    private readonly n: CudaAddon,
    readonly info: CudaInfo,
  ) {
    const self = this as unknown as Record<string, unknown>;
    for (const name of DEVICE_OPS) {
      const base = name.endsWith('Async') ? name.slice(0, -'Async'.length) : name;
      const kernel = this.n[base] as ((a: unknown) => unknown) | undefined;
      if (typeof kernel !== 'function') {
        self[name] = () => {
          throw new Error(`cuda: ${name} has no CUDA kernel yet; run this model on the CPU device`);
        };
        continue;
      }
      const run = (a: Record<string, unknown>) => {
        const r = kernel(this.refs(name, a));
        if (typeof r === 'number' || typeof r === 'boolean' || (r !== undefined && r !== null))
          this.transfers.scalars++;
        return r;
      };
      // The stream orders the work: an Async op is queued and waited for like the sync one.
      self[name] = name === base ? run : async (a: Record<string, unknown>) => run(a);
    }
  }

  /** The op's options with every tensor replaced by its reference into device memory. */
  private refs(what: string, a: Record<string, unknown>): Record<string, unknown> {
    if (a === null || typeof a !== 'object')
      throw new TypeError(`${what}: expected an options object, received ${a === null ? 'null' : typeof a}`);
    const o: Record<string, unknown> = {};
    for (const key of Object.keys(a)) {
      const v = a[key];
      if (isTensor(v)) o[key] = this.ref(v, `${what}: ${key}`);
      else if (Array.isArray(v) && v.length > 0 && isTensor(v[0]))
        o[key] = (v as Tensor[]).map((t, i) => this.ref(t, `${what}: ${key}[${i}]`));
      else o[key] = v;
    }
    return o;
  }

  private ref(t: Tensor, what: string): Ref {
    this.own(t, what);
    const h = t.handle as Handle;
    return [h.block, h.offset, t.size, DTYPE_CODE[t.dtype]];
  }

  private own(t: Tensor, what: string): void {
    if (!isTensor(t))
      throw new TypeError(`cuda.${what}: expected a Tensor, received ${t === null ? 'null' : typeof t}`);
    if (t.device !== 'cuda') throw new TypeError(`${what}: the tensor lives on device '${t.device}', not 'cuda'`);
    if (this.freed.has(t)) throw new Error(`${what}: the tensor was freed`);
  }

  alloc(dtype: TensorDType, shape: readonly number[]): Tensor {
    if (!TENSOR_DTYPES.includes(dtype))
      throw new TypeError(`cuda.alloc: dtype must be one of ${TENSOR_DTYPES.join(', ')}, received ${String(dtype)}`);
    const n = checkShape('alloc', shape);
    const bytes = n * bytesPerElement(dtype);
    guardBytes(`cuda.alloc: a ${dtype} tensor of shape [${shape.join(',')}]`, bytes);
    let block: Block;
    try {
      block = this.n.alloc({ bytes });
    } catch (e) {
      const m = e instanceof Error ? e.message : String(e);
      throw new RangeError(
        `cuda.alloc: a ${dtype} tensor of shape [${shape.join(',')}] needs ${formatBytes(bytes)} of GPU memory: ${m}`,
      );
    }
    return new Tensor(dtype, shape.slice(), 'cuda', Object.freeze({ block, offset: 0, owner: true }));
  }

  fromHost(data: HostData, shape?: readonly number[]): Tensor {
    const dtype = dtypeOf(data);
    const s = shape ?? [data.length];
    const n = checkShape('fromHost', s);
    if (n !== data.length)
      throw new RangeError(`fromHost: shape [${s.join(',')}] needs ${n} elements, received ${data.length}`);
    const t = this.alloc(dtype, s);
    this.upload(t, data);
    return t;
  }

  private upload(t: Tensor, data: HostData): void {
    const h = t.handle as Handle;
    this.transfers.toDevice++;
    this.transfers.toDeviceBytes += data.byteLength;
    this.n.upload({ block: h.block, offset: h.offset, data });
  }

  toHostSync(t: Tensor): HostData {
    this.own(t, 'toHost');
    const h = t.handle as Handle;
    const out = hostArrayOf(t.dtype, t.size);
    this.transfers.toHostCalls++;
    this.transfers.toHostBytes += out.byteLength;
    this.n.download({ block: h.block, offset: h.offset, data: out });
    return out;
  }

  async toHost(t: Tensor): Promise<HostData> {
    return this.toHostSync(t);
  }

  write(t: Tensor, data: ArrayLike<number>): void {
    this.own(t, 'write');
    if (data.length !== t.size)
      throw new RangeError(`write: the tensor has ${t.size} elements, received ${data.length}`);
    const host = hostArrayOf(t.dtype, t.size);
    host.set(data);
    this.upload(t, host);
  }

  view(t: Tensor, offset: number, shape: readonly number[]): Tensor {
    this.own(t, 'view');
    const n = checkShape('view', shape);
    if (!Number.isInteger(offset) || offset < 0 || offset + n > t.size)
      throw new RangeError(`view: elements [${offset}, ${offset + n}) must lie within the tensor's ${t.size}`);
    const h = t.handle as Handle;
    const handle: Handle = { block: h.block, offset: h.offset + offset * bytesPerElement(t.dtype), owner: false };
    return new Tensor(t.dtype, shape.slice(), 'cuda', Object.freeze(handle));
  }

  fill(t: Tensor, value: number): void {
    this.own(t, 'fill');
    (this.n.fill as (a: unknown) => void)({ x: this.ref(t, 'fill: x'), value });
  }

  copy(src: Tensor, dst: Tensor): void {
    this.own(src, 'copy');
    this.own(dst, 'copy');
    if (src.size !== dst.size || src.dtype !== dst.dtype)
      throw new RangeError(`copy: tensors must match, received ${src} and ${dst}`);
    const a = src.handle as Handle,
      b = dst.handle as Handle;
    this.n.copy({
      src: a.block,
      srcOffset: a.offset,
      dst: b.block,
      dstOffset: b.offset,
      bytes: src.size * bytesPerElement(src.dtype),
    });
  }

  clone(t: Tensor): Tensor {
    const c = this.alloc(t.dtype, t.shape);
    this.copy(t, c);
    return c;
  }

  /** Frees a tensor's GPU memory now (a view only stops being usable; its block stays). */
  free(t: Tensor): void {
    if (!isTensor(t) || t.device !== 'cuda' || this.freed.has(t)) return;
    this.freed.add(t);
    const h = t.handle as Handle;
    if (h.owner) this.n.free(h.block);
  }

  rnnReserveSize(spec: RnnSpec): number {
    return cpu().rnnReserveSize(spec); // the same reserve layout as the CPU kernels
  }
  optimStateCount(kind: OptimizerKind): number {
    return cpu().optimStateCount(kind);
  }
  dropoutMask(a: { p: number; seed: number; mask: Tensor }): void {
    (this.n.dropoutMask as (a: unknown) => void)({ p: a.p, seed: a.seed, mask: this.ref(a.mask, 'dropoutMask: mask') });
  }
  l2Norm(a: { x: Tensor }): number {
    this.transfers.scalars++;
    return (this.n.l2Norm as (a: unknown) => number)({ x: this.ref(a.x, 'l2Norm: x') });
  }

  /** GPU memory held: tensors and the kernels' workspace. */
  memoryInfo(): { allocatedBytes: number; workspaceBytes: number } {
    return this.n.memoryInfo();
  }
  /** Waits for every queued kernel. */
  synchronize(): void {
    this.n.synchronize();
  }
}
// The op methods are installed by the constructor.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface CudaDevice extends Pick<Device, (typeof DEVICE_OPS)[number]> {}
