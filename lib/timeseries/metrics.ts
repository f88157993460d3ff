// Error measures of a prediction against its target, over every element of equally shaped
// arrays (one series [T], or [T][F] flattened row by row):
//   rmse  = sqrt(mean((p - y)^2))
//   nrmse = rmse / (max(y) - min(y))
//   ndei  = rmse / std(y)            (population standard deviation of the target)
//   mape  = 100 * mean(|(y - p) / y|)  (percent; refuses zero targets)

type Values = ArrayLike<number> | ArrayLike<ArrayLike<number>>;

/** Both arrays flattened, checked: same shape, finite, at least one element. */
function pairs(what: string, pred: Values, target: Values): { p: number[]; y: number[] } {
  const flat = (v: Values, name: string): number[] => {
    if (v === null || typeof v !== 'object' || typeof (v as ArrayLike<unknown>).length !== 'number')
      throw new TypeError(
        `${what}: ${name} must be an array of numbers or of rows, received ${v === null ? 'null' : typeof v}`,
      );
    const out: number[] = [];
    const n = (v as ArrayLike<unknown>).length;
    for (let i = 0; i < n; i++) {
      const e = (v as ArrayLike<unknown>)[i];
      if (typeof e === 'number') out.push(e);
      else if (e !== null && typeof e === 'object' && typeof (e as ArrayLike<unknown>).length === 'number') {
        const r = e as ArrayLike<unknown>;
        for (let j = 0; j < r.length; j++) {
          if (typeof r[j] !== 'number')
            throw new TypeError(`${what}: ${name}[${i}][${j}] must be a number, received ${typeof r[j]}`);
          out.push(r[j] as number);
        }
      } else
        throw new TypeError(
          `${what}: ${name}[${i}] must be a number or a row of numbers, received ${e === null ? 'null' : typeof e}`,
        );
    }
    return out;
  };
  const p = flat(pred, 'prediction'),
    y = flat(target, 'target');
  if (p.length !== y.length)
    throw new RangeError(
      `${what}: prediction and target must have as many values, received ${p.length} and ${y.length}`,
    );
  if (y.length === 0)
    throw new RangeError(`${what}: prediction and target must hold at least one value, received none`);
  for (let i = 0; i < y.length; i++)
    if (!Number.isFinite(p[i]) || !Number.isFinite(y[i]))
      throw new RangeError(
        `${what}: values must be finite, received prediction ${p[i]} and target ${y[i]} at element ${i}`,
      );
  return { p, y };
}

function rmseOf(p: number[], y: number[]): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (p[i] - y[i]) ** 2;
  return Math.sqrt(s / y.length);
}

/** Root mean squared error over every element. */
export function rmse(prediction: Values, target: Values): number {
  const { p, y } = pairs('rmse', prediction, target);
  return rmseOf(p, y);
}

/** RMSE divided by the range (max - min) of the target; a constant target is refused. */
export function nrmse(prediction: Values, target: Values): number {
  const { p, y } = pairs('nrmse', prediction, target);
  let lo = Infinity,
    hi = -Infinity;
  for (const v of y) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (!(hi > lo)) throw new RangeError(`nrmse: the target is constant (${lo}); its range is 0, so NRMSE is undefined`);
  return rmseOf(p, y) / (hi - lo);
}

/** Non-dimensional error index: RMSE divided by the population standard deviation of the target. */
export function ndei(prediction: Values, target: Values): number {
  const { p, y } = pairs('ndei', prediction, target);
  const mean = y.reduce((a, b) => a + b, 0) / y.length;
  const sd = Math.sqrt(y.reduce((a, b) => a + (b - mean) ** 2, 0) / y.length);
  if (!(sd > 0))
    throw new RangeError(`ndei: the target is constant (${mean}); its standard deviation is 0, so NDEI is undefined`);
  return rmseOf(p, y) / sd;
}

/** Mean absolute percentage error, in percent: 100 · mean(|(y − p) / y|). Zero targets are refused. */
export function mape(prediction: Values, target: Values): number {
  const { p, y } = pairs('mape', prediction, target);
  let s = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] === 0) throw new RangeError(`mape: target element ${i} is 0; the percentage error is undefined there`);
    s += Math.abs((y[i] - p[i]) / y[i]);
  }
  return (100 * s) / y.length;
}
