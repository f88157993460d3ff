// The TypeScript cell table (lib/cells/table.ts) matches the native one (cell_table.h), and the
// parameter shapes it gives are PyTorch's.
import { describe, expect, it } from 'vitest';
import { CELL_KINDS, CELLS, cellInfo, cellParameterCount, cellParameterShapes } from '../lib/cells/table';
import { loadNative } from '../lib/native';
import { recurrentParameterShapes } from '../lib/params';

describe('cell table', () => {
  it('lists the same cells, gates, state counts and RTRL support as the native table', () => {
    const native = loadNative().cellTable();
    expect(native.map((r) => r.name)).toEqual([...CELL_KINDS]);
    for (const r of native) {
      const c = cellInfo(r.name);
      expect({ gates: c.gates, states: c.states.length, rtrl: c.rtrl, gateNames: c.gateNames.length }).toEqual({
        gates: r.gates,
        states: r.states,
        rtrl: r.stepJacobians,
        gateNames: r.gates,
      });
    }
    expect(CELLS.lstm.states).toEqual(['h', 'c']);
    expect(CELLS.gru.states).toEqual(['h']);
  });
  it("gives PyTorch's parameter names and shapes per layer and direction", () => {
    expect(cellParameterShapes('gru', 5, 4, { suffix: '_l1_reverse' })).toEqual([
      ['weight_ih_l1_reverse', [12, 5]],
      ['weight_hh_l1_reverse', [12, 4]],
      ['bias_ih_l1_reverse', [12]],
      ['bias_hh_l1_reverse', [12]],
    ]);
    expect(cellParameterShapes('lstm', 3, 2, { bias: false })).toEqual([
      ['weight_ih', [8, 3]],
      ['weight_hh', [8, 2]],
    ]);
    expect(cellParameterCount('elman', 3, 4)).toBe(1 * 4 * (3 + 4 + 2));
    expect(
      recurrentParameterShapes({ cell: 'lstm', inputSize: 3, hiddenSize: 2, numLayers: 2, bidirectional: true }).map(
        ([n, s]) => `${n}:${s.join('x')}`,
      ),
    ).toEqual([
      'weight_ih_l0:8x3',
      'weight_hh_l0:8x2',
      'bias_ih_l0:8',
      'bias_hh_l0:8',
      'weight_ih_l0_reverse:8x3',
      'weight_hh_l0_reverse:8x2',
      'bias_ih_l0_reverse:8',
      'bias_hh_l0_reverse:8',
      'weight_ih_l1:8x4',
      'weight_hh_l1:8x2',
      'bias_ih_l1:8',
      'bias_hh_l1:8',
      'weight_ih_l1_reverse:8x4',
      'weight_hh_l1_reverse:8x2',
      'bias_ih_l1_reverse:8',
      'bias_hh_l1_reverse:8',
    ]);
  });
  it('refuses an unknown cell, naming the known ones', () => {
    expect(() => cellInfo('mgu')).toThrow(/^cell must be one of 'elman' 'lstm' 'gru', received "mgu"$/);
    expect(() => cellInfo('toString')).toThrow(RangeError);
  });
});
