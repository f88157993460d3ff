// Every code block of README.md and docs/*.md runs as a user runs it: JavaScript blocks as ES
// modules in a child process, from a temporary folder where `rnnkit` resolves to this package
// (node_modules/rnnkit), each block alone. Shell blocks are not run (installing from the
// registry needs the network; the clone's commands run the suite this test belongs to), nor are
// the Electron blocks or the Python ones (test/safetensors.test.ts runs those where torch is
// installed); each is listed below with its reason, and a block of any other language fails the test.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(__dirname, '..');
const files = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

interface Block {
  file: string;
  line: number;
  lang: string;
  code: string;
}
function blocks(file: string): Block[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    while (++i < lines.length && lines[i] !== '```');
    out.push({ file, line: start + 1, lang: open[1], code: lines.slice(start + 1, i).join('\n') + '\n' });
  }
  return out;
}

/** Blocks not run, by their first line, and why. */
const notRun: Record<string, string> = {
  '// main.mjs (the main process)': "Electron's main process: imports 'electron', which exists only inside Electron",
  '// model-worker.mjs (the utility process)':
    "Electron's utility process: talks through process.parentPort, which Node lacks",
  'npm install rnnkit': 'installs from the npm registry (needs the network); `rnnkit train` is tested with the CLI',
  'npm install        # builds the addon (build/Release/rnnkit.node) and the TypeScript (dist/)':
    "a clone's set-up: npm test runs this very suite, the validate and bench scripts take minutes",
  'npm run build:cuda        # nvcc (CUDA 12 or 13) and CMake; writes build-cuda/Release/rnnkit_cuda.node':
    'a build of the CUDA addon (minutes of nvcc); .ci/run builds it',
  "# PyTorch side: a torch module's state_dict() as a safetensors file (numpy and torch only)":
    'Python (torch, numpy): test/safetensors.test.ts runs the safetensors blocks of docs/interop.md in order',
  '# PyTorch side: read the file rnnkit wrote and load it with load_state_dict(strict=True)':
    'Python (torch, numpy): test/safetensors.test.ts runs it after the block that writes classifier.safetensors',
  '// rnnkit side: the same architecture, then the weights (prints the probabilities torch printed)':
    'reads tagger.safetensors, which the Python block before it writes; test/safetensors.test.ts runs the two in order',
  '// ort.mjs: runs an exported classifier in onnxruntime-node':
    'needs onnxruntime-node, a devDependency the temporary folder cannot resolve; test/onnx-export.test.ts runs exported files in it',
  '// s2s-greedy.mjs: greedy decoding with the two exported graphs in onnxruntime-node':
    'needs onnxruntime-node and a Seq2Seq exported as s2s.onnx in the working folder; test/onnx-export.test.ts runs this loop against Seq2Seq.greedy',
  'import torch':
    "Python (PyTorch's exporter); test/onnx-import.test.ts runs torch.onnx.export through /usr/bin/python3",
  '// tagger.mjs: loads the file written by torch.onnx.export above':
    'reads the file the Python block writes; test/onnx-import.test.ts loads such exports',
  'git clone https://github.com/rnnkit/rnnkit.git && cd rnnkit':
    'clones from GitHub (network) and runs the whole suite, which holds this test',
};

const all = files.flatMap(blocks);
const dir = mkdtempSync(join(tmpdir(), 'rnnkit-doc-blocks-'));
mkdirSync(join(dir, 'node_modules'));
symlinkSync(root, join(dir, 'node_modules', 'rnnkit'), 'dir');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('code blocks of README.md and docs/', () => {
  it('finds the blocks', () => {
    expect(all.filter((b) => b.lang === 'js').length).toBeGreaterThanOrEqual(16);
  });
  for (const b of all) {
    const name = `${b.file}:${b.line} (${b.lang || 'no language'})`;
    const first = b.code.split('\n')[0];
    if (b.lang === 'sh' || notRun[first]) {
      it(`${name} is listed as not run`, () => {
        expect(notRun[first], `a shell block not in the list of blocks not run: ${first}`).toBeTruthy();
        if (b.lang !== 'js') return;
        const file = join(mkdtempSync(join(dir, 'c-')), 'block.mjs'); // not run, but it must parse
        writeFileSync(file, b.code);
        const r = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
        expect(r.status, `${name}\n${r.stderr}`).toBe(0);
      });
      continue;
    }
    it(`${name} runs`, () => {
      expect(['js', 'javascript', 'mjs'], 'blocks are js (run) or sh (listed)').toContain(b.lang);
      const sub = mkdtempSync(join(dir, 'b-'));
      symlinkSync(join(dir, 'node_modules'), join(sub, 'node_modules'), 'dir');
      const file = join(sub, 'block.mjs');
      writeFileSync(file, b.code);
      const r = spawnSync(process.execPath, [file], { cwd: sub, encoding: 'utf8', timeout: 60_000 });
      expect(r.status, `${name}\n${r.stderr}`).toBe(0);
    }, 90_000);
  }
});
