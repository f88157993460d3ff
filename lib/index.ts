export type { Backend, DType } from './backend';
export { CpuBackend, cpu } from './cpu-backend';
export type * from './native';
import { cpu } from './cpu-backend';
import type { BackendInfo } from './native';

/** GEMM in use ('openblas' or 'builtin'), SIMD level and thread count of the CPU backend. */
export function backendInfo(): BackendInfo { return cpu().info(); }
/** Threads used by every kernel (one pool; OpenBLAS is driven from it single-threaded). */
export function setNumThreads(n: number): void { cpu().setNumThreads(n); }
export { FlatParameters, recurrentParameterShapes } from './params';
export type { ParamEntry } from './params';
