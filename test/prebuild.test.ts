// `npm run prebuildify` makes a prebuild that node-gyp-build loads when no local build exists,
// with OpenBLAS and libstdc++ linked statically (no system library needed) and glibc symbols bound
// to old versions (native/compat/glibc_floor.c), so it loads on glibc >= GLIBC_FLOOR. Slow (a full
// compile): runs when RNNKIT_TEST_PREBUILD=1, as .ci/run sets.
import { execFileSync, execSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  FORWARDS,
  GLIBC_FLOOR,
  TOLERANCE,
  compareVersions,
  forwardScript,
  newest,
  referenceDiffs,
  versionNeeds,
  type ForwardResult,
} from './prebuild-helpers';

const root = resolve(__dirname, '..');
const enabled = process.env.RNNKIT_TEST_PREBUILD === '1';
const file = join(root, 'prebuilds', `${process.platform}-${process.arch}`, 'rnnkit.glibc.node'); // --tag-libc

describe.skipIf(!enabled)('prebuild', () => {
  beforeAll(() => {
    execSync('npm run prebuildify', { cwd: root, stdio: 'pipe' });
  }, 300_000);

  it('needs no shared library beyond the C and GCC runtimes (OpenBLAS and libstdc++ are linked in)', () => {
    expect(existsSync(file)).toBe(true);
    const ldd = execFileSync('ldd', [file], { encoding: 'utf8' });
    expect(ldd).not.toMatch(/openblas|gfortran|libstdc\+\+/);
  });

  it(`needs glibc <= ${GLIBC_FLOOR} and no libstdc++ symbol versions`, () => {
    const { versions, symbols } = versionNeeds(file);
    const newer = [...symbols].filter(([v]) => v.startsWith('GLIBC_') && compareVersions(v.slice(6), GLIBC_FLOOR) > 0);
    expect(newer, 'symbols bound to a glibc newer than the floor').toEqual([]);
    const glibc = newest(versions, 'GLIBC');
    expect(glibc).not.toBe('');
    expect(compareVersions(glibc, GLIBC_FLOOR)).toBeLessThanOrEqual(0);
    expect(compareVersions(glibc, '2.28')).toBeLessThanOrEqual(0); // Node 18's own floor
    expect(versions.filter((v) => /^(GLIBCXX|CXXABI)_/.test(v))).toEqual([]);
  });

  it('loads through node-gyp-build without build/ and computes what the reference does', () => {
    // A package directory with the prebuild and no build/ folder, as a user gets it from npm.
    const dir = mkdtempSync(join(tmpdir(), 'rnnkit-prebuild-'));
    try {
      cpSync(join(root, 'package.json'), join(dir, 'package.json'));
      cpSync(join(root, 'prebuilds'), join(dir, 'prebuilds'), { recursive: true });
      const script = forwardScript(join(root, 'node_modules', 'node-gyp-build'), dir);
      const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim().split('\n');
      expect(out[0]).toBe(join(dir, 'prebuilds', `${process.platform}-${process.arch}`, 'rnnkit.glibc.node'));
      const res: ForwardResult = JSON.parse(out[1]);
      expect(res.info.gemm).toBe('openblas');
      const diffs = referenceDiffs(res);
      for (const [cell, dt] of FORWARDS) expect(diffs[`${cell}-${dt}`], `${cell} ${dt}`).toBeLessThan(TOLERANCE[dt]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
