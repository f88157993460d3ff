// Arguments that change while the binding reads them: getters, Proxy traps and a tensor's
// `handle` that detach, shrink or rewrite buffers read earlier, and async jobs whose buffers are
// transferred and collected while they run. Each used to crash the process (SIGSEGV), so the
// cases run in a child process where a crash fails the test instead of ending the run.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

interface Result {
  name: string;
  outcome: string;
  type?: string;
  message?: string;
}

const root = join(__dirname, '..');
const child = spawnSync(process.execPath, ['--expose-gc', join(__dirname, 'fixtures', 'boundary-hazards.cjs'), root], {
  encoding: 'utf8',
  timeout: 60_000,
});
const results = new Map<string, Result>();

describe('arguments that change while the binding reads them', () => {
  it('the child process exits normally (no crash, no hang)', () => {
    expect(child.signal, child.stderr).toBeNull();
    expect(child.status, child.stderr).toBe(0);
    for (const r of JSON.parse(child.stdout) as Result[]) results.set(r.name, r);
  });

  const threw = (name: string, type: string, message: RegExp) =>
    it(`${name}: ${type} ${message.source}`, () => {
      const r = results.get(name);
      expect(r?.outcome, JSON.stringify(r)).toBe('threw');
      expect(r?.type).toBe(type);
      expect(r?.message).toMatch(message);
    });
  threw('getter detaches an earlier buffer', 'TypeError', /^linearForward: x must be .*detached buffer/);
  threw('getter rewrites checked ids', 'RangeError', /^embeddingForward: ids\[0\] must be an integer in \[0, 3\]/);
  threw('getter rewrites ids (backward)', 'RangeError', /^embeddingBackward: ids\[1\] must be .* received number -5/);
  threw('getter rewrites targets', 'RangeError', /^softmaxCrossEntropy: targets\[0\] must be .* 999999/);
  threw('resizable buffer shrunk by a getter', 'TypeError', /^linearForward: x must be .*resizable ArrayBuffer/);
  threw('rnnForward: getter detaches wHh', 'TypeError', /^rnnForward: wHh must be .*detached buffer/);
  threw(
    'rnnForward: getter rewrites lengths',
    'RangeError',
    /^rnnForward: lengths\[0\] must be an integer in \[0, 3\]/,
  );
  threw('optimStep: state element getter detaches params', 'TypeError', /^optimStep: params must be .*detached/);
  threw('optimStep: holey state array with a prototype getter', 'TypeError', /^optimStep: grads must be .*detached/);
  threw('Proxy options whose trap detaches', 'TypeError', /^linearForward: x must be .*detached buffer/);
  threw(
    'misspelled field',
    'TypeError',
    /^linearForward: unknown field 'bais' .*fields read were: N, I, O, x, weight, y/,
  );
  threw('SharedArrayBuffer', 'TypeError', /^linearForward: x must be .*SharedArrayBuffer/);
  threw(
    'async output detached',
    'Error',
    /^rnnForwardAsync: y was detached or resized while the job ran, so no result/,
  );

  const returned = (name: string) =>
    it(name, () => {
      expect(results.get(name)?.outcome, JSON.stringify(results.get(name))).toBe('returned');
    });
  // Checking for a resizable buffer calls the built-in getter captured at load, never one user code put in its place.
  returned('overridden ArrayBuffer.prototype.resizable');
  returned('the override never ran');
  returned('async inputs detached and collected while the job runs');
  returned('async on native blocks detached and collected while the job runs');
  returned('async job sees the inputs as passed');
});
