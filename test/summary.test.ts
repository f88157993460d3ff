// model.summary() (a table of layers, output shapes and parameter counts with totals, dtype and
// device) and util.inspect(model) / console.log(model) for every model class.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  GRU,
  LanguageModel,
  Linear,
  Model,
  NARX,
  Seq2Seq,
  SequenceClassifier,
  SequenceTagger,
  TDNN,
  TimePooling,
  Vocabulary,
} from '../lib';

describe('summary', () => {
  it('lists every layer with its output shape and parameters, and the totals', () => {
    const m = new SequenceClassifier({
      inputSize: 8,
      hiddenSize: 16,
      numLayers: 2,
      bidirectional: true,
      outputSize: 3,
    });
    const s = m.summary();
    const total = m.parameters().reduce((n, p) => n + p.data.length, 0);
    const rnn = m
      .parameters()
      .filter((p) => p.name.startsWith('rnn.'))
      .reduce((n, p) => n + p.data.length, 0);
    expect(s.split('\n')[0]).toBe('SequenceClassifier');
    expect(s).toMatch(new RegExp(`rnn\\s+LSTM\\s+\\[batch, 32\\]\\s+${rnn.toLocaleString('en-US')}`));
    expect(s).toMatch(/head\s+Linear\s+\[batch, 3\]\s+99/);
    expect(s).toContain(`total parameters: ${total.toLocaleString('en-US')}`);
    expect(s).toContain('dtype: float32');
    expect(s).toContain('device: cpu');
    expect(s).not.toContain('(other)');
  });

  it('is there for every model class, and util.inspect prints one line per layer', () => {
    const v = Vocabulary.characters('abcd');
    const models = [
      new SequenceClassifier({ inputSize: 2, hiddenSize: 3, outputSize: 2, pooling: 'mean' }),
      new SequenceTagger({ vocabSize: 10, hiddenSize: 3, outputSize: 4, dtype: 'float64' }),
      new Model({
        inputSize: 3,
        layers: [
          ['rnn', new GRU({ hiddenSize: 4 })],
          ['pool', new TimePooling({ mode: 'max' })],
          ['head', new Linear({ outFeatures: 2 })],
        ],
      }),
      new TDNN({ inputSize: 2, layers: [{ units: 3, delays: [0, 1] }], outputSize: 2 }),
      new LanguageModel({ vocabulary: v, hiddenSize: 4 }),
      new Seq2Seq({ sourceVocabulary: v, hiddenSize: 4, bidirectional: true, attention: 'general' }),
      new NARX({ inputSize: 1, outputSize: 1, hiddenSizes: [5] }),
    ];
    for (const m of models) {
      const s = m.summary();
      expect(s.split('\n')[0]).toBe(m.type);
      expect(s).not.toContain('(other)'); // every parameter is in a layer's row
      const text = inspect(m);
      const lines = text.split('\n');
      expect(lines[0]).toMatch(new RegExp(`^${m.type} \\([\\d,]+ parameters, float(32|64), cpu\\) \\{$`));
      expect(lines.at(-1)).toBe('}');
      for (const l of lines.slice(1, -1)) expect(l).toMatch(/^ {2}\S+: \S+ -> .+, [\d,]+ parameters$/);
      const sum = lines
        .slice(1, -1)
        .reduce((n, l) => n + Number(/([\d,]+) parameters$/.exec(l)![1].replace(/,/g, '')), 0);
      expect(String(sum.toLocaleString('en-US'))).toBe(/\(([\d,]+) parameters/.exec(lines[0])![1]);
      m.dispose();
      expect(inspect(m)).toBe(`${m.type} (disposed)`);
      expect(() => m.summary()).toThrow(/disposed/);
    }
  });

  it('shows sequence outputs, token-id inputs and float64', () => {
    const t = new SequenceTagger({ vocabSize: 10, hiddenSize: 3, outputSize: 4, dtype: 'float64' });
    expect(t.summary()).toMatch(/embedding\s+Embedding\s+\[batch, steps, 32\]/);
    expect(t.summary()).toMatch(/head\s+Linear\s+\[batch, steps, 4\]/);
    expect(t.summary()).toContain('dtype: float64');
  });
});
