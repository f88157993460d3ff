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
// Every per-element loop over parameters, sensitivities and states runs in the backend's online
// kernels (native/kernels/online.h); this class only sequences the calls and owns the buffers.
import type { Backend, OnlineKernels } from '../backend';
import { cellInfo, cellParameterCount } from '../cells/table';
import type { HostArray, RnnSpec } from '../native';
import { recurrentParameterShapes } from '../params';
import { Rng } from '../rng';

export type OnlineAlgorithm = 'rtrl' | 'snap1' | 'uoro';
const ALGORITHM_NAMES: Record<OnlineAlgorithm, string> = { rtrl: 'Exact RTRL', snap1: 'SnAp-1', uoro: 'UORO' };

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

/**
 * I: input size; S: state units; P: parameters; offset: first parameter in the stack;
 * stateRow: first state row; snap: first SnAp-1 entry; kept: SnAp-1 entries.
 */
interface LayerInfo {
  I: number;
  S: number;
  P: number;
  offset: number;
  stateRow: number;
  snap: number;
  kept: number;
  spec: RnnSpec;
}

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
  private sens: HostArray[] = []; // [b] → [S, P] (rtrl), the SnAp-1 pattern (snap1)
  private spare: HostArray | null = null; // rtrl: the next P_t is written here, then swapped in
  private sTilde: Float64Array[] = []; // [b] → [S] (uoro)
  private sModel: HostArray[] = []; // [b] → [S] s̃ in the model's dtype (the next tangent; sTilde itself for float64)
  private thTilde: Float64Array[] = []; // [b] → [P] (uoro)
  readonly algorithm: OnlineAlgorithm;
  private readonly rngState: Uint32Array; // xoshiro128** state of UORO's signs (lib/rng.ts)
  private readonly G: number; // gates (cell table)
  private readonly K: number; // state vectors per unit: h, and c for LSTM (cell table)
  private readonly snapRows: boolean;
  private readonly k: OnlineKernels<HostArray>;

  constructor(
    private readonly be: Backend<HostArray>,
    spec: RtrlSpec,
  ) {
    this.algorithm = spec.algorithm ?? 'rtrl';
    if (!['rtrl', 'snap1', 'uoro'].includes(this.algorithm))
      throw new RangeError(
        `online learning: algorithm must be one of 'rtrl' 'snap1' 'uoro', received ${JSON.stringify(spec.algorithm)}`,
      );
    if (!be.capabilities?.online)
      throw new Error(
        `${ALGORITHM_NAMES[this.algorithm]}: needs a backend with the 'online' capability (CPU); backend '${be.name}' has none`,
      );
    this.k = be as Backend<HostArray> & OnlineKernels<HostArray>;
    const cell = cellInfo(spec.cell, 'online learning: cell');
    if (!cell.rtrl)
      throw new RangeError(`${ALGORITHM_NAMES[this.algorithm]}: cell '${cell.kind}' has no step Jacobians`);
    this.rngState = Uint32Array.from(new Rng(spec.seed ?? 0).getState());
    const L = spec.numLayers ?? 1,
      H = spec.hiddenSize;
    this.H = H;
    this.lstm = cell.states.length === 2;
    this.dtype = spec.dtype ?? 'float64';
    const G = cell.gates;
    this.G = G;
    this.K = cell.states.length;
    // The O(n²) SnAp-1 step needs unit-local cells; GRU 'original' mixes units through W_hn (r⊙h).
    this.snapRows = spec.jacobianRows === true || (spec.cell === 'gru' && spec.gruVariant === 'original');
    const SL = cell.states.length * H;
    this.layers = [];
    let offset = 0,
      snap = 0;
    for (let l = 0; l < L; l++) {
      const I = l === 0 ? spec.inputSize : H;
      const P = cellParameterCount(spec.cell, I, H),
        kept = SL * G * (I + H + 2);
      this.layers.push({
        I,
        S: SL,
        P,
        offset,
        stateRow: l * SL,
        snap,
        kept,
        spec: {
          cell: spec.cell,
          T: 1,
          B: 1,
          I,
          H,
          ...(spec.cell === 'elman' ? { activation: spec.activation ?? 'tanh' } : {}),
          ...(spec.cell === 'gru' ? { gruVariant: spec.gruVariant ?? 'pytorch' } : {}),
        },
      });
      offset += P;
      snap += kept;
    }
    this.S = L * SL;
    this.P = offset;
    const shapes = recurrentParameterShapes({
      cell: spec.cell,
      inputSize: spec.inputSize,
      hiddenSize: H,
      numLayers: L,
    });
    if (shapes.reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0) !== this.P)
      throw new Error('ExactRtrl: internal parameter count mismatch');
  }

  private alloc(n: number): HostArray {
    return this.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  }

  /** Zero states and sensitivities for B sequences. */
  reset(B: number): void {
    this.B = B;
    this.h = Array.from({ length: B }, () => this.layers.map(() => this.alloc(this.H)));
    this.c = Array.from({ length: B }, () => this.layers.map(() => this.alloc(this.H)));
    const uoro = this.algorithm === 'uoro';
    const per = this.algorithm === 'snap1' ? this.keptEntries : this.S * this.P;
    this.sens = uoro ? [] : Array.from({ length: B }, () => this.alloc(per));
    this.spare = this.algorithm === 'rtrl' && !uoro ? this.alloc(per) : null;
    this.sTilde = uoro ? Array.from({ length: B }, () => new Float64Array(this.S)) : [];
    this.sModel = uoro ? this.sTilde.map((s) => (this.dtype === 'float64' ? s : this.alloc(this.S))) : [];
    this.thTilde = uoro ? Array.from({ length: B }, () => new Float64Array(this.P)) : [];
  }

  /** @internal States, sensitivities and the sign generator, for saving. */
  getState(): {
    B: number;
    h: HostArray[][];
    c: HostArray[][];
    sens: HostArray[];
    sTilde: Float64Array[];
    thTilde: Float64Array[];
    rng: number[];
  } {
    return {
      B: this.B,
      h: this.h,
      c: this.c,
      sens: this.sens,
      sTilde: this.sTilde,
      thTilde: this.thTilde,
      rng: Array.from(this.rngState),
    };
  }
  /** @internal */
  setState(st: {
    B: number;
    h: HostArray[][];
    c: HostArray[][];
    sens: HostArray[];
    sTilde: Float64Array[];
    thTilde: Float64Array[];
    rng: number[];
  }): void {
    const rng = new Rng(0);
    rng.setState(st.rng); // validates
    this.reset(st.B);
    const copy = (dst: HostArray[], src: HostArray[], what: string) =>
      dst.forEach((d, i) => {
        if (!src[i] || src[i].length !== d.length)
          throw new RangeError(`online learner state: ${what} ${i} must have ${d.length} elements`);
        d.set(src[i]);
      });
    for (let b = 0; b < st.B; b++) {
      copy(this.h[b], st.h[b], 'h');
      copy(this.c[b], st.c[b], 'c');
    }
    copy(this.sens, st.sens, 'sensitivities');
    copy(this.sTilde, st.sTilde, 's~');
    this.sModel.forEach((m, b) => {
      if (m !== this.sTilde[b]) m.set(this.sTilde[b]);
    });
    copy(this.thTilde, st.thTilde, 'theta~');
    this.rngState.set(rng.getState());
  }

  /** Entries the algorithm keeps per sequence: S·P (rtrl), the SnAp-1 pattern, or S + P (uoro). */
  get keptEntries(): number {
    if (this.algorithm === 'uoro') return this.S + this.P;
    if (this.algorithm === 'snap1') return this.layers.reduce((a, L) => a + L.kept, 0);
    return this.S * this.P;
  }
  /** Bytes allocated for the learning state of all sequences. */
  get sensitivityBytes(): number {
    const n = this.algorithm === 'uoro' ? (this.S + this.P) * 8 : this.keptEntries * (this.dtype === 'float64' ? 8 : 4);
    return this.B * n;
  }

  /** SnAp-1 entries of layer l for sequence b: per unit j, its state rows (h_j, c_j) × its own parameters ([H,K,n], native/kernels/online.h). */
  private snapSens(b: number, l: number): HostArray {
    const L = this.layers[l];
    return this.sens[b].subarray(L.snap, L.snap + L.kept);
  }

  /**
   * One step: x [B,I] → top-layer h [B,H]; states and sensitivities advance.
   * params: the stack's flat parameters [P] in PyTorch order (weight_ih, weight_hh, bias_ih, bias_hh per layer).
   */
  step(x: HostArray, params: HostArray): HostArray {
    const H = this.H,
      out = this.alloc(this.B * H);
    for (let b = 0; b < this.B; b++) {
      let inp = x.subarray(b * this.layers[0].I, (b + 1) * this.layers[0].I);
      if (this.algorithm === 'uoro') {
        out.set(this.stepUoro(b, inp, params), b * H);
        continue;
      }
      if (this.algorithm === 'snap1' && !this.snapRows) {
        out.set(this.stepSnap1(b, inp, params), b * H);
        continue;
      }
      const parts: Array<{ Jss: HostArray; Jsx: HostArray; It: HostArray }> = [];
      for (let l = 0; l < this.layers.length; l++) {
        const L = this.layers[l];
        const { wIh, wHh, bIh, bHh } = this.layerWeights(params, L);
        const hN = this.alloc(H),
          cN = this.alloc(H);
        // One native call: the step and the rows of ∂s'/∂s, ∂s'/∂x and ∂s'/∂θ.
        const Jss = this.alloc(L.S * L.S),
          Jsx = this.alloc(L.S * L.I),
          It = this.alloc(L.S * L.P);
        this.be.rnnStepJacobians({
          cell: L.spec.cell,
          I: L.I,
          H,
          activation: L.spec.activation,
          gruVariant: L.spec.gruVariant,
          x: inp,
          h0: this.h[b][l],
          c0: this.lstm ? this.c[b][l] : null,
          wIh,
          wHh,
          bIh,
          bHh,
          h1: hN,
          c1: this.lstm ? cN : null,
          jss: Jss,
          jsx: Jsx,
          jth: It,
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
    const prev = this.sens[b],
      next = this.spare!,
      H = this.H;
    const rows = (m: HostArray, r0: number, n: number) => m.subarray(r0 * this.P, (r0 + n) * this.P);
    this.layers.forEach((L, l) => {
      const { Jss, Jsx, It } = parts[l];
      this.k.onlineRtrlUpdate({
        S: L.S,
        P: this.P,
        I: L.I,
        Pl: L.P,
        offset: L.offset,
        jss: Jss,
        jth: It,
        prev: rows(prev, L.stateRow, L.S),
        out: rows(next, L.stateRow, L.S),
        ...(l > 0 ? { jsx: Jsx, below: rows(next, this.layers[l - 1].stateRow, H) } : {}),
      });
    });
    this.sens[b] = next;
    this.spare = prev;
  }

  /** SnAp-1: only the entries of each unit's own parameters, updated with that unit's state block of J. */
  private updateSnap1(b: number, parts: Array<{ Jss: HostArray; Jsx: HostArray; It: HostArray }>) {
    this.layers.forEach((L, l) => {
      this.k.onlineSnap1Update({
        cell: L.spec.cell,
        I: L.I,
        H: this.H,
        jss: parts[l].Jss,
        jth: parts[l].It,
        sens: this.snapSens(b, l),
      });
    });
  }

  /**
   * SnAp-1 in O(n²) per step. Each weight row (gate g, unit j) reaches only unit j's state, so one
   * backward step seeded with ones on every h (and one on every c, LSTM) yields all units' own
   * immediate sensitivities at once; bias_hh's gradient is the recurrent-side local derivative,
   * which with the seeded dh0/dc0 gives each unit's diagonal block of J.
   */
  private stepSnap1(b: number, x: HostArray, params: HostArray): HostArray {
    const H = this.H,
      K = this.K;
    let inp = x;
    this.layers.forEach((L, l) => {
      const w = this.layerWeights(params, L);
      const reserve = this.alloc(this.be.rnnReserveSize(L.spec));
      const hN = this.alloc(H),
        cN = this.alloc(H);
      this.be.rnnForward({
        ...L.spec,
        x: inp,
        h0: this.h[b][l],
        c0: this.lstm ? this.c[b][l] : null,
        ...w,
        y: this.alloc(H),
        hN,
        cN: this.lstm ? cN : null,
        reserve,
      });
      // seed 0 = ones on every h, seed 1 = ones on every c (LSTM): g [K,Pl], dh0 [K,H], dc0 [K,H]
      const g = this.alloc(K * L.P),
        dh0 = this.alloc(K * H),
        dc0 = this.lstm ? this.alloc(K * H) : null;
      for (let seed = 0; seed < K; seed++) {
        this.be.rnnBackward({
          ...L.spec,
          x: inp,
          wIh: w.wIh,
          wHh: w.wHh,
          reserve,
          dhN: this.alloc(H).fill(seed === 0 ? 1 : 0),
          dcN: this.lstm ? this.alloc(H).fill(seed === 1 ? 1 : 0) : null,
          dh0: dh0.subarray(seed * H, (seed + 1) * H),
          dc0: dc0 ? dc0.subarray(seed * H, (seed + 1) * H) : null,
          ...this.gradBlocks(g, seed * L.P, L),
        });
      }
      this.k.onlineSnap1LocalUpdate({
        cell: L.spec.cell,
        I: L.I,
        H,
        wHh: w.wHh,
        g,
        dh0,
        dc0,
        sens: this.snapSens(b, l),
      });
      this.h[b][l] = hN;
      if (this.lstm) this.c[b][l] = cN;
      inp = hN;
    });
    return inp;
  }

  /** Views of one layer's w_ih, w_hh, b_ih, b_hh inside buf, starting at base (PyTorch order). */
  private views(buf: HostArray, base: number, L: LayerInfo) {
    const H = this.H,
      GH = this.G * H;
    const w = (k: number, n: number) => buf.subarray(base + k, base + k + n);
    return {
      wIh: w(0, GH * L.I),
      wHh: w(GH * L.I, GH * H),
      bIh: w(GH * (L.I + H), GH),
      bHh: w(GH * (L.I + H + 1), GH),
    };
  }
  private layerWeights(params: HostArray, L: LayerInfo) {
    return this.views(params, L.offset, L);
  }
  private gradBlocks(buf: HostArray, base: number, L: LayerInfo) {
    const v = this.views(buf, base, L);
    return { dwIh: v.wIh, dwHh: v.wHh, dbIh: v.bIh, dbHh: v.bHh };
  }

  /**
   * UORO in O(n²) per step: s̃ ← ρ0 J s̃ + ρ1 ν (one forward-mode step per layer) and
   * θ̃ ← θ̃/ρ0 + (νᵀ I)/ρ1 (one backward step per layer seeded with ν), ν random signs.
   */
  private stepUoro(b: number, x: HostArray, params: HostArray): HostArray {
    const H = this.H,
      sM = this.sModel[b],
      nL = this.layers.length;
    const inputs: HostArray[] = [],
      reserves: HostArray[] = [];
    const js = this.alloc(this.S);
    let inp = x;
    let uTan: HostArray | null = null;
    this.layers.forEach((L, l) => {
      const w = this.layerWeights(params, L);
      const common = {
        cell: L.spec.cell,
        I: L.I,
        H,
        activation: L.spec.activation,
        gruVariant: L.spec.gruVariant,
        x: inp,
        h0: this.h[b][l],
        c0: this.lstm ? this.c[b][l] : null,
        ...w,
      };
      const reserve = this.alloc(this.be.rnnReserveSize(L.spec));
      const hN = this.alloc(H),
        cN = this.alloc(H);
      this.be.rnnForward({
        ...L.spec,
        x: inp,
        h0: common.h0,
        c0: common.c0,
        ...w,
        y: this.alloc(H),
        hN,
        cN: this.lstm ? cN : null,
        reserve,
      });
      const th1 = this.alloc(H),
        tc1 = this.alloc(H);
      this.be.rnnStepJvp({
        ...common,
        u: uTan,
        vh: sM.subarray(L.stateRow, L.stateRow + H),
        vc: this.lstm ? sM.subarray(L.stateRow + H, L.stateRow + 2 * H) : null,
        h1: this.alloc(H),
        c1: this.lstm ? this.alloc(H) : null,
        th1,
        tc1: this.lstm ? tc1 : null,
      });
      js.set(th1, L.stateRow);
      if (this.lstm) js.set(tc1, L.stateRow + H);
      inputs.push(inp);
      reserves.push(reserve);
      this.h[b][l] = hN;
      if (this.lstm) this.c[b][l] = cN;
      uTan = th1;
      inp = hN;
    });
    const nu = this.alloc(this.S);
    this.k.onlineUoroSigns({ S: this.S, state: this.rngState, nu });
    const nuI = this.alloc(this.P);
    let carry: HostArray | null = null;
    for (let l = nL - 1; l >= 0; l--) {
      const L = this.layers[l],
        w = this.layerWeights(params, L);
      // seed ν on this layer's state; the layer above's input gradient arrives as dy (rnnBackward adds dhN + dy)
      const dx = this.alloc(L.I);
      this.be.rnnBackward({
        ...L.spec,
        x: inputs[l],
        wIh: w.wIh,
        wHh: w.wHh,
        reserve: reserves[l],
        dhN: nu.subarray(L.stateRow, L.stateRow + H),
        dy: carry,
        dcN: this.lstm ? nu.subarray(L.stateRow + H, L.stateRow + 2 * H) : null,
        dx,
        ...this.gradBlocks(nuI, L.offset, L),
      });
      carry = dx;
    }
    this.k.onlineUoroUpdate({
      S: this.S,
      P: this.P,
      js,
      nu,
      nuI,
      sTilde: this.sTilde[b],
      thTilde: this.thTilde[b],
      sModel: sM === this.sTilde[b] ? null : sM,
    });
    return inp;
  }

  /** grads [P] += Σ_b dL/dh_top[b] · P_b[top h rows].  dh: [B,H]. */
  accumulate(dh: HostArray, grads: HostArray): void {
    const top = this.layers[this.layers.length - 1],
      H = this.H;
    const dhRow = (b: number) => dh.subarray(b * H, (b + 1) * H);
    if (this.algorithm === 'uoro') {
      // unbiased estimate: (dL/ds · s̃) θ̃
      for (let b = 0; b < this.B; b++) {
        this.k.onlineUoroAccumulate({
          S: this.S,
          P: this.P,
          H,
          row: top.stateRow,
          dh: dhRow(b),
          sTilde: this.sTilde[b],
          thTilde: this.thTilde[b],
          grads,
        });
      }
      return;
    }
    if (this.algorithm === 'snap1') {
      const l = this.layers.length - 1,
        g = grads.subarray(top.offset, top.offset + top.P);
      for (let b = 0; b < this.B; b++)
        this.k.onlineSnap1Accumulate({
          cell: top.spec.cell,
          I: top.I,
          H,
          dh: dhRow(b),
          sens: this.snapSens(b, l),
          grads: g,
        });
      return;
    }
    for (let b = 0; b < this.B; b++) {
      this.be.gemm({
        M: 1,
        N: this.P,
        K: H,
        a: dhRow(b),
        b: this.sens[b].subarray(top.stateRow * this.P, (top.stateRow + H) * this.P),
        c: grads,
        beta: 1,
      });
    }
  }
}
