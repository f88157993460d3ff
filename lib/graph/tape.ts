// The record of one call. What a layer's forward leaves for its backward, and the scratch
// buffers its outputs live in, belong to the call (as autograd's graph belongs to the call in
// PyTorch), never to the layer: one model then answers concurrent calls, and one layer can be
// applied several times in one graph (decoder steps, a NARX closed loop).
import type { DType } from '../backend';
import type { Device } from '../device/device';
import type { Tensor } from '../device/tensor';
import { bytesPerElement, guardBytes, memoryLimit } from '../memory';

/**
 * Scratch buffers of one call, kept for the next call that takes this Scratch: training steps
 * and repeated predictions then allocate (and page-fault) nothing. Every take within one call
 * gets its own buffer, so a layer applied twice gets two.
 */
export class Scratch {
  private readonly slots = new Map<object, Map<string, Tensor[]>>();
  private readonly used = new Map<object, Map<string, number>>();
  private readonly constants = new Map<object, Map<string, Tensor>>();

  constructor(readonly device: Device) {}

  /** A [n] tensor of the given dtype for `owner`; zero-filled when `zero` (or new). */
  take(owner: object, key: string, dtype: DType | 'int32', n: number, zero = false): Tensor {
    this.callBytes += n * bytesPerElement(dtype);
    if (this.callBytes > memoryLimit()) {
      const o = owner as { type?: string; name?: string };
      guardBytes(
        `${o.type ?? 'a layer'}${o.name ? ` '${o.name}'` : ''}: buffer '${key}' (${n.toLocaleString('en-US')} elements) brings this call to a total that`,
        this.callBytes,
        'use a smaller batchSize or shorter sequences',
      );
    }
    let mine = this.slots.get(owner);
    if (!mine) this.slots.set(owner, (mine = new Map()));
    let list = mine.get(key);
    if (!list) mine.set(key, (list = []));
    let counts = this.used.get(owner);
    if (!counts) this.used.set(owner, (counts = new Map()));
    const i = counts.get(key) ?? 0;
    counts.set(key, i + 1);
    let b = list[i];
    if (!b || b.size !== n || b.dtype !== dtype) {
      b = this.device.alloc(dtype, [n]);
      list[i] = b;
    } else if (zero) {
      this.device.fill(b, 0);
    }
    return b;
  }

  /**
   * A tensor of constant host values (index lists), uploaded once for the life of this scratch;
   * `key` must name the values exactly.
   */
  constant(owner: object, key: string, make: () => Int32Array): Tensor {
    let mine = this.constants.get(owner);
    if (!mine) this.constants.set(owner, (mine = new Map()));
    let t = mine.get(key);
    if (!t) {
      const h = make();
      t = this.device.fromHost(h, [h.length]);
      mine.set(key, t);
    }
    return t;
  }

  /** Frees every buffer this scratch holds. */
  freeAll(): void {
    for (const m of this.slots.values()) for (const l of m.values()) for (const b of l) if (b) this.device.free(b);
    for (const m of this.constants.values()) for (const t of m.values()) this.device.free(t);
    this.slots.clear();
    this.constants.clear();
    this.used.clear();
  }

  /** A new call begins: every buffer may be handed out again. */
  reset(): void {
    this.used.clear();
    this.callBytes = 0;
  }
  private callBytes = 0;

  /** Bytes of the buffers this scratch holds. */
  get bytes(): number {
    let n = 0;
    for (const m of this.slots.values())
      for (const l of m.values()) for (const b of l) if (b) n += b.size * bytesPerElement(b.dtype);
    for (const m of this.constants.values()) for (const t of m.values()) n += t.size * bytesPerElement(t.dtype);
    return n;
  }

  /** Elements held (for tests and memory reports). */
  get elements(): number {
    let n = 0;
    for (const m of this.slots.values()) for (const l of m.values()) for (const b of l) if (b) n += b.size;
    return n;
  }
}

export const SCRATCH_KEEP_BYTES = 64 * 2 ** 20;

/** Scratches of one model: a call takes a free one or a new one, and gives it back when done. */
export class ScratchPool {
  private readonly free: Scratch[] = [];
  constructor(readonly device: Device) {}

  acquire(): Scratch {
    const s = this.free.pop() ?? new Scratch(this.device);
    s.reset();
    return s;
  }
  /**
   * A scratch that ends a call holding more than SCRATCH_KEEP_BYTES gives its buffers back: one
   * long prediction must not keep its peak for the life of the model (a fit holds one scratch
   * for all its steps, so training still allocates nothing per step).
   */
  release(s: Scratch): void {
    if (s.bytes > SCRATCH_KEEP_BYTES) s.freeAll();
    this.free.push(s);
  }

  /** Bytes the idle scratches hold. */
  get bytes(): number {
    return this.free.reduce((n, s) => n + s.bytes, 0);
  }

  /** Frees every idle scratch's buffers (dispose). */
  clear(): void {
    for (const s of this.free.splice(0)) s.freeAll();
  }

  /** Runs fn with a scratch of its own, released when fn settles. */
  async using<T>(fn: (s: Scratch) => Promise<T>): Promise<T> {
    const s = this.acquire();
    try {
      return await fn(s);
    } finally {
      this.release(s);
    }
  }
  usingSync<T>(fn: (s: Scratch) => T): T {
    const s = this.acquire();
    try {
      return fn(s);
    } finally {
      this.release(s);
    }
  }
}

/**
 * What forward passes recorded, per layer, in order. Backward takes them back last-first, so a
 * layer applied several times gets its records in reverse order, as backpropagation needs.
 */
export class Tape {
  private readonly records = new Map<object, unknown[]>();
  constructor(readonly scratch: Scratch) {}

  record(owner: object, value: unknown): void {
    let l = this.records.get(owner);
    if (!l) this.records.set(owner, (l = []));
    l.push(value);
  }

  /** The latest record of `owner` not yet taken; throws when forward did not record one. */
  take<T>(owner: object, what: string): T {
    const l = this.records.get(owner);
    if (!l || l.length === 0)
      throw new Error(
        `${what}.backward: no forward pass of this call recorded one (run forward in training mode first)`,
      );
    return l.pop() as T;
  }

  /** Forget every record (a new training window). */
  clear(): void {
    this.records.clear();
  }
}
