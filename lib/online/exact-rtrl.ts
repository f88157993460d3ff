// Exact real-time recurrent learning (Williams and Zipser 1989) for a unidirectional stack of
// Elman, LSTM or GRU layers. Per sequence (batch row) it carries the sensitivity matrix
// P_t = dS_t/dθ (S = state units of every layer — h, and c for LSTM — by θ = every parameter
// of the stack) and updates it every step:
//   P_t = J_t P_{t-1} + I_t
// where J_t = ∂S_t/∂S_{t-1} (including a layer's dependence on the new state of the layer
// below) and I_t = ∂S_t/∂θ. The rows of J_t and I_t come from the native single-step backward
// kernel seeded with one state unit at a time (the exact same math as BPTT, so no separate
// derivation per cell); the products are native GEMMs. The gradient of a loss at step t is
// dL/dθ += (∂L/∂h_top,t) · P_t[h_top rows].
// Cost per step and sequence: S single-step backward passes, O(S·P), plus the products,
// O(S²·P) — for n units per layer O(n⁴) time and O(n³) memory.
import type { Backend } from '../backend';
import type { HostArray, RnnSpec } from '../native';
import { recurrentParameterShapes } from '../params';

export interface RtrlSpec {
  cell: RnnSpec['cell'];
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  activation?: 'tanh' | 'relu' | 'sigmoid';
  gruVariant?: 'pytorch' | 'original';
  dtype?: 'float32' | 'float64';
}

interface LayerInfo { I: number; S: number; P: number; offset: number; stateRow: number; spec: RnnSpec }

export class ExactRtrl {
  readonly S: number; // state units of the whole stack
  readonly P: number; // parameters of the whole stack (PyTorch order, layer by layer)
  readonly H: number;
  private readonly layers: LayerInfo[];
  private readonly lstm: boolean;
  private readonly dtype: 'float32' | 'float64';
  private B = 0;
  private h: HostArray[][] = []; // [b][l] → [H]
  private c: HostArray[][] = [];
  private sens: HostArray[] = []; // [b] → [S, P]

  constructor(private readonly be: Backend<HostArray>, spec: RtrlSpec) {
    const L = spec.numLayers ?? 1, H = spec.hiddenSize;
    this.H = H;
    this.lstm = spec.cell === 'lstm';
    this.dtype = spec.dtype ?? 'float64';
    const G = spec.cell === 'lstm' ? 4 : spec.cell === 'gru' ? 3 : 1;
    const SL = this.lstm ? 2 * H : H;
    this.layers = [];
    let offset = 0;
    for (let l = 0; l < L; l++) {
      const I = l === 0 ? spec.inputSize : H;
      const P = G * H * (I + H + 2);
      this.layers.push({
        I, S: SL, P, offset, stateRow: l * SL,
        spec: { cell: spec.cell, T: 1, B: 1, I, H, ...(spec.cell === 'elman' ? { activation: spec.activation ?? 'tanh' } : {}), ...(spec.cell === 'gru' ? { gruVariant: spec.gruVariant ?? 'pytorch' } : {}) },
      });
      offset += P;
    }
    this.S = L * SL;
    this.P = offset;
    const shapes = recurrentParameterShapes({ cell: spec.cell, inputSize: spec.inputSize, hiddenSize: H, numLayers: L });
    if (shapes.reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0) !== this.P) throw new Error('ExactRtrl: internal parameter count mismatch');
  }

  private alloc(n: number): HostArray { return this.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n); }

  /** Zero states and sensitivities for B sequences. */
  reset(B: number): void {
    this.B = B;
    this.h = Array.from({ length: B }, () => this.layers.map(() => this.alloc(this.H)));
    this.c = Array.from({ length: B }, () => this.layers.map(() => this.alloc(this.H)));
    this.sens = Array.from({ length: B }, () => this.alloc(this.S * this.P));
  }

  /** Memory of the sensitivities in bytes. */
  get sensitivityBytes(): number { return this.B * this.S * this.P * (this.dtype === 'float64' ? 8 : 4); }

  /**
   * One step: x [B,I] → top-layer h [B,H]; states and sensitivities advance.
   * params: the stack's flat parameters [P] in PyTorch order (weight_ih, weight_hh, bias_ih, bias_hh per layer).
   */
  step(x: HostArray, params: HostArray): HostArray {
    const H = this.H, out = this.alloc(this.B * H);
    for (let b = 0; b < this.B; b++) {
      let inp = x.subarray(b * this.layers[0].I, (b + 1) * this.layers[0].I);
      const P = this.sens[b];
      const next = this.alloc(this.S * this.P);
      for (let l = 0; l < this.layers.length; l++) {
        const L = this.layers[l];
        const G = L.P / (H * (L.I + H + 2));
        const w = (k: number, n: number) => params.subarray(L.offset + k, L.offset + k + n);
        const wIh = w(0, G * H * L.I), wHh = w(G * H * L.I, G * H * H), bIh = w(G * H * (L.I + H), G * H), bHh = w(G * H * (L.I + H + 1), G * H);
        const y = this.alloc(H), hN = this.alloc(H), cN = this.alloc(H);
        const reserve = this.alloc(this.be.rnnReserveSize(L.spec));
        this.be.rnnForward({ ...L.spec, x: inp, h0: this.h[b][l], c0: this.lstm ? this.c[b][l] : null, wIh, wHh, bIh, bHh, y, hN, cN: this.lstm ? cN : null, reserve });
        // Rows of ∂s/∂s_prev (Jss), ∂s/∂input (Jsx) and ∂s/∂θ_l (Iθ), one state unit at a time.
        const Jss = this.alloc(L.S * L.S), Jsx = this.alloc(L.S * L.I), It = this.alloc(L.S * L.P);
        for (let k = 0; k < L.S; k++) {
          const dhN = this.alloc(H), dcN = this.lstm ? this.alloc(H) : null;
          if (k < H) dhN[k] = 1; else dcN![k - H] = 1;
          const dx = Jsx.subarray(k * L.I, (k + 1) * L.I);
          const dh0 = this.alloc(H), dc0 = this.lstm ? this.alloc(H) : null;
          const row = It.subarray(k * L.P, (k + 1) * L.P);
          const gw = (o: number, n: number) => row.subarray(o, o + n);
          this.be.rnnBackward({
            ...L.spec, x: inp, wIh, wHh, reserve, dhN, dcN, dx, dh0, dc0,
            dwIh: gw(0, G * H * L.I), dwHh: gw(G * H * L.I, G * H * H), dbIh: gw(G * H * (L.I + H), G * H), dbHh: gw(G * H * (L.I + H + 1), G * H),
          });
          Jss.set(dh0, k * L.S);
          if (dc0) Jss.set(dc0, k * L.S + H);
        }
        // next[l rows] = Jss · P[l rows] + Jsx · next[(l-1) h rows] + Iθ in layer l's columns
        const rows = (m: HostArray, r0: number, n: number) => m.subarray(r0 * this.P, (r0 + n) * this.P);
        const dst = rows(next, L.stateRow, L.S);
        this.be.gemm({ M: L.S, N: this.P, K: L.S, a: Jss, b: rows(P, L.stateRow, L.S), c: dst, beta: 0 });
        if (l > 0) this.be.gemm({ M: L.S, N: this.P, K: L.I, a: Jsx, b: rows(next, this.layers[l - 1].stateRow, H), c: dst, beta: 1 });
        for (let k = 0; k < L.S; k++) for (let j = 0; j < L.P; j++) dst[k * this.P + L.offset + j] += It[k * L.P + j];
        this.h[b][l] = hN;
        if (this.lstm) this.c[b][l] = cN;
        inp = hN;
      }
      this.sens[b] = next;
      out.set(inp, b * H);
    }
    return out;
  }

  /** grads [P] += Σ_b dL/dh_top[b] · P_b[top h rows].  dh: [B,H]. */
  accumulate(dh: HostArray, grads: HostArray): void {
    const top = this.layers[this.layers.length - 1];
    for (let b = 0; b < this.B; b++) {
      this.be.gemm({ M: 1, N: this.P, K: this.H, a: dh.subarray(b * this.H, (b + 1) * this.H), b: this.sens[b].subarray(top.stateRow * this.P, (top.stateRow + this.H) * this.P), c: grads, beta: 1 });
    }
  }
}
