// Shared helpers of the fuzz cases: hostile buffers and objects.
'use strict';
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
const lib = require(path.join(root, 'dist', 'index.js'));
const { loadNative } = require(path.join(root, 'dist', 'native.js'));

/** What hostile getters and traps throw: seeing it come back out is correct. */
const SENTINEL = new Error('fuzz-sentinel: thrown by the caller');

function detach(buf) {
  structuredClone(buf, { transfer: [buf] });
}
/** A typed array of the same type whose buffer is already detached. */
function detached(a) {
  const c = new a.constructor(a.length);
  detach(c.buffer);
  return c;
}
function shared(a) {
  const c = new a.constructor(new SharedArrayBuffer(a.byteLength));
  c.set(a);
  return c;
}
/** Backed by a resizable ArrayBuffer; `tracking` views follow its length. */
function resizable(a, tracking) {
  const buf = new ArrayBuffer(a.byteLength, { maxByteLength: a.byteLength * 2 + 8 });
  const c = tracking ? new a.constructor(buf) : new a.constructor(buf, 0, a.length);
  c.set(a);
  return c;
}
function otherType(a) {
  if (a instanceof Float32Array) return new Float64Array(a.length);
  if (a instanceof Float64Array) return new Float32Array(a.length);
  if (a instanceof Int32Array) return new Uint32Array(a.length);
  if (a instanceof Uint8Array) return new Int8Array(a.length);
  return new Float32Array(a.length);
}
function resized(a, n) {
  const c = new a.constructor(Math.max(0, n));
  c.set(a.subarray(0, Math.min(a.length, c.length)));
  return c;
}
/** Two views of one buffer that share exactly one element: [0, la) and [la-1, la-1+lb). */
function overlapping(a, b) {
  const buf = new a.constructor(a.length + b.length - 1);
  const va = buf.subarray(0, a.length),
    vb = buf.subarray(a.length - 1);
  va.set(a);
  return [va, vb];
}
/** A proxy on which every trap throws. */
function throwingProxy(target = {}) {
  const t = () => {
    throw SENTINEL;
  };
  return new Proxy(target, {
    get: t,
    has: t,
    ownKeys: t,
    getOwnPropertyDescriptor: t,
    getPrototypeOf: t,
    defineProperty: t,
    set: t,
    deleteProperty: t,
    isExtensible: t,
    preventExtensions: t,
    setPrototypeOf: t,
    apply: t,
    construct: t,
  });
}
/** A copy of `o` whose field `key` is a getter running `fn` (then returning the value). */
function withGetter(o, key, fn) {
  const c = { ...o };
  const v = c[key];
  delete c[key];
  Object.defineProperty(c, key, {
    enumerable: true,
    configurable: true,
    get() {
      fn(c);
      return v;
    },
  });
  return c;
}
function manyFields(n) {
  const o = {};
  for (let i = 0; i < n; i++) o[`f${i}`] = i;
  return o;
}
/** A typo of a field name (two letters swapped, or a letter doubled). */
function typo(name) {
  if (name.length < 3) return name + name[name.length - 1];
  const i = Math.floor(name.length / 2);
  const s = name.slice(0, i - 1) + name[i] + name[i - 1] + name.slice(i + 1);
  return s === name ? name + name[name.length - 1] : s;
}
const isTyped = (v) => ArrayBuffer.isView(v) && !(v instanceof DataView);
const f32 = (n, v = 0.1) => new Float32Array(n).fill(v);
const f64 = (n, v = 0.1) => new Float64Array(n).fill(v);
const gc = () => (typeof global.gc === 'function' ? global.gc() : undefined);

/** Four short feature sequences (F = 2) of lengths 2, 1, 3, 1: the data the class and loader cases train on. */
const tinySequences = () => [
  [
    [0.1, 0.2],
    [0.3, -0.1],
  ],
  [[0.5, 0.5]],
  [
    [-0.2, 0.1],
    [0.1, 0.1],
    [0, 0],
  ],
  [[0.3, 0.3]],
];

module.exports = {
  tinySequences,
  root,
  lib,
  loadNative,
  SENTINEL,
  detach,
  detached,
  shared,
  resizable,
  otherType,
  resized,
  overlapping,
  throwingProxy,
  withGetter,
  manyFields,
  typo,
  isTyped,
  f32,
  f64,
  gc,
};
