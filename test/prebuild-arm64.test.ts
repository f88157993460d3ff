// `npm run prebuildify:arm64` cross-compiles prebuilds/linux-arm64/rnnkit.glibc.node with Debian's
// aarch64 toolchain and Debian's arm64 OpenBLAS (static), with the x64 prebuild's glibc floor. This
// runs it under qemu-aarch64 on Debian's arm64 Node.js (a sysroot of Debian packages made by
// scripts/arm64-setup.sh; RNNKIT_ARM64_SYSROOT, default /opt/rnnkit-arm64-sysroot) and compares its
// results with the x64 addon's. Slow (a full cross compile): runs when RNNKIT_TEST_ARM64=1, as
// .ci/run sets, after the set-up script.
import { execFileSync, execSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
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
const enabled = process.env.RNNKIT_TEST_ARM64 === '1';
const sysroot = process.env.RNNKIT_ARM64_SYSROOT || '/opt/rnnkit-arm64-sysroot';
const file = join(root, 'prebuilds', 'linux-arm64', 'rnnkit.glibc.node');
const nodeGypBuild = join(root, 'node_modules', 'node-gyp-build');

function parse(out: string): { path: string; res: ForwardResult } {
  const lines = out.trim().split('\n');
  return { path: lines[0], res: JSON.parse(lines[1]) };
}

describe.skipIf(!enabled)('linux-arm64 prebuild (cross-compiled, run under qemu)', () => {
  let x64: { path: string; res: ForwardResult };

  beforeAll(() => {
    expect(
      existsSync(join(sysroot, '.rnnkit-sysroot')),
      `no arm64 sysroot at ${sysroot}: run scripts/arm64-setup.sh`,
    ).toBe(true);
    // The x64 addon node-gyp-build finds here (build/Release, else the x64 prebuild), before the
    // cross build replaces build/.
    x64 = parse(execFileSync(process.execPath, ['-e', forwardScript(nodeGypBuild, root)], { encoding: 'utf8' }));
    execSync('npm run prebuildify:arm64', { cwd: root, stdio: 'pipe' });
  }, 300_000);

  it(`is an AArch64 object that needs glibc <= ${GLIBC_FLOOR}, no libstdc++ and no OpenBLAS library`, () => {
    expect(existsSync(file)).toBe(true);
    expect(execFileSync('readelf', ['--file-header', file], { encoding: 'utf8' })).toMatch(/Machine:\s+AArch64/);
    const needed = execFileSync('readelf', ['--dynamic', file], { encoding: 'utf8' });
    expect(needed).not.toMatch(/openblas|gfortran|libstdc\+\+/);
    const { versions, symbols } = versionNeeds(file);
    const newer = [...symbols].filter(([v]) => v.startsWith('GLIBC_') && compareVersions(v.slice(6), GLIBC_FLOOR) > 0);
    expect(newer, 'symbols bound to a glibc newer than the floor').toEqual([]);
    expect(compareVersions(newest(versions, 'GLIBC'), GLIBC_FLOOR)).toBeLessThanOrEqual(0);
    expect(versions.filter((v) => /^(GLIBCXX|CXXABI)_/.test(v))).toEqual([]);
  });

  it('loads through node-gyp-build on arm64 Node.js under qemu and agrees with x64 to 1e-5', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnnkit-arm64-'));
    try {
      cpSync(join(root, 'package.json'), join(dir, 'package.json'));
      mkdirSync(join(dir, 'prebuilds'));
      cpSync(join(root, 'prebuilds', 'linux-arm64'), join(dir, 'prebuilds', 'linux-arm64'), { recursive: true });
      const libs = ['usr/lib/aarch64-linux-gnu', 'lib/aarch64-linux-gnu'].map((p) => join(sysroot, p)).join(':');
      const out = execFileSync(
        'qemu-aarch64',
        [
          '-L',
          sysroot,
          '-E',
          `LD_LIBRARY_PATH=${libs}`,
          join(sysroot, 'usr/bin/node'),
          '-e',
          forwardScript(nodeGypBuild, dir),
        ],
        { encoding: 'utf8', timeout: 120_000 },
      );
      const arm = parse(out);
      expect(arm.path).toBe(join(dir, 'prebuilds', 'linux-arm64', 'rnnkit.glibc.node'));
      expect(arm.res.info.gemm).toBe('openblas');
      expect(arm.res.info.simd).toBe('generic');
      const ref = referenceDiffs(arm.res);
      const vsX64: Record<string, number> = {};
      for (const [cell, dt] of FORWARDS) {
        const k = `${cell}-${dt}`;
        expect(ref[k], `${k} against the reference`).toBeLessThan(TOLERANCE[dt]);
        const a = arm.res.y[k],
          b = x64.res.y[k];
        expect(a).toHaveLength(b.length);
        vsX64[k] = Math.max(...a.map((v, i) => Math.abs(v - b[i])));
        expect(vsX64[k], `${k} against x64`).toBeLessThan(1e-5);
      }
      console.log(
        JSON.stringify({
          arm64: arm.res.info,
          x64: { file: x64.path, ...x64.res.info },
          maxDiffVsX64: vsX64,
          maxDiffVsReference: ref,
        }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
