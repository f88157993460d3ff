// The CUDA row ops and pooling over time against the CPU kernels (cuda-ops-helpers.ts): gather and
// scatter with repeated ids, column blocks, halves, softmax and log-softmax, argmax and top-k with
// ties, every pooling mode with and without lengths (zeros included), forward and backward.
// Float32 within 1e-4, float64 within 1e-10; then the argument checks, whose messages must be
// the CPU's where the CPU checks the same thing (ids, lengths, argmax steps, non-finite inputs).
import { describe, expect, it } from 'vitest';
import { cpu, cudaDevice, type Tensor } from '../lib';
import { cudaState, floats, type Host, OpCase, runBoth, uniform } from './cuda-ops-helpers';

const DTYPES = ['float32', 'float64'] as const;
type DT = (typeof DTYPES)[number];
const tolOf = (dt: string) => (dt === 'float32' ? 1e-4 : 1e-10);

/** Values on a coarse grid (many exact ties, zeros of both signs). */
function ties(dt: DT, n: number, seed: number, levels = 3): Float32Array | Float64Array {
  const a = floats(dt, n, seed);
  for (let i = 0; i < n; i++) a[i] = Math.round(a[i] * levels) / levels;
  return a;
}

function ids(n: number, hi: number, seed: number): Int32Array {
  const r = uniform(seed);
  return Int32Array.from({ length: n }, () => Math.min(hi - 1, Math.floor(((r() + 1) / 2) * hi)));
}

function rowCases(): OpCase[] {
  const out: OpCase[] = [];
  for (const dt of DTYPES) {
    const tol = tolOf(dt);
    for (const [R, N, F, idx] of [
      [5, 7, 3, Int32Array.from([4, 0, 0, 2, 4, 4, 1])],
      [1, 1, 1, Int32Array.from([0])],
      [1, 4, 3, new Int32Array(4)],
      [50, 200, 17, ids(200, 50, 3)],
    ] as const) {
      out.push({
        name: `gatherRows R=${R} N=${N} F=${F} ${dt}`,
        op: 'gatherRows',
        make: () => ({ R, N, F, src: floats(dt, R * F, 1), idx: idx.slice(), dst: floats(dt, N * F, 2) }),
        outputs: ['dst'],
        tol,
      });
      out.push({
        name: `scatterAddRows R=${R} N=${N} F=${F} ${dt}`,
        op: 'scatterAddRows',
        make: () => ({ R, N, F, src: floats(dt, N * F, 3), idx: idx.slice(), dst: floats(dt, R * F, 4) }),
        outputs: ['dst'],
        tol,
      });
    }
    for (const accumulate of [undefined, false, true])
      for (const [N, srcF, srcOffset, width, dstF, dstOffset] of [
        [6, 10, 3, 4, 7, 2],
        [1, 1, 0, 1, 1, 0],
        [5, 8, 0, 8, 12, 4],
      ])
        out.push({
          name: `copyCols ${N}x${srcF}[${srcOffset}:+${width}] -> ${dstF}[${dstOffset}] accumulate=${accumulate} ${dt}`,
          op: 'copyCols',
          make: () => ({
            N,
            srcF,
            srcOffset,
            width,
            dstF,
            dstOffset,
            src: floats(dt, N * srcF, 5),
            dst: floats(dt, N * dstF, 6),
            ...(accumulate === undefined ? {} : { accumulate }),
          }),
          outputs: ['dst'],
          tol,
        });
    for (const mode of ['sum', 'mean'])
      for (const [N, H] of [
        [5, 6],
        [1, 1],
        [33, 20],
      ]) {
        out.push({
          name: `mergeHalves ${mode} N=${N} H=${H} ${dt}`,
          op: 'mergeHalves',
          make: () => ({ N, H, mode, x: floats(dt, N * 2 * H, 7), y: floats(dt, N * H, 8) }),
          outputs: ['y'],
          tol,
        });
        out.push({
          name: `splitHalvesBackward ${mode} N=${N} H=${H} ${dt}`,
          op: 'splitHalvesBackward',
          make: () => ({ N, H, mode, dy: floats(dt, N * H, 9), dx: floats(dt, N * 2 * H, 10) }),
          outputs: ['dx'],
          tol,
        });
      }
    for (const op of ['softmaxRows', 'logSoftmaxRows'])
      for (const [N, C, scale, tied] of [
        [4, 7, 5, false],
        [1, 1, 1, false],
        [3, 1000, 10, false],
        [6, 9, 1, true],
        [2, 5, 80, false],
      ] as const)
        out.push({
          name: `${op} N=${N} C=${C} scale=${scale}${tied ? ' ties' : ''} ${dt}`,
          op,
          make: () => ({
            N,
            C,
            x: tied ? ties(dt, N * C, 11) : floats(dt, N * C, 11, scale),
            y: floats(dt, N * C, 12),
          }),
          outputs: ['y'],
          tol,
        });
    for (const [N, C, nan] of [
      [8, 5, false],
      [1, 1, false],
      [4, 300, false],
      [5, 4, true],
    ] as const)
      out.push({
        name: `argmaxRows N=${N} C=${C} ties${nan ? ' NaN' : ''} ${dt}`,
        op: 'argmaxRows',
        make: () => {
          const x = ties(dt, N * C, 13, 2);
          // NaN first in row 0 (nothing beats it), inside row 1, last in row 2.
          if (nan) ((x[0] = NaN), (x[C + 1] = NaN), (x[3 * C - 1] = NaN));
          return { N, C, x, out: new Int32Array(N).fill(-7) };
        },
        outputs: ['out'],
      });
    for (const [N, C, k] of [
      [6, 10, 3],
      [1, 1, 1],
      [4, 7, 7],
      [5, 9, 1],
      [3, 200, 20],
    ])
      for (const tied of [false, true])
        out.push({
          name: `topkRows N=${N} C=${C} k=${k}${tied ? ' ties' : ''} ${dt}`,
          op: 'topkRows',
          make: () => ({
            N,
            C,
            k,
            x: tied ? ties(dt, N * C, 14, 2) : floats(dt, N * C, 14),
            values: floats(dt, N * k, 15),
            indices: new Int32Array(N * k).fill(-7),
          }),
          outputs: ['values', 'indices'],
          tol,
        });
  }
  return out;
}

function poolCases(): OpCase[] {
  const out: OpCase[] = [];
  for (const dt of DTYPES) {
    const tol = tolOf(dt);
    for (const mode of ['last', 'mean', 'max'] as const)
      for (const [T, B, F, lengths] of [
        [5, 4, 3, null],
        [5, 4, 3, Int32Array.from([5, 2, 0, 1])],
        [1, 1, 1, null],
        [1, 2, 2, Int32Array.from([0, 1])],
        [12, 6, 9, Int32Array.from([12, 0, 7, 3, 12, 1])],
      ] as const)
        for (const withArgmax of mode === 'max' ? [true] : [false, true]) {
          const tag = `${mode} T=${T} B=${B} F=${F}${lengths ? ` lengths=${lengths.join(',')}` : ''} ${dt}`;
          const x = () => (mode === 'max' ? ties(dt, T * B * F, 16, 2) : floats(dt, T * B * F, 16));
          const len = () => (lengths ? { lengths: lengths.slice() } : {});
          out.push({
            name: `timePoolForward ${tag}${withArgmax ? ' argmax' : ''}`,
            op: 'timePoolForward',
            make: () => ({
              T,
              B,
              F,
              mode,
              x: x(),
              ...len(),
              y: floats(dt, B * F, 17),
              ...(withArgmax ? { argmax: new Int32Array(B * F).fill(-7) } : {}),
            }),
            outputs: withArgmax ? ['y', 'argmax'] : ['y'],
            tol,
          });
          if (withArgmax !== (mode === 'max')) continue;
          out.push({
            name: `timePoolBackward ${tag}`,
            op: 'timePoolBackward',
            make: () => {
              const argmax = new Int32Array(B * F);
              if (mode === 'max')
                cpu().timePoolForward({ T, B, F, mode, x: x(), ...len(), y: floats(dt, B * F, 0), argmax } as never);
              return {
                T,
                B,
                F,
                mode,
                dy: floats(dt, B * F, 18),
                ...len(),
                argmax: mode === 'max' ? argmax : null,
                dx: floats(dt, T * B * F, 19),
              };
            },
            outputs: ['dx'],
            tol,
          });
        }
  }
  return out;
}

export const ROW_CASES: OpCase[] = [...rowCases(), ...poolCases()];

function isHost(v: unknown): v is Host {
  return v instanceof Float32Array || v instanceof Float64Array || v instanceof Int32Array || v instanceof Uint8Array;
}

/** The error each backend throws for the same (host) arguments; the CUDA side gets tensors. */
function errors(op: string, make: () => Record<string, unknown>): { cpu?: Error; cuda?: Error } {
  const dev = cudaDevice();
  const r: { cpu?: Error; cuda?: Error } = {};
  const call = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e as Error;
    }
    return undefined;
  };
  const host = make();
  r.cpu = call(() => (cpu() as unknown as Record<string, (a: unknown) => unknown>)[op](host));
  const tensors = new Map<unknown, Tensor>();
  const devArgs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(make())) {
    if (!isHost(v)) devArgs[k] = v;
    else {
      if (!tensors.has(v)) tensors.set(v, dev.fromHost(v));
      devArgs[k] = tensors.get(v);
    }
  }
  r.cuda = call(() => (dev as unknown as Record<string, (a: unknown) => unknown>)[op](devArgs));
  return r;
}

/** A case's arguments with one field replaced (undefined: removed) or added. */
function withField(c: OpCase, key: string, value: unknown): () => Record<string, unknown> {
  return () => {
    const a = c.make();
    if (value === undefined) delete a[key];
    else a[key] = typeof value === 'function' ? (value as (a: Record<string, unknown>) => unknown)(a) : value;
    return a;
  };
}

function first(op: string, dt: DT = 'float32'): OpCase {
  const c = ROW_CASES.find((x) => x.op === op && x.name.endsWith(dt));
  if (!c) throw new Error(`no case for ${op}`);
  return c;
}

// One output of each op, given one element too few, and an input whose count is wrong.
const WRONG_COUNT: Record<string, string> = {
  gatherRows: 'dst',
  scatterAddRows: 'src',
  copyCols: 'dst',
  mergeHalves: 'x',
  splitHalvesBackward: 'dy',
  softmaxRows: 'y',
  logSoftmaxRows: 'x',
  argmaxRows: 'out',
  topkRows: 'indices',
  timePoolForward: 'y',
  timePoolBackward: 'dx',
};

describe.skipIf(!cudaState.available)(
  `CUDA row ops and pooling against the CPU (${cudaState.device ?? 'no device'})`,
  () => {
    const worst: Record<string, number> = {};
    for (const c of ROW_CASES)
      it(c.name, () => {
        const { diffs, cpuResult, cudaResult } = runBoth(c);
        expect(cudaResult).toEqual(cpuResult);
        const dt = c.name.endsWith('float32') ? 'float32' : 'float64';
        for (const [k, d] of Object.entries(diffs)) {
          const key = `${c.op} ${dt}`;
          worst[key] = Math.max(worst[key] ?? 0, d);
          // Indices and steps must match exactly; values within the dtype's tolerance.
          const exact = k === 'indices' || k === 'argmax' || k === 'out';
          expect(d, `${c.name}: ${k}`).toBeLessThanOrEqual(exact ? 0 : (c.tol ?? tolOf(dt)));
        }
      });
    it('largest relative differences (reported)', () => {
      if (process.env.RNNKIT_REPORT_DIFFS) console.log(JSON.stringify(worst, null, 1));
      expect(Object.keys(worst).length).toBeGreaterThan(0);
    });
  },
);

describe.skipIf(!cudaState.available)('CUDA row ops and pooling: argument checks', () => {
  for (const [op, field] of Object.entries(WRONG_COUNT)) {
    it(`${op}: a wrong element count names ${field}`, () => {
      const c = first(op);
      const { cuda } = errors(
        op,
        withField(c, field, (a: Record<string, unknown>) => (a[field] as Host).slice(1)),
      );
      expect(cuda?.message).toMatch(new RegExp(`^${op}: ${field} must be .* cuda tensor of \\d+ elements`));
    });
    it(`${op}: an unknown field is refused`, () => {
      const { cpu: c, cuda } = errors(op, withField(first(op), 'bogus', 1));
      expect(c?.message).toMatch(/unknown field 'bogus'/);
      expect(cuda?.message).toMatch(new RegExp(`^${op}: unknown field 'bogus'`));
    });
    it(`${op}: a float64 tensor among float32 ones is refused`, () => {
      const c = first(op);
      const { cuda } = errors(
        op,
        withField(c, field, (a: Record<string, unknown>) => {
          const v = a[field] as Host;
          return v instanceof Float32Array ? new Float64Array(v.length) : new Float32Array(v.length);
        }),
      );
      // The first tensor read sets the dtype, so the message may name another one.
      expect(cuda?.message).toMatch(new RegExp(`^${op}: \\w+ must be a (float32|float64|int32) cuda tensor`));
    });
  }

  // Where the CPU checks values, the CUDA op must refuse the same arguments with the same message.
  const same: [string, string, () => Record<string, unknown>][] = [];
  for (const op of ['gatherRows', 'scatterAddRows'])
    for (const bad of [-1, 5, 99])
      same.push([
        op,
        `idx holding ${bad}`,
        withField(first(op), 'idx', () => Int32Array.from([4, 0, 0, bad, 4, 4, 1])),
      ]);
  for (const op of ['timePoolForward', 'timePoolBackward'])
    for (const bad of [-1, 6])
      same.push([op, `lengths holding ${bad}`, withField(first(op), 'lengths', () => Int32Array.from([5, 2, bad, 1]))]);
  const maxBack = ROW_CASES.find((c) => c.op === 'timePoolBackward' && c.name.startsWith('timePoolBackward max'))!;
  for (const bad of [-2, 5])
    same.push([
      'timePoolBackward',
      `argmax holding ${bad}`,
      withField(maxBack, 'argmax', (a: Record<string, unknown>) => {
        const m = (a.argmax as Int32Array).slice();
        m[7] = bad;
        return m;
      }),
    ]);
  const maxFwd = ROW_CASES.find((c) => c.op === 'timePoolForward' && c.name.startsWith('timePoolForward max'))!;
  it("timePool 'max' without argmax is refused, naming argmax", () => {
    for (const [op, make] of [
      ['timePoolForward', withField(maxFwd, 'argmax', undefined)],
      ['timePoolBackward', withField(maxBack, 'argmax', null)],
    ] as const) {
      const { cpu: c, cuda } = errors(op, make);
      expect(c?.message).toMatch(new RegExp(`^${op}: argmax must be`));
      expect(cuda?.message).toMatch(new RegExp(`^${op}: argmax must be`));
    }
  });
  for (const [op, field] of [
    ['softmaxRows', 'x'],
    ['logSoftmaxRows', 'x'],
    ['topkRows', 'x'],
    ['timePoolForward', 'x'],
    ['timePoolBackward', 'dy'],
  ])
    for (const bad of [NaN, Infinity, -Infinity])
      same.push([
        op,
        `${field} holding ${bad}`,
        withField(first(op), field, (a: Record<string, unknown>) => {
          const v = (a[field] as Float32Array).slice();
          v[v.length - 1] = bad;
          v[Math.floor(v.length / 2)] = bad;
          return v;
        }),
      ]);
  for (const [op, field, value] of [
    ['topkRows', 'k', 0],
    ['topkRows', 'k', 11],
    ['copyCols', 'width', 6],
    ['copyCols', 'srcOffset', 10],
    ['copyCols', 'accumulate', null],
    ['copyCols', 'accumulate', 1],
    ['mergeHalves', 'mode', 'max'],
    ['timePoolForward', 'mode', 'first'],
    ['gatherRows', 'R', 0],
    ['gatherRows', 'N', 2.5],
  ] as const)
    same.push([op, `${field} = ${String(value)}`, withField(first(op), field, value)]);
  for (const [op, name, make] of same)
    it(`${op}: ${name} is refused as on the CPU`, () => {
      const { cpu: c, cuda } = errors(op, make);
      expect(c, 'the CPU refuses it').toBeInstanceOf(Error);
      expect(cuda, 'the CUDA op refuses it').toBeInstanceOf(Error);
      // The choice lists differ in punctuation only ("one of 'a' 'b'" vs "one of 'a', 'b'").
      const norm = (m: string) => m.replace(/', '/g, "' '");
      expect(norm(cuda!.message)).toBe(norm(c!.message));
      expect(cuda!.name).toBe(c!.name);
      expect((cuda as { code?: string }).code).toBe((c as { code?: string }).code);
    });

  it('an output overlapping an input is refused', () => {
    const dev = cudaDevice();
    const x = dev.fromHost(floats('float32', 12, 1));
    expect(() => dev.softmaxRows({ N: 3, C: 4, x, y: x })).toThrow(
      /softmaxRows: y must be a buffer that does not overlap x/,
    );
    const buf = dev.fromHost(floats('float32', 16, 2));
    expect(() =>
      dev.mergeHalves({ N: 2, H: 2, mode: 'sum', x: dev.view(buf, 0, [8]), y: dev.view(buf, 6, [4]) }),
    ).toThrow(/mergeHalves: y must be a buffer that does not overlap x/);
  });

  it("timePoolBackward accepts argmax: null for 'last' and 'mean' (the pooling layer passes it), refuses a tensor", () => {
    const c = ROW_CASES.find((x) => x.op === 'timePoolBackward' && x.name.startsWith('timePoolBackward last'))!;
    const a = errors('timePoolBackward', withField(c, 'argmax', null));
    expect(a.cpu).toBeUndefined();
    expect(a.cuda).toBeUndefined();
    const b = errors('timePoolBackward', withField(c, 'argmax', new Int32Array(12)));
    expect(b.cpu?.message).toMatch(/unknown field 'argmax'/);
    expect(b.cuda?.message).toMatch(/unknown field 'argmax'/);
  });
});
