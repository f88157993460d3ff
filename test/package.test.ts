// What the npm package holds and how it loads: the addon's load failure names what was tried and
// what to install; the ES module entry exports what the CommonJS one does; `npm pack --dry-run`
// lists no tests and does not run the (slow) prebuild.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNativeFrom } from '../lib/native';

const root = join(__dirname, '..');

describe('package', () => {
  it('a missing addon says what was tried and what to install', () => {
    const empty = mkdtempSync(join(tmpdir(), 'rnnkit-noaddon-'));
    try {
      let err: Error | undefined;
      try {
        loadNativeFrom(empty);
      } catch (e) {
        err = e as Error;
      }
      expect(err).toBeInstanceOf(Error);
      const m = err!.message;
      expect(m).toContain(join(empty, 'build', 'Release', 'rnnkit.node'));
      expect(m).toContain(join(empty, 'prebuilds', `${process.platform}-${process.arch}`));
      expect(m).toMatch(/C\+\+17 compiler/);
      expect(m).toContain('npm rebuild rnnkit');
      expect(err!.cause).toBeInstanceOf(Error);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('a prebuild tagged glibc (--tag-libc) loads on glibc and is passed over on musl', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnnkit-libc-'));
    try {
      const target = join(dir, 'prebuilds', `${process.platform}-${process.arch}`);
      mkdirSync(target, { recursive: true });
      copyFileSync(join(root, 'package.json'), join(dir, 'package.json'));
      copyFileSync(join(root, 'build', 'Release', 'rnnkit.node'), join(target, 'rnnkit.glibc.node'));
      const script = `console.log(require(${JSON.stringify(join(root, 'node_modules', 'node-gyp-build'))}).path(${JSON.stringify(dir)}))`;
      const run = (libc: string) =>
        spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, LIBC: libc } });
      const glibc = run('glibc');
      expect(glibc.status, glibc.stderr).toBe(0);
      expect(glibc.stdout.trim()).toBe(join(target, 'rnnkit.glibc.node'));
      const musl = run('musl');
      expect(musl.status).not.toBe(0);
      expect(musl.stderr).toMatch(/No native build was found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the ES module entry exports what the CommonJS entry does, and the same objects', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnnkit-esm-'));
    try {
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(root, join(dir, 'node_modules', 'rnnkit'), 'dir');
      const script = `
        import * as esm from 'rnnkit';
        import { createRequire } from 'node:module';
        const cjs = createRequire(import.meta.url)('rnnkit');
        const a = Object.keys(esm).filter((k) => k !== 'default' && k !== '__esModule' && k !== 'module.exports').sort(), b = Object.keys(cjs).sort();
        console.log(JSON.stringify({ same: JSON.stringify(a) === JSON.stringify(b), n: a.length,
          shared: esm.LSTM === cjs.LSTM }));`;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const res = JSON.parse(r.stdout);
      expect(res).toEqual({ same: true, n: res.n, shared: true });
      expect(res.n).toBeGreaterThan(50);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('npm pack --dry-run: no tests ship, the licenses do, and no prebuild is made', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts=false'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const files: string[] = JSON.parse(out.slice(out.indexOf('[')))[0].files.map((f: { path: string }) => f.path);
    expect(files).toContain('LICENSE');
    expect(files).toContain('THIRD_PARTY_NOTICES');
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files).toContain('esm/index.mjs');
    expect(files).toContain('binding.gyp');
    expect(files).toContain('native/build-config.cjs');
    expect(files.filter((f) => /(^|\/)test\/|\.test\.|_test\.cpp$|^validate\//.test(f))).toEqual([]);
    // `rnnkit bench` runs the W1–W6 workloads from an install; the other benchmarks stay in the repository.
    expect(files.filter((f) => f.startsWith('bench/')).sort()).toEqual([
      'bench/export_w5_onnx.py',
      'bench/ort_w5.mjs',
      'bench/rnnkit_round.mjs',
      'bench/rnnkit_workloads.mjs',
      'bench/run.mjs',
      'bench/torch_baselines.py',
    ]);
  }, 90_000);
});
