// Learning checks shared by the quick tests (npm test) and the long runs (npm run validate).
import { SequenceClassifier, SequenceTagger } from '../../lib';
import { addingCorrect, addingDataset } from './adding';
import { nextSymbolSets, reberAllCorrect, reberDataset } from './reber';
import { majorityBaselineDetail, taggingDataset, TAGS, TAG_VOCAB } from './tagging';

export interface ReberResult {
  solved: boolean;
  stringsSeen: number;
  testCorrect: number;
  trainCorrect: number;
  seconds: number;
}

/**
 * Embedded Reber grammar (Hochreiter & Schmidhuber 1997, experiment 1): an LSTM sees 256
 * training strings, epoch after epoch, until it predicts every possible next symbol (sigmoid
 * outputs > 0.5 exactly for the legal symbols) at every position of all 256 test strings and
 * all training strings, or until maxStrings strings have been seen.
 */
export async function runReber(o: {
  seed: number;
  maxStrings: number;
  hiddenSize?: number;
  lr?: number;
  batchSize?: number;
}): Promise<ReberResult> {
  const t0 = Date.now();
  const train = reberDataset(1000 + o.seed, 256),
    test = reberDataset(2000 + o.seed, 256);
  const model = new SequenceTagger({
    inputSize: 7,
    hiddenSize: o.hiddenSize ?? 24,
    outputSize: 7,
    task: 'multilabel',
    seed: o.seed,
  });
  const correct = (d: typeof train) => {
    const pred = model.predict(d.inputs) as number[][][];
    return d.strings.filter((s, i) => reberAllCorrect(pred[i], nextSymbolSets(s))).length;
  };
  let seen = 0,
    testCorrect = 0,
    trainCorrect = 0;
  while (seen < o.maxStrings) {
    await model.fit(train.inputs, train.targets, {
      epochs: 1,
      batchSize: o.batchSize ?? 4,
      optimizer: { type: 'adam', lr: o.lr ?? 0.01 },
    });
    seen += 256;
    testCorrect = correct(test);
    if (testCorrect === 256) {
      trainCorrect = correct(train);
      if (trainCorrect === 256)
        return { solved: true, stringsSeen: seen, testCorrect, trainCorrect, seconds: (Date.now() - t0) / 1000 };
    }
  }
  return {
    solved: false,
    stringsSeen: seen,
    testCorrect,
    trainCorrect: correct(train),
    seconds: (Date.now() - t0) / 1000,
  };
}

export interface AddingResult {
  solved: boolean;
  sequencesSeen: number;
  fractionCorrect: number;
  seconds: number;
}

/**
 * The adding problem (Hochreiter & Schmidhuber 1997, experiment 4): fresh sequences every
 * batch; solved when at least `target` of `evalCount` fresh sequences are within 0.04.
 */
export async function runAdding(o: {
  seed: number;
  minT: number;
  maxT: number;
  maxSequences: number;
  evalEvery: number;
  evalCount?: number;
  target?: number;
  hiddenSize?: number;
  lr?: number;
  batchSize?: number;
  forgetBias?: number;
  log?: (seen: number, frac: number, loss: number) => void;
}): Promise<AddingResult> {
  const t0 = Date.now();
  const model = new SequenceClassifier({
    inputSize: 2,
    hiddenSize: o.hiddenSize ?? 32,
    outputSize: 1,
    task: 'regression',
    seed: o.seed,
    forgetBias: o.forgetBias ?? 1,
  });
  const evalSet = addingDataset(9000 + o.seed, o.evalCount ?? 2560, o.minT, o.maxT);
  const goal = o.target ?? 0.97;
  let seen = 0,
    frac = 0,
    chunk = 0;
  while (seen < o.maxSequences) {
    const d = addingDataset(o.seed * 100000 + chunk++, o.evalEvery, o.minT, o.maxT);
    const h = await model.fit(d.inputs, d.targets, {
      epochs: 1,
      batchSize: o.batchSize ?? 32,
      optimizer: { type: 'adam', lr: o.lr ?? 0.003 },
      clipNorm: 1,
    });
    seen += o.evalEvery;
    const pred = (await model.predictAsync(evalSet.inputs, { batchSize: 256 })) as number[][];
    frac = pred.filter((p, i) => addingCorrect(p[0], evalSet.targets[i])).length / pred.length;
    o.log?.(seen, frac, h.epochs[0].loss);
    if (frac >= goal)
      return { solved: true, sequencesSeen: seen, fractionCorrect: frac, seconds: (Date.now() - t0) / 1000 };
  }
  return { solved: false, sequencesSeen: seen, fractionCorrect: frac, seconds: (Date.now() - t0) / 1000 };
}

export interface TaggingResult {
  accuracy: number;
  verbAccuracy: number;
  baseline: number;
  baselineVerbs: number;
  seconds: number;
}

/** Per-token accuracy of a bidirectional tagger against the per-word majority baseline. */
export async function runTagging(o: {
  seed: number;
  train: number;
  test: number;
  epochs: number;
  cell?: 'lstm' | 'gru';
  bidirectional?: boolean;
}): Promise<TaggingResult> {
  const t0 = Date.now();
  const train = taggingDataset(1 + o.seed, o.train),
    test = taggingDataset(50000 + o.seed, o.test);
  const model = new SequenceTagger({
    vocabSize: TAG_VOCAB.length,
    embeddingDim: 16,
    hiddenSize: 32,
    outputSize: TAGS.length,
    cell: o.cell ?? 'gru',
    bidirectional: o.bidirectional ?? true,
    seed: o.seed,
  });
  await model.fit(train.tokens, train.tags, { epochs: o.epochs, batchSize: 32, optimizer: { type: 'adam', lr: 0.01 } });
  const pred = (await model.predictAsync(test.tokens)) as number[][][];
  const verbTags = new Set([TAGS.indexOf('SING'), TAGS.indexOf('PLUR')]);
  let ok = 0,
    n = 0,
    vOk = 0,
    vN = 0;
  test.tags.forEach((tags, i) =>
    tags.forEach((tag, t) => {
      const p = pred[i][t];
      const arg = p.indexOf(Math.max(...p));
      n++;
      if (arg === tag) ok++;
      if (verbTags.has(tag)) {
        vN++;
        if (arg === tag) vOk++;
      }
    }),
  );
  const base = majorityBaselineDetail(train, test);
  return {
    accuracy: ok / n,
    verbAccuracy: vOk / vN,
    baseline: base.overall,
    baselineVerbs: base.agreement,
    seconds: (Date.now() - t0) / 1000,
  };
}
