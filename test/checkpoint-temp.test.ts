// A save killed mid-write leaves `<file>.tmp-<pid>-<hex>`; the next save of that file removes
// such leftovers of processes that no longer run, and never a live process's temp file.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { saveCheckpoint, saveCheckpointSync } from '../lib/checkpoint';

const deadPid = (): number => {
  const r = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(r.stdout.trim());
};

describe('temporary files of killed saves', () => {
  for (const [name, save] of [
    ['saveCheckpoint', (f: string) => saveCheckpoint(f, { meta: { a: 1 }, tensors: {} })],
    ['saveCheckpointSync', async (f: string) => saveCheckpointSync(f, { meta: { a: 1 }, tensors: {} })],
  ] as const) {
    it(`${name} sweeps leftovers of dead processes and keeps live ones`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'rnnkit-temp-'));
      const file = join(dir, 'm.rnnkit');
      const stale = `${file}.tmp-${deadPid()}-0123456789ab`;
      const live = `${file}.tmp-${process.ppid}-0123456789ab`; // the test runner's parent: alive
      const other = join(dir, 'other.rnnkit.tmp-1-0123456789ab');
      for (const f of [stale, live, other]) writeFileSync(f, 'partial');
      await save(file);
      expect(existsSync(stale)).toBe(false);
      expect(existsSync(live)).toBe(true);
      expect(existsSync(other)).toBe(true);
      expect(readdirSync(dir).sort()).toEqual(
        ['m.rnnkit', 'm.rnnkit.tmp-' + process.ppid + '-0123456789ab', 'other.rnnkit.tmp-1-0123456789ab'].sort(),
      );
    });
  }
});
