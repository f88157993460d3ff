// The agreed style, held in npm test: every source file is formatted by prettier (printWidth
// 120, .prettierrc.json) and no line is longer than 160 characters (strings prettier cannot
// break). `npx prettier --write "lib/**/*.ts" "test/**/*.ts" "validate/**/*.ts" "bench/**/*.mjs"` fixes the first.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as prettier from 'prettier';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..');
const MAX = 160;

function files(dir: string, ext: RegExp): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p, ext));
    else if (ext.test(e.name)) out.push(p);
  }
  return out;
}

const sources = [
  ...files('lib', /\.ts$/),
  ...files('test', /\.ts$/),
  ...files('validate', /\.ts$/),
  ...files('bench', /\.mjs$/),
];

describe('source style', () => {
  it(`no line is longer than ${MAX} characters`, () => {
    const long: string[] = [];
    for (const f of sources) {
      readFileSync(join(root, f), 'utf8')
        .split('\n')
        .forEach((l, i) => {
          if (l.length > MAX) long.push(`${f}:${i + 1} (${l.length})`);
        });
    }
    expect(long).toEqual([]);
  });
  it('every source file is formatted by prettier', async () => {
    const config = (await prettier.resolveConfig(join(root, 'lib/index.ts'))) ?? {};
    const unformatted: string[] = [];
    for (const f of sources) {
      if (!(await prettier.check(readFileSync(join(root, f), 'utf8'), { ...config, filepath: join(root, f) })))
        unformatted.push(f);
    }
    expect(unformatted).toEqual([]);
  });
});
