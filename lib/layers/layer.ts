// What flows between layers, and the interface every layer implements.
import type { DType } from '../backend';
import type { Device } from '../device/device';
import type { Tensor } from '../device/tensor';
import { Exec } from '../exec';
import type { Gen } from '../exec';
import { Tape } from '../graph/tape';
import type { Scratch } from '../graph/tape';
import type { FlatParameters } from '../params';
import type { Rng } from '../rng';

/** Valid steps of each sequence: on the host (for control flow) and on the device (for ops). */
export interface Lengths {
  host: Int32Array;
  dev: Tensor;
}
/** A padded batch of sequences, time-major: data [T,B,F]; steps t >= lengths[b] are padding. */
export interface SeqAct {
  kind: 'seq';
  data: Tensor;
  T: number;
  B: number;
  F: number;
  lengths: Lengths | null;
}
/** One vector per sequence: data [B,F]. */
export interface VecAct {
  kind: 'vec';
  data: Tensor;
  B: number;
  F: number;
}
/** Token ids (int32), time-major: data [T,B]. */
export interface IdsAct {
  kind: 'ids';
  data: Tensor;
  T: number;
  B: number;
  lengths: Lengths | null;
}
export type Act = SeqAct | VecAct | IdsAct;

/** Static description of an activation: its kind and feature size (vocabulary size for ids). */
export interface ActShape {
  kind: Act['kind'];
  F: number;
}

/** Recurrent state of one layer: per layer and direction, [B,H] tensors. */
export interface RecurrentState {
  h: Tensor[];
  c: Tensor[] | null;
}

/** Per-call context: the device and how native work runs, training or inference, randomness, carried states. */
export interface Ctx {
  exec: Exec;
  device: Device;
  training: boolean;
  rng: Rng;
  dtype: DType;
  /** Initial states given to recurrent layers (truncated BPTT, user-given h0/c0). */
  initialStates: Map<Layer, RecurrentState>;
  /** Final states written by recurrent layers. */
  finalStates: Map<Layer, RecurrentState>;
  /** Backward: gradients w.r.t. recurrent layers' final states (from outside the chain). */
  finalStateGrads?: Map<Layer, RecurrentState>;
  /** Backward: when present, recurrent layers given an initial state write its gradient here. */
  initialStateGrads?: Map<Layer, RecurrentState>;
  /** History given to time-delay layers: per layer, the D steps before t = 0 as [D,B,F] (docs/tdnn.md). */
  history?: Map<Layer, Tensor>;
  /** Backward: when present, time-delay layers given a history write its gradient [D,B,F] here. */
  historyGrads?: Map<Layer, Tensor>;
  /** This call's record: forward caches and scratch buffers live here, never in a layer. */
  tape: Tape;
}

export abstract class Layer {
  /** Name prefix of this layer's parameters (PyTorch module name, e.g. 'rnn', 'head', '0'). */
  name = '';
  /**
   * Whether backward must return the gradient w.r.t. the input. A container clears it for a
   * first layer fed with data, which saves the input-gradient product.
   */
  needsInputGrad = true;
  abstract readonly type: string;
  /** Resolved options: enough to rebuild the layer (stored in model files). */
  abstract readonly config: Record<string, unknown>;
  /** Registers parameters; returns the output shape for the given input shape. */
  abstract build(input: ActShape, params: FlatParameters): ActShape;
  /** Fills this layer's parameters (after the flat buffer exists). */
  abstract initialize(params: FlatParameters, rng: Rng): void;
  abstract forward(x: Act, ctx: Ctx, params: FlatParameters): Gen<Act>;
  /** Accumulates parameter gradients and returns the gradient w.r.t. the input (null for ids). */
  abstract backward(dy: Act, ctx: Ctx, params: FlatParameters): Gen<Act | null>;

  protected p(name: string): string {
    return this.name ? `${this.name}.${name}` : name;
  }

  /**
   * A scratch buffer of this call (reused by later calls that take the same scratch, so
   * training steps allocate nothing). Outputs built on it are valid until the call ends.
   */
  protected buffer(ctx: Ctx, key: string, dtype: DType | 'int32', n: number, zero = false): Tensor {
    return ctx.tape.scratch.take(this, key, dtype, n, zero);
  }
}

export function expectKind<K extends Act['kind']>(what: string, a: Act, kind: K): Extract<Act, { kind: K }> {
  if (a.kind !== kind) throw new TypeError(`${what}: expected a ${kind} input, received a ${a.kind} input`);
  return a as Extract<Act, { kind: K }>;
}

/** Deep copy of recurrent states (scratch buffers are reused; carried states must not be). */
export function copyStates(device: Device, m: Map<Layer, RecurrentState>): Map<Layer, RecurrentState> {
  const out = new Map<Layer, RecurrentState>();
  for (const [k, v] of m) out.set(k, cloneState(device, v));
  return out;
}

/** A copy of one layer's recurrent state. */
export function cloneState(device: Device, s: RecurrentState): RecurrentState {
  const dup = (t: Tensor) => device.clone(t);
  return { h: s.h.map(dup), c: s.c ? s.c.map(dup) : null };
}

/** Rows of a batch act: T*B for sequences, B for vectors. */
export function rowsOf(a: SeqAct | VecAct): number {
  return a.kind === 'seq' ? a.T * a.B : a.B;
}

/**
 * The context of one call on `device`: the scratch is reset, so the buffers of the previous call
 * it served are reused; the tape is new.
 */
export function callContext(
  device: Device,
  async: boolean,
  training: boolean,
  rng: Rng,
  dtype: DType,
  scratch: Scratch,
  initialStates: Map<Layer, RecurrentState> = new Map(),
): Ctx {
  scratch.reset();
  return {
    exec: new Exec(device, async),
    device,
    training,
    rng,
    dtype,
    initialStates,
    finalStates: new Map(),
    tape: new Tape(scratch),
  };
}
