// `npm run prebuildify` makes a prebuild that node-gyp-build loads when no local build exists,
// with OpenBLAS linked statically (no system library needed). Slow (a full compile): runs when
// RNNKIT_TEST_PREBUILD=1, as .ci/run sets.
import { execFileSync, execSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..');
const enabled = process.env.RNNKIT_TEST_PREBUILD === '1';

describe.skipIf(!enabled)('prebuild', () => {
  it('builds with prebuildify and loads through node-gyp-build without build/', () => {
    execSync('npm run prebuildify', { cwd: root, stdio: 'pipe' });
    const file = join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'rnnkit.glibc.node'); // --tag-libc
    expect(existsSync(file)).toBe(true);
    const ldd = execFileSync('ldd', [file], { encoding: 'utf8' });
    expect(ldd).not.toMatch(/openblas|gfortran/);
    // A package directory with the prebuild and no build/ folder, as a user gets it from npm.
    const dir = mkdtempSync(join(tmpdir(), 'rnnkit-prebuild-'));
    try {
      cpSync(join(root, 'package.json'), join(dir, 'package.json'));
      cpSync(join(root, 'prebuilds'), join(dir, 'prebuilds'), { recursive: true });
      const script = `
        const load = require(${JSON.stringify(join(root, 'node_modules', 'node-gyp-build'))});
        console.log(load.path(${JSON.stringify(dir)}));
        const a = load(${JSON.stringify(dir)});
        const y = new Float32Array(2 * 3);
        a.rnnForward({ cell: 'gru', T: 2, B: 1, I: 2, H: 3, x: new Float32Array(4).fill(1),
          wIh: new Float32Array(18).fill(0.1), wHh: new Float32Array(27).fill(0.1), y });
        console.log(JSON.stringify({ info: a.backendInfo(), y: Array.from(y) }));`;
      const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim().split('\n');
      expect(out[0]).toContain(join(dir, 'prebuilds'));
      const res = JSON.parse(out[1]);
      expect(res.info.gemm).toBe('openblas');
      expect(res.y.every((v: number) => Number.isFinite(v) && v !== 0)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
