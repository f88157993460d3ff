// What one model holds, for memoryInfo(): its share of a server's memory, and a way to see
// that dispose() gave it all back.
import type { ScratchPool } from '../graph/tape';
import { bytesPerElement } from '../memory';
import type { FlatParameters } from '../params';
import type { Trainer } from '../train/trainer';

export interface ModelMemoryInfo {
  /** The flat parameter tensor. */
  parameterBytes: number;
  /** The flat gradient tensor (same size). */
  gradientBytes: number;
  /** The optimizer's state (allocated by the first fit). */
  optimizerBytes: number;
  /** Buffers kept by idle call scratches for the next call (a call over 64 MiB keeps none). */
  scratchBytes: number;
  totalBytes: number;
}

export function modelMemoryInfo(
  params: FlatParameters,
  trainer: Trainer | null,
  scratch: ScratchPool,
): ModelMemoryInfo {
  const p = params.size * bytesPerElement(params.dtype);
  const o = trainer?.stateBytes ?? 0,
    s = scratch.bytes;
  return { parameterBytes: p, gradientBytes: p, optimizerBytes: o, scratchBytes: s, totalBytes: 2 * p + o + s };
}
