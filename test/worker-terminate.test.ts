// worker.terminate() while the worker awaits an …Async kernel must not take the process down:
// the job finishes on its libuv thread after the environment is gone, and settling its promise
// then fails; that failure is dropped instead of aborting (SIGABRT) the whole process.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = `
const { Worker } = require('worker_threads');
const lib = ${JSON.stringify(join(__dirname, '..', 'dist', 'index.js'))};
const code = \`
const { cpu } = require(\${JSON.stringify(lib)});
const be = cpu();
const T = 200, B = 64, I = 64, H = 256, spec = { cell: 'lstm', T, B, I, H };
const x = new Float32Array(T * B * I), wIh = new Float32Array(4 * H * I), wHh = new Float32Array(4 * H * H);
const y = new Float32Array(T * B * H);
require('worker_threads').parentPort.postMessage('go');
(async () => { for (;;) await be.rnnForwardAsync({ ...spec, x, wIh, wHh, y }); })();
\`;
let n = 0;
function once() {
  const w = new Worker(code, { eval: true });
  w.on('message', () => setTimeout(() => w.terminate().then(() => { if (++n < 12) once(); else console.log('survived ' + n); }), 3 + (n % 5) * 4));
}
once();
`;

describe('worker threads', () => {
  it('terminating a worker in the middle of an async kernel call leaves the process running', () => {
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('survived 12');
  });
});
