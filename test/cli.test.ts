// The `rnnkit` command, spawned as a user runs it (node bin/rnnkit.js …), on tiny budgets.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cudaInfo } from '../lib';
import { TASKS } from '../lib/tasks';

const root = join(__dirname, '..');
const bin = join(root, 'bin', 'rnnkit.js');
const dir = mkdtempSync(join(tmpdir(), 'rnnkit-cli-'));

function rnnkit(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const newest = (d: string): number =>
  Math.max(...readdirSync(d).map((f) => (f.endsWith('.ts') ? statSync(join(d, f)).mtimeMs : 0)));

beforeAll(() => {
  // the command runs the compiled dist/: rebuild it when lib/cli or lib/tasks is newer
  const main = join(root, 'dist', 'cli', 'main.js');
  const src = Math.max(newest(join(root, 'lib', 'cli')), newest(join(root, 'lib', 'tasks')));
  if (!existsSync(main) || statSync(main).mtimeMs < src)
    execFileSync(process.execPath, [
      join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      join(root, 'tsconfig.json'),
    ]);
}, 120_000);

describe('rnnkit train on the built-in tasks (tiny budgets)', () => {
  for (const t of TASKS) {
    it(`--task ${t.name}`, () => {
      const out = join(dir, `run-${t.name}`);
      const r = rnnkit('train', '--task', t.name, '--tiny', '--out', out, '--seed', '3');
      expect(r.status, r.stderr).toBe(0);
      // not a terminal: plain lines, no carriage returns
      expect(r.stdout).toMatch(/^epoch 1\/1 loss \d/m);
      expect(r.stdout).not.toContain('\r');
      const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
      expect(m.task).toBe(t.name);
      expect(m.history).toHaveLength(1);
      expect(Number.isFinite(m.history[0].loss)).toBe(true);
      expect(Object.keys(m.final).length).toBeGreaterThan(0);
      expect(m.parameters.total).toBeGreaterThan(0);
      expect(m.samples.length).toBeGreaterThan(0);
      const html = readFileSync(join(out, 'report.html'), 'utf8');
      expect(html).toContain('<svg');
      expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
      expect(existsSync(join(out, 'model.rnnkit'))).toBe(true);
    });
  }

  it('the same seed gives the same run', () => {
    const a = rnnkit('train', '--task', 'classify', '--tiny', '--seed', '5', '--out', join(dir, 's1'), '--quiet');
    const b = rnnkit('train', '--task', 'classify', '--tiny', '--seed', '5', '--out', join(dir, 's2'), '--quiet');
    expect(a.status, a.stderr).toBe(0);
    expect(b.status, b.stderr).toBe(0);
    const h = (d: string) => JSON.parse(readFileSync(join(dir, d, 'metrics.json'), 'utf8')).history[0].loss;
    expect(h('s1')).toBe(h('s2'));
  });
});

describe('rnnkit train --device', () => {
  it('--device cpu trains and evaluates on the CPU device', () => {
    const out = join(dir, 'device-cpu');
    const r = rnnkit('train', '--task', 'charlm', '--tiny', '--device', 'cpu', '--out', out, '--quiet');
    expect(r.status, r.stderr).toBe(0);
    const ev = rnnkit('evaluate', '--model', join(out, 'model.rnnkit'), '--device', 'cpu', '--json');
    expect(ev.status, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout).perplexity).toBeGreaterThan(1);
  });
});

describe('rnnkit train --data FILE --mode …', () => {
  const words = ['the', 'dog', 'a', 'cat', 'ran', 'fast'];
  const tags = ['DET', 'NOUN', 'DET', 'NOUN', 'VERB', 'ADV'];
  const data: Record<string, string> = {
    classify: Array.from(
      { length: 40 },
      (_, i) => `${i % 2 ? 'up up down' : 'down down up up'} x${i % 3}\t${i % 2 ? 'odd' : 'even'}`,
    ).join('\n'),
    tag: Array.from(
      { length: 12 },
      (_, i) =>
        words
          .map((w, j) => `${w}\t${tags[j]}`)
          .slice(i % 3)
          .join('\n') + '\n',
    ).join('\n'),
    seq2seq: Array.from({ length: 40 }, (_, i) => `${i}ab\tba${i}`).join('\n'),
    lm: 'the dog ran fast. a cat ran fast. the cat saw a dog.\n'.repeat(20),
    forecast:
      'time,u,y\n' +
      Array.from({ length: 120 }, (_, t) => `${t},${Math.sin(t / 5).toFixed(4)},${Math.cos(t / 5).toFixed(4)}`).join(
        '\n',
      ),
  };
  const ext: Record<string, string> = { classify: 'tsv', tag: 'tsv', seq2seq: 'tsv', lm: 'txt', forecast: 'csv' };
  for (const mode of Object.keys(data)) {
    it(`--mode ${mode}: train, evaluate, predict, inspect`, () => {
      const f = file(`${mode}.${ext[mode]}`, data[mode]!);
      const out = join(dir, `data-${mode}`);
      const extra = mode === 'forecast' ? ['--columns', 'u,y', '--target', 'y', '--window', '8'] : [];
      const r = rnnkit('train', '--data', f, '--mode', mode, '--epochs', '1', '--out', out, ...extra);
      expect(r.status, r.stderr).toBe(0);
      const model = join(out, 'model.rnnkit');
      const ev = rnnkit('evaluate', '--model', model, '--json');
      expect(ev.status, ev.stderr).toBe(0);
      expect(Number.isFinite(JSON.parse(ev.stdout).loss)).toBe(true);
      const ev2 = rnnkit('evaluate', '--model', model, '--data', f);
      expect(ev2.status, ev2.stderr).toBe(0);
      expect(ev2.stdout).toMatch(/^loss: /m);
      if (mode === 'lm') {
        const g = rnnkit(
          'generate',
          '--model',
          model,
          '--prompt',
          'the ',
          '--length',
          '20',
          '--temperature',
          '0.5',
          '--top-k',
          '5',
        );
        expect(g.status, g.stderr).toBe(0);
        expect(g.stdout.startsWith('the ')).toBe(true);
        const p = rnnkit('predict', '--model', model, '--data', f);
        expect(p.status).not.toBe(0);
        expect(p.stderr).toContain('rnnkit generate');
      } else {
        const p = rnnkit('predict', '--model', model, '--data', f);
        expect(p.status, p.stderr).toBe(0);
        expect(p.stdout.trim().split('\n').length).toBeGreaterThan(0);
        if (mode === 'classify')
          expect(
            p.stdout
              .trim()
              .split('\n')
              .every((l) => l === 'odd' || l === 'even'),
          ).toBe(true);
      }
      const ins = rnnkit('inspect', model);
      expect(ins.status, ins.stderr).toBe(0);
      expect(ins.stdout).toMatch(/parameters: [\d,]+/);
      expect(ins.stdout).toMatch(/epoch {3}1 {2}loss/);
    });
  }

  it('--config run.json sets model and fit options', () => {
    const cfg = file(
      'run.json',
      JSON.stringify({
        task: 'classify',
        tiny: true,
        model: { hiddenSize: 5, cell: 'rnn' },
        fit: { epochs: 2, batchSize: 8 },
      }),
    );
    const out = join(dir, 'cfg');
    const r = rnnkit('train', '--config', cfg, '--out', out, '--quiet');
    expect(r.status, r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(m.model).toMatchObject({ hiddenSize: 5, cell: 'rnn' });
    expect(m.history).toHaveLength(2);
    // --epochs overrides the file
    const r2 = rnnkit('train', '--config', cfg, '--out', out, '--quiet', '--epochs', '1');
    expect(r2.status, r2.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')).history).toHaveLength(1);
  });

  it('run.json in the output folder repeats the run', () => {
    const a = join(dir, 'rerun-a'),
      b = join(dir, 'rerun-b');
    const r = rnnkit('train', '--task', 'reber', '--tiny', '--seed', '7', '--epochs', '2', '--out', a, '--quiet');
    expect(r.status, r.stderr).toBe(0);
    const r2 = rnnkit('train', '--config', join(a, 'run.json'), '--out', b, '--quiet');
    expect(r2.status, r2.stderr).toBe(0);
    const h = (d: string) =>
      JSON.parse(readFileSync(join(d, 'metrics.json'), 'utf8')).history.map((e: { loss: number }) => e.loss);
    expect(h(b)).toHaveLength(2);
    expect(h(b)).toEqual(h(a));
  });
});

describe('rnnkit info, bench, help', () => {
  it('info names the backend', () => {
    const r = rnnkit('info', '--json');
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(['openblas', 'builtin']).toContain(info.gemm);
    expect(info.devices).toContain('cpu');
    expect(info.threads).toBeGreaterThan(0);
  });
  it('bench times the workloads it is given and reports them as JSON', () => {
    const r = rnnkit('bench', '--workloads', 'W5b1,W3', '--quick', '--rounds', '2', '--json', '--no-baselines');
    expect(r.status, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(rows.map((x: { workload: string }) => x.workload)).toEqual(['W5b1', 'W3']);
    for (const row of rows) {
      expect(row.rnnkit_ms).toBeGreaterThan(0);
      expect(row.torch_ms).toBeNull(); // --no-baselines
    }
  });
  it('bench refuses an unknown workload by name', () => {
    const r = rnnkit('bench', '--workloads', 'W9', '--no-baselines');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unknown workload W9; known: W1/);
  });
  it('--help lists the commands', () => {
    const r = rnnkit('--help');
    expect(r.status).toBe(0);
    for (const c of ['train', 'predict', 'generate', 'evaluate', 'inspect', 'bench', 'info'])
      expect(r.stdout).toContain(c);
  });
});

describe('bad arguments and data: a message naming the problem, non-zero exit, no stack trace', () => {
  const bad = (args: string[], message: RegExp | string) => {
    const r = rnnkit(...args);
    expect(r.status, r.stdout).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  };
  it('no command, unknown command or option', () => {
    bad([], /give a command/);
    bad(['fly'], /Unknown argument: fly/);
    bad(['train', '--epoch', '3'], /Unknown argument/);
  });
  it('unknown task, mode, device', () => {
    bad(['train', '--task', 'nope'], /--task nope: no such task; tasks: adding/);
    bad(['train', '--data', 'x.tsv'], /needs --mode/);
    bad(['train', '--data', 'x.tsv', '--mode', 'dance'], /Invalid values/);
    bad(
      ['train', '--task', 'adding', '--tiny', '--device', 'tpu'],
      /--device tpu: unknown; the devices are cpu and cuda/,
    );
  });
  it.skipIf(cudaInfo().available)('--device cuda without a GPU says why', () => {
    bad(
      ['train', '--task', 'adding', '--tiny', '--device', 'cuda'],
      /--device cuda: not available here \(.*(driver|not built)/,
    );
  });
  it('missing files', () => {
    bad(['train', '--data', join(dir, 'missing.tsv'), '--mode', 'classify'], /missing\.tsv: no such file/);
    bad(['inspect', join(dir, 'missing.rnnkit')], /missing\.rnnkit: no such model file/);
  });
  it('malformed lines name the file and the line', () => {
    const c = file('bad-classify.tsv', 'a b c\tx\nb c d\ty\nno tab here\nd e\tx\n');
    bad(
      ['train', '--data', c, '--mode', 'classify'],
      `${c}:3: expected a sequence and a label separated by one tab, found 1 field(s)`,
    );
    const t = file('bad-tag.tsv', 'the\tDET\ndog\tNOUN\n\nthe\tDET\tX\n');
    bad(['train', '--data', t, '--mode', 'tag'], `${t}:4: expected a token and a tag`);
    const s = file('bad-pairs.tsv', 'ab\tba\n\tba\n');
    bad(['train', '--data', s, '--mode', 'seq2seq'], `${s}:2: empty field`);
    const v = file('bad.csv', 'a,b\n1,2\n3,4\n5,oops\n');
    bad(['train', '--data', v, '--mode', 'forecast'], `${v}:4: column 'b': 'oops' is not a finite number`);
    const w = file('short.csv', 'a,b\n1,2\n3\n');
    bad(['train', '--data', w, '--mode', 'forecast'], `${w}:3: expected 2 comma-separated values, found 1`);
    const n = file('names.csv', 'a,b\n1,2\n');
    bad(['train', '--data', n, '--mode', 'forecast', '--target', 'c'], `${n}:1: no column named 'c' (columns: a, b)`);
  });
  it('bad config files', () => {
    const j = file('bad.json', '{\n  "task": "adding",\n  "fit": { "epochs": 1, }\n}\n');
    bad(['train', '--config', j], `${j}:3: invalid JSON`);
    const k = file('key.json', '{ "tsak": "adding" }');
    bad(['train', '--config', k], `${k}: unknown field 'tsak'`);
    const o = file('opt.json', '{ "task": "adding", "tiny": true, "model": { "hiddenSize": -1 } }');
    bad(['train', '--config', o], /hiddenSize/);
  });
  it('a corrupt model file', () => {
    const m = file('corrupt.rnnkit', 'not a model');
    bad(['inspect', m], /rnnkit: /);
    bad(['generate', '--model', join(dir, 'run-adding', 'model.rnnkit')], /not a language model/);
  });
});

const chromium = ['chromium', 'chromium-browser']
  .map((c) => spawnSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' }).stdout.trim())
  .find((p) => p !== '');

describe('report.html in a headless browser', () => {
  it.skipIf(!chromium)('renders the SVG curves (chromium --headless --dump-dom)', () => {
    const report = join(dir, 'run-adding', 'report.html');
    if (!existsSync(report)) rnnkit('train', '--task', 'adding', '--tiny', '--out', join(dir, 'run-adding'), '--quiet');
    const dom = execFileSync(
      chromium!,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        `--user-data-dir=${join(dir, 'chrome')}`,
        '--dump-dom',
        `file://${report}`,
      ],
      { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    expect(dom).toContain('<svg');
    const paths = dom.match(/<path class="series" d="M[\d.]+,[\d.]+/g) ?? [];
    expect(paths.length).toBeGreaterThanOrEqual(4);
    expect(dom).toContain('Gradient norm');
  });
  if (!chromium) it('chromium is not on PATH: the browser check is skipped (apt-get install chromium)', () => {});
});
