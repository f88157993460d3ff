// The cell table, TypeScript side: one row per recurrent cell with what code outside the
// kernels needs to know about it — gate count, state names, PyTorch's parameters per layer and
// direction (names and shapes as functions of the input size I and hidden size H) and whether
// the step Jacobians behind online learning (RTRL, SnAp-1, UORO) exist for it. The native side
// is native/kernels/cell_table.h; the two list the same cells with the same gate and state
// counts (test/cell-table.test.ts checks them against each other).
// Shape letters and gate order: docs/conventions.md.

export type CellKind = 'elman' | 'lstm' | 'gru';
export type StateName = 'h' | 'c';
export type CellParamName = 'weight_ih' | 'weight_hh' | 'bias_ih' | 'bias_hh';

export interface CellParam {
  /** PyTorch's name without the `_l{k}` / `_reverse` suffix. */
  readonly name: CellParamName;
  /** A bias (left out of a layer built with `bias: false`). */
  readonly bias: boolean;
  /** Shape for a layer of input size I and hidden size H. */
  shape(I: number, H: number): number[];
}

export interface CellInfo {
  readonly kind: CellKind;
  /** G: gate blocks stacked along the first axis of the weights. */
  readonly gates: number;
  /** PyTorch's gate order (conventions.md). */
  readonly gateNames: readonly string[];
  /** The recurrent state: ['h'], or ['h', 'c'] for LSTM. */
  readonly states: readonly StateName[];
  /** Per layer and direction, in PyTorch's order. */
  readonly params: readonly CellParam[];
  /** Step Jacobians / online learning (rnnStepJacobians, rnnStepJvp, RTRL, SnAp-1, UORO). */
  readonly rtrl: boolean;
}

function row(kind: CellKind, gateNames: string[], states: StateName[], rtrl: boolean): CellInfo {
  const G = gateNames.length;
  return Object.freeze({
    kind,
    gates: G,
    gateNames: Object.freeze(gateNames),
    states: Object.freeze(states),
    rtrl,
    params: Object.freeze([
      { name: 'weight_ih', bias: false, shape: (I: number, H: number) => [G * H, I] },
      { name: 'weight_hh', bias: false, shape: (_I: number, H: number) => [G * H, H] },
      { name: 'bias_ih', bias: true, shape: (_I: number, H: number) => [G * H] },
      { name: 'bias_hh', bias: true, shape: (_I: number, H: number) => [G * H] },
    ] as CellParam[]),
  });
}

/** One row per cell. Adding a cell: a kernel file, a row in cell_table.h and a row here. */
export const CELLS: Readonly<Record<CellKind, CellInfo>> = Object.freeze({
  elman: row('elman', ['h'], ['h'], true),
  lstm: row('lstm', ['i', 'f', 'g', 'o'], ['h', 'c'], true),
  gru: row('gru', ['r', 'z', 'n'], ['h'], true),
});

export const CELL_KINDS = Object.freeze(Object.keys(CELLS) as CellKind[]);

/** The row of a cell; a RangeError names the known cells otherwise. */
export function cellInfo(kind: string, where = 'cell'): CellInfo {
  const c = (CELLS as Record<string, CellInfo | undefined>)[kind];
  if (!c || !Object.prototype.hasOwnProperty.call(CELLS, kind)) {
    throw new RangeError(
      `${where} must be one of ${CELL_KINDS.map((k) => `'${k}'`).join(' ')}, received ${JSON.stringify(kind)}`,
    );
  }
  return c;
}

/** Parameters of one layer and direction: [name + suffix, shape] in PyTorch's order. */
export function cellParameterShapes(
  kind: CellKind,
  I: number,
  H: number,
  o: { suffix?: string; bias?: boolean } = {},
): Array<[string, number[]]> {
  return cellInfo(kind)
    .params.filter((p) => o.bias !== false || !p.bias)
    .map((p) => [`${p.name}${o.suffix ?? ''}`, p.shape(I, H)]);
}

/** Elements of one layer's parameters (with biases): G*H*(I+H+2). */
export function cellParameterCount(kind: CellKind, I: number, H: number, bias = true): number {
  return cellParameterShapes(kind, I, H, { bias }).reduce((a, [, s]) => a + s.reduce((x, y) => x * y, 1), 0);
}
