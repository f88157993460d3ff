// Time-series tools: sliding windows, chronological split, scalers, metrics.
import { describe, expect, it } from 'vitest';
import {
  chronologicalSplit,
  mape,
  MinMaxScaler,
  ndei,
  nrmse,
  rmse,
  scalerFromJSON,
  slidingWindows,
  StandardScaler,
} from '../lib';

describe('slidingWindows', () => {
  it('one univariate series: lags and horizon (the Mackey–Glass set-up shape)', () => {
    const x = Array.from({ length: 30 }, (_, t) => t);
    const w = slidingWindows(x, { lags: [18, 12, 6, 0], horizon: 6 });
    expect(w.inputs[0]).toEqual([0, 6, 12, 18]);
    expect(w.targets[0]).toEqual([24]);
    expect(w.steps[0]).toBe(18);
    expect(w.inputs).toHaveLength(30 - 18 - 6);
    expect(w.inputs.at(-1)).toEqual([5, 11, 17, 23]);
    expect(w.targets.at(-1)).toEqual([29]);
  });
  it('a multivariate series with target features, and several series (no window spans two)', () => {
    const a = [
      [1, 10],
      [2, 20],
      [3, 30],
    ];
    const w = slidingWindows(a, { lags: [1, 0], horizon: 1, targetFeatures: [1] });
    expect(w.inputs).toEqual([[1, 10, 2, 20]]);
    expect(w.targets).toEqual([[30]]);
    const b = [
      [4, 40],
      [5, 50],
      [6, 60],
      [7, 70],
    ];
    const m = slidingWindows([a, b], { lags: [0], horizon: 1 });
    expect(m.inputs).toEqual([
      [1, 10],
      [2, 20],
      [4, 40],
      [5, 50],
      [6, 60],
    ]);
    expect(m.targets).toEqual([
      [2, 20],
      [3, 30],
      [5, 50],
      [6, 60],
      [7, 70],
    ]);
    expect(m.series).toEqual([0, 0, 1, 1, 1]);
  });
  it('bad input', () => {
    expect(() => slidingWindows([1, 2, 3], { lags: [-1] })).toThrow(/lags\[0\] must be an integer in \[0/);
    expect(() => slidingWindows([1, 2, 3], { lags: [1, 1] })).toThrow(/distinct/);
    expect(() => slidingWindows([1, 2, 3], { lags: [5] })).toThrow(/needs 7 steps/);
    expect(() => slidingWindows([1, NaN, 3], { lags: [0] })).toThrow(/step 1 feature 0 must be a finite number/);
    expect(() => slidingWindows([[1], [2, 3]], { lags: [0] })).toThrow(/step 1 must have 1 features/);
    expect(() => slidingWindows([1, 2], { lags: [0], window: 3 } as never)).toThrow(/unknown option 'window'/);
  });
});

describe('chronologicalSplit', () => {
  const d = Array.from({ length: 10 }, (_, i) => i);
  it('fractions and counts, in order, never shuffled', () => {
    expect(chronologicalSplit(d, { train: 0.6, validation: 0.2 })).toEqual({
      train: [0, 1, 2, 3, 4, 5],
      validation: [6, 7],
      test: [8, 9],
    });
    expect(chronologicalSplit(d, { train: 5, test: 5, unit: 'count' })).toEqual({
      train: [0, 1, 2, 3, 4],
      validation: [],
      test: [5, 6, 7, 8, 9],
    });
    const w = { inputs: d.map((v) => [v]), targets: d.map((v) => [v + 1]) };
    const s = chronologicalSplit(w, { train: 0.7 });
    expect(s.train.inputs).toHaveLength(7);
    expect(s.test.targets).toEqual([[8], [9], [10]]);
  });
  it('bad input', () => {
    expect(() => chronologicalSplit(d, { train: 1.5 })).toThrow(/train must be a fraction in \[0, 1\]/);
    expect(() => chronologicalSplit(d, { train: 8, validation: 4, unit: 'count' })).toThrow(/exceed the 10 rows/);
    expect(() => chronologicalSplit({ a: [1, 2], b: [1] }, { train: 0.5 })).toThrow(/same length/);
    expect(() => chronologicalSplit(d, { train: 2.5, unit: 'count' })).toThrow(/must be a count/);
  });
});

describe('scalers', () => {
  const rows = [
    [1, 10, 5],
    [2, 30, 5],
    [3, 20, 5],
  ];
  it('StandardScaler: zero mean, unit population std per feature; inverse; JSON round trip; constant feature -> 0', () => {
    const s = new StandardScaler().fit(rows);
    const t = s.transform(rows);
    for (let j = 0; j < 2; j++) {
      const col = t.map((r) => r[j]);
      expect(col.reduce((a, b) => a + b) / 3).toBeCloseTo(0, 12);
      expect(Math.sqrt(col.reduce((a, b) => a + b * b, 0) / 3)).toBeCloseTo(1, 12);
    }
    expect(t.map((r) => r[2])).toEqual([0, 0, 0]);
    const back = s.inverseTransform(t);
    back.forEach((r, i) => r.forEach((v, j) => expect(v).toBeCloseTo(rows[i][j], 12)));
    const j = JSON.parse(JSON.stringify(s.toJSON()));
    expect(scalerFromJSON(j).transform(rows)).toEqual(t);
  });
  it('MinMaxScaler: the training range maps to [lo, hi]; constant feature -> lo', () => {
    const s = new MinMaxScaler({ range: [-1, 1] }).fit(rows);
    const t = s.transform(rows);
    expect(t.map((r) => r[0])).toEqual([-1, 0, 1]);
    expect(t.map((r) => r[1])).toEqual([-1, 1, 0]);
    expect(t.map((r) => r[2])).toEqual([-1, -1, -1]);
    expect(s.inverseTransform(t)).toEqual(rows);
    expect(MinMaxScaler.fromJSON(s.toJSON()).transform([[4, 40, 6]])).toEqual(s.transform([[4, 40, 6]]));
  });
  it('bad input', () => {
    expect(() => new StandardScaler().transform(rows)).toThrow(/call fit first/);
    expect(() => new StandardScaler().fit(rows).transform([[1, 2]])).toThrow(/must have 3 features \(as fitted\)/);
    expect(() => new StandardScaler().fit([])).toThrow(/at least one row/);
    expect(() => new MinMaxScaler({ range: [1, 0] })).toThrow(/lo < hi/);
    expect(() => scalerFromJSON({ kind: 'robust' })).toThrow(/kind must be/);
    expect(() => StandardScaler.fromJSON({ kind: 'standard', mean: [0], scale: [0] })).toThrow(
      /scale must be positive/,
    );
    expect(() => StandardScaler.fromJSON({ kind: 'standard', mean: [0, 1], scale: [1] })).toThrow(
      /one entry per feature/,
    );
  });
});

describe('metrics', () => {
  const y = [1, 2, 3, 4],
    p = [1.5, 2, 2.5, 4];
  it('definitions', () => {
    const r = Math.sqrt((0.25 + 0 + 0.25 + 0) / 4);
    expect(rmse(p, y)).toBeCloseTo(r, 14);
    expect(nrmse(p, y)).toBeCloseTo(r / 3, 14);
    expect(ndei(p, y)).toBeCloseTo(r / Math.sqrt(1.25), 14);
    expect(mape(p, y)).toBeCloseTo((100 * (0.5 + 0 + 0.5 / 3 + 0)) / 4, 12);
    expect(rmse([[1], [2]], [[1], [4]])).toBeCloseTo(Math.sqrt(2), 14);
  });
  it('bad input', () => {
    expect(() => mape([1], [0])).toThrow(/target element 0 is 0/);
    expect(() => nrmse([1, 2], [3, 3])).toThrow(/constant/);
    expect(() => ndei([1, 2], [3, 3])).toThrow(/constant/);
    expect(() => rmse([1], [1, 2])).toThrow(/as many values/);
    expect(() => rmse([], [])).toThrow(/at least one value/);
    expect(() => rmse([NaN], [1])).toThrow(/finite/);
  });
});
