// Runs the code block of docs/narx.md (its import line replaced by the library's exports).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import * as lib from '../lib';

it('docs/narx.md: the example runs and learns', async () => {
  const md = readFileSync(join(__dirname, '..', 'docs', 'narx.md'), 'utf8');
  const blocks = [...md.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  expect(blocks).toHaveLength(1);
  const body = blocks[0].replace(/^import .*$/m, '');
  const logs: unknown[][] = [];
  const console = { log: (...a: unknown[]) => logs.push(a) };
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
    ...a: string[]
  ) => (...v: unknown[]) => Promise<void>;
  const names = Object.keys(lib);
  await new AsyncFunction(...names, 'console', body)(...names.map((k) => (lib as Record<string, unknown>)[k]), console);
  expect(logs[0][0]).toBe('test NDEI');
  expect(logs[0][1] as number).toBeLessThan(0.1);
  expect(logs[1][1] as number).toBeLessThan(1);
});
