// The fuzz suite's cases and how one is judged. A case is { name, expect, who, run }:
//   expect 'throw'  the input is hostile: run() must throw (or reject) an Error that names `who`
//                   (the function or class) with a specific message; no error is 'accepted'
//   expect 'either' the input may be legal: success is fine, an error must still be clear
//   expect 'pass'   a baseline: the valid fixture every mutation starts from must work
// Outcomes: ok, accepted (no error where one was due), unclear (a generic V8 message, a message
// that does not name `who`, or a non-Error), rejected (a baseline threw), slow (over SLOW_MS);
// crash and hang are decided by the parent (test/fuzz/fuzz.test.ts), which watches the child.
'use strict';
const { nativeCases } = require('./native-cases.cjs');
const { classCases } = require('./class-cases.cjs');
const { loaderCases, prepareLoader } = require('./loader-cases.cjs');
const { SENTINEL } = require('./util.cjs');

/** Messages V8 writes for a bug deep inside, not a check that names what was wrong. */
const GENERIC =
  /Cannot read propert|is not a function|is not iterable|Invalid typed array length|Array buffer allocation failed|Maximum call stack|undefined is not|Cannot convert undefined|Cannot destructure|Invalid array length|Cannot set propert|is not a constructor|Offset is outside|offset is out of bounds/;
const SLOW_MS = 3000;

/** Cases that misbehave on purpose, to check that the parent catches each way of dying. */
function selfTestCases() {
  const c = (name, run) => ({ name: `selftest ${name}`, expect: 'either', who: 'selftest', run });
  return [
    c('ok', () => 1),
    c('abort', () => process.abort()),
    c('ok after abort', () => 1),
    c('SIGSEGV', () => process.kill(process.pid, 'SIGSEGV')),
    c('busy loop', () => {
      for (;;);
    }),
    c('never settles', () => new Promise(() => {})),
    c('uncaught error', () => new Promise((r) => setTimeout(() => r(null.x), 1))),
    c('exit 3', () => process.exit(3)),
    { name: 'selftest accepted', expect: 'throw', who: 'selftest', run: () => 1 },
    { name: 'selftest unclear', expect: 'throw', who: 'selftest', run: () => null.x },
    {
      name: 'selftest last ok',
      expect: 'throw',
      who: 'selftest',
      run: () => {
        throw new Error('selftest: fine');
      },
    },
  ];
}

function buildCases(dir) {
  if (process.env.FUZZ_SELFTEST === '1') return selfTestCases();
  const cases = [...nativeCases(), ...classCases(), ...loaderCases(dir)];
  // FUZZ_ONLY=<regex>: only the cases whose name matches (a quicker rerun while fixing one area).
  if (process.env.FUZZ_ONLY) return cases.filter((c) => new RegExp(process.env.FUZZ_ONLY).test(c.name));
  const seen = new Set();
  for (const c of cases) {
    if (seen.has(c.name)) throw new Error(`fuzz: duplicate case name ${c.name}`);
    seen.add(c.name);
  }
  return cases;
}

async function prepare(dir) {
  await prepareLoader(dir);
}

const short = (s) => (s.length > 300 ? s.slice(0, 297) + '...' : s);

async function classify(c) {
  const t0 = Date.now();
  let threw = false,
    err;
  try {
    await c.run();
  } catch (e) {
    threw = true;
    err = e;
  }
  const ms = Date.now() - t0;
  const r = judge(c, threw, err);
  if (r.outcome === 'ok' && ms > SLOW_MS)
    return { outcome: 'slow', message: `took ${ms} ms; ${r.message ?? 'otherwise ok'}` };
  return r;
}

function judge(c, threw, err) {
  if (!threw) return c.expect === 'throw' ? { outcome: 'accepted', message: 'no error' } : { outcome: 'ok' };
  const message = err instanceof Error ? `${err.name}: ${err.message}` : `non-Error thrown: ${String(err)}`;
  if (c.expect === 'pass') return { outcome: 'rejected', message: short(message) };
  if (err === SENTINEL || err === SENTINEL.message || (err instanceof Error && err.message.includes(SENTINEL.message)))
    return { outcome: 'ok', message: 'the caller’s own error propagated' };
  if (!(err instanceof Error)) return { outcome: 'unclear', message: short(message) };
  if (GENERIC.test(err.message)) return { outcome: 'unclear', message: short(message) };
  const who = c.who instanceof RegExp ? c.who : new RegExp(c.who.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  if (!who.test(err.message)) return { outcome: 'unclear', message: short(`does not name ${who}: ${message}`) };
  return { outcome: 'ok' };
}

module.exports = { buildCases, prepare, classify, GENERIC };
