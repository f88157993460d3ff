// String class labels of the classifiers and taggers: `classes: ['neg', 'pos']` in the model's
// options (saved with it); targets may then be the label strings, and predictClasses() returns
// them.
import type { TargetInput } from '../train/data';

/** A target input whose class ids may be given as label strings. */
export type LabeledTargets =
  | TargetInput
  | string[]
  | Array<string | number>
  | string[][]
  | Array<Array<string | number>>;

/** Checks a `classes` option: an array of outputSize distinct non-empty strings (classification). */
export function checkClasses(what: string, classes: unknown, task: string, outputSize: number): string[] | null {
  if (classes === undefined || classes === null) return null;
  if (!Array.isArray(classes))
    throw new TypeError(`${what}: classes must be an array of label strings, received ${typeof classes}`);
  if (task !== 'classification')
    throw new RangeError(`${what}: classes (label names) apply to task 'classification', received task '${task}'`);
  for (let i = 0; i < classes.length; i++) {
    const c: unknown = classes[i];
    if (typeof c !== 'string' || c.length === 0)
      throw new TypeError(
        `${what}: classes[${i}] must be a non-empty string, received ${c === '' ? 'an empty string' : typeof c}`,
      );
  }
  if (classes.length !== outputSize)
    throw new RangeError(
      `${what}: classes has ${classes.length} labels but outputSize is ${outputSize}; give one label per class`,
    );
  const seen = new Map<string, number>();
  classes.forEach((c: string, i) => {
    if (seen.has(c)) throw new RangeError(`${what}: classes must be distinct; '${c}' is at ${seen.get(c)} and ${i}`);
    seen.set(c, i);
  });
  return classes.slice() as string[];
}

/**
 * Targets with label strings turned into class ids (numbers pass through as ids). Without
 * classes, string targets are refused with a hint.
 */
export function labelIds(
  what: string,
  targets: LabeledTargets,
  classes: readonly string[] | null,
  level: 'sequence' | 'step',
): TargetInput {
  if (!Array.isArray(targets)) return targets as TargetInput;
  const strings = (a: unknown[]) => a.some((v) => typeof v === 'string');
  const hasStrings = level === 'sequence' ? strings(targets) : targets.some((s) => Array.isArray(s) && strings(s));
  if (!hasStrings) return targets as TargetInput;
  if (!classes)
    throw new TypeError(
      `${what}: targets are label strings but the model has no classes; give classes: ['…', …] in its options`,
    );
  const index = new Map(classes.map((c, i) => [c, i]));
  const shown = classes.length <= 10 ? classes.join(', ') : `${classes.slice(0, 10).join(', ')}, …`;
  const id = (v: unknown, where: string) => {
    if (typeof v !== 'string') return v;
    const k = index.get(v);
    if (k === undefined)
      throw new RangeError(`${what}: target of ${where} is ${JSON.stringify(v)}, not one of the classes (${shown})`);
    return k;
  };
  if (level === 'sequence') return targets.map((v, i) => id(v, `sequence ${i}`)) as TargetInput;
  return targets.map((s, i) =>
    Array.isArray(s) ? s.map((v, t) => id(v, `sequence ${i} at step ${t}`)) : s,
  ) as TargetInput;
}

/** The index of the largest value of a row. */
export function argmax(row: ArrayLike<number>): number {
  let k = 0;
  for (let j = 1; j < row.length; j++) if (row[j] > row[k]) k = j;
  return k;
}
