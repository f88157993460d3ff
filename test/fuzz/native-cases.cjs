// Hostile input across the native boundary: every export of the addon with non-objects,
// throwing proxies and getters, and a valid fixture of each main kernel with every field mutated
// (missing, wrong type, wrong length, detached, shared or resizable memory, bad sizes, out-of-range
// ids, typos, overlapping outputs), plus the …Async kernels with buffers detached mid-flight.
'use strict';
const u = require('./util.cjs');

const addon = u.loadNative();
const EXPORTS = Object.keys(addon).filter((k) => typeof addon[k] === 'function');
/** Exports that take no options object: any argument may be ignored. */
const NO_ARGS = new Set(['backendInfo', 'cellTable', 'memoryInfo']);

const { f32 } = u;
const i32 = (...v) => Int32Array.from(v);
const u8 = (n, v = 1) => new Uint8Array(n).fill(v);

// ---- fixtures: a valid call of each kernel, and what each field is ----------------------------
// kinds: size (a dimension: any change mismatches a buffer), int (other integers), real, enum,
// bool, buf (float buffer), ids (Int32Array of indices), mask (Uint8Array), list (Array of buffers)
const G = { elman: 1, lstm: 4, gru: 3 };
function rnnFwd(cell, T = 3, B = 2, I = 4, H = 5) {
  const g = G[cell];
  const a = {
    cell,
    T,
    B,
    I,
    H,
    x: f32(T * B * I),
    h0: f32(B * H),
    lengths: i32(T, T - 1),
    wIh: f32(g * H * I),
    wHh: f32(g * H * H),
    bIh: f32(g * H),
    bHh: f32(g * H),
    y: f32(T * B * H),
    hN: f32(B * H),
    reserve: f32(addon.rnnReserveSize({ cell, T, B, I, H })),
  };
  if (cell === 'lstm') Object.assign(a, { c0: f32(B * H), cN: f32(B * H) });
  if (cell === 'elman') a.activation = 'tanh';
  if (cell === 'gru') a.gruVariant = 'pytorch';
  return a;
}
function rnnBwd(cell) {
  const f = rnnFwd(cell);
  addon.rnnForward(f);
  const { T, B, I, H } = f,
    g = G[cell];
  const a = {
    cell,
    T,
    B,
    I,
    H,
    x: f.x,
    lengths: f.lengths,
    wIh: f.wIh,
    wHh: f.wHh,
    reserve: f.reserve,
    dy: f32(T * B * H),
    dhN: f32(B * H),
    dx: f32(T * B * I),
    dh0: f32(B * H),
    dwIh: f32(g * H * I),
    dwHh: f32(g * H * H),
    dbIh: f32(g * H),
    dbHh: f32(g * H),
  };
  if (cell === 'lstm') Object.assign(a, { dcN: f32(B * H), dc0: f32(B * H) });
  return a;
}
const RNN_KINDS = {
  cell: 'enum',
  T: 'size',
  B: 'size',
  I: 'size',
  H: 'size',
  activation: 'enum',
  gruVariant: 'enum',
  lengths: 'ids',
};
const RNN_OPTIONAL = ['h0', 'c0', 'lengths', 'bIh', 'bHh', 'hN', 'cN', 'reserve', 'activation', 'gruVariant'];
const RNN_BWD_OPTIONAL = ['lengths', 'dy', 'dhN', 'dcN', 'dx', 'dh0', 'dc0', 'dbIh', 'dbHh'];

const FIXTURES = [];
for (const cell of ['elman', 'lstm', 'gru']) {
  FIXTURES.push({
    fn: 'rnnForward',
    tag: cell,
    make: () => rnnFwd(cell),
    kinds: RNN_KINDS,
    optional: RNN_OPTIONAL,
    outputs: ['y', 'hN', 'cN', 'reserve'],
  });
  FIXTURES.push({
    fn: 'rnnBackward',
    tag: cell,
    make: () => rnnBwd(cell),
    kinds: RNN_KINDS,
    optional: RNN_BWD_OPTIONAL,
    outputs: ['dx', 'dh0', 'dc0', 'dwIh', 'dwHh', 'dbIh', 'dbHh'],
  });
}
FIXTURES.push(
  {
    fn: 'rnnForwardAsync',
    tag: 'lstm',
    make: () => rnnFwd('lstm'),
    kinds: RNN_KINDS,
    optional: RNN_OPTIONAL,
    outputs: ['y', 'hN', 'cN', 'reserve'],
  },
  {
    fn: 'rnnBackwardAsync',
    tag: 'gru',
    make: () => rnnBwd('gru'),
    kinds: RNN_KINDS,
    optional: RNN_BWD_OPTIONAL,
    outputs: ['dx', 'dh0', 'dwIh', 'dwHh', 'dbIh', 'dbHh'],
  },
  {
    fn: 'rnnReserveSize',
    make: () => ({ cell: 'gru', T: 3, B: 2, I: 4, H: 5 }),
    kinds: { ...RNN_KINDS, T: 'dim', B: 'dim', I: 'dim', H: 'dim' },
    optional: [],
    outputs: [],
  },
  {
    fn: 'linearForward',
    make: () => ({ N: 3, I: 4, O: 2, x: f32(12), weight: f32(8), bias: f32(2), y: f32(6) }),
    kinds: { N: 'size', I: 'size', O: 'size' },
    optional: ['bias'],
    outputs: ['y'],
  },
  {
    fn: 'linearBackward',
    make: () => ({
      N: 3,
      I: 4,
      O: 2,
      x: f32(12),
      weight: f32(8),
      dy: f32(6),
      dx: f32(12),
      dWeight: f32(8),
      dBias: f32(2),
    }),
    kinds: { N: 'size', I: 'size', O: 'size' },
    optional: ['dx', 'dBias'],
    outputs: ['dx', 'dWeight', 'dBias'],
  },
  {
    fn: 'embeddingForward',
    make: () => ({ N: 4, V: 5, E: 3, ids: i32(0, 4, 2, 1), weight: f32(15), y: f32(12) }),
    kinds: { N: 'size', V: 'size', E: 'size', ids: 'ids' },
    optional: [],
    outputs: ['y'],
  },
  {
    fn: 'embeddingBackward',
    make: () => ({ N: 4, V: 5, E: 3, ids: i32(0, 4, 2, 1), dy: f32(12), dWeight: f32(15), paddingIdx: 1 }),
    kinds: { N: 'size', V: 'size', E: 'size', ids: 'ids', paddingIdx: 'int' },
    optional: ['paddingIdx'],
    outputs: ['dWeight'],
  },
  {
    fn: 'softmaxCrossEntropy',
    make: () => ({
      N: 3,
      C: 4,
      logits: f32(12),
      targets: i32(0, 3, -100),
      weights: f32(4, 1),
      ignoreIndex: -100,
      mask: u8(3),
      scale: 1,
      dlogits: f32(12),
    }),
    kinds: { N: 'size', C: 'size', targets: 'ids', ignoreIndex: 'int', mask: 'mask', scale: 'real' },
    optional: ['weights', 'ignoreIndex', 'mask', 'scale', 'dlogits'],
    outputs: ['dlogits'],
  },
  {
    fn: 'mseLoss',
    make: () => ({ n: 6, pred: f32(6), target: f32(6), scale: 1, dpred: f32(6), F: 2, mask: u8(3) }),
    kinds: { n: 'size', F: 'size', scale: 'real', mask: 'mask' },
    optional: ['scale', 'dpred', 'F', 'mask'],
    outputs: ['dpred'],
  },
  {
    fn: 'gemm',
    make: () => ({
      M: 2,
      N: 3,
      K: 4,
      a: f32(8),
      b: f32(12),
      c: f32(6),
      transA: false,
      transB: false,
      alpha: 1,
      beta: 0,
    }),
    kinds: { M: 'size', N: 'size', K: 'size', transA: 'bool', transB: 'bool', alpha: 'real', beta: 'real' },
    optional: ['transA', 'transB', 'alpha', 'beta'],
    outputs: ['c'],
  },
);
for (const [fn, kind] of [
  ['optimStep', 'adam'],
  ['optimStep', 'rmsprop'],
  ['optimStepAsync', 'adamw'],
]) {
  const states = addon.optimStateCount({ kind });
  FIXTURES.push({
    fn,
    tag: kind,
    make: () => ({
      kind,
      lr: 0.01,
      step: 1,
      params: f32(6),
      grads: f32(6),
      state: Array.from({ length: states }, () => f32(6)),
      weightDecay: 0,
      eps: 1e-8,
    }),
    kinds: { kind: 'enum', lr: 'real', step: 'int', state: 'list', weightDecay: 'real', eps: 'real' },
    optional: ['weightDecay', 'eps'],
    outputs: ['params', 'state'],
  });
}
FIXTURES.push(
  {
    fn: 'gatherRows',
    make: () => ({ R: 3, N: 4, F: 2, src: f32(6), idx: i32(0, 2, 1, 2), dst: f32(8) }),
    kinds: { R: 'size', N: 'size', F: 'size', idx: 'ids' },
    optional: [],
    outputs: ['dst'],
  },
  {
    fn: 'scatterAddRows',
    make: () => ({ R: 3, N: 4, F: 2, src: f32(8), idx: i32(0, 2, 1, 2), dst: f32(6) }),
    kinds: { R: 'size', N: 'size', F: 'size', idx: 'ids' },
    optional: [],
    outputs: ['dst'],
  },
  {
    fn: 'copyCols',
    make: () => ({ N: 2, srcF: 4, srcOffset: 1, width: 2, dstF: 3, dstOffset: 1, src: f32(8), dst: f32(6) }),
    kinds: {
      N: 'size',
      srcF: 'size',
      srcOffset: 'int',
      width: 'int',
      dstF: 'size',
      dstOffset: 'int',
      accumulate: 'bool',
    },
    optional: [],
    outputs: ['dst'],
  },
  {
    fn: 'topkRows',
    make: () => ({ N: 2, C: 5, k: 3, x: f32(10), values: f32(6), indices: new Int32Array(6) }),
    kinds: { N: 'size', C: 'size', k: 'size' },
    optional: [],
    outputs: ['values', 'indices'],
  },
  {
    fn: 'timePoolForward',
    make: () => ({
      T: 3,
      B: 2,
      F: 2,
      mode: 'max',
      x: f32(12),
      lengths: i32(3, 1),
      y: f32(4),
      argmax: new Int32Array(4),
    }),
    kinds: { T: 'size', B: 'size', F: 'size', mode: 'enum', lengths: 'ids' },
    optional: ['lengths'],
    outputs: ['y', 'argmax'],
  },
  {
    fn: 'attentionForward',
    make: () => ({
      T: 2,
      S: 3,
      B: 2,
      Hd: 4,
      He: 4,
      q: f32(16),
      keys: f32(24),
      values: f32(24),
      lengths: i32(3, 1),
      alpha: f32(12),
      context: f32(16),
    }),
    kinds: { T: 'size', S: 'size', B: 'size', Hd: 'size', He: 'size', lengths: 'ids' },
    optional: ['lengths'],
    outputs: ['alpha', 'context'],
  },
  {
    fn: 'timeDelayForward',
    make: () => ({
      T: 3,
      B: 2,
      F: 2,
      K: 2,
      taps: i32(0, 1),
      x: f32(12),
      lengths: i32(3, 2),
      history: f32(4),
      y: f32(24),
    }),
    kinds: { T: 'size', B: 'size', F: 'size', K: 'size', taps: 'ids', lengths: 'ids' },
    optional: ['lengths', 'history'],
    outputs: ['y'],
  },
  {
    fn: 'countCorrect',
    make: () => ({ N: 3, C: 4, logits: f32(12), targets: i32(0, 3, -100), ignoreIndex: -100, mask: u8(3) }),
    kinds: { N: 'size', C: 'size', targets: 'ids', ignoreIndex: 'int', mask: 'mask' },
    optional: ['ignoreIndex', 'mask'],
    outputs: [],
  },
  {
    fn: 'dropoutMask',
    make: () => ({ p: 0.5, seed: 1, mask: f32(8) }),
    kinds: { p: 'real', seed: 'int' },
    anyLength: ['mask'],
    optional: [],
    outputs: ['mask'],
  },
  {
    fn: 'clipByNorm',
    make: () => ({ n: 4, x: f32(4), maxNorm: 1 }),
    kinds: { n: 'size', maxNorm: 'real' },
    optional: [],
    outputs: ['x'],
  },
  {
    fn: 'rnnStepJacobians',
    tag: 'lstm',
    make: () => {
      const I = 3,
        H = 2,
        S = 2 * H,
        P = 4 * H * (I + H + 2);
      return {
        cell: 'lstm',
        I,
        H,
        x: f32(I),
        h0: f32(H),
        c0: f32(H),
        wIh: f32(4 * H * I),
        wHh: f32(4 * H * H),
        bIh: f32(4 * H),
        bHh: f32(4 * H),
        h1: f32(H),
        c1: f32(H),
        jss: f32(S * S),
        jsx: f32(S * I),
        jth: f32(S * P),
      };
    },
    kinds: { cell: 'enum', I: 'size', H: 'size' },
    optional: ['bIh', 'bHh'],
    outputs: ['h1', 'c1', 'jss', 'jsx', 'jth'],
  },
  {
    fn: 'onlineUoroSigns',
    make: () => ({ S: 4, state: Uint32Array.from([1, 2, 3, 4]), nu: f32(4) }),
    kinds: { S: 'size' },
    optional: [],
    outputs: ['nu', 'state'],
  },
);
// A build without external buffers (npm run build:electron) refuses every allocExternal call.
if (addon.backendInfo().externalBuffers)
  FIXTURES.push({
    fn: 'allocExternal',
    make: () => ({ bytes: 16 }),
    kinds: { bytes: 'dim' },
    optional: [],
    outputs: [],
  });

// ---- mutations -------------------------------------------------------------------------------
const HUGE = [2 ** 31, 2 ** 31 - 1, 2 ** 40, 2 ** 53, 1e300];
const NOT_NUMBERS = [
  ['a string', 'x'],
  ['true', true],
  ['an object', {}],
  ['an Array', [1]],
  ['a BigInt', 1n],
];

/** [label, value, expect] mutations of one field. */
function mutations(key, value, kind, optional, free = {}) {
  const m = [];
  const absent = optional ? 'either' : 'throw';
  m.push(['missing', undefined, absent], ['null', null, absent]);
  if (kind === 'dim') {
    // A dimension no buffer has to match: only the range [1, max] is checked.
    for (const [l, v] of NOT_NUMBERS) m.push([l, v, 'throw']);
    m.push(['NaN', NaN, 'throw'], ['Infinity', Infinity, 'throw'], ['-1', -1, 'throw'], ['0', 0, 'throw']);
    m.push(['value+1', value + 1, 'either'], ['fractional', value + 0.5, 'throw'], ['2^31-1', 2 ** 31 - 1, 'either']);
    m.push(['2^53', 2 ** 53, 'throw'], ['1e300', 1e300, 'throw']);
  } else if (kind === 'size' || kind === 'int' || kind === 'real') {
    for (const [l, v] of NOT_NUMBERS) m.push([l, v, 'throw']);
    m.push(['NaN', NaN, 'throw'], ['Infinity', Infinity, 'throw'], ['-Infinity', -Infinity, 'throw']);
    const sz = kind === 'size' ? 'throw' : 'either';
    m.push(
      ['-1', -1, sz],
      ['0', 0, sz],
      ['-0', -0, sz],
      ['value+1', value + 1, sz],
      ['1e-300', 1e-300, kind === 'real' ? 'either' : 'throw'],
    );
    m.push(['fractional', value + 0.5, kind === 'real' ? 'either' : 'throw']);
    for (const h of HUGE) m.push([`huge ${h}`, h, kind === 'real' ? 'either' : sz]);
  } else if (kind === 'enum') {
    m.push(
      ['an unknown name', 'bogus', 'throw'],
      ['a number', 3, 'throw'],
      ['upper case', String(value).toUpperCase(), 'throw'],
    );
    m.push(['a String object', new String(value), 'throw'], ['with a trailing NUL', value + '\0', 'throw']);
  } else if (kind === 'bool') {
    m.push(
      ['the string "true"', 'true', 'throw'],
      ['the number 1', 1, 'throw'],
      ['a Boolean object', new Boolean(true), 'throw'],
    );
  } else if (kind === 'list') {
    m.push(['an empty Array', [], 'throw'], ['a string', 'xy', 'throw'], ['a typed array', value[0], 'throw']);
    m.push(['one buffer too many', [...value, value[0].slice()], 'throw']);
    m.push(['one buffer short', value.slice(1), 'throw']);
    m.push(['a null element', [null, ...value.slice(1)], 'throw']);
    m.push(['a detached element', [u.detached(value[0]), ...value.slice(1)], 'throw']);
    m.push(['a shorter element', [u.resized(value[0], value[0].length - 1), ...value.slice(1)], 'throw']);
    m.push(['a Float64Array element', [u.otherType(value[0]), ...value.slice(1)], 'throw']);
    m.push(['a shared element', [u.shared(value[0]), ...value.slice(1)], 'throw']);
    m.push(['a sparse Array', Object.assign(new Array(value.length), { 0: value[0] }), 'throw']);
    m.push(['a huge sparse Array', Object.assign([], { length: 2 ** 32 - 1 }), 'throw']);
    m.push(['an element aliasing params', ['params'], 'throw']);
    if (value.length > 1) m.push(['the same buffer twice', [value[0], value[0]], 'throw']);
  }
  if (u.isTyped(value)) {
    m.push(['a number', 3, 'throw'], ['a plain Array', Array.from(value), 'throw'], ['an object', {}, 'throw']);
    const len = free.length ? 'either' : 'throw';
    m.push(['another element type', u.otherType(value), free.type ? 'either' : 'throw']);
    m.push(['one element longer', u.resized(value, value.length + 1), len]);
    if (value.length > 0) m.push(['one element shorter', u.resized(value, value.length - 1), len]);
    m.push(['empty', new value.constructor(0), len]);
    m.push(['detached', u.detached(value), 'throw']);
    m.push(['SharedArrayBuffer-backed', u.shared(value), 'throw']);
    m.push(['resizable-backed (fixed view)', u.resizable(value, false), 'throw']);
    m.push(['resizable-backed (length-tracking)', u.resizable(value, true), 'throw']);
    m.push(['a DataView', new DataView(value.buffer.slice(0)), 'throw']);
    m.push(['the ArrayBuffer itself', value.buffer.slice(0), 'throw']);
    m.push(['a tensor-like { handle }', { handle: value.slice() }, 'either']);
    m.push(['a tensor-like { handle: null }', { handle: null }, 'throw']);
    if (value instanceof Float32Array || value instanceof Float64Array) {
      m.push(['filled with NaN', new value.constructor(value.length).fill(NaN), 'either']);
      m.push(['filled with Infinity', new value.constructor(value.length).fill(Infinity), 'either']);
    }
    if (kind === 'ids') {
      const n = value.length;
      m.push(['an id of 2^31-1', new Int32Array(n).fill(2 ** 31 - 1), 'throw']);
      m.push(['an id of -2^31', new Int32Array(n).fill(-(2 ** 31)), 'throw']);
      m.push(['an id of -1', Int32Array.from(value, (v, i) => (i === 0 ? -1 : v)), key === 'ids' ? 'throw' : 'either']);
      m.push(['one past the end', Int32Array.from(value, (v, i) => (i === n - 1 ? 1e6 : v)), 'throw']);
      m.push(['a Float32Array', Float32Array.from(value), 'throw']);
      m.push(['a Uint32Array', Uint32Array.from(value, (v) => v >>> 0), 'throw']);
    }
    if (kind === 'mask') m.push(['a Uint8ClampedArray', new Uint8ClampedArray(value.length), 'throw']);
  }
  return m;
}

function nativeCases() {
  const cases = [];
  const add = (name, expect, who, run) => cases.push({ name: `native ${name}`, expect, who, run });

  // Every export: arguments that are not an options object.
  const proxyFn = () => u.throwingProxy();
  const GENERIC_ARGS = [
    ['no argument', []],
    ['undefined', [undefined]],
    ['null', [null]],
    ['a number', [3]],
    ['NaN', [NaN]],
    ['a string', ['lstm']],
    ['a Symbol', [Symbol('x')]],
    ['a BigInt', [1n]],
    ['an empty Array', [[]]],
    ['an Array of objects', [[{}]]],
    ['a function', [() => {}]],
    ['a typed array', [f32(3)]],
    ['an empty object', [{}]],
    ['an object without prototype', [Object.create(null)]],
    ['a Proxy whose traps throw', null],
    ['an object whose getter throws', null],
    ['300 fields', [u.manyFields(300)]],
    ['a Date', [new Date(0)]],
    ['a Promise', [Promise.resolve({})]],
  ];
  for (const fn of EXPORTS) {
    for (const [label, args] of GENERIC_ARGS) {
      const expect = NO_ARGS.has(fn) ? 'either' : 'throw';
      add(`${fn}: ${label}`, expect, fn, () => {
        let a = args;
        if (label.startsWith('a Proxy')) a = [proxyFn()];
        if (label.startsWith('an object whose getter')) {
          a = [
            {
              get x() {
                throw u.SENTINEL;
              },
            },
          ];
        }
        return addon[fn](...a);
      });
    }
  }

  // Each fixture: the baseline, then every field mutated, then whole-object tricks.
  for (const fx of FIXTURES) {
    const label = fx.tag ? `${fx.fn}[${fx.tag}]` : fx.fn;
    const call = (a) => addon[fx.fn](a);
    add(`${label}: valid baseline`, 'pass', fx.fn, () => call(fx.make()));
    const base = fx.make();
    const floats = Object.keys(base).filter((k) => base[k] instanceof Float32Array || base[k] instanceof Float64Array);
    for (const key of Object.keys(base)) {
      const kind = fx.kinds[key] ?? (u.isTyped(base[key]) ? 'buf' : typeof base[key]);
      // The only float buffer sets the call's dtype, so Float64Array is as good as Float32Array.
      const free = { type: floats.length === 1 && floats[0] === key, length: (fx.anyLength ?? []).includes(key) };
      for (const [mlabel, value, expect] of mutations(key, base[key], kind, fx.optional.includes(key), free)) {
        add(`${label}: ${key} ${mlabel}`, expect, fx.fn, () => {
          const a = fx.make();
          if (mlabel === 'an element aliasing params') a[key] = [a.params, ...a[key].slice(1)];
          else if (value === undefined) delete a[key];
          else a[key] = value;
          return call(a);
        });
      }
    }
    const keys = Object.keys(base);
    const ends = [...new Set([keys[0], keys[keys.length - 1]])];
    const bufs = keys.filter((k) => u.isTyped(base[k]));
    const inputs = bufs.filter((k) => !fx.outputs.includes(k));
    add(`${label}: a misspelled field (${u.typo(keys[keys.length - 1])})`, 'throw', fx.fn, () => {
      const a = fx.make();
      const k = keys[keys.length - 1];
      a[u.typo(k)] = a[k];
      delete a[k];
      return call(a);
    });
    add(`${label}: an extra unknown field`, 'throw', fx.fn, () => call({ ...fx.make(), lenghts: i32(1) }));
    add(`${label}: an extra field that is undefined`, 'either', fx.fn, () => call({ ...fx.make(), extra: undefined }));
    add(`${label}: fields inherited from a prototype`, 'either', fx.fn, () => call(Object.create(fx.make())));
    add(`${label}: fields in reverse order`, 'either', fx.fn, () => {
      const a = fx.make();
      return call(Object.fromEntries(Object.entries(a).reverse()));
    });
    add(`${label}: a Proxy over a valid object whose traps throw`, 'throw', fx.fn, () =>
      call(u.throwingProxy(fx.make())),
    );
    add(`${label}: a Proxy that reports no keys`, 'throw', fx.fn, () =>
      call(new Proxy(fx.make(), { ownKeys: () => [] })),
    );
    for (const k of ends)
      add(`${label}: getter of ${k} throws`, 'throw', fx.fn, () => {
        const a = u.withGetter(fx.make(), k, () => {
          throw u.SENTINEL;
        });
        return call(a);
      });
    for (const b of bufs) {
      // A getter on the first and on the last field detaches a buffer read before or after it.
      for (const k of ends)
        add(`${label}: getter of ${k} detaches ${b}`, 'either', fx.fn, () => {
          const a = u.withGetter(fx.make(), k, (o) => {
            const d = Object.getOwnPropertyDescriptor(o, b);
            if (d && 'value' in d && d.value.buffer.byteLength) u.detach(d.value.buffer);
          });
          return call(a);
        });
      if (b !== keys[keys.length - 1])
        add(`${label}: getter of ${keys[keys.length - 1]} replaces ${b} by a shorter one`, 'either', fx.fn, () => {
          const a = u.withGetter(fx.make(), keys[keys.length - 1], (o) => {
            o[b] = u.resized(o[b], 1);
          });
          return call(a);
        });
    }
    for (const o of fx.outputs.filter((k) => u.isTyped(base[k])))
      for (const i of inputs.filter((k) => base[k].constructor === base[o].constructor)) {
        add(`${label}: output ${o} overlaps input ${i}`, 'throw', fx.fn, () => {
          const a = fx.make();
          [a[i], a[o]] = u.overlapping(a[i], a[o]);
          return call(a);
        });
      }
    const sizes = keys.filter((k) => fx.kinds[k] === 'size');
    if (sizes.length > 1) {
      add(`${label}: every size 2^31-1 (a product that overflows)`, 'throw', fx.fn, () => {
        const a = fx.make();
        for (const k of sizes) a[k] = 2 ** 31 - 1;
        return call(a);
      });
      add(`${label}: every size 2^21 (a product past 2^63)`, 'throw', fx.fn, () => {
        const a = fx.make();
        for (const k of sizes) a[k] = 2 ** 21;
        return call(a);
      });
      add(`${label}: sizes swapped`, 'either', fx.fn, () => {
        const a = fx.make();
        [a[sizes[0]], a[sizes[1]]] = [a[sizes[1]], a[sizes[0]]];
        return call(a);
      });
    }
    if (fx.fn.endsWith('Async')) {
      // The job works on copies: detaching or transferring buffers after the call returns, and
      // collecting garbage before the promise settles, must neither crash nor corrupt memory.
      for (const b of bufs)
        add(`${label}: ${b} transferred right after the call, then gc`, 'either', fx.fn, async () => {
          const a = fx.make();
          const p = call(a);
          u.detach(a[b].buffer);
          u.gc();
          await p;
        });
      add(`${label}: every buffer transferred right after the call, then gc`, 'either', fx.fn, async () => {
        const a = fx.make();
        const p = call(a);
        for (const b of bufs) if (a[b].buffer.byteLength) u.detach(a[b].buffer);
        for (const s of a.state ?? []) u.detach(s.buffer);
        u.gc();
        await p;
      });
      add(`${label}: the arguments dropped and gc before awaiting`, 'either', fx.fn, async () => {
        let p = call(fx.make());
        u.gc();
        await new Promise((r) => setImmediate(r));
        u.gc();
        await p;
        p = null;
      });
      add(`${label}: 8 concurrent calls on the same buffers`, 'either', fx.fn, async () => {
        const a = fx.make();
        await Promise.all(Array.from({ length: 8 }, () => call(a)));
      });
      add(`${label}: a rejected call leaves no pending job`, 'throw', fx.fn, async () => {
        const a = fx.make();
        a[bufs[0]] = u.detached(a[bufs[0]]);
        await call(a);
      });
    }
  }
  return cases;
}

module.exports = { nativeCases, EXPORTS };
