// Every CUDA op against the CPU kernel on the same random inputs: the case's host arrays go to
// the CPU op as they are and to the CUDA device as tensors; the outputs are compared by
// max|cuda - cpu| / max|cpu|. Runs on a real GPU, or on the CUDA addon's host emulation
// (RNNKIT_CUDA_EMULATION=1, as .ci/run sets), which executes the same kernel sources on the CPU.
import { cpu, cudaDevice, cudaInfo, type Tensor } from '../lib';

export type Host = Float32Array | Float64Array | Int32Array | Uint8Array;
export interface OpCase {
  name: string;
  op: string;
  /** The op's arguments with host arrays (a fresh set per call). */
  make: () => Record<string, unknown>;
  /** Keys of the arrays the op writes. */
  outputs: string[];
  /** Relative tolerance (default: 1e-4 float32, 1e-10 float64). */
  tol?: number;
}

export const cudaState = cudaInfo();
export const cudaReason = cudaState.available
  ? ''
  : `CUDA backend unavailable, GPU suites skipped: ${cudaState.reason}`;

export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0,
    den = 0;
  for (let i = 0; i < b.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}

function isHost(v: unknown): v is Host {
  return v instanceof Float32Array || v instanceof Float64Array || v instanceof Int32Array || v instanceof Uint8Array;
}

/** Runs a case on both backends; returns the result of each and the outputs' relative errors. */
export function runBoth(c: OpCase): { diffs: Record<string, number>; cpuResult: unknown; cudaResult: unknown } {
  const dev = cudaDevice();
  const hostArgs = c.make();
  const devArgs: Record<string, unknown> = {};
  const tensors: Record<string, Tensor> = {};
  const orig = c.make(); // the same values again (make is deterministic) for the CUDA side
  for (const [k, v] of Object.entries(orig)) {
    if (isHost(v)) devArgs[k] = tensors[k] = dev.fromHost(v);
    else if (Array.isArray(v) && v.length > 0 && isHost(v[0])) devArgs[k] = (v as Host[]).map((x) => dev.fromHost(x));
    else devArgs[k] = v;
  }
  const be = cpu() as unknown as Record<string, (a: unknown) => unknown>;
  const d = dev as unknown as Record<string, (a: unknown) => unknown>;
  const cpuResult = be[c.op](hostArgs);
  const cudaResult = d[c.op](devArgs);
  const diffs: Record<string, number> = {};
  for (const k of c.outputs) {
    const want = hostArgs[k];
    if (Array.isArray(want)) {
      (want as Host[]).forEach((w, i) => {
        diffs[`${k}[${i}]`] = relDiff(dev.toHostSync((devArgs[k] as Tensor[])[i]), w);
      });
    } else diffs[k] = relDiff(dev.toHostSync(tensors[k]), want as Host);
  }
  return { diffs, cpuResult, cudaResult };
}

/** A seeded generator of uniform numbers in [-1, 1). */
export function uniform(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s / 2 ** 32) * 2 - 1;
  };
}

export function floats(dtype: 'float32' | 'float64', n: number, seed: number, scale = 1): Float32Array | Float64Array {
  const r = uniform(seed);
  const a = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * scale;
  return a;
}
