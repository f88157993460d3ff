// Hostile input to every public class and function of lib/index.ts: constructor options of every
// kind of wrong (each option null, a string, negative, NaN, fractional, huge, of another type;
// unknown options), and the methods (fit, predict, evaluate, generate, decode, step, ...) with
// null, empty, sparse, nested holes, NaN, mismatched targets, bad callbacks and bad option objects.
'use strict';
const u = require('./util.cjs');
const path = require('node:path');

const r = u.lib;
const dist = (m) => require(path.join(u.root, 'dist', m));
const SCHEMAS = {
  SimpleRNN: dist('layers/recurrent.js').RECURRENT_OPTIONS,
  LSTM: dist('layers/recurrent.js').RECURRENT_OPTIONS,
  GRU: dist('layers/recurrent.js').RECURRENT_OPTIONS,
  Linear: dist('layers/linear.js').LINEAR_OPTIONS,
  Embedding: dist('layers/embedding.js').EMBEDDING_OPTIONS,
  Dropout: dist('layers/dropout.js').DROPOUT_OPTIONS,
  TimePooling: dist('layers/pooling.js').POOLING_OPTIONS,
};
/** Options that are sizes: a huge value must be refused with a RangeError naming the option. */
const SIZES = new Set([
  'hiddenSize',
  'inputSize',
  'vocabSize',
  'embeddingDim',
  'outputSize',
  'numLayers',
  'outFeatures',
  'numEmbeddings',
]);
/** Layers allocate nothing until a model builds them: their huge sizes are checked by Model cases. */
const LAYERS = new Set(['SimpleRNN', 'LSTM', 'GRU', 'Linear', 'Embedding', 'Dropout', 'TimePooling']);
const SIGNED = new Set(['forgetBias']);

const xs = u.tinySequences;
const ys = () => [0, 1, 1, 0];
const tagYs = () => [[0, 1], [1], [1, 0, 1], [0]];
const text = 'abcab cab abc';
const vocab = () => r.Vocabulary.characters(text);
const clf = (o = {}) => new r.SequenceClassifier({ inputSize: 2, hiddenSize: 2, outputSize: 2, ...o });
const tagger = (o = {}) => new r.SequenceTagger({ inputSize: 2, hiddenSize: 2, outputSize: 2, ...o });
const lm = () => new r.LanguageModel({ vocabulary: vocab(), hiddenSize: 2, embeddingDim: 2 });
const s2s = () => new r.Seq2Seq({ sourceVocabulary: vocab(), hiddenSize: 2, embeddingDim: 2 });
const FIT = { epochs: 1, batchSize: 2 };

/** [label, value] of wrong values for one option; expectation decided by `expectFor`. */
const VALUES = [
  ['null', null],
  ['a string', 'x'],
  ['an empty string', ''],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['-1', -1],
  ['0', 0],
  ['fractional', 1.5],
  ['2^40', 2 ** 40],
  ['2^53-1', Number.MAX_SAFE_INTEGER],
  ['1e300', 1e300],
  ['true', true],
  ['an object', {}],
  ['an Array', [2]],
  ['a function', () => 2],
  ['a BigInt', 2n],
  ['a Number object', new Number(2)],
  ['a numeric string', '2'],
];

function expectFor(field, label, value, spec) {
  const { type, nullable, isSize } = spec;
  if (value === null) return nullable ? 'either' : 'throw';
  if (type === 'bool') return typeof value === 'boolean' ? 'either' : 'throw';
  if (type === 'string') return typeof value === 'string' && value.length > 0 ? 'either' : 'throw';
  if (type === 'enum') return 'throw'; // none of VALUES is a valid name
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'throw';
  if (isSize) return value >= 1 && Number.isInteger(value) && value < 2 ** 31 ? 'either' : 'throw';
  if (value < 0 && !SIGNED.has(field)) return 'throw';
  return 'either';
}

/** The options of a class: from its schema, or from the resolved config of a valid instance. */
function specsOf(name, schema, config) {
  const out = {};
  if (schema) {
    for (const [k, f] of Object.entries(schema))
      out[k] = { type: f.type, nullable: !!f.nullable || f.default === null, isSize: SIZES.has(k) };
  } else {
    for (const [k, v] of Object.entries(config)) {
      if (v !== null && typeof v === 'object') continue;
      const type = typeof v === 'boolean' ? 'bool' : typeof v === 'string' ? 'enum' : 'number';
      out[k] = { type, nullable: v === null, isSize: SIZES.has(k) };
    }
  }
  return out;
}

function classCases() {
  const cases = [];
  const add = (name, expect, who, run) => cases.push({ name: `class ${name}`, expect, who, run });

  // ---- constructors ----------------------------------------------------------------------
  const CTORS = [
    ['SequenceClassifier', (o) => new r.SequenceClassifier(o), () => ({ inputSize: 2, hiddenSize: 2, outputSize: 2 })],
    ['SequenceTagger', (o) => new r.SequenceTagger(o), () => ({ inputSize: 2, hiddenSize: 2, outputSize: 2 })],
    [
      'SequenceClassifier',
      (o) => new r.SequenceClassifier(o),
      () => ({ vocabSize: 5, embeddingDim: 2, hiddenSize: 2, outputSize: 2 }),
      'tokens',
    ],
    ['LanguageModel', (o) => new r.LanguageModel(o), () => ({ vocabulary: vocab(), hiddenSize: 2, embeddingDim: 2 })],
    ['Seq2Seq', (o) => new r.Seq2Seq(o), () => ({ sourceVocabulary: vocab(), hiddenSize: 2, embeddingDim: 2 })],
    [
      'Model',
      (o) => new r.Model(o),
      () => ({
        layers: [new r.LSTM({ hiddenSize: 2, returnSequences: false }), new r.Linear({ outFeatures: 2 })],
        inputSize: 2,
      }),
    ],
    ['OnlineLearner', (o) => new r.OnlineLearner(tagger(), o), () => ({ algorithm: 'rtrl' })],
    ['SimpleRNN', (o) => new r.SimpleRNN(o), () => ({ hiddenSize: 2 })],
    ['LSTM', (o) => new r.LSTM(o), () => ({ hiddenSize: 2 })],
    ['GRU', (o) => new r.GRU(o), () => ({ hiddenSize: 2 })],
    ['Linear', (o) => new r.Linear(o), () => ({ outFeatures: 2 })],
    ['Embedding', (o) => new r.Embedding(o), () => ({ numEmbeddings: 3, embeddingDim: 2 })],
    ['Dropout', (o) => new r.Dropout(o), () => ({ p: 0.5 })],
    ['TimePooling', (o) => new r.TimePooling(o), () => ({ mode: 'mean' })],
  ];
  const OPTIONAL_OPTIONS = new Set(['OnlineLearner', 'Dropout', 'TimePooling']);
  for (const [cls, make, base, tag] of CTORS) {
    const label = tag ? `${cls}[${tag}]` : cls;
    add(`${label}: valid options`, 'pass', cls, () => make(base()));
    const whole = [
      ['undefined options', undefined],
      ['null options', null],
      ['a string for options', 'lstm'],
      ['a number for options', 2],
      ['an Array for options', [base()]],
      ['a function for options', () => base()],
      ['a Proxy whose traps throw', u.throwingProxy(base())],
    ];
    for (const [l, v] of whole)
      add(`${label}: ${l}`, v === undefined && OPTIONAL_OPTIONS.has(cls) ? 'either' : 'throw', cls, () => make(v));
    add(`${label}: an unknown option`, 'throw', cls, () => make({ ...base(), bogus: 1 }));
    const keys = Object.keys(base());
    add(`${label}: a misspelled option (${u.typo(keys[0])})`, 'throw', cls, () => {
      const o = base();
      o[u.typo(keys[0])] = o[keys[0]];
      delete o[keys[0]];
      return make(o);
    });
    add(`${label}: a getter that throws`, 'throw', cls, () =>
      make(
        u.withGetter(base(), keys[0], () => {
          throw u.SENTINEL;
        }),
      ),
    );
    add(`${label}: options inherited from a prototype`, 'either', cls, () => make(Object.create(base())));
    let config = {};
    try {
      const inst = make(base());
      config = inst.config ?? {};
      if (typeof inst.dispose === 'function') inst.dispose();
    } catch {
      /* the baseline case reports it */
    }
    const specs = specsOf(cls, SCHEMAS[cls], config);
    for (const [k, spec] of Object.entries(specs)) {
      if (k === 'embeddingDim' && !base().vocabSize && !base().vocabulary && !base().sourceVocabulary) continue;
      for (const [l, v] of VALUES) {
        const huge = spec.isSize && typeof v === 'number' && v >= 2 ** 31;
        const expect = huge && LAYERS.has(cls) ? 'either' : expectFor(k, l, v, spec);
        add(`${label}: option ${k} ${l}`, expect, huge ? new RegExp(`${cls}.*${k}|${k}.*${cls}`) : cls, () => {
          const inst = make({ ...base(), [k]: v });
          if (inst && typeof inst.dispose === 'function') inst.dispose();
        });
      }
    }
  }
  // A layer with a huge size fails when a model builds it: a RangeError naming the option.
  for (const [cls, k, make] of [
    [
      'LSTM',
      'hiddenSize',
      (v) => [new r.LSTM({ hiddenSize: v, returnSequences: false }), new r.Linear({ outFeatures: 2 })],
    ],
    [
      'GRU',
      'hiddenSize',
      (v) => [new r.GRU({ hiddenSize: v, returnSequences: false }), new r.Linear({ outFeatures: 2 })],
    ],
    ['SimpleRNN', 'hiddenSize', (v) => [new r.SimpleRNN({ hiddenSize: v }), new r.Linear({ outFeatures: 2 })]],
    [
      'Linear',
      'outFeatures',
      (v) => [new r.LSTM({ hiddenSize: 2, returnSequences: false }), new r.Linear({ outFeatures: v })],
    ],
    [
      'Embedding',
      'numEmbeddings',
      (v) => [new r.Embedding({ numEmbeddings: v, embeddingDim: 2 }), new r.LSTM({ hiddenSize: 2 })],
    ],
    [
      'Embedding',
      'embeddingDim',
      (v) => [new r.Embedding({ numEmbeddings: 3, embeddingDim: v }), new r.LSTM({ hiddenSize: 2 })],
    ],
  ])
    for (const v of [2 ** 40, Number.MAX_SAFE_INTEGER, 1e300])
      add(
        `Model: a ${cls} with ${k} ${v}`,
        'throw',
        new RegExp(k),
        () => new r.Model(cls === 'Embedding' ? { layers: make(v), vocabSize: 3 } : { layers: make(v), inputSize: 2 }),
      );

  // Options that are objects or classes.
  for (const [l, v] of [
    ['null', null],
    ['a string', 'abc'],
    ['a plain object', { tokens: ['a'] }],
    ['an Array', ['a', 'b']],
  ]) {
    add(
      `LanguageModel: vocabulary ${l}`,
      'throw',
      'LanguageModel',
      () => new r.LanguageModel({ vocabulary: v, hiddenSize: 2 }),
    );
    add(
      `Seq2Seq: sourceVocabulary ${l}`,
      'throw',
      'Seq2Seq',
      () => new r.Seq2Seq({ sourceVocabulary: v, hiddenSize: 2 }),
    );
    add(
      `Seq2Seq: targetVocabulary ${l}`,
      v === null ? 'either' : 'throw',
      'Seq2Seq',
      () => new r.Seq2Seq({ sourceVocabulary: vocab(), targetVocabulary: v, hiddenSize: 2 }),
    );
    add(`SequenceClassifier: device ${l}`, v === null ? 'either' : 'throw', 'SequenceClassifier', () =>
      clf({ device: v }),
    );
    add(`OnlineLearner: model ${l}`, 'throw', 'OnlineLearner', () => new r.OnlineLearner(v));
  }
  // class labels: outputSize distinct non-empty strings, classification only
  for (const [l, v] of [
    ['a string', 'ab'],
    ['a number', 2],
    ['duplicates', ['a', 'a']],
    ['too few', ['a']],
    ['too many', ['a', 'b', 'c']],
    ['an empty label', ['a', '']],
    ['numbers', [0, 1]],
    ['a hole', [, 'b']], // eslint-disable-line no-sparse-arrays
    ['an object label', ['a', { toString: () => 'b' }]],
  ])
    add(`SequenceClassifier: classes ${l}`, 'throw', 'SequenceClassifier', () => clf({ classes: v }));
  add(
    'SequenceTagger: classes with task regression',
    'throw',
    'SequenceTagger',
    () => new r.SequenceTagger({ inputSize: 2, hiddenSize: 2, outputSize: 2, task: 'regression', classes: ['a', 'b'] }),
  );
  for (const [l, v] of [
    ['an unknown label', ['a', 'b', 'c', 'a']],
    ['a label of the wrong case', ['a', 'B', 'b', 'a']],
    ['a label id out of range', ['a', 2, 'b', 'a']],
  ])
    add(`SequenceClassifier.fit: labelled targets ${l}`, 'throw', 'SequenceClassifier.fit', () =>
      clf({ classes: ['a', 'b'] }).fit([[[1, 2]], [[1, 2]], [[1, 2]], [[1, 2]]], v, FIT),
    );
  add('OnlineLearner: a SequenceClassifier', 'throw', 'OnlineLearner', () => new r.OnlineLearner(clf()));
  add('OnlineLearner: a disposed tagger', 'throw', /OnlineLearner|SequenceTagger/, () => {
    const t = tagger();
    t.dispose();
    return new r.OnlineLearner(t);
  });
  for (const [l, opt] of [
    ['optimizer null', { optimizer: null }],
    ['optimizer a string that names no optimizer', { optimizer: 'adamm' }],
    ['optimizer type bogus', { optimizer: { type: 'bogus' } }],
    ['optimizer lr NaN', { optimizer: { type: 'adam', lr: NaN } }],
    ['optimizer lr -1', { optimizer: { type: 'sgd', lr: -1 } }],
    ['schedule type bogus', { schedule: { type: 'bogus' } }],
    ['schedule 3', { schedule: 3 }],
  ])
    add(
      `OnlineLearner: ${l}`,
      opt.optimizer === null ? 'either' : 'throw',
      /OnlineLearner|optimizer|schedule/,
      () => new r.OnlineLearner(tagger(), opt),
    );
  // Model layers.
  const L = () => new r.LSTM({ hiddenSize: 2, returnSequences: false });
  for (const [l, layers, expect] of [
    ['layers null', null, 'throw'],
    ['layers empty', [], 'throw'],
    ['layers a number', 3, 'throw'],
    ['a number in layers', [3], 'throw'],
    ['null in layers', [null], 'throw'],
    ['a sparse layers Array', [, new r.Linear({ outFeatures: 2 })], 'throw'], // eslint-disable-line no-sparse-arrays
    ['a [name] pair without a layer', [['a']], 'throw'],
    ['an empty layer name', [['', L()], new r.Linear({ outFeatures: 2 })], 'throw'],
    ['a layer name with a dot', [['a.b', L()], new r.Linear({ outFeatures: 2 })], 'either'],
    [
      'duplicate layer names',
      [
        ['a', L()],
        ['a', new r.Linear({ outFeatures: 2 })],
      ],
      'throw',
    ],
    [
      'the same layer twice',
      (() => {
        const x = new r.Linear({ outFeatures: 2 });
        return [L(), x, x];
      })(),
      'throw',
    ],
    ['an Embedding on feature inputs', [new r.Embedding({ numEmbeddings: 3, embeddingDim: 2 }), L()], 'throw'],
    ['a plain object as a layer', [{ type: 'Linear', build() {} }], 'throw'],
    ['a __proto__ layer name', [['__proto__', L()], new r.Linear({ outFeatures: 2 })], 'either'],
  ])
    add(`Model: ${l}`, expect, /Model|Sequential|Embedding|Linear|LSTM/, () => new r.Model({ layers, inputSize: 2 }));

  // ---- fit / predict / evaluate of the sequence models ------------------------------------
  const INPUTS = [
    ['null', null],
    ['undefined', undefined],
    ['a number', 3],
    ['a string', 'abc'],
    ['an empty Array', []],
    ['an empty sequence', [[]]],
    ['a sparse Array', [, [[1, 2]]]], // eslint-disable-line no-sparse-arrays
    ['a nested hole', [[[1, 2], , [3, 4]]]], // eslint-disable-line no-sparse-arrays
    ['a hole in a step', [[[1, ,]]]], // eslint-disable-line no-sparse-arrays
    ['a sparse Array of length 2^25', Object.assign([], { length: 2 ** 25 })],
    ['a step of the wrong width', [[[1]]]],
    ['a step too wide', [[[1, 2, 3]]]],
    ['NaN features', [[[NaN, 1]]]],
    ['Infinity features', [[[Infinity, 1]]]],
    ['string features', [[['a', 'b']]]],
    ['null steps', [[null]]],
    ['an object sequence', [{}]],
    ['a step that is an object', [[{ 0: 1, 1: 2, length: 2 }]]],
    // typed arrays are accepted per step and per sequence (docs/models.md): these are malformed ones
    ['Float32Array steps of the wrong width', [[new Float32Array(3)]]],
    ['a Float32Array sequence of a partial step', [new Float32Array(3)]],
    ['NaN in a Float64Array step', [[Float64Array.of(NaN, 1)]]],
    ['Infinity in a Float64Array sequence', [Float64Array.of(1, Infinity)]],
    ['a DataView sequence', [new DataView(new ArrayBuffer(8))]],
    ['shaped data with a bad shape', { data: new Float32Array(4), shape: [1, 3, 2] }],
    ['shaped data with a negative shape', { data: new Float32Array(4), shape: [-1, 2, 2] }],
    ['shaped data with a huge shape', { data: new Float32Array(4), shape: [2 ** 40, 2 ** 40, 2] }],
    ['shaped data with lengths past T', { data: new Float32Array(4), shape: [1, 2, 2], lengths: [3] }],
    ['shaped data with negative lengths', { data: new Float32Array(4), shape: [1, 2, 2], lengths: [-1] }],
    ['shaped data with a misspelled field', { data: new Float32Array(4), shape: [1, 2, 2], lenghts: [2] }],
    ['shaped data without data', { shape: [1, 2, 2] }],
    ['a Proxy whose traps throw', u.throwingProxy([])],
    ['a deep nesting', [[[[[[1, 2]]]]]]],
  ];
  const TARGETS = [
    ['null', null],
    ['an empty Array', []],
    ['too few', [0]],
    ['too many', [0, 1, 1, 0, 1]],
    ['a class out of range', [0, 1, 2, 0]],
    ['a negative class', [0, -1, 1, 0]],
    ['a fractional class', [0, 0.5, 1, 0]],
    ['a NaN class', [0, NaN, 1, 0]],
    ['string classes', ['0', '1', '1', '0']],
    ['a sparse Array', [0, , 1, 0]], // eslint-disable-line no-sparse-arrays
    [
      'vectors for classes',
      [
        [0, 1],
        [1, 0],
        [0, 1],
        [1, 0],
      ],
    ],
    ['a string', 'abcd'],
    ['an object', {}],
    ['an Int32Array out of range', Int32Array.from([0, 9, 1, 0])],
    ['per-step targets for a classifier', tagYs()],
  ];
  for (const [l, v] of INPUTS) {
    add(`SequenceClassifier.fit: inputs ${l}`, 'throw', 'SequenceClassifier.fit', () => clf().fit(v, ys(), FIT));
    add(
      `SequenceClassifier.predict: inputs ${l}`,
      l === 'an empty Array' ? 'either' : 'throw',
      'SequenceClassifier.predict',
      () => clf().predict(v),
    );
    add(
      `SequenceClassifier.predictAsync: inputs ${l}`,
      l === 'an empty Array' ? 'either' : 'throw',
      'SequenceClassifier.predict',
      () => clf().predictAsync(v),
    );
    add(`SequenceClassifier.evaluate: inputs ${l}`, 'throw', 'SequenceClassifier.evaluate', () =>
      clf().evaluate(v, ys()),
    );
    add(`SequenceTagger.fit: inputs ${l}`, 'throw', 'SequenceTagger.fit', () => tagger().fit(v, tagYs(), FIT));
  }
  add('SequenceClassifier.fit: inputs a sparse Array of length 2^32-1', 'throw', 'SequenceClassifier.fit', () =>
    clf().fit(Object.assign([], { length: 2 ** 32 - 1 }), ys(), FIT),
  );
  for (const [l, v] of TARGETS) {
    add(`SequenceClassifier.fit: targets ${l}`, 'throw', 'SequenceClassifier.fit', () => clf().fit(xs(), v, FIT));
    add(`SequenceClassifier.evaluate: targets ${l}`, 'throw', 'SequenceClassifier.evaluate', () =>
      clf().evaluate(xs(), v),
    );
  }
  for (const [l, v] of [
    ['per-sequence targets', ys()],
    ['a step too many', [[0, 1, 1], [1], [1, 0, 1], [0]]],
    ['a step too few', [[0], [1], [1, 0, 1], [0]]],
    ['a class out of range in a step', [[0, 7], [1], [1, 0, 1], [0]]],
    ['a hole in a step', [[0, ,], [1], [1, 0, 1], [0]]], // eslint-disable-line no-sparse-arrays
  ])
    add(`SequenceTagger.fit: targets ${l}`, 'throw', 'SequenceTagger.fit', () => tagger().fit(xs(), v, FIT));
  add('SequenceClassifier.fit: regression targets of the wrong width', 'throw', 'SequenceClassifier.fit', () =>
    clf({ task: 'regression' }).fit(xs(), [[1], [2], [3], [4]], FIT),
  );
  add('SequenceClassifier.fit: regression NaN target', 'throw', 'SequenceClassifier.fit', () =>
    clf({ task: 'regression' }).fit(
      xs(),
      [
        [1, 0],
        [NaN, 0],
        [3, 0],
        [4, 0],
      ],
      FIT,
    ),
  );
  add('SequenceClassifier.fit: multilabel target 2', 'throw', 'SequenceClassifier.fit', () =>
    clf({ task: 'multilabel' }).fit(
      xs(),
      [
        [1, 0],
        [2, 0],
        [0, 0],
        [1, 1],
      ],
      FIT,
    ),
  );
  add('SequenceClassifier.fit: token ids out of range', 'throw', 'SequenceClassifier.fit', () =>
    clf({ inputSize: null, vocabSize: 3, embeddingDim: 2 }).fit([[0, 1], [5], [2, -1], [1.5]], ys(), FIT),
  );
  add('SequenceClassifier.predict: token id NaN', 'throw', 'SequenceClassifier.predict', () =>
    clf({ inputSize: null, vocabSize: 3, embeddingDim: 2 }).predict([[0, NaN]]),
  );
  const cb = (fn) => ({ ...FIT, onEpochEnd: fn });
  const FIT_OPTIONS = [
    ['null options', null, 'throw'],
    ['a string for options', 'fast', 'throw'],
    ['a number for options', 3, 'throw'],
    ['an Array for options', [FIT], 'throw'],
    ['an unknown option', { ...FIT, bogus: 1 }, 'throw'],
    ['a misspelled option (epcohs)', { epcohs: 1 }, 'throw'],
    ['epochs -1', { epochs: -1 }, 'throw'],
    ['epochs NaN', { epochs: NaN }, 'throw'],
    ['epochs 1.5', { epochs: 1.5 }, 'throw'],
    ['epochs a string', { epochs: '1' }, 'throw'],
    ['epochs 1e300', { epochs: 1e300 }, 'throw'],
    ['batchSize 0', { ...FIT, batchSize: 0 }, 'throw'],
    ['batchSize NaN', { ...FIT, batchSize: NaN }, 'throw'],
    ['batchSize 2^53', { ...FIT, batchSize: 2 ** 53 }, 'throw'],
    ['shuffle "yes"', { ...FIT, shuffle: 'yes' }, 'throw'],
    ['verbose 3', { ...FIT, verbose: 3 }, 'throw'],
    ['verbose "1"', { ...FIT, verbose: '1' }, 'throw'],
    ['verbose true', { ...FIT, verbose: true }, 'throw'],
    ['log null', { ...FIT, log: null }, 'throw'],
    ['log without write', { ...FIT, log: { write: 1 } }, 'throw'],
    ['metricsLog a number', { ...FIT, metricsLog: 5 }, 'throw'],
    ['metricsLog an empty string', { ...FIT, metricsLog: '' }, 'throw'],
    ['metricsLog an object', { ...FIT, metricsLog: { path: 'x' } }, 'throw'],
    ['seed -1', { ...FIT, seed: -1 }, 'throw'],
    ['optimizer a number', { ...FIT, optimizer: 3 }, 'throw'],
    ['optimizer type bogus', { ...FIT, optimizer: { type: 'bogus' } }, 'throw'],
    ['optimizer unknown option', { ...FIT, optimizer: { type: 'adam', lr: 0.1, momentun: 0.9 } }, 'throw'],
    ['optimizer lr NaN', { ...FIT, optimizer: { type: 'adam', lr: NaN } }, 'throw'],
    ['optimizer lr -1', { ...FIT, optimizer: { type: 'adam', lr: -1 } }, 'throw'],
    ['optimizer lr Infinity', { ...FIT, optimizer: { type: 'adam', lr: Infinity } }, 'throw'],
    ['optimizer beta1 1', { ...FIT, optimizer: { type: 'adam', beta1: 1 } }, 'throw'],
    ['optimizer nesterov without momentum', { ...FIT, optimizer: { type: 'sgd', nesterov: true } }, 'throw'],
    ['schedule a string', { ...FIT, schedule: 'step' }, 'throw'],
    ['schedule type bogus', { ...FIT, schedule: { type: 'bogus' } }, 'throw'],
    ['schedule step without stepSize', { ...FIT, schedule: { type: 'step' } }, 'throw'],
    ['schedule gamma NaN', { ...FIT, schedule: { type: 'exponential', gamma: NaN } }, 'throw'],
    ['schedule cosine tMax 0', { ...FIT, schedule: { type: 'cosine', tMax: 0 } }, 'throw'],
    ['clipNorm NaN', { ...FIT, clipNorm: NaN }, 'throw'],
    ['clipNorm -1', { ...FIT, clipNorm: -1 }, 'throw'],
    ['clipValue Infinity', { ...FIT, clipValue: Infinity }, 'throw'],
    ['weightDecay NaN', { ...FIT, weightDecay: NaN }, 'throw'],
    ['weightDecayMode bogus', { ...FIT, weightDecayMode: 'bogus' }, 'throw'],
    ['tbptt 0', { ...FIT, tbptt: 0 }, 'throw'],
    ['tbptt NaN', { ...FIT, tbptt: NaN }, 'throw'],
    ['learning bogus', { ...FIT, learning: 'bogus' }, 'throw'],
    ['learning { tbptt: -1 }', { ...FIT, learning: { tbptt: -1 } }, 'throw'],
    ['learning rtrl on a classifier', { ...FIT, learning: 'rtrl' }, 'either'],
    ['earlyStopping 3', { ...FIT, earlyStopping: 3 }, 'throw'],
    ['earlyStopping patience 0', { ...FIT, earlyStopping: { patience: 0 } }, 'throw'],
    ['earlyStopping unknown option', { ...FIT, earlyStopping: { patiense: 2 } }, 'throw'],
    ['earlyStopping valLoss without validation', { ...FIT, earlyStopping: { monitor: 'valLoss' } }, 'throw'],
    ['validationData {}', { ...FIT, validationData: {} }, 'throw'],
    ['validationData without targets', { ...FIT, validationData: { inputs: xs() } }, 'throw'],
    ['validationData a string', { ...FIT, validationData: 'x' }, 'throw'],
    ['validationData with NaN inputs', { ...FIT, validationData: { inputs: [[[NaN, 0]]], targets: [0] } }, 'throw'],
    ['validationSplit 1.5', { ...FIT, validationSplit: 1.5 }, 'throw'],
    ['validationSplit NaN', { ...FIT, validationSplit: NaN }, 'throw'],
    ['validationSplit 1', { ...FIT, validationSplit: 1 }, 'throw'],
    [
      'validationSplit and validationData',
      { ...FIT, validationSplit: 0.5, validationData: { inputs: xs(), targets: ys() } },
      'throw',
    ],
    ['classWeights a string', { ...FIT, classWeights: 'x' }, 'throw'],
    ['classWeights too short', { ...FIT, classWeights: [1] }, 'throw'],
    ['classWeights NaN', { ...FIT, classWeights: [NaN, 1] }, 'throw'],
    ['classWeights negative', { ...FIT, classWeights: [-1, 1] }, 'throw'],
    ['classWeights sparse', { ...FIT, classWeights: [, 1] }, 'throw'], // eslint-disable-line no-sparse-arrays
    ['timeLimit -1', { ...FIT, timeLimit: -1 }, 'throw'],
    ['timeLimit NaN', { ...FIT, timeLimit: NaN }, 'throw'],
    ['onNonFinite bogus', { ...FIT, onNonFinite: 'bogus' }, 'throw'],
    ['resume "yes"', { ...FIT, resume: 'yes' }, 'throw'],
    ['stateful "yes"', { ...FIT, stateful: 'yes' }, 'throw'],
    ['signal an object', { ...FIT, signal: {} }, 'throw'],
    ['signal already aborted', { ...FIT, signal: AbortSignal.abort() }, 'throw'],
    ['onEpochEnd a number', cb(3), 'throw'],
    ['onEpochEnd a string', cb('log'), 'throw'],
    ['onBatchEnd an object', { ...FIT, onBatchEnd: {} }, 'throw'],
    [
      'onEpochEnd throws',
      cb(() => {
        throw u.SENTINEL;
      }),
      'throw',
    ],
    [
      'onEpochEnd rejects',
      cb(async () => {
        throw u.SENTINEL;
      }),
      'throw',
    ],
    [
      'onBatchEnd throws a string',
      {
        ...FIT,
        onBatchEnd: () => {
          throw u.SENTINEL.message; // the caller's own non-Error value must come back out
        },
      },
      'throw',
    ],
    ['onEpochEnd disposes the model', null, 'throw'],
    ['onEpochEnd calls fit again', null, 'throw'],
    [
      'a getter that throws',
      u.withGetter(FIT, 'epochs', () => {
        throw u.SENTINEL;
      }),
      'throw',
    ],
  ];
  for (const [l, o, expect] of FIT_OPTIONS) {
    // Errors of a nested option object may name that option instead of the method.
    const who = /^(optimizer|schedule)/.test(l)
      ? /SequenceClassifier\.fit|optimizer|schedule/
      : l.startsWith('signal')
        ? /SequenceClassifier\.fit|abort/i
        : l.includes('disposes')
          ? /SequenceClassifier/
          : 'SequenceClassifier.fit';
    add(`SequenceClassifier.fit: ${l}`, expect, who, async () => {
      const m = clf();
      if (l === 'onEpochEnd disposes the model') return m.fit(xs(), ys(), { epochs: 2, onEpochEnd: () => m.dispose() });
      if (l === 'onEpochEnd calls fit again')
        return m.fit(xs(), ys(), { epochs: 1, onEpochEnd: () => m.fit(xs(), ys(), FIT) });
      return m.fit(xs(), ys(), o);
    });
  }
  for (const [l, o, expect] of [
    ['null options', null, 'throw'],
    ['batchSize 0', { batchSize: 0 }, 'throw'],
    ['batchSize a string', { batchSize: '2' }, 'throw'],
    ['batchSize NaN', { batchSize: NaN }, 'throw'],
    ['an unknown option', { bogus: 1 }, 'throw'],
  ]) {
    add(`SequenceClassifier.predict: ${l}`, expect, 'SequenceClassifier.predict', () => clf().predict(xs(), o));
    add(`SequenceClassifier.evaluate: ${l}`, expect, 'SequenceClassifier.evaluate', () =>
      clf().evaluate(xs(), ys(), o),
    );
  }
  for (const method of ['fit', 'predict', 'evaluate', 'save', 'saveSync', 'parameters', 'stateDict', 'loadStateDict'])
    add(`SequenceClassifier.${method}: after dispose`, 'throw', 'disposed', () => {
      const m = clf();
      m.dispose();
      return m[method](xs(), ys());
    });
  add('SequenceClassifier.dispose: during fit', 'throw', 'SequenceClassifier.dispose', async () => {
    const m = clf();
    const p = m.fit(xs(), ys(), { epochs: 3 });
    try {
      m.dispose();
    } finally {
      await p;
    }
  });
  for (const [l, sd, expect] of [
    ['null', null, 'throw'],
    ['a string', 'x', 'throw'],
    ['an empty object', {}, 'throw'],
    ['a wrong-length weight', { 'rnn.weight_ih_l0': [1] }, 'throw'],
    ['NaN weights', null, 'throw'],
    ['an unknown key (strict)', null, 'throw'],
  ])
    add(`SequenceClassifier.loadStateDict: ${l}`, expect, /loadStateDict|SequenceClassifier|rnn\.|state dict/, () => {
      const m = clf();
      if (l === 'NaN weights')
        return m.loadStateDict(
          Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, Array.from(v, () => NaN)])),
        );
      if (l === 'an unknown key (strict)') return m.loadStateDict({ ...m.stateDict(), bogus: [1] });
      return m.loadStateDict(sd);
    });
  for (const [l, p] of [
    ['null', null],
    ['a number', 3],
    ['an empty string', ''],
    ['a directory that does not exist', '/nonexistent-dir-fuzz/m.rnnkit'],
    ['a path with a NUL', '/tmp/a\0b'],
  ]) {
    add(`SequenceClassifier.save: path ${l}`, 'throw', /save|path|ENOENT|rnnkit|string/, () => clf().save(p));
    add(`SequenceModel.load: path ${l}`, 'throw', /load|path|ENOENT|rnnkit|string/, () => r.SequenceModel.load(p));
    add(`SequenceModel.loadSync: path ${l}`, 'throw', /load|path|ENOENT|rnnkit|string/, () =>
      r.SequenceModel.loadSync(p),
    );
  }

  // ---- LanguageModel, Seq2Seq, OnlineLearner --------------------------------------------
  for (const [l, t] of [
    ['null', null],
    ['a number', 3],
    ['an empty string', ''],
    ['an object', {}],
    ['unknown characters (<unk>)', 'zzzz'],
    ['ids out of range', [0, 99, 1]],
    ['negative ids', [0, -1, 1]],
    ['fractional ids', [0, 1.5, 1]],
    ['NaN ids', [0, NaN]],
    ['a sparse id Array', [0, , 1]], // eslint-disable-line no-sparse-arrays
  ]) {
    const legal = l.includes('<unk>') ? 'either' : 'throw';
    add(`LanguageModel.fit: text ${l}`, legal, 'LanguageModel.fit', () => lm().fit(t, { epochs: 1, seqLen: 2 }));
    add(`LanguageModel.evaluate: text ${l}`, legal, 'LanguageModel.evaluate', () => lm().evaluate(t));
    add(
      `LanguageModel.nextTokenProbabilities: prompt ${l}`,
      l === 'an empty string' ? 'either' : legal,
      'LanguageModel',
      () => lm().nextTokenProbabilities(t),
    );
  }
  for (const [l, o] of [
    ['seqLen 0', { seqLen: 0 }],
    ['seqLen NaN', { seqLen: NaN }],
    ['batchSize 0', { batchSize: 0 }],
    ['validationText 3', { validationText: 3 }],
    ['an unknown option', { bogus: 1 }],
    ['null options', null],
  ])
    add(`LanguageModel.fit: ${l}`, 'throw', 'LanguageModel.fit', () => lm().fit(text, o));
  for (const [l, prompt, o] of [
    ['prompt null', null, {}],
    ['prompt a number', 3, {}],
    ['prompt unknown characters (<unk>)', 'zz', {}],
    ['maxTokens -1', 'a', { maxTokens: -1 }],
    ['maxTokens NaN', 'a', { maxTokens: NaN }],
    ['maxTokens 1e300', 'a', { maxTokens: 1e300 }],
    ['temperature NaN', 'a', { temperature: NaN }],
    ['temperature -1', 'a', { temperature: -1 }],
    ['topK 0', 'a', { topK: 0 }],
    ['topK 1.5', 'a', { topK: 1.5 }],
    ['seed -1', 'a', { seed: -1 }],
    ['an unknown option', 'a', { bogus: 1 }],
    ['null options', 'a', null],
  ]) {
    const legal = l.includes('<unk>') ? 'either' : 'throw';
    add(`LanguageModel.generate: ${l}`, legal, 'LanguageModel.generate', () => lm().generate(prompt, o));
    add(`LanguageModel.stream: ${l}`, legal, /LanguageModel\.(stream|generate)/, async () => {
      for await (const _ of lm().stream(prompt, o)) void _;
    });
  }
  const S = () => ['ab', 'ba', 'abc'];
  for (const [l, src, tgt] of [
    ['sources null', null, S()],
    ['targets null', S(), null],
    ['mismatched lengths', S(), ['a']],
    ['empty arrays', [], []],
    ['unknown characters (<unk>)', ['zz'], ['a']],
    ['ids out of range', [[99]], [[1]]],
    ['a null source', [null], ['a']],
    ['a sparse source Array', [, 'ab'], ['a', 'b']], // eslint-disable-line no-sparse-arrays
    ['NaN ids', [[NaN]], [[1]]],
    ['a number source', [3], ['a']],
  ]) {
    const legal = l.includes('<unk>') ? 'either' : 'throw';
    add(`Seq2Seq.fit: ${l}`, legal, 'Seq2Seq.fit', () => s2s().fit(src, tgt, { epochs: 1 }));
    add(`Seq2Seq.evaluate: ${l}`, legal, 'Seq2Seq.evaluate', () => s2s().evaluate(src, tgt));
  }
  for (const [l, o] of [
    ['teacherForcing 2', { teacherForcing: 2 }],
    ['teacherForcing NaN', { teacherForcing: NaN }],
    ['an unknown option', { bogus: 1 }],
    ['null options', null],
  ])
    add(`Seq2Seq.fit: ${l}`, 'throw', 'Seq2Seq.fit', () => s2s().fit(S(), S(), o));
  for (const [l, src, o] of [
    ['sources null', null, {}],
    ['a null source', [null], {}],
    ['unknown characters (<unk>)', ['zz'], {}],
    ['maxLength -1', ['ab'], { maxLength: -1 }],
    ['maxLength NaN', ['ab'], { maxLength: NaN }],
    ['maxLength 1e300', ['ab'], { maxLength: 1e300 }],
    ['an unknown option', ['ab'], { bogus: 1 }],
    ['null options', ['ab'], null],
  ])
    add(`Seq2Seq.greedy: ${l}`, l.includes('<unk>') ? 'either' : 'throw', 'Seq2Seq.greedy', () => s2s().greedy(src, o));
  for (const [l, src, o] of [
    ['source null', null, {}],
    ['source a number', 3, {}],
    ['width 0', 'ab', { width: 0 }],
    ['width NaN', 'ab', { width: NaN }],
    ['width 1e9', 'ab', { width: 1e9 }],
    ['lengthPenalty NaN', 'ab', { lengthPenalty: NaN }],
    ['an unknown option', 'ab', { bogus: 1 }],
  ])
    add(`Seq2Seq.beamSearch: ${l}`, 'throw', 'Seq2Seq.beamSearch', () => s2s().beamSearch(src, o));
  for (const [l, src, tgt] of [
    ['source null', null, 'a'],
    ['target null', 'ab', null],
    ['target unknown characters (<unk>)', 'ab', 'zz'],
  ])
    add(`Seq2Seq.scoreTarget: ${l}`, l.includes('<unk>') ? 'either' : 'throw', 'Seq2Seq.scoreTarget', () =>
      s2s().scoreTarget(src, tgt),
    );
  const learner = () => new r.OnlineLearner(tagger());
  for (const [l, x, y] of [
    ['x null', null, 0],
    ['x a number', 3, 0],
    ['x a string', 'ab', 0],
    ['x too short', [1], 0],
    ['x too long', [1, 2, 3], 0],
    ['x NaN', [NaN, 0], 0],
    ['x Infinity', [Infinity, 0], 0],
    ['x sparse', [, 1], 0], // eslint-disable-line no-sparse-arrays
    ['target out of range', [0, 0], 2],
    ['target negative', [0, 0], -1],
    ['target NaN', [0, 0], NaN],
    ['target fractional', [0, 0], 0.5],
    ['target a string', [0, 0], '1'],
    ['target an Array', [0, 0], [0, 1]],
  ])
    add(`OnlineLearner.step: ${l}`, 'throw', 'OnlineLearner.step', () => learner().step(x, y));
  for (const [l, p] of [
    ['null', null],
    ['a directory that does not exist', '/nonexistent-dir-fuzz/l.rnnkit'],
  ])
    add(`OnlineLearner.load: path ${l}`, 'throw', /OnlineLearner|load|ENOENT|path|rnnkit|string/, () =>
      r.OnlineLearner.load(p),
    );

  // ---- Vocabulary, Rng, checkpoints, registry and the free functions ----------------------
  for (const [l, run, who] of [
    ['characters(null)', () => r.Vocabulary.characters(null), 'Vocabulary'],
    ['characters(3)', () => r.Vocabulary.characters(3), 'Vocabulary'],
    ['characters minCount -1', () => r.Vocabulary.characters('abc', { minCount: -1 }), 'Vocabulary'],
    ['characters minCount NaN', () => r.Vocabulary.characters('abc', { minCount: NaN }), 'Vocabulary'],
    ['characters null options', () => r.Vocabulary.characters('abc', null), 'Vocabulary'],
    ['characters an unknown option', () => r.Vocabulary.characters('abc', { bogus: 1 }), 'Vocabulary'],
    ['words(null)', () => r.Vocabulary.words(null), 'Vocabulary'],
    ['words maxSize 0', () => r.Vocabulary.words('a b', { maxSize: 0 }), 'Vocabulary'],
    ['words maxSize -1', () => r.Vocabulary.words('a b', { maxSize: -1 }), 'Vocabulary'],
    ['words maxSize NaN', () => r.Vocabulary.words('a b', { maxSize: NaN }), 'Vocabulary'],
    ['fromJSON(null)', () => r.Vocabulary.fromJSON(null), 'Vocabulary'],
    ['fromJSON({})', () => r.Vocabulary.fromJSON({}), 'Vocabulary'],
    ['fromJSON a string', () => r.Vocabulary.fromJSON('abc'), 'Vocabulary'],
    ['fromJSON an unknown kind', () => r.Vocabulary.fromJSON({ ...vocab().toJSON(), kind: 'bogus' }), 'Vocabulary'],
    [
      'fromJSON duplicate tokens',
      () => r.Vocabulary.fromJSON({ ...vocab().toJSON(), tokens: ['a', 'a'] }),
      'Vocabulary',
    ],
    ['fromJSON tokens with null', () => r.Vocabulary.fromJSON({ ...vocab().toJSON(), tokens: [null] }), 'Vocabulary'],
    ['fromJSON tokens a string', () => r.Vocabulary.fromJSON({ ...vocab().toJSON(), tokens: 'abc' }), 'Vocabulary'],
    ['encode(null)', () => vocab().encode(null), 'Vocabulary.encode'],
    ['encode(3)', () => vocab().encode(3), 'Vocabulary.encode'],
    ['decode(null)', () => vocab().decode(null), 'Vocabulary.decode'],
    ['decode a string', () => vocab().decode('ab'), 'Vocabulary.decode'],
    ['decode an id out of range', () => vocab().decode([99]), 'Vocabulary.decode'],
    ['decode a negative id', () => vocab().decode([-1]), 'Vocabulary.decode'],
    ['decode a fractional id', () => vocab().decode([1.5]), 'Vocabulary.decode'],
    ['decode a NaN id', () => vocab().decode([NaN]), 'Vocabulary.decode'],
    ['decode a sparse Array', () => vocab().decode([1, , 2]), 'Vocabulary.decode'], // eslint-disable-line no-sparse-arrays
    [
      'decode a huge sparse Array',
      () => vocab().decode(Object.assign([], { length: 2 ** 32 - 1 })),
      'Vocabulary.decode',
    ],
  ])
    add(`Vocabulary.${l}`, 'throw', who, run);
  for (const [l, run] of [
    ['new Rng(NaN)', () => new r.Rng(NaN)],
    ['new Rng(-1)', () => new r.Rng(-1)],
    ['new Rng(1.5)', () => new r.Rng(1.5)],
    ['new Rng("1")', () => new r.Rng('1')],
    ['new Rng(2^53)', () => new r.Rng(2 ** 53)],
    ['new Rng()', () => new r.Rng()],
    ['int(0)', () => new r.Rng(1).int(0)],
    ['int(NaN)', () => new r.Rng(1).int(NaN)],
    ['int(-3)', () => new r.Rng(1).int(-3)],
    ['uniform(NaN, 1)', () => new r.Rng(1).uniform(NaN, 1)],
    ['setState(null)', () => new r.Rng(1).setState(null)],
    ['setState([])', () => new r.Rng(1).setState([])],
    ['setState all zeros', () => new r.Rng(1).setState([0, 0, 0, 0])],
    ['setState strings', () => new r.Rng(1).setState(['a', 'b', 'c', 'd'])],
    ['setState fractional', () => new r.Rng(1).setState([1.5, 2, 3, 4])],
    ['setState past 2^32', () => new r.Rng(1).setState([2 ** 32, 2, 3, 4])],
  ])
    add(`Rng: ${l}`, 'throw', 'Rng', run);
  for (const [l, run, who, expect = 'throw'] of [
    ['encodeCheckpoint(null)', () => r.encodeCheckpoint(null), 'encodeCheckpoint'],
    ['encodeCheckpoint tensors null', () => r.encodeCheckpoint({ meta: {}, tensors: null }), 'encodeCheckpoint'],
    [
      'encodeCheckpoint a plain Array as data',
      () => r.encodeCheckpoint({ meta: {}, tensors: { a: { data: [1], shape: [1] } } }),
      'encodeCheckpoint',
    ],
    [
      'encodeCheckpoint a shape that does not match',
      () => r.encodeCheckpoint({ meta: {}, tensors: { a: { data: u.f32(2), shape: [3] } } }),
      'encodeCheckpoint',
    ],
    [
      'encodeCheckpoint a negative shape',
      () => r.encodeCheckpoint({ meta: {}, tensors: { a: { data: u.f32(2), shape: [-2] } } }),
      'encodeCheckpoint',
    ],
    [
      'encodeCheckpoint a NaN shape',
      () => r.encodeCheckpoint({ meta: {}, tensors: { a: { data: u.f32(2), shape: [NaN] } } }),
      'encodeCheckpoint',
    ],
    [
      'encodeCheckpoint detached data',
      () => r.encodeCheckpoint({ meta: {}, tensors: { a: { data: u.detached(u.f32(2)), shape: [2] } } }),
      'encodeCheckpoint',
    ],
    [
      'encodeCheckpoint a cyclic meta',
      () => {
        const m = {};
        m.m = m;
        return r.encodeCheckpoint({ meta: m, tensors: {} });
      },
      'encodeCheckpoint',
    ],
    ['encodeCheckpoint a BigInt meta', () => r.encodeCheckpoint({ meta: 1n, tensors: {} }), 'encodeCheckpoint'],
    [
      'encodeCheckpoint an empty tensor name',
      () => r.encodeCheckpoint({ meta: {}, tensors: { '': { data: u.f32(1), shape: [1] } } }),
      'encodeCheckpoint',
    ],
    ['decodeCheckpoint(null)', () => r.decodeCheckpoint(null), 'decodeCheckpoint'],
    ['decodeCheckpoint a string', () => r.decodeCheckpoint('RNNKIT01'), 'decodeCheckpoint'],
    ['decodeCheckpoint empty', () => r.decodeCheckpoint(new Uint8Array(0)), 'rnnkit checkpoint'],
    ['decodeCheckpoint a Float32Array', () => r.decodeCheckpoint(u.f32(8)), /checkpoint/i],
    ['decodeCheckpoint a detached buffer', () => r.decodeCheckpoint(u.detached(new Uint8Array(32))), /checkpoint/i],
    ['layerFromSpec(null)', () => r.layerFromSpec(null), 'layerFromSpec'],
    ['layerFromSpec({})', () => r.layerFromSpec({}), 'layerFromSpec'],
    ['layerFromSpec an unknown type', () => r.layerFromSpec({ type: 'Bogus', options: {} }), 'layerFromSpec'],
    ['layerFromSpec a __proto__ type', () => r.layerFromSpec({ type: '__proto__', options: {} }), 'layerFromSpec'],
    ['layerFromSpec a toString type', () => r.layerFromSpec({ type: 'toString', options: {} }), 'layerFromSpec'],
    [
      'layerFromSpec bad options',
      () => r.layerFromSpec({ type: 'Linear', options: { outFeatures: -1 } }),
      /Linear|layerFromSpec/,
    ],
    ['layerFromSpec options null', () => r.layerFromSpec({ type: 'Linear', options: null }), /Linear|layerFromSpec/],
    ['registerLayer(null, null)', () => r.registerLayer(null, null), 'registerLayer'],
    ['registerLayer a non-function maker', () => r.registerLayer('FuzzLayer', 3), 'registerLayer'],
    ['registerLayer an empty name', () => r.registerLayer('', () => new r.Linear({ outFeatures: 1 })), 'registerLayer'],
    ['resolveOptions a null schema', () => r.resolveOptions('fuzz', null, {}), 'resolveOptions'],
    ['resolveOptions null options', () => r.resolveOptions('fuzz', { a: { type: 'int', doc: '' } }, null), 'fuzz'],
    ['setNumThreads(NaN)', () => r.setNumThreads(NaN), 'setNumThreads'],
    ['setNumThreads(0)', () => r.setNumThreads(0), 'setNumThreads'],
    ['setNumThreads(1e9)', () => r.setNumThreads(1e9), 'setNumThreads'],
    ['setNumThreads("2")', () => r.setNumThreads('2'), 'setNumThreads'],
    ['setDefaultDevice(null) (a reset)', () => r.setDefaultDevice(null), 'setDefaultDevice', 'either'],
    ['setDefaultDevice({})', () => r.setDefaultDevice({}), 'setDefaultDevice'],
    ['recurrentParameterShapes(null)', () => r.recurrentParameterShapes(null), 'recurrentParameterShapes'],
    [
      'recurrentParameterShapes a huge hiddenSize',
      () =>
        r.recurrentParameterShapes({
          cell: 'lstm',
          inputSize: 2,
          hiddenSize: 2 ** 40,
          numLayers: 1,
          bidirectional: false,
        }),
      'recurrentParameterShapes',
      'either', // shapes only: nothing is allocated
    ],
    ['new Sequential(null)', () => new r.Sequential(null), 'Sequential'],
    ['new Sequential([3])', () => new r.Sequential([3]), 'Sequential'],
    ['new Sequential dtype bogus', () => new r.Sequential([], 'float16'), /Sequential|FlatParameters/],
    ['new FlatParameters(null)', () => new r.FlatParameters(null), 'FlatParameters'],
    ['cpuDevice().alloc a negative size', () => r.cpuDevice().alloc('float32', [-1]), /alloc/],
    ['cpuDevice().alloc a huge size', () => r.cpuDevice().alloc('float32', [2 ** 40]), /alloc/],
    ['cpuDevice().alloc dtype bogus', () => r.cpuDevice().alloc('float16', [2]), /alloc|tensor: dtype/],
    ['cpuDevice().fromHost(null)', () => r.cpuDevice().fromHost(null), /fromHost/],
    ['cpuDevice().fromHost a plain Array', () => r.cpuDevice().fromHost([1, 2]), /fromHost/],
    [
      'cpuDevice().write a wrong length',
      () => {
        const d = r.cpuDevice();
        d.write(d.alloc('float32', [2]), [1, 2, 3]);
      },
      /write/,
    ],
    [
      'cpuDevice().free twice (a no-op), then write',
      () => {
        const d = r.cpuDevice();
        const t = d.alloc('float32', [2]);
        d.free(t);
        d.free(t);
        d.write(t, [1, 2]);
      },
      /write.*freed/,
    ],
    [
      'cpuDevice().toHostSync a freed tensor',
      () => {
        const d = r.cpuDevice();
        const t = d.alloc('float32', [2]);
        d.free(t);
        d.toHostSync(t);
      },
      /toHost|freed/,
    ],
    [
      'opaqueDevice().toHostSync a CPU tensor',
      () => r.opaqueDevice().toHostSync(r.cpuDevice().alloc('float32', [2])),
      /toHost|device/,
    ],
    ['cpu().rnnForward({})', () => r.cpu().rnnForward({}), 'rnnForward'],
    ['runSync(null)', () => r.runSync(null), 'runSync'],
    [
      'runSync a generator that yields garbage',
      () =>
        r.runSync(
          (function* () {
            yield 3;
          })(),
        ),
      'runSync',
    ],
    ['runAsync(null)', () => r.runAsync(null), 'runAsync'],
  ])
    add(`function ${l}`, expect, who, run);
  return cases;
}

module.exports = { classCases };
