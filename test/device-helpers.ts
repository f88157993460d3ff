// The devices every device-neutral suite runs on, and small helpers to build inputs and
// contexts on them. The opaque device's tensors cannot be read from JavaScript, so a suite that
// passes on it never indexes a tensor above the device.
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { cpuDevice, cudaDevice, cudaInfo, Exec, opaqueDevice, Rng, Scratch, setDefaultDevice, Tape } from '../lib';
import type { Ctx, Device, FlatParameters, IdsAct, SeqAct, Tensor } from '../lib';
import { numericGrad, relErr } from './helpers';

export const DEVICES: Array<[string, () => Device]> = [
  ['cpu', () => cpuDevice()],
  ['opaque', () => opaqueDevice()],
  // A GPU, or the CUDA addon's host emulation (RNNKIT_CUDA_EMULATION=1, as .ci/run sets).
  ...(cudaInfo().available ? [['cuda', () => cudaDevice() as unknown as Device] as [string, () => Device]] : []),
];

export function ctxOn(device: Device, dtype: 'float32' | 'float64' = 'float64', training = true): Ctx {
  return {
    exec: new Exec(device, false),
    device,
    training,
    rng: new Rng(1),
    dtype,
    initialStates: new Map(),
    finalStates: new Map(),
    tape: new Tape(new Scratch(device)),
  };
}

export function lengthsOf(device: Device, l: number[] | null) {
  if (!l) return null;
  const host = Int32Array.from(l);
  return { host, dev: device.fromHost(host) };
}

export function seqOn(
  device: Device,
  data: Float64Array | Float32Array,
  T: number,
  B: number,
  F: number,
  lengths: number[] | null = null,
): SeqAct {
  return { kind: 'seq', data: device.fromHost(data, [T, B, F]), T, B, F, lengths: lengthsOf(device, lengths) };
}

export function idsOn(device: Device, ids: number[], T: number, B: number, lengths: number[] | null = null): IdsAct {
  return {
    kind: 'ids',
    data: device.fromHost(Int32Array.from(ids), [T, B]),
    T,
    B,
    lengths: lengthsOf(device, lengths),
  };
}

/** A host copy of a tensor, as float64. */
export function host(device: Device, t: Tensor): Float64Array {
  return Float64Array.from(device.toHostSync(t));
}

/**
 * Finite differences of `loss` against the analytic gradient, one relative error per parameter
 * tensor (a wrong small bias gradient cannot hide in the error of the whole flat vector).
 */
export function expectParamGrads(
  params: FlatParameters,
  analytic: Float64Array,
  loss: () => number,
  tol = 1e-6,
  eps = 1e-6,
): void {
  const p = Float64Array.from(params.hostParams());
  const numeric = numericGrad(
    p,
    () => {
      params.setHostParams(p);
      return loss();
    },
    eps,
  );
  params.setHostParams(p);
  for (const e of params.list()) {
    const a = analytic.subarray(e.offset, e.offset + e.size),
      n = numeric.subarray(e.offset, e.offset + e.size);
    let scale = 0;
    for (let i = 0; i < n.length; i++) scale = Math.max(scale, Math.abs(n[i]));
    expect(scale, `${e.name}: the numeric gradient is zero; the check would prove nothing`).toBeGreaterThan(1e-9);
    expect(relErr(a, n), e.name).toBeLessThan(tol);
  }
}

/**
 * Runs a suite once per device: models built inside its tests use that device by default
 * (setDefaultDevice), so the same tests hold the CPU device and the opaque device to one contract.
 */
export function forEachDevice(body: (name: string, make: () => Device) => void): void {
  for (const [name, make] of DEVICES) {
    describe(`[${name} device]`, () => {
      beforeAll(() => {
        setDefaultDevice(make());
      });
      afterAll(() => {
        setDefaultDevice(null);
      });
      body(name, make);
    });
  }
}
