// Exact real-time recurrent learning (Williams and Zipser 1989) for a unidirectional stack of
// Elman, LSTM or GRU layers. Per sequence (batch row) it carries the sensitivity matrix
// P_t = dS_t/dθ (S = state units of every layer — h, and c for LSTM — by θ = every parameter
// of the stack) and updates it every step:
//   P_t = J_t P_{t-1} + I_t
// where J_t = ∂S_t/∂S_{t-1} (including a layer's dependence on the new state of the layer
// below) and I_t = ∂S_t/∂θ. The rows of J_t and I_t come from one native call per layer and
// step (rnnStepJacobians: the single-step backward kernel seeded with one state unit at a time,
// the exact same math as BPTT, so no separate derivation per cell); the products are native GEMMs. The gradient of a loss at step t is
// dL/dθ += (∂L/∂h_top,t) · P_t[h_top rows].
// Cost per step and sequence: S single-step backward passes, O(S·P), plus the products,
// O(S²·P) — for n units per layer O(n⁴) time and O(n³) memory.
import type { Backend } from '../backend';
import type { HostArray, RnnSpec } from '../native';
import { recurrentParameterShapes } from '../params';
import { Rng } from '../rng';

export type OnlineAlgorithm = 'rtrl' | 'snap1' | 'uoro';

export interface RtrlSpec {
  /** 'rtrl' (exact, default), 'snap1' (Menick et al. 2020) or 'uoro' (Tallec and Ollivier 2017). */
  algorithm?: OnlineAlgorithm;
  /** Seed of UORO's random signs. */
  seed?: number;
  /** @internal SnAp-1 from full Jacobian rows (O(n³); the reference the O(n²) path is tested against). */
  jacobianRows?: boolean;
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
  private sens: HostArray[] = []; // [b] → [S, P] (rtrl, snap1)
  private sTilde: Float64Array[] = []; // [b] → [S] (uoro)
  private thTilde: Float64Array[] = []; // [b] → [P] (uoro)
  readonly algorithm: OnlineAlgorithm;
  private readonly rng: Rng;
  private readonly G: number;
  private readonly snapRows: boolean;

  constructor(private readonly be: Backend<HostArray>, spec: RtrlSpec) {
    this.algorithm = spec.algorithm ?? 'rtrl';
    if (!['rtrl', 'snap1', 'uoro'].includes(this.algorithm)) throw new RangeError(`online learning: algorithm must be one of 'rtrl' 'snap1' 'uoro', received ${JSON.stringify(spec.algorithm)}`);
    this.rng = new Rng(spec.seed ?? 0);
    const L = spec.numLayers ?? 1, H = spec.hiddenSize;
    this.H = H;
    this.lstm = spec.cell === 'lstm';
    this.dtype = spec.dtype ?? 'float64';
    const G = spec.cell === 'lstm' ? 4 : spec.cell === 'gru' ? 3 : 1;
    this.G = G;
    // The O(n²) SnAp-1 step needs unit-local cells; GRU 'original' mixes units through W_hn (r⊙h).
    this.snapRows = spec.jacobianRows === true || (spec.cell === 'gru' && spec.gruVariant === 'original');
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
    const uoro = this.algorithm === 'uoro';
    const per = this.algorithm === 'snap1' ? this.keptEntries : this.S * this.P;
    this.sens = uoro ? [] : Array.from({ length: B }, () => this.alloc(per));
    this.sTilde = uoro ? Array.from({ length: B }, () => new Float64Array(this.S)) : [];
    this.thTilde = uoro ? Array.from({ length: B }, () => new Float64Array(this.P)) : [];
  }

  /** @internal States, sensitivities and the sign generator, for saving. */
  getState(): { B: number; h: HostArray[][]; c: HostArray[][]; sens: HostArray[]; sTilde: Float64Array[]; thTilde: Float64Array[]; rng: number[] } {
    return { B: this.B, h: this.h, c: this.c, sens: this.sens, sTilde: this.sTilde, thTilde: this.thTilde, rng: this.rng.getState() };
  }
  /** @internal */
  setState(st: { B: number; h: HostArray[][]; c: HostArray[][]; sens: HostArray[]; sTilde: Float64Array[]; thTilde: Float64Array[]; rng: number[] }): void {
    this.reset(st.B);
    const copy = (dst: HostArray[], src: HostArray[], what: string) => dst.forEach((d, i) => {
      if (!src[i] || src[i].length !== d.length) throw new RangeError(`online learner state: ${what} ${i} must have ${d.length} elements`);
      d.set(src[i]);
    });
    for (let b = 0; b < st.B; b++) { copy(this.h[b], st.h[b], 'h'); copy(this.c[b], st.c[b], 'c'); }
    copy(this.sens, st.sens, 'sensitivities');
    copy(this.sTilde, st.sTilde, 's~');
    copy(this.thTilde, st.thTilde, 'theta~');
    this.rng.setState(st.rng);
  }

  /** Entries the algorithm keeps per sequence: S·P (rtrl), the SnAp-1 pattern, or S + P (uoro). */
  get keptEntries(): number {
    if (this.algorithm === 'uoro') return this.S + this.P;
    if (this.algorithm === 'snap1') return this.layers.reduce((a, L) => a + L.S * this.G * (L.I + this.H + 2), 0);
    return this.S * this.P;
  }
  /** Bytes allocated for the learning state of all sequences. */
  get sensitivityBytes(): number {
    const n = this.algorithm === 'uoro' ? (this.S + this.P) * 8 : this.keptEntries * (this.dtype === 'float64' ? 8 : 4);
    return this.B * n;
  }

  /** SnAp-1 layout: per layer, per unit j, its state rows (h_j, c_j) × its own parameters. */
  private snapBlock(l: number, j: number): { start: number; ks: number[]; own: number[] } {
    let start = 0;
    for (let i = 0; i < l; i++) start += this.layers[i].S * this.G * (this.layers[i].I + this.H + 2);
    const L = this.layers[l], ks = this.lstm ? [j, this.H + j] : [j];
    const own = this.ownParams(L, j);
    start += j * ks.length * own.length;
    return { start, ks, own };
  }

  /** Parameter indices (within a layer's block) owned by unit j: its row in every gate block. */
  private ownParams(L: LayerInfo, j: number): number[] {
    const H = this.H, G = this.G, out: number[] = [];
    for (let g = 0; g < G; g++) {
      const r = g * H + j;
      for (let i = 0; i < L.I; i++) out.push(r * L.I + i);
      for (let i = 0; i < H; i++) out.push(G * H * L.I + r * H + i);
      out.push(G * H * (L.I + H) + r, G * H * (L.I + H + 1) + r);
    }
    return out;
  }

  /**
   * One step: x [B,I] → top-layer h [B,H]; states and sensitivities advance.
   * params: the stack's flat parameters [P] in PyTorch order (weight_ih, weight_hh, bias_ih, bias_hh per layer).
   */
  step(x: HostArray, params: HostArray): HostArray {
    const H = this.H, out = this.alloc(this.B * H);
    for (let b = 0; b < this.B; b++) {
      let inp = x.subarray(b * this.layers[0].I, (b + 1) * this.layers[0].I);
      if (this.algorithm === 'uoro') { out.set(this.stepUoro(b, inp, params), b * H); continue; }
      if (this.algorithm === 'snap1' && !this.snapRows) { out.set(this.stepSnap1(b, inp, params), b * H); continue; }
      const parts: Array<{ Jss: HostArray; Jsx: HostArray; It: HostArray }> = [];
      for (let l = 0; l < this.layers.length; l++) {
        const L = this.layers[l];
        const G = this.G;
        const w = (k: number, n: number) => params.subarray(L.offset + k, L.offset + k + n);
        const wIh = w(0, G * H * L.I), wHh = w(G * H * L.I, G * H * H), bIh = w(G * H * (L.I + H), G * H), bHh = w(G * H * (L.I + H + 1), G * H);
        const hN = this.alloc(H), cN = this.alloc(H);
        // One native call: the step and the rows of ∂s'/∂s, ∂s'/∂x and ∂s'/∂θ.
        const Jss = this.alloc(L.S * L.S), Jsx = this.alloc(L.S * L.I), It = this.alloc(L.S * L.P);
        this.be.rnnStepJacobians({
          cell: L.spec.cell, I: L.I, H, activation: L.spec.activation, gruVariant: L.spec.gruVariant,
          x: inp, h0: this.h[b][l], c0: this.lstm ? this.c[b][l] : null, wIh, wHh, bIh, bHh,
          h1: hN, c1: this.lstm ? cN : null, jss: Jss, jsx: Jsx, jth: It,
        });
        parts.push({ Jss, Jsx, It });
        this.h[b][l] = hN;
        if (this.lstm) this.c[b][l] = cN;
        inp = hN;
      }
      if (this.algorithm === 'rtrl') this.updateExact(b, parts);
      else this.updateSnap1(b, parts);
      out.set(inp, b * H);
    }
    return out;
  }

  /** P_t = J_t P_{t-1} + I_t over the whole stack. */
  private updateExact(b: number, parts: Array<{ Jss: HostArray; Jsx: HostArray; It: HostArray }>) {
    const P = this.sens[b], next = this.alloc(this.S * this.P), H = this.H;
    const rows = (m: HostArray, r0: number, n: number) => m.subarray(r0 * this.P, (r0 + n) * this.P);
    this.layers.forEach((L, l) => {
      const { Jss, Jsx, It } = parts[l];
      const dst = rows(next, L.stateRow, L.S);
      this.be.gemm({ M: L.S, N: this.P, K: L.S, a: Jss, b: rows(P, L.stateRow, L.S), c: dst, beta: 0 });
      if (l > 0) this.be.gemm({ M: L.S, N: this.P, K: L.I, a: Jsx, b: rows(next, this.layers[l - 1].stateRow, H), c: dst, beta: 1 });
      for (let k = 0; k < L.S; k++) for (let j = 0; j < L.P; j++) dst[k * this.P + L.offset + j] += It[k * L.P + j];
    });
    this.sens[b] = next;
  }

  /** SnAp-1: only the entries of each unit's own parameters, updated with that unit's state block of J. */
  private updateSnap1(b: number, parts: Array<{ Jss: HostArray; Jsx: HostArray; It: HostArray }>) {
    const P = this.sens[b], H = this.H;
    this.layers.forEach((L, l) => {
      const { Jss, It } = parts[l];
      for (let j = 0; j < H; j++) {
        const { start, ks, own } = this.snapBlock(l, j), n = own.length;
        const old = P.slice(start, start + ks.length * n);
        ks.forEach((k, i) => {
          for (let q = 0; q < n; q++) {
            let v = It[k * L.P + own[q]];
            ks.forEach((k2, i2) => { v += Jss[k * L.S + k2] * old[i2 * n + q]; });
            P[start + i * n + q] = v;
          }
        });
      }
    });
  }

  /**
   * SnAp-1 in O(n²) per step. Each weight row (gate g, unit j) reaches only unit j's state, so one
   * backward step seeded with ones on every h (and one on every c, LSTM) yields all units' own
   * immediate sensitivities at once; bias_hh's gradient is the recurrent-side local derivative,
   * which with the seeded dh0/dc0 gives each unit's diagonal block of J.
   */
  private stepSnap1(b: number, x: HostArray, params: HostArray): HostArray {
    const H = this.H, G = this.G, P = this.sens[b];
    let inp = x;
    this.layers.forEach((L, l) => {
      const w = this.layerWeights(params, L);
      const reserve = this.alloc(this.be.rnnReserveSize(L.spec));
      const hN = this.alloc(H), cN = this.alloc(H);
      this.be.rnnForward({ ...L.spec, x: inp, h0: this.h[b][l], c0: this.lstm ? this.c[b][l] : null, ...w, y: this.alloc(H), hN, cN: this.lstm ? cN : null, reserve });
      // seeds: 0 = every h, 1 = every c (LSTM)
      const seeds = this.lstm ? [0, 1] : [0];
      const loc = seeds.map((seed) => {
        const g = this.alloc(L.P), dh0 = this.alloc(H), dc0 = this.lstm ? this.alloc(H) : null;
        const blk = (o: number, n: number) => g.subarray(o, o + n);
        this.be.rnnBackward({ ...L.spec, x: inp, wIh: w.wIh, wHh: w.wHh, reserve,
          dhN: this.alloc(H).fill(seed === 0 ? 1 : 0), dcN: this.lstm ? this.alloc(H).fill(seed === 1 ? 1 : 0) : null, dh0, dc0,
          dwIh: blk(0, G * H * L.I), dwHh: blk(G * H * L.I, G * H * H), dbIh: blk(G * H * (L.I + H), G * H), dbHh: blk(G * H * (L.I + H + 1), G * H) });
        // the W_hh path of dh0 mixes units: (W_hhᵀ · dbHh)_j; what is left is the direct part
        const dbhh = blk(G * H * (L.I + H + 1), G * H);
        const mixed = this.alloc(H);
        this.be.gemm({ M: 1, N: H, K: G * H, a: dbhh, b: w.wHh, c: mixed, beta: 0 });
        return { g, dh0, dc0, dbhh, mixed };
      });
      for (let j = 0; j < H; j++) {
        const { start, ks, own } = this.snapBlock(l, j), n = own.length;
        // D[k][k2]: ∂(state k of unit j)/∂(previous state k2 of unit j)
        const D = ks.map((_, i) => {
          const lc = loc[i];
          let self = 0;
          for (let gg = 0; gg < G; gg++) self += lc.dbhh[gg * H + j] * w.wHh[(gg * H + j) * H + j];
          const dhh = lc.dh0[j] - lc.mixed[j] + self;
          return this.lstm ? [dhh, lc.dc0![j]] : [dhh];
        });
        const old = P.slice(start, start + ks.length * n);
        ks.forEach((_, i) => {
          for (let q = 0; q < n; q++) {
            let v = loc[i].g[own[q]];
            for (let i2 = 0; i2 < ks.length; i2++) v += D[i][i2] * old[i2 * n + q];
            P[start + i * n + q] = v;
          }
        });
      }
      this.h[b][l] = hN;
      if (this.lstm) this.c[b][l] = cN;
      inp = hN;
    });
    return inp;
  }

  private layerWeights(params: HostArray, L: LayerInfo) {
    const H = this.H, G = this.G;
    const w = (k: number, n: number) => params.subarray(L.offset + k, L.offset + k + n);
    return { wIh: w(0, G * H * L.I), wHh: w(G * H * L.I, G * H * H), bIh: w(G * H * (L.I + H), G * H), bHh: w(G * H * (L.I + H + 1), G * H) };
  }

  /**
   * UORO in O(n²) per step: s̃ ← ρ0 J s̃ + ρ1 ν (one forward-mode step per layer) and
   * θ̃ ← θ̃/ρ0 + (νᵀ I)/ρ1 (one backward step per layer seeded with ν), ν random signs.
   */
  private stepUoro(b: number, x: HostArray, params: HostArray): HostArray {
    const H = this.H, s = this.sTilde[b], th = this.thTilde[b], nL = this.layers.length;
    const f64 = (a: ArrayLike<number>) => (this.dtype === 'float64' ? Float64Array.from(a) : Float32Array.from(a));
    const inputs: HostArray[] = [], reserves: HostArray[] = [];
    const js = new Float64Array(this.S);
    let inp = x;
    let uTan: HostArray | null = null;
    this.layers.forEach((L, l) => {
      const w = this.layerWeights(params, L);
      const common = { cell: L.spec.cell, I: L.I, H, activation: L.spec.activation, gruVariant: L.spec.gruVariant, x: inp, h0: this.h[b][l], c0: this.lstm ? this.c[b][l] : null, ...w };
      const reserve = this.alloc(this.be.rnnReserveSize(L.spec));
      const hN = this.alloc(H), cN = this.alloc(H);
      this.be.rnnForward({ ...L.spec, x: inp, h0: common.h0, c0: common.c0, ...w, y: this.alloc(H), hN, cN: this.lstm ? cN : null, reserve });
      const th1 = this.alloc(H), tc1 = this.alloc(H);
      this.be.rnnStepJvp({ ...common, u: uTan, vh: f64(s.subarray(L.stateRow, L.stateRow + H)), vc: this.lstm ? f64(s.subarray(L.stateRow + H, L.stateRow + 2 * H)) : null,
        h1: this.alloc(H), c1: this.lstm ? this.alloc(H) : null, th1, tc1: this.lstm ? tc1 : null });
      js.set(th1, L.stateRow);
      if (this.lstm) js.set(tc1, L.stateRow + H);
      inputs.push(inp); reserves.push(reserve);
      this.h[b][l] = hN;
      if (this.lstm) this.c[b][l] = cN;
      uTan = th1;
      inp = hN;
    });
    const nu = Float64Array.from({ length: this.S }, () => (this.rng.next() < 0.5 ? -1 : 1));
    const nuI = this.alloc(this.P);
    let carry: HostArray | null = null;
    for (let l = nL - 1; l >= 0; l--) {
      const L = this.layers[l], w = this.layerWeights(params, L), G = this.G;
      const dhN = this.alloc(H);
      for (let j = 0; j < H; j++) dhN[j] = nu[L.stateRow + j] + (carry ? carry[j] : 0);
      const dcN = this.lstm ? f64(nu.subarray(L.stateRow + H, L.stateRow + 2 * H)) : null;
      const dx = this.alloc(L.I);
      const blk = (o: number, n: number) => nuI.subarray(L.offset + o, L.offset + o + n);
      this.be.rnnBackward({ ...L.spec, x: inputs[l], wIh: w.wIh, wHh: w.wHh, reserve: reserves[l], dhN, dcN, dx,
        dwIh: blk(0, G * H * L.I), dwHh: blk(G * H * L.I, G * H * H), dbIh: blk(G * H * (L.I + H), G * H), dbHh: blk(G * H * (L.I + H + 1), G * H) });
      carry = dx;
    }
    const norm = (a: ArrayLike<number>) => { let q = 0; for (let i = 0; i < a.length; i++) q += a[i] * a[i]; return Math.sqrt(q); };
    const eps = 1e-7;
    const rho0 = Math.sqrt((norm(th) + eps) / (norm(js) + eps));
    const rho1 = Math.sqrt((norm(nuI) + eps) / (norm(nu) + eps));
    for (let k = 0; k < this.S; k++) s[k] = rho0 * js[k] + rho1 * nu[k];
    for (let p = 0; p < this.P; p++) th[p] = th[p] / rho0 + nuI[p] / rho1;
    return inp;
  }

  /** grads [P] += Σ_b dL/dh_top[b] · P_b[top h rows].  dh: [B,H]. */
  accumulate(dh: HostArray, grads: HostArray): void {
    const top = this.layers[this.layers.length - 1];
    if (this.algorithm === 'uoro') {
      // unbiased estimate: (dL/ds · s̃) θ̃
      for (let b = 0; b < this.B; b++) {
        let k = 0;
        for (let j = 0; j < this.H; j++) k += dh[b * this.H + j] * this.sTilde[b][top.stateRow + j];
        for (let p = 0; p < this.P; p++) grads[p] += k * this.thTilde[b][p];
      }
      return;
    }
    if (this.algorithm === 'snap1') {
      const l = this.layers.length - 1, L = top;
      for (let b = 0; b < this.B; b++) for (let j = 0; j < this.H; j++) {
        const d = dh[b * this.H + j];
        if (d === 0) continue;
        const { start, own } = this.snapBlock(l, j); // h_j is the first state row of the block
        for (let q = 0; q < own.length; q++) grads[L.offset + own[q]] += d * this.sens[b][start + q];
      }
      return;
    }
    for (let b = 0; b < this.B; b++) {
      this.be.gemm({ M: 1, N: this.P, K: this.H, a: dh.subarray(b * this.H, (b + 1) * this.H), b: this.sens[b].subarray(top.stateRow * this.P, (top.stateRow + this.H) * this.P), c: grads, beta: 1 });
    }
  }
}
