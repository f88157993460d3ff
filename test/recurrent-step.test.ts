// Recurrent.step: T steps equal forward over T steps, one step matches torch's cells, bad input
// is refused by name; the decoders built on it give what the decoder before it gave.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cpuDevice,
  Exec,
  GRU,
  LSTM,
  Rng,
  runSync,
  Scratch,
  Seq2Seq,
  Sequential,
  SimpleRNN,
  Tape,
  Vocabulary,
} from '../lib';
import type { RecurrentOptions, StepState, Tensor } from '../lib';

const dev = cpuDevice();
type Kind = 'SimpleRNN' | 'LSTM' | 'GRU';
const make = (kind: Kind, o: RecurrentOptions) =>
  kind === 'LSTM' ? new LSTM(o) : kind === 'GRU' ? new GRU(o) : new SimpleRNN(o);

function built(kind: Kind, o: RecurrentOptions, I: number, seed = 1) {
  const rnn = make(kind, o);
  const net = new Sequential([['rnn', rnn]], 'float64', undefined, dev);
  net.build({ kind: 'seq', F: I });
  net.initialize(new Rng(seed));
  return { rnn, net };
}

function randomData(n: number, seed: number): Float64Array {
  const r = new Rng(seed);
  return Float64Array.from({ length: n }, () => r.next() - 0.5);
}

const host = (t: Tensor) => Array.from(dev.toHostSync(t));

describe('Recurrent.step equals forward', () => {
  const cases: Array<[Kind, Partial<RecurrentOptions>]> = [
    ['SimpleRNN', {}],
    ['SimpleRNN', { activation: 'relu', numLayers: 2 }],
    ['LSTM', {}],
    ['LSTM', { numLayers: 3 }],
    ['LSTM', { numLayers: 2, initialState: 'learnable' }],
    ['GRU', { numLayers: 2 }],
    ['GRU', { gruVariant: 'original', numLayers: 2 }],
    ['GRU', { bias: false }],
  ];
  for (const [kind, extra] of cases)
    for (const withState of [false, true])
      it(`${kind} ${JSON.stringify(extra)}${withState ? ', initial state given' : ''}`, () => {
        const I = 3,
          H = 5,
          T = 6,
          B = 2;
        const o = { hiddenSize: H, ...extra };
        const { rnn, net } = built(kind, o, I);
        if (extra.initialState === 'learnable') {
          // non-zero learnable states, so that using them is tested
          net.params.setParam('rnn.h0', randomData(net.params.param('rnn.h0').size, 7));
          net.params.setParam('rnn.c0', randomData(net.params.param('rnn.c0').size, 8));
        }
        const L = o.numLayers ?? 1,
          lstm = kind === 'LSTM';
        const x = randomData(T * B * I, 2);
        const given: StepState | null = withState
          ? {
              h: Array.from({ length: L }, (_, l) => dev.fromHost(randomData(B * H, 10 + l), [B, H])),
              c: lstm ? Array.from({ length: L }, (_, l) => dev.fromHost(randomData(B * H, 20 + l), [B, H])) : null,
            }
          : null;
        const ctx = {
          exec: new Exec(dev, false),
          device: dev,
          training: false,
          rng: new Rng(3),
          dtype: 'float64' as const,
          initialStates: new Map(given ? [[rnn, given]] : []),
          finalStates: new Map(),
          tape: new Tape(new Scratch(dev)),
        };
        const y = runSync(
          net.forward({ kind: 'seq', data: dev.fromHost(x, [T, B, I]), T, B, F: I, lengths: null }, ctx),
        );
        const full = host(y.data);
        const fin = ctx.finalStates.get(rnn)!;
        let state = given;
        for (let t = 0; t < T; t++) {
          const r = rnn.step(net.params, dev.fromHost(x.slice(t * B * I, (t + 1) * B * I), [B, I]), state);
          expect(host(r.output)).toEqual(full.slice(t * B * H, (t + 1) * B * H));
          state = r.state;
        }
        for (let l = 0; l < L; l++) {
          expect(host(state!.h[l])).toEqual(host(fin.h[l]));
          if (lstm) expect(host(state!.c![l])).toEqual(host(fin.c![l]));
        }
      });
});

describe('Recurrent.step refuses bad input', () => {
  const { rnn, net } = built('LSTM', { hiddenSize: 4, numLayers: 2 }, 3);
  const x = (B: number, F = 3) => dev.fromHost(new Float64Array(B * F), [B, F]);
  const state = (B: number) => ({
    h: [dev.alloc('float64', [B, 4]), dev.alloc('float64', [B, 4])],
    c: [dev.alloc('float64', [B, 4]), dev.alloc('float64', [B, 4])],
  });
  it('a bidirectional layer', () => {
    const b = built('GRU', { hiddenSize: 4, bidirectional: true }, 3);
    expect(() => b.rnn.step(b.net.params, x(1))).toThrow(/GRU\.step: a bidirectional layer cannot step/);
  });
  it('x of the wrong shape, kind or dtype', () => {
    expect(() => rnn.step(net.params, x(2, 5))).toThrow(/LSTM\.step: x must have shape \[B, 3\], received \[2, 5\]/);
    expect(() => rnn.step(net.params, dev.fromHost(new Float64Array(6)))).toThrow(/received \[6\]/);
    expect(() => rnn.step(net.params, new Float64Array(3) as unknown as Tensor)).toThrow(TypeError);
    expect(() => rnn.step(net.params, dev.fromHost(new Float32Array(3), [1, 3]))).toThrow(
      /x must be float64 \(the parameters' dtype\), received float32/,
    );
  });
  it('a state whose batch differs from x', () => {
    expect(() => rnn.step(net.params, x(3), state(2))).toThrow(
      /LSTM\.step: state\.h\[0\] must have 12 elements \(\[B,H\] with the batch B=3 of x\), received 8/,
    );
  });
  it('a state with the wrong number of layers or no cell state', () => {
    const s = state(1);
    expect(() => rnn.step(net.params, x(1), { h: [s.h[0]], c: s.c })).toThrow(
      /state\.h must be an array of 2 tensors \(one per layer\), received an array of 1/,
    );
    expect(() => rnn.step(net.params, x(1), { h: s.h, c: null })).toThrow(/state\.c must be an array of 2 tensors/);
  });
  it('non-finite input', () => {
    const bad = dev.fromHost(Float64Array.from([0, NaN, 0]), [1, 3]);
    let err: (Error & { code?: string }) | undefined;
    try {
      rnn.step(net.params, bad);
    } catch (e) {
      err = e as Error & { code?: string };
    }
    expect(err).toBeInstanceOf(RangeError);
    expect(err!.message).toMatch(/LSTM\.step: x and the state must be finite .*x\[1\] must be a finite number/);
    expect(err!.code).toBe('ERR_RNNKIT_NON_FINITE');
  });
});

const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', timeout: 120_000 }).status === 0;

describe.skipIf(!hasTorch)('one step matches torch.nn.RNNCell / LSTMCell / GRUCell (float64)', () => {
  const cells: Array<[Kind, string, Partial<RecurrentOptions>]> = [
    ['SimpleRNN', 'RNNCell(I, H, nonlinearity="tanh")', {}],
    ['SimpleRNN', 'RNNCell(I, H, nonlinearity="relu")', { activation: 'relu' }],
    ['LSTM', 'LSTMCell(I, H)', {}],
    ['GRU', 'GRUCell(I, H)', {}],
  ];
  for (const [kind, torchCell, extra] of cells)
    it(`${kind} ${JSON.stringify(extra)} vs torch.nn.${torchCell}`, () => {
      const I = 4,
        H = 6,
        B = 3;
      const { rnn, net } = built(kind, { hiddenSize: H, init: 'pytorch', ...extra }, I, 5);
      const x = randomData(B * I, 1),
        h = randomData(B * H, 2),
        c = randomData(B * H, 3);
      const lstm = kind === 'LSTM';
      const r = rnn.step(net.params, dev.fromHost(x, [B, I]), {
        h: [dev.fromHost(h.slice(), [B, H])],
        c: lstm ? [dev.fromHost(c.slice(), [B, H])] : null,
      });
      const w = (n: string) => Array.from(net.params.hostParam(`rnn.${n}_l0`));
      const input = JSON.stringify({
        wih: w('weight_ih'),
        whh: w('weight_hh'),
        bih: w('bias_ih'),
        bhh: w('bias_hh'),
        x: Array.from(x),
        h: Array.from(h),
        c: Array.from(c),
      });
      const script = `
import json, sys, torch
d = json.loads(sys.stdin.read()); I, H, B = ${I}, ${H}, ${B}
cell = torch.nn.${torchCell}.double()
with torch.no_grad():
    cell.weight_ih.copy_(torch.tensor(d['wih'], dtype=torch.float64).view_as(cell.weight_ih))
    cell.weight_hh.copy_(torch.tensor(d['whh'], dtype=torch.float64).view_as(cell.weight_hh))
    cell.bias_ih.copy_(torch.tensor(d['bih'], dtype=torch.float64)); cell.bias_hh.copy_(torch.tensor(d['bhh'], dtype=torch.float64))
    x = torch.tensor(d['x'], dtype=torch.float64).view(B, I)
    h = torch.tensor(d['h'], dtype=torch.float64).view(B, H); c = torch.tensor(d['c'], dtype=torch.float64).view(B, H)
    out = cell(x, (h, c)) if ${lstm ? 'True' : 'False'} else (cell(x, h),)
print(json.dumps([o.flatten().tolist() for o in out]))
`;
      const p = spawnSync(PYTHON, ['-c', script], { input, encoding: 'utf8', timeout: 120_000 });
      expect(p.status, p.stderr).toBe(0);
      const [th, tc] = JSON.parse(p.stdout) as number[][];
      const err = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i])));
      expect(err(host(r.output), th)).toBeLessThan(1e-12);
      if (lstm) expect(err(host(r.state.c![0]), tc)).toBeLessThan(1e-12);
    });
});

describe('decoders stepping the decoder give what the decoder before them gave', () => {
  // Outputs of the decoder that ran the decoder Sequential once per step (commit b84e67f),
  // written by test/fixtures/make_seq2seq_decode_reference.cjs.
  const ref = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'seq2seq_decode_reference.json'), 'utf8')) as {
    sources: string[];
    results: Array<Record<string, unknown> & { config: Record<string, unknown> }>;
  };
  const vocab = Vocabulary.characters('abcdefghij');
  // Attention sums its scores in another order now: log-probabilities move by float32 rounding.
  const close = (a: unknown, b: unknown, path: string): void => {
    if (typeof a === 'number' && typeof b === 'number') {
      expect(Math.abs(a - b), path).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(b)));
    } else if (Array.isArray(a) && Array.isArray(b)) {
      expect(a.length, path).toBe(b.length);
      a.forEach((v, i) => close(v, b[i], `${path}[${i}]`));
    } else if (a && b && typeof a === 'object' && typeof b === 'object') {
      expect(Object.keys(a).sort(), path).toEqual(Object.keys(b).sort());
      for (const k of Object.keys(b)) close((a as never)[k], (b as never)[k], `${path}.${k}`);
    } else expect(a, path).toEqual(b);
  };
  for (const r of ref.results)
    it(JSON.stringify(r.config), () => {
      const s = ref.sources;
      const m = new Seq2Seq({ sourceVocabulary: vocab, hiddenSize: 8, embeddingDim: 5, seed: 3, ...r.config });
      const got = {
        config: r.config,
        greedy: m.greedy(s, { maxLength: 12 }),
        beam: s.map((x) => m.beamSearch(x, { width: 3, maxLength: 10 })),
        beamBatch: m.beamSearchBatch(s, { width: 4, maxLength: 10, lengthPenalty: 1 }),
        score: s.map((x, i) => [m.scoreTarget(x, s[(i + 1) % 4]), m.scoreTarget(x, 'ab', { end: false })]),
      };
      // the tokens exactly; the numbers to float32 rounding
      const tokens = (o: typeof got) =>
        JSON.stringify([o.greedy, o.beam, o.beamBatch].map((l) => l.map((d) => d.tokens)));
      expect(tokens(got)).toBe(tokens(r as unknown as typeof got));
      close(got, r, 'decoded');
      m.dispose();
    });
});
