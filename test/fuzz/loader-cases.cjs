// Hostile model files: a tiny trained SequenceClassifier (hiddenSize 2, adam, a step schedule)
// cut at every length, every single bit of its header region flipped, the low bit of every data
// byte flipped, garbage appended, and well-formed files (re-encoded, so checksums are right) with
// hand-edited metadata and tensors. A load that succeeds on any of them is 'accepted'. The header
// end is read from the file itself: v1 puts the JSON at byte 16, v2 at byte 24 (with a header
// checksum); both keep the header length at bytes 8..15.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const u = require('./util.cjs');

const r = u.lib;
const FILES = { clf: 'classifier.rnnkit', lm: 'language-model.rnnkit', s2s: 'seq2seq.rnnkit', online: 'online.rnnkit' };

async function prepareLoader(dir) {
  const m = new r.SequenceClassifier({ inputSize: 2, hiddenSize: 2, outputSize: 2, seed: 1 });
  const xs = u.tinySequences();
  await m.fit(xs, [0, 1, 1, 0], {
    epochs: 1,
    batchSize: 2,
    optimizer: { type: 'adam', lr: 0.01 },
    schedule: { type: 'step', stepSize: 1, gamma: 0.5 },
  });
  await m.save(path.join(dir, FILES.clf));
  const v = r.Vocabulary.characters('abcab cab');
  const lm = new r.LanguageModel({ vocabulary: v, hiddenSize: 2, embeddingDim: 2 });
  await lm.fit('abcab cab abc', { epochs: 1, seqLen: 4, batchSize: 1 });
  await lm.save(path.join(dir, FILES.lm));
  const s2s = new r.Seq2Seq({ sourceVocabulary: v, hiddenSize: 2, embeddingDim: 2 });
  await s2s.fit(['ab', 'ba'], ['ba', 'ab'], { epochs: 1, batchSize: 2 });
  await s2s.save(path.join(dir, FILES.s2s));
  const learner = new r.OnlineLearner(new r.SequenceTagger({ inputSize: 2, hiddenSize: 2, outputSize: 2 }));
  learner.step([0.1, 0.2], 1);
  await learner.save(path.join(dir, FILES.online));
}

/** Where the JSON header starts and ends, from the file's own layout. */
function headerRegion(buf) {
  const L = Number(buf.readBigUInt64LE(8));
  for (const start of [16, 24, 32]) {
    if (buf[start] === 0x7b /* { */ && buf[start + L - 1] === 0x7d /* } */) return { start, end: start + L };
  }
  throw new Error('fuzz: cannot find the JSON header of the fixture model file');
}
function decode(buf) {
  const { start, end } = headerRegion(buf);
  return { header: JSON.parse(buf.subarray(start, end).toString('utf8')), start, end };
}

function loaderCases(dir) {
  const cases = [];
  const add = (name, expect, who, run) => cases.push({ name: `loader ${name}`, expect, who, run });
  const read = (k) => {
    try {
      return fs.readFileSync(path.join(dir, FILES[k]));
    } catch {
      return null; // --list before --prepare: no file cases
    }
  };
  const base = read('clf');
  const work = path.join(dir, `work-${process.pid}.rnnkit`);
  const loadBytes = (bytes, how = 'loadSync', cls = r.SequenceModel) => {
    fs.writeFileSync(work, bytes);
    return cls[how](work);
  };
  // A load error must say it is about the file (rnnkit model/checkpoint <path>) or name the model
  // class being loaded; 'optimizer: lr must be ...' or 'Rng.setState: ...' alone does not.
  const WHO = /rnnkit|SequenceClassifier|SequenceTagger|LanguageModel|Seq2Seq|OnlineLearner/;
  if (!base) return cases;
  const { start, end } = headerRegion(base);
  const dataStart = Math.ceil(end / 8) * 8;

  add('the intact classifier file (loadSync)', 'pass', WHO, () => loadBytes(base));
  add('the intact classifier file (load)', 'pass', WHO, () => loadBytes(base, 'load'));
  for (let n = 0; n < base.length; n++) {
    add(`truncated to ${n} of ${base.length} bytes`, 'throw', WHO, () => loadBytes(base.subarray(0, n)));
    if (n % 16 === 0)
      add(`truncated to ${n} of ${base.length} bytes (async load)`, 'throw', WHO, () =>
        loadBytes(base.subarray(0, n), 'load'),
      );
  }
  // Every bit of the fixed prefix, the JSON header and its padding.
  for (let i = 0; i < dataStart; i++) {
    const where = i < start ? 'prefix' : i < end ? `header '${String.fromCharCode(base[i])}'` : 'padding';
    for (let bit = 0; bit < 8; bit++)
      add(`bit ${bit} of byte ${i} flipped (${where})`, 'throw', WHO, () => {
        const b = Buffer.from(base);
        b[i] ^= 1 << bit;
        return loadBytes(b);
      });
  }
  for (let i = dataStart; i < base.length; i++)
    add(`bit 0 of data byte ${i} flipped`, 'throw', WHO, () => {
      const b = Buffer.from(base);
      b[i] ^= 1;
      return loadBytes(b);
    });
  for (const [l, extra] of [
    ['one zero byte appended', Buffer.alloc(1)],
    ['8 zero bytes appended', Buffer.alloc(8)],
    ['the file appended to itself', base],
  ])
    add(`${l}`, 'throw', WHO, () => loadBytes(Buffer.concat([base, extra])));
  add('an empty file', 'throw', WHO, () => loadBytes(Buffer.alloc(0)));
  add('a header length of 2^64-1', 'throw', WHO, () => {
    const b = Buffer.from(base);
    b.writeBigUInt64LE(2n ** 64n - 1n, 8);
    return loadBytes(b);
  });
  add('a header length of 64 MiB in a small file', 'throw', WHO, () => {
    const b = Buffer.from(base);
    b.writeBigUInt64LE(64n * 1024n * 1024n, 8);
    return loadBytes(b);
  });

  // Well-formed files with hand-edited contents: decode, edit, encode (all checksums valid).
  const edited = (edit) => () => {
    const cp = r.decodeCheckpoint(base);
    edit(cp.meta, cp.tensors);
    return loadBytes(r.encodeCheckpoint(cp));
  };
  const EDITS = [
    ['epoch -1', (m) => (m.training.epoch = -1)],
    ['epoch 1.5', (m) => (m.training.epoch = 1.5)],
    ['epoch null (NaN in JSON)', (m) => (m.training.epoch = null)],
    ['epoch a string', (m) => (m.training.epoch = '1')],
    ['epoch 1e300', (m) => (m.training.epoch = 1e300)],
    ['epoch missing', (m) => delete m.training.epoch],
    ['optimizer step 0', (m) => (m.training.optimizer.step = 0)],
    ['optimizer step -1', (m) => (m.training.optimizer.step = -1)],
    ['optimizer step 1.5', (m) => (m.training.optimizer.step = 1.5)],
    ['optimizer step null', (m) => (m.training.optimizer.step = null)],
    ['optimizer step a string', (m) => (m.training.optimizer.step = '2')],
    ['optimizer step 2^60', (m) => (m.training.optimizer.step = 2 ** 60)],
    ['optimizer a number', (m) => (m.training.optimizer = 3)],
    ['optimizer options type bogus', (m) => (m.training.optimizer.options.type = 'bogus')],
    ['optimizer options an unknown field', (m) => (m.training.optimizer.options.bogus = 1)],
    ['learning rate -1', (m) => (m.training.optimizer.options.lr = -1)],
    ['learning rate a string', (m) => (m.training.optimizer.options.lr = '0.1')],
    ['learning rate 1e300', (m) => (m.training.optimizer.options.lr = 1e300)],
    ['optimizer type changed to sgd (state count differs)', (m) => (m.training.optimizer.options.type = 'sgd')],
    ['optimizer type changed to rmsprop', (m) => (m.training.optimizer.options.type = 'rmsprop')],
    ['schedule state null', (m) => (m.training.schedule.state = null)],
    ['schedule state a string', (m) => (m.training.schedule.state = 'x')],
    ['schedule state lr null', (m) => (m.training.schedule.state.lr = null)],
    ['schedule state lr -1', (m) => (m.training.schedule.state.lr = -1)],
    ['schedule state bad -1', (m) => (m.training.schedule.state.bad = -1)],
    ['schedule state an unknown field', (m) => (m.training.schedule.state.bogus = 1)],
    ['schedule options type bogus', (m) => (m.training.schedule.options.type = 'bogus')],
    ['schedule options stepSize 0', (m) => (m.training.schedule.options.stepSize = 0)],
    ['schedule a number', (m) => (m.training.schedule = 3)],
    ['early null', (m) => (m.training.early = 3)],
    ['early wait -1', (m) => (m.training.early.wait = -1)],
    ['early best a string', (m) => (m.training.early.best = 'x')],
    ['rng null', (m) => (m.training.rng = null)],
    ['rng empty', (m) => (m.training.rng = [])],
    ['rng all zeros (a dead xoshiro state)', (m) => (m.training.rng = [0, 0, 0, 0])],
    ['rng strings', (m) => (m.training.rng = ['a', 'b', 'c', 'd'])],
    ['rng fractional', (m) => (m.training.rng = [1.5, 2, 3, 4])],
    ['rng past 2^32', (m) => (m.training.rng = [2 ** 32, 2, 3, 4])],
    ['rng negative', (m) => (m.training.rng = [-1, 2, 3, 4])],
    ['training missing', (m) => delete m.training],
    ['training a string', (m) => (m.training = 'x')],
    ['training an unknown field', (m) => (m.training.bogus = 1)],
    ['meta null', (m, t, cp) => cp && (cp.meta = null)],
    ['format bogus', (m) => (m.format = 'bogus')],
    ['version 2', (m) => (m.version = 2)],
    ['version -1', (m) => (m.version = -1)],
    ['version missing', (m) => delete m.version],
    ['type bogus', (m) => (m.type = 'Bogus')],
    ['type __proto__', (m) => (m.type = '__proto__')],
    ['type toString', (m) => (m.type = 'toString')],
    ['type SequenceTagger (same weights, another model)', (m) => (m.type = 'SequenceTagger')],
    ['type LanguageModel', (m) => (m.type = 'LanguageModel')],
    ['options null', (m) => (m.options = null)],
    ['options an unknown option', (m) => (m.options.bogus = 1)],
    ['options hiddenSize 3 (weights of hiddenSize 2)', (m) => (m.options.hiddenSize = 3)],
    ['options hiddenSize 2^40 in a tiny file', (m) => (m.options.hiddenSize = 2 ** 40)],
    ['options hiddenSize 4096 in a tiny file', (m) => (m.options.hiddenSize = 4096)],
    ['options outputSize 2^31 in a tiny file', (m) => (m.options.outputSize = 2 ** 31)],
    ['options numLayers 64 in a tiny file', (m) => (m.options.numLayers = 64)],
    ['options cell gru (weights of an lstm)', (m) => (m.options.cell = 'gru')],
    ['options dtype float64 (float32 weights)', (m) => (m.options.dtype = 'float64')],
    ['options seed -1', (m) => (m.options.seed = -1)],
    ['options pooling bogus', (m) => (m.options.pooling = 'bogus')],
    ['a weight tensor missing', (m, t) => delete t['param/head.bias']],
    [
      'a weight tensor renamed',
      (m, t) => ((t['param/head.bias2'] = t['param/head.bias']), delete t['param/head.bias']),
    ],
    ['an extra tensor', (m, t) => (t['junk'] = { data: u.f32(2), shape: [2] })],
    ['a weight of the wrong shape', (m, t) => (t['param/head.bias'] = { data: u.f32(3), shape: [3] })],
    ['a weight as float64', (m, t) => (t['param/head.bias'] = { data: u.f64(2), shape: [2] })],
    ['a weight as int32', (m, t) => (t['param/head.bias'] = { data: new Int32Array(2), shape: [2] })],
    ['a weight with NaN', (m, t) => (t['param/head.bias'].data[0] = NaN)],
    ['a weight with Infinity', (m, t) => (t['param/rnn.weight_hh_l0'].data[3] = Infinity)],
    ['Infinity in optimizer state', (m, t) => (t['optimizer/state0'].data[0] = Infinity)],
    ['NaN in optimizer state', (m, t) => (t['optimizer/state1'].data[5] = NaN)],
    ['a negative second moment in optimizer state', (m, t) => (t['optimizer/state1'].data[0] = -1)],
    ['an optimizer state tensor missing', (m, t) => delete t['optimizer/state1']],
    ['an optimizer state of the wrong length', (m, t) => (t['optimizer/state0'] = { data: u.f32(3), shape: [3] })],
    ['an extra optimizer state tensor', (m, t) => (t['optimizer/state2'] = { data: u.f32(54), shape: [54] })],
    ['optimizer state without an optimizer', (m) => (m.training.optimizer = null)],
  ];
  for (const [l, edit] of EDITS)
    add(`a well-formed file with ${l}`, 'throw', WHO, () => {
      const cp = r.decodeCheckpoint(base);
      edit(cp.meta, cp.tensors, cp);
      return loadBytes(r.encodeCheckpoint(cp));
    });
  add(
    'the intact file re-encoded (a control)',
    'pass',
    WHO,
    edited(() => {}),
  );
  add('SequenceModel.load with options null', 'throw', /load|options/, () => {
    fs.writeFileSync(work, base);
    return r.SequenceModel.load(work, null);
  });
  add('SequenceModel.load with a device that is not a device', 'throw', /load|device/, () => {
    fs.writeFileSync(work, base);
    return r.SequenceModel.load(work, { device: {} });
  });

  // The other loaders: their own file intact, a classifier file, and a sample of corruptions.
  const OTHERS = [
    ['LanguageModel', 'lm', r.LanguageModel],
    ['Seq2Seq', 's2s', r.Seq2Seq],
    ['OnlineLearner', 'online', r.OnlineLearner],
  ];
  for (const [cls, key, C] of OTHERS) {
    const own = read(key);
    if (!own) continue;
    const oh = headerRegion(own);
    add(`${cls}.load: its own intact file`, 'pass', WHO, () => loadBytes(own, 'load', C));
    add(`${cls}.load: a SequenceClassifier file`, 'throw', /rnnkit|LanguageModel|Seq2Seq|OnlineLearner/, () =>
      loadBytes(base, 'load', C),
    );
    // An OnlineLearner file holds a SequenceTagger: loading just the model from it is fine.
    add(`SequenceModel.load: a ${cls} file`, cls === 'OnlineLearner' ? 'either' : 'throw', WHO, () =>
      loadBytes(own, 'load'),
    );
    for (let n = 0; n < own.length; n += 7)
      add(`${cls}.load: truncated to ${n} of ${own.length} bytes`, 'throw', WHO, () =>
        loadBytes(own.subarray(0, n), 'load', C),
      );
    for (let i = 0; i < oh.end; i += 3)
      add(`${cls}.load: bit ${i % 8} of byte ${i} flipped`, 'throw', WHO, () => {
        const b = Buffer.from(own);
        b[i] ^= 1 << i % 8;
        return loadBytes(b, 'load', C);
      });
    const { header } = decode(own);
    const meta = header.meta;
    const ed = (l, edit) =>
      add(`${cls}.load: a well-formed file with ${l}`, 'throw', WHO, () => {
        const cp = r.decodeCheckpoint(own);
        edit(cp.meta, cp.tensors);
        return loadBytes(r.encodeCheckpoint(cp), 'load', C);
      });
    ed('meta null', (m) => Object.keys(m).forEach((k) => delete m[k]));
    ed('type bogus', (m) => (m.type = 'Bogus'));
    ed('options null', (m) => (m.options = null));
    if (meta && meta.training) {
      ed('epoch -1', (m) => (m.training.epoch = -1));
      ed('rng all zeros', (m) => (m.training.rng = [0, 0, 0, 0]));
    }
    if (meta && meta.vocabulary) ed('vocabulary null', (m) => (m.vocabulary = null));
    for (const k of Object.keys(meta ?? {}))
      if (meta[k] && typeof meta[k] === 'object' && !Array.isArray(meta[k]))
        ed(`an unknown field in ${k}`, (m) => (m[k].bogus = 1));
  }
  return cases;
}

module.exports = { loaderCases, prepareLoader };
