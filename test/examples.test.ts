// Every program in examples/ runs as a user runs it: from a folder where `rnnkit` resolves to
// this package (node_modules/rnnkit), with fewer epochs (the full runs' results are in
// docs/time-series.md and checked by npm run validate).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'rnnkit-examples-'));
mkdirSync(join(dir, 'node_modules'));
symlinkSync(root, join(dir, 'node_modules', 'rnnkit'), 'dir');
const examples = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.mjs'));

describe('examples/', () => {
  it('has the three time-series programs', () => {
    expect(examples.sort()).toEqual(['lstm-mackey-glass.mjs', 'narx-plant.mjs', 'tdnn-mackey-glass.mjs']);
  });
  for (const f of examples) {
    it(`${f} runs and reports its error`, () => {
      copyFileSync(join(root, 'examples', f), join(dir, f));
      const r = spawnSync(process.execPath, [f], {
        cwd: dir,
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, EPOCHS: '40' },
      });
      expect(r.status, r.stderr).toBe(0);
      const m = /(NDEI|NRMSE)[^:]*: (\d+\.\d{4})\n$/.exec(r.stdout);
      expect(m, r.stdout).not.toBeNull();
      expect(Number(m![2])).toBeLessThan(1);
    });
  }
});
