import { describe, expect, it } from 'vitest';
import { FlatParameters, recurrentParameterShapes } from '../lib';
import { DEVICES } from './device-helpers';

describe('flat parameter buffer', () => {
  it("lays out PyTorch's names and shapes for a stacked bidirectional LSTM", () => {
    const shapes = recurrentParameterShapes({
      cell: 'lstm',
      inputSize: 10,
      hiddenSize: 20,
      numLayers: 2,
      bidirectional: true,
    });
    expect(shapes.map(([n]) => n)).toEqual([
      'weight_ih_l0',
      'weight_hh_l0',
      'bias_ih_l0',
      'bias_hh_l0',
      'weight_ih_l0_reverse',
      'weight_hh_l0_reverse',
      'bias_ih_l0_reverse',
      'bias_hh_l0_reverse',
      'weight_ih_l1',
      'weight_hh_l1',
      'bias_ih_l1',
      'bias_hh_l1',
      'weight_ih_l1_reverse',
      'weight_hh_l1_reverse',
      'bias_ih_l1_reverse',
      'bias_hh_l1_reverse',
    ]);
    expect(shapes[0][1]).toEqual([80, 10]);
    expect(shapes[8][1]).toEqual([80, 40]);
    expect(recurrentParameterShapes({ cell: 'gru', inputSize: 3, hiddenSize: 4, bias: false })).toEqual([
      ['weight_ih_l0', [12, 3]],
      ['weight_hh_l0', [12, 4]],
    ]);
  });
  for (const [name, make] of DEVICES) {
    it(`views share one buffer; one optimizer call updates every parameter (${name})`, () => {
      const dev = make();
      const fp = new FlatParameters('float32', dev);
      for (const [n, s] of recurrentParameterShapes({ cell: 'elman', inputSize: 2, hiddenSize: 3 })) fp.add(n, s);
      fp.add('head.weight', [1, 3]);
      expect(fp.size).toBe(6 + 9 + 3 + 3 + 3);
      dev.fill(fp.param('weight_hh_l0'), 1);
      expect(fp.hostParams()[6]).toBe(1);
      dev.fill(fp.gradient('head.weight'), 2);
      const state = [dev.alloc('float32', [fp.size])];
      dev.optimStep({ kind: 'sgd', lr: 0.5, step: 1, params: fp.params, grads: fp.grads, state });
      expect(Array.from(fp.hostParam('head.weight'))).toEqual([-1, -1, -1]);
      fp.zeroGrad();
      expect(fp.hostGrads().every((v) => v === 0)).toBe(true);
    });
  }
  it('refuses duplicate names, bad shapes, unknown names and late additions', () => {
    const fp = new FlatParameters();
    fp.add('a', [2]);
    expect(() => fp.add('a', [3])).toThrow(/name must be unique, received 'a' twice/);
    expect(() => fp.add('b', [0])).toThrow(/shape of 'b' must be an array of positive integers, received \[0\]/);
    expect(() => fp.param('zz')).toThrow(/no parameter named 'zz'; known: a/);
    void fp.params;
    expect(() => fp.add('c', [1])).toThrow(/buffers already allocated/);
  });
});
