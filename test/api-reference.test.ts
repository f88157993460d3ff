// The API reference (npm run docs:api: typedoc over lib/index.ts into docs/api/) documents every
// export: each runtime export of the package appears in typedoc's model of the entry point.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as lib from '../lib';

describe('API reference', () => {
  it('typedoc builds it from the types, and every runtime export is in it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnnkit-api-'));
    const root = join(__dirname, '..');
    const r = spawnSync(
      process.execPath,
      [
        join(root, 'node_modules', 'typedoc', 'bin', 'typedoc'),
        '--json',
        join(dir, 'api.json'),
        '--out',
        join(dir, 'html'),
      ],
      { cwd: root, encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const model = JSON.parse(readFileSync(join(dir, 'api.json'), 'utf8')) as { children: Array<{ name: string }> };
    const documented = new Set(model.children.map((c) => c.name));
    expect(Object.keys(lib).filter((k) => !documented.has(k))).toEqual([]);
    expect(documented.size).toBeGreaterThan(Object.keys(lib).length); // the type-only exports too
  });
});
