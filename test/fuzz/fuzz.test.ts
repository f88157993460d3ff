// The fuzz suite (issue 9, item 5): thousands of hostile inputs across the native boundary,
// every public class and the model loader, each run in a child process (test/fuzz/child.cjs) so
// that a crash or a hang is a failure of that case instead of a lost test run. A child that dies
// (signal, abnormal exit, an uncaught error) or stops making progress is blamed on the case it
// had started; the next child starts right after it. Cases and their judging: test/fuzz/cases.cjs.
//
// FUZZ_REPORT=<file> writes every case's outcome as JSON; FUZZ_CASE_TIMEOUT_MS (default 5000)
// is how long one case may run before it counts as a hang; FUZZ_CHILDREN (default 4) how many
// children run at once; FUZZ_ONLY=<regex> runs only the matching cases; FUZZ_STRICT=1 ignores the
// known-failure list (test/fuzz/known-failures.cjs).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { KNOWN_FAILURES: LISTED } = require('./known-failures.cjs') as {
  KNOWN_FAILURES: Array<[RegExp, string[], string]>;
};
const KNOWN_FAILURES = process.env.FUZZ_STRICT === '1' ? [] : LISTED;

const child = join(__dirname, 'child.cjs');
const TIMEOUT = Number(process.env.FUZZ_CASE_TIMEOUT_MS ?? 5000);
const CHILDREN = Number(process.env.FUZZ_CHILDREN ?? 4);
const NODE_ARGS = ['--expose-gc', '--max-old-space-size=2048', '--stack-size=984'];

type Outcome = 'ok' | 'accepted' | 'unclear' | 'rejected' | 'slow' | 'crash' | 'hang';
const ORDER: Outcome[] = ['ok', 'crash', 'hang', 'accepted', 'unclear', 'rejected', 'slow'];
interface Result {
  i: number;
  name: string;
  outcome: Outcome;
  message?: string;
}

const dir = mkdtempSync(join(tmpdir(), 'rnnkit-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface RunOptions {
  env: NodeJS.ProcessEnv;
  timeout: number;
}
const FUZZ: RunOptions = { env: process.env, timeout: TIMEOUT };
const SELFTEST: RunOptions = { env: { ...process.env, FUZZ_SELFTEST: '1' }, timeout: 1500 };

function runSyncChild(args: string[], o: RunOptions): string {
  const r = spawnSync(process.execPath, [...NODE_ARGS, child, dir, ...args], {
    env: o.env,
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0)
    throw new Error(`fuzz child ${args.join(' ')} failed (${r.status} ${r.signal}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Runs cases [from, to) in one child; resolves with the index to continue from (to when done). */
function runChild(
  from: number,
  to: number,
  names: string[],
  results: Map<number, Result>,
  o: RunOptions,
): Promise<number> {
  const CASE_TIMEOUT = o.timeout;
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...NODE_ARGS, child, dir, String(from), String(to)], {
      env: o.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let started = -1,
      done = false,
      hung = false,
      uncaught: string | null = null,
      buf = '',
      stderr = '';
    let timer = setTimeout(onTimeout, CASE_TIMEOUT * 3); // startup
    function onTimeout(): void {
      hung = true;
      p.kill('SIGKILL');
    }
    function line(l: string): void {
      if (l.startsWith('start ')) {
        started = Number(l.slice(6));
        clearTimeout(timer);
        timer = setTimeout(onTimeout, CASE_TIMEOUT);
      } else if (l === 'done') done = true;
      else if (l.startsWith('{')) {
        const r = JSON.parse(l) as { i?: number; outcome?: Outcome; message?: string; uncaught?: number };
        if (r.uncaught !== undefined) uncaught = r.message ?? 'uncaught';
        else results.set(r.i!, { i: r.i!, name: names[r.i!], outcome: r.outcome!, message: r.message });
      }
    }
    p.stdout.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      let k;
      while ((k = buf.indexOf('\n')) >= 0) {
        line(buf.slice(0, k));
        buf = buf.slice(k + 1);
      }
    });
    p.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-2000);
    });
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      if (done && code === 0) return resolve(to);
      if (started < 0 || results.has(started)) {
        // Died between cases: blame the next one, or the harness when nothing ran.
        if (started < 0 && !hung)
          return reject(new Error(`fuzz child died before its first case (${code} ${signal}): ${stderr}`));
        started = started < 0 ? from : started + 1;
        if (started >= to) return resolve(to);
      }
      const how = hung
        ? `no result within ${CASE_TIMEOUT} ms (killed)`
        : uncaught
          ? `uncaught error: ${uncaught}`
          : signal
            ? `killed by ${signal}`
            : code === 0
              ? 'the process exited before the case settled (a promise that never settles)'
              : `exit code ${code}`;
      const outcome: Outcome = hung || (code === 0 && !signal && !uncaught) ? 'hang' : 'crash';
      results.set(started, {
        i: started,
        name: names[started],
        outcome,
        message: `${how}${stderr ? `; stderr: ${stderr.trim().slice(-400)}` : ''}`,
      });
      resolve(started + 1);
    });
  });
}

async function runAll(names: string[], o: RunOptions): Promise<Map<number, Result>> {
  const results = new Map<number, Result>();
  const chunk = Math.max(50, Math.ceil(names.length / (CHILDREN * 3)));
  const queue: Array<[number, number]> = [];
  for (let i = 0; i < names.length; i += chunk) queue.push([i, Math.min(names.length, i + chunk)]);
  const worker = async () => {
    for (let job = queue.shift(); job; job = queue.shift()) {
      let [from] = job;
      const to = job[1];
      while (from < to) from = await runChild(from, to, names, results, o);
    }
  };
  await Promise.all(Array.from({ length: CHILDREN }, worker));
  return results;
}

describe('fuzz', () => {
  it('the harness tells each way a child can fail', { timeout: 60_000 }, async () => {
    const names = JSON.parse(runSyncChild(['--list'], SELFTEST)) as string[];
    const results = await runAll(names, SELFTEST);
    const got = Object.fromEntries(names.map((n, i) => [n.slice(9), results.get(i)?.outcome]));
    expect(got).toEqual({
      ok: 'ok',
      abort: 'crash',
      'ok after abort': 'ok',
      SIGSEGV: 'crash',
      'busy loop': 'hang',
      'never settles': 'hang',
      'uncaught error': 'crash',
      'exit 3': 'crash',
      accepted: 'accepted',
      unclear: 'unclear',
      'last ok': 'ok',
    });
  });

  it(
    'no hostile input crashes, hangs, is silently accepted or gets an unclear error',
    { timeout: 600_000 },
    async () => {
      const t0 = Date.now();
      runSyncChild(['--prepare'], FUZZ);
      const names = JSON.parse(runSyncChild(['--list'], FUZZ)) as string[];
      const results = await runAll(names, FUZZ);
      const all = names.map(
        (name, i) => results.get(i) ?? { i, name, outcome: 'crash' as Outcome, message: 'no result (harness)' },
      );
      const count = (o: Outcome, rs = all) => rs.filter((r) => r.outcome === o).length;
      const bad = all.filter((r) => r.outcome !== 'ok');
      const known = (r: Result) =>
        KNOWN_FAILURES.find(([re, outcomes]) => re.test(r.name) && outcomes.includes(r.outcome));
      const unexpected = bad.filter((r) => !known(r));
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      const line = (rs: Result[]) => ORDER.map((o) => `${count(o, rs)} ${o}`).join(', ');
      console.log(`fuzz: ${all.length} cases in ${secs} s: ${line(all)}`);
      for (const prefix of ['native', 'class', 'loader']) {
        const rs = all.filter((r) => r.name.startsWith(prefix + ' '));
        console.log(`fuzz:   ${prefix}: ${rs.length} cases: ${line(rs)}`);
      }
      const show = (r: Result) => `  [${r.outcome}] #${r.i} ${r.name}: ${r.message ?? ''}`;
      if (bad.length) {
        const byKnown = new Map<string, Result[]>();
        for (const r of bad.filter(known)) {
          const why = known(r)![2];
          byKnown.set(why, [...(byKnown.get(why) ?? []), r]);
        }
        for (const [why, rs] of byKnown)
          console.log(`fuzz: ${rs.length} known failures (${why}), e.g.:\n${rs.slice(0, 3).map(show).join('\n')}`);
      }
      const stale = KNOWN_FAILURES.filter(
        ([re, outcomes]) => !bad.some((r) => re.test(r.name) && outcomes.includes(r.outcome)),
      );
      if (stale.length)
        console.log(
          `fuzz: known-failure entries that no longer fail (remove them): ${stale.map(([re]) => re).join(', ')}`,
        );
      if (process.env.FUZZ_REPORT) writeFileSync(process.env.FUZZ_REPORT, JSON.stringify(all, null, 1));
      if (unexpected.length)
        console.log(`fuzz: ${unexpected.length} failures:\n${unexpected.slice(0, 200).map(show).join('\n')}`);
      if (!process.env.FUZZ_ONLY) expect(all.length).toBeGreaterThanOrEqual(300);
      expect(unexpected.map(show)).toEqual([]);
    },
  );
});
