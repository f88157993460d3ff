// The fused decoder step (one native call per Seq2Seq decoder step on the CPU device) against
// the step of separate kernel calls it replaces: the same tokens, log-probabilities and
// attention, bit for bit, for every cell, depth, attention and dtype; and the checks of the
// native plan and step on bad input.
import { afterEach, describe, expect, it } from 'vitest';
import { Seq2Seq, Vocabulary } from '../lib';
import { loadNative } from '../lib/native';
import { backendInfo } from '../lib';
import { cpuDevice } from '../lib/device/cpu';

const vocab = Vocabulary.characters('abcdefgh');
const sources = ['abc', 'hgfedcba', 'a', 'bbbbbbb', 'cafe'];

function withFused<T>(on: boolean, f: () => T): T {
  const was = process.env.RNNKIT_FUSED_DECODER;
  if (on) delete process.env.RNNKIT_FUSED_DECODER;
  else process.env.RNNKIT_FUSED_DECODER = 'off';
  try {
    return f();
  } finally {
    if (was === undefined) delete process.env.RNNKIT_FUSED_DECODER;
    else process.env.RNNKIT_FUSED_DECODER = was;
  }
}

function decodeAll(m: Seq2Seq) {
  return {
    greedy: m.greedy(sources, { maxLength: 12 }),
    greedyOne: m.greedy([sources[1]], { maxLength: 12 }),
    beam: m.beamSearch(sources[3], { width: 3, maxLength: 10 }),
    beamBatch: m.beamSearchBatch(sources, { width: 4, maxLength: 10, lengthPenalty: 0.7 }),
    score: m.scoreTarget(sources[0], 'cab'),
    scoreOpen: m.scoreTarget(sources[4], 'efac', { end: false }),
  };
}

/** A model whose weights are spread enough that decoding does not stop at once. */
function model(opts: Partial<ConstructorParameters<typeof Seq2Seq>[0]>): Seq2Seq {
  const m = new Seq2Seq({ sourceVocabulary: vocab, hiddenSize: 7, embeddingDim: 5, seed: 3, ...opts });
  const p = Float64Array.from(m.params.hostParams());
  for (let i = 0; i < p.length; i++) p[i] = p[i] * 3 + Math.sin(i) * 0.2;
  m.params.setHostParams(p);
  return m;
}

// A build without external buffers (Electron's) has CPU tensors over plain JavaScript memory,
// which a plan cannot hold between steps: decoding then uses the separate calls.
const fusedRuns = backendInfo().externalBuffers;

afterEach(() => {
  delete process.env.RNNKIT_FUSED_DECODER;
});

describe('fused decoder step', () => {
  it.runIf(!fusedRuns)('without external buffers a plan over plain memory is refused by name', () => {
    const f = (k: number) => new Float32Array(k);
    expect(() =>
      loadNative().decoderPlan({
        cell: 'lstm',
        L: 1,
        H: 1,
        E: 1,
        Vin: 1,
        V: 1,
        maxRows: 1,
        S: 0,
        He: 0,
        k: 0,
        R0: 1,
        wEmb: f(1),
        wIh: [f(4)],
        wHh: [f(4)],
        bIh: null,
        bHh: null,
        h0: [f(1)],
        c0: [f(1)],
        wC: null,
        wOut: f(1),
        bOut: null,
        ids: new Int32Array(1),
        parents: new Int32Array(1),
        emb: f(1),
        hA: [f(1)],
        hB: [f(1)],
        cA: [f(1)],
        cB: [f(1)],
        alpha: null,
        context: null,
        cat: null,
        pre: null,
        out: null,
        logits: f(1),
        lp: f(1),
        values: null,
        indices: null,
      }),
    ).toThrow(/decoderPlan: wEmb must be a tensor of the CPU device \(memory rnnkit allocated\)/);
  });

  const cases: Array<Partial<ConstructorParameters<typeof Seq2Seq>[0]>> = [
    { cell: 'lstm', attention: 'general' },
    { cell: 'lstm', attention: 'dot', numLayers: 2 },
    { cell: 'lstm', attention: 'none', numLayers: 3 },
    { cell: 'gru', attention: 'general', numLayers: 2 },
    { cell: 'gru', attention: 'none' },
    { cell: 'rnn', attention: 'dot' },
    { cell: 'rnn', attention: 'general', numLayers: 2, bidirectional: true },
    { cell: 'lstm', attention: 'general', bidirectional: true },
  ];
  for (const dtype of ['float64', 'float32'] as const)
    for (const c of cases)
      it(`${dtype} ${JSON.stringify(c)}: the same results as separate kernel calls`, () => {
        const m = model({ ...c, dtype });
        const fused = withFused(true, () => decodeAll(m));
        const plain = withFused(false, () => decodeAll(m));
        expect(fused).toEqual(plain);
        // something was decoded (not every hypothesis ended at once)
        expect(fused.greedy.some((d) => d.tokens.length > 2)).toBe(true);
        expect(fused.beamBatch.some((d) => d.tokens.length > 2)).toBe(true);
      });

  it('runs on the CPU device (the plan is made and used)', () => {
    const m = model({ attention: 'general' });
    const n = loadNative();
    let steps = 0;
    const real = n.decoderStep;
    n.decoderStep = ((...a: Parameters<typeof real>) => {
      steps++;
      return real(...a);
    }) as typeof real;
    try {
      m.greedy(['abc'], { maxLength: 5 });
    } finally {
      n.decoderStep = real;
    }
    if (fusedRuns) expect(steps).toBeGreaterThan(0);
    else expect(steps).toBe(0);
    steps = 0;
    withFused(false, () => m.greedy(['abc'], { maxLength: 5 }));
    expect(steps).toBe(0);
  });

  it('non-finite weights fail the decoding call, fused or not', () => {
    const m = model({ attention: 'general', dtype: 'float64' });
    const p = Float64Array.from(m.params.hostParams());
    p.fill(NaN, 0, p.length);
    m.params.setHostParams(p);
    for (const on of [true, false]) {
      let err: unknown;
      try {
        withFused(on, () => m.greedy(['abc'], { maxLength: 5 }));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RangeError);
      expect((err as { code?: string }).code).toBe('ERR_RNNKIT_NON_FINITE');
    }
  });
});

describe.runIf(fusedRuns)('decoderPlan and decoderStep checks', () => {
  const n = loadNative();
  const dev = cpuDevice();
  const f = (k: number) => dev.alloc('float32', [k]);
  const i32 = (k: number) => dev.alloc('int32', [k]);
  const H = 3,
    E = 2,
    V = 4,
    M = 2,
    S = 3,
    He = 3,
    G = 4;
  const raw = (t: { handle: unknown }) => t.handle;
  function planArgs(over: Record<string, unknown> = {}) {
    return {
      cell: 'lstm',
      L: 1,
      H,
      E,
      Vin: V,
      V,
      maxRows: M,
      S,
      He,
      k: 2,
      R0: 1,
      wEmb: f(V * E),
      wIh: [f(G * H * E)],
      wHh: [f(G * H * H)],
      bIh: null,
      bHh: null,
      h0: [f(H)],
      c0: [f(H)],
      wC: f(H * (He + H)),
      wOut: f(V * H),
      bOut: f(V),
      ids: i32(M),
      parents: i32(M),
      emb: f(M * E),
      hA: [f(M * H)],
      hB: [f(M * H)],
      cA: [f(M * H)],
      cB: [f(M * H)],
      alpha: f(M * S),
      context: f(M * He),
      cat: f(M * (He + H)),
      pre: f(M * H),
      out: f(M * H),
      logits: f(M * V),
      lp: f(M * V),
      values: f(M * 2),
      indices: i32(M * 2),
      ...over,
    };
  }
  const plan = (over: Record<string, unknown> = {}) =>
    n.decoderPlan(planArgs(over) as unknown as Parameters<typeof n.decoderPlan>[0]);

  it('a valid plan steps; the results are log-probabilities', () => {
    const a = planArgs();
    const pl = n.decoderPlan(a as unknown as Parameters<typeof n.decoderPlan>[0]);
    n.decoderStep(pl, 1, false, f(S * He), f(S * H), null);
    const lp = raw(a.lp) as Float32Array;
    expect(Math.exp(lp[0]) * V).toBeCloseTo(1 * V * 0.25, 5); // zero weights: uniform
    n.decoderStep(pl, 2, true, f(S * 2 * He), f(S * 2 * H), null);
  });

  it('refuses plans over memory it cannot hold, wrong sizes and overlapping outputs', () => {
    expect(() => plan({ wEmb: new Float32Array(V * E) })).toThrow(
      /decoderPlan: wEmb must be a tensor of the CPU device \(memory rnnkit allocated\)/,
    );
    expect(() => plan({ wOut: f(V * H + 1) })).toThrow(/decoderPlan: wOut must be a Float32Array of length 12/);
    expect(() => plan({ hA: [f(M * H), f(M * H)] })).toThrow(/decoderPlan: hA must be an Array of 1 tensors/);
    const shared = f(M * V);
    expect(() => plan({ logits: shared, lp: shared })).toThrow(
      /decoderPlan: lp must be a buffer that does not overlap/,
    );
    expect(() => plan({ wIh: [dev.alloc('float64', [G * H * E])] })).toThrow(/wIh\[0\] must be a Float32Array/);
    expect(() => plan({ k: 5 })).toThrow(/decoderPlan: k must be an integer in \[0, 4\]/);
    expect(() => plan({ extra: 1 })).toThrow(/decoderPlan: unknown field 'extra'/);
  });

  it('refuses bad steps with errors that name what was expected', () => {
    const a = planArgs();
    const pl = n.decoderPlan(a as unknown as Parameters<typeof n.decoderPlan>[0]);
    const enc = f(S * He),
      keys = f(S * H);
    expect(() => n.decoderStep({} as never, 1, false, enc, keys, null)).toThrow(
      /decoderStep: plan must be an object made by decoderPlan, received object/,
    );
    expect(() => n.decoderStep(pl, 3, true, enc, keys, null)).toThrow(/decoderStep: R must be an integer in \[1, 2\]/);
    expect(() => n.decoderStep(pl, 1.5, true, enc, keys, null)).toThrow(RangeError);
    expect(() => n.decoderStep(pl, 2, false, enc, keys, null)).toThrow(/at most the 1 rows of the previous step/);
    expect(() => n.decoderStep(pl, 1, 1 as never, enc, keys, null)).toThrow(/withParents must be a boolean/);
    (raw(a.ids) as Int32Array)[0] = 9;
    expect(() => n.decoderStep(pl, 1, false, enc, keys, null)).toThrow(
      /decoderStep: ids\[0\] must be an integer in \[0, 3\], received number 9/,
    );
    (raw(a.ids) as Int32Array)[0] = 1;
    (raw(a.parents) as Int32Array)[0] = 1;
    expect(() => n.decoderStep(pl, 1, true, enc, keys, null)).toThrow(
      /decoderStep: parents\[0\] must be an integer in \[0, 0\], received number 1/,
    );
    (raw(a.parents) as Int32Array)[0] = 0;
    expect(() => n.decoderStep(pl, 1, false, f(S * He + 1), keys, null)).toThrow(
      /decoderStep: enc must be a Float32Array of length 9/,
    );
    expect(() => n.decoderStep(pl, 1, false, enc, new Float64Array(S * H), null)).toThrow(
      /decoderStep: keys must be a Float32Array of length 9/,
    );
    expect(() => n.decoderStep(pl, 1, false, enc, keys, new Int32Array([4]))).toThrow(
      /decoderStep: lengths\[0\] must be an integer in \[1, 3\], received number 4/,
    );
    const sab = new Float32Array(new SharedArrayBuffer(S * He * 4));
    expect(() => n.decoderStep(pl, 1, false, sab, keys, null)).toThrow(/backed by a SharedArrayBuffer/);
    expect(() => n.decoderStep(pl, 1, false, dev.view(a.cat, 0, [S * He]), keys, null)).toThrow(
      /decoderStep: enc must be a buffer that does not overlap cat/,
    );
    const bad = f(S * He);
    (raw(bad) as Float32Array)[2] = NaN;
    let err: unknown;
    try {
      n.decoderStep(pl, 1, false, bad, keys, null);
    } catch (e) {
      err = e;
    }
    expect((err as Error).message).toMatch(/decoderStep: values\[2\] must be a finite number, received number NaN/);
    expect((err as { code?: string }).code).toBe('ERR_RNNKIT_NON_FINITE');
    // after every refusal the plan still steps
    n.decoderStep(pl, 1, false, enc, keys, new Int32Array([2]));
  });
});

describe('LanguageModel.generate on the fused step', () => {
  const text = 'the quick brown fox jumps over the lazy dog. ';
  const v = Vocabulary.characters(text);
  for (const opts of [
    { cell: 'lstm', numLayers: 2 },
    { cell: 'gru' },
    { cell: 'rnn', tieWeights: true, embeddingDim: 12 },
  ] as const)
    for (const dtype of ['float32', 'float64'] as const)
      it(`${dtype} ${JSON.stringify(opts)}: the same tokens as separate kernel calls`, async () => {
        const { LanguageModel } = await import('../lib');
        const m = new LanguageModel({ vocabulary: v, hiddenSize: 12, embeddingDim: 8, seed: 5, dtype, ...opts });
        const gen = () => [
          m.generate('the ', { maxTokens: 40, temperature: 0.8, seed: 3 }),
          m.generate('', { maxTokens: 20, topK: 3, seed: 9 }),
        ];
        const n = loadNative(),
          real = n.decoderStep;
        let steps = 0;
        n.decoderStep = ((...a: Parameters<typeof real>) => (steps++, real(...a))) as typeof real;
        let fused: string[];
        try {
          fused = withFused(true, gen);
        } finally {
          n.decoderStep = real;
        }
        if (fusedRuns) expect(steps).toBeGreaterThan(10);
        else expect(steps).toBe(0);
        const plain = withFused(false, gen);
        expect(fused).toEqual(plain);
        expect(fused[0].length).toBeGreaterThan(5);
      });
});

describe('a fused stream outliving its model', () => {
  it('refuses after dispose(), as the separate calls do', async () => {
    const { LanguageModel } = await import('../lib');
    for (const on of [true, false]) {
      const m = new LanguageModel({ vocabulary: Vocabulary.characters('abcdefgh '), hiddenSize: 8, embeddingDim: 4 });
      const it = withFused(on, () => m.stream('ab', { maxTokens: 50, stopAtEos: false }));
      await withFused(on, () => it.next());
      m.dispose();
      await expect(withFused(on, () => it.next())).rejects.toThrow(/the model was disposed/);
    }
  });
});
