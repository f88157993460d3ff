// What flows between layers, and the interface every layer implements.
import type { DType } from '../backend';
import type { Exec, Gen } from '../exec';
import type { Tape } from '../graph/tape';
import type { HostArray } from '../native';
import type { FlatParameters } from '../params';
import type { Rng } from '../rng';

/** A padded batch of sequences, time-major: data [T,B,F]; steps t >= lengths[b] are padding. */
export interface SeqAct { kind: 'seq'; data: HostArray; T: number; B: number; F: number; lengths: Int32Array | null }
/** One vector per sequence: data [B,F]. */
export interface VecAct { kind: 'vec'; data: HostArray; B: number; F: number }
/** Token ids, time-major: data [T,B]. */
export interface IdsAct { kind: 'ids'; data: Int32Array; T: number; B: number; lengths: Int32Array | null }
export type Act = SeqAct | VecAct | IdsAct;

/** Static description of an activation: its kind and feature size (vocabulary size for ids). */
export interface ActShape { kind: Act['kind']; F: number }

/** Recurrent state of one layer: per layer and direction, [B,H] buffers. */
export interface RecurrentState { h: HostArray[]; c: HostArray[] | null }

/** Per-call context: how native work runs, training or inference, randomness, carried states. */
export interface Ctx {
  exec: Exec;
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

  protected p(name: string): string { return this.name ? `${this.name}.${name}` : name; }

  /**
   * A scratch buffer of this call (reused by later calls that take the same scratch, so
   * training steps allocate nothing). Outputs built on it are valid until the call ends.
   */
  protected buffer(ctx: Ctx, key: string, dtype: DType, n: number, zero = false): HostArray {
    return ctx.tape.scratch.take(this, key, dtype, n, zero);
  }
}

export function allocLike(dtype: DType, n: number): HostArray {
  return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

export function expectKind<K extends Act['kind']>(what: string, a: Act, kind: K): Extract<Act, { kind: K }> {
  if (a.kind !== kind) throw new TypeError(`${what}: expected a ${kind} input, received a ${a.kind} input`);
  return a as Extract<Act, { kind: K }>;
}

/** Deep copy of recurrent states (layer buffers are reused; carried states must not be). */
export function copyStates(m: Map<Layer, RecurrentState>): Map<Layer, RecurrentState> {
  const out = new Map<Layer, RecurrentState>();
  for (const [k, v] of m) out.set(k, { h: v.h.map((a) => a.slice()), c: v.c ? v.c.map((a) => a.slice()) : null });
  return out;
}
