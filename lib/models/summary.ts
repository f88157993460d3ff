// model.summary() and util.inspect(model): one row per layer (name, type, output shape,
// parameter count) with totals, dtype and device, for every model class.
import type { Device } from '../device/device';
import type { ActShape } from '../layers/layer';
import type { FlatParameters } from '../params';
import type { Sequential } from '../sequential';

export interface SummaryRow {
  name: string;
  type: string;
  /** e.g. '[batch, steps, 64]'. */
  output: string;
  params: number;
}

/** An activation shape as the summary prints it. */
export function shapeText(s: ActShape | null | undefined): string {
  if (!s) return '-';
  if (s.kind === 'seq') return `[batch, steps, ${s.F}]`;
  if (s.kind === 'vec') return `[batch, ${s.F}]`;
  return `[batch, steps] ids < ${s.F}`;
}

/** Parameters whose names start with `prefix.`. */
export function paramCount(params: FlatParameters, prefix: string): number {
  let n = 0;
  for (const e of params.list()) if (e.name.startsWith(`${prefix}.`)) n += e.size;
  return n;
}

/** The rows of a Sequential's layers (built). */
export function layerRows(net: Sequential): SummaryRow[] {
  return net.layers.map((l, i) => ({
    name: l.name,
    type: l.type,
    output: shapeText(net.layerOutputs[i]),
    params: paramCount(net.params, l.name),
  }));
}

/** Rows plus a row for any parameters none of them holds. */
function complete(rows: SummaryRow[], params: FlatParameters): SummaryRow[] {
  const held = rows.reduce((n, r) => n + r.params, 0);
  return held < params.size ? [...rows, { name: '(other)', type: '-', output: '-', params: params.size - held }] : rows;
}

const thousands = (n: number) => n.toLocaleString('en-US');

/** The table model.summary() returns. */
export function summaryTable(title: string, rows: SummaryRow[], params: FlatParameters, device: Device): string {
  const all = complete(rows, params);
  const head = ['layer', 'type', 'output shape', 'parameters'];
  const cells = all.map((r) => [r.name, r.type, r.output, thousands(r.params)]);
  const w = head.map((h, k) => Math.max(h.length, ...cells.map((c) => c[k].length)));
  const line = (c: string[]) =>
    c
      .map((x, k) => (k === 3 ? x.padStart(w[k]) : x.padEnd(w[k])))
      .join('  ')
      .trimEnd();
  const rule = '-'.repeat(w.reduce((a, b) => a + b, 0) + 2 * (w.length - 1));
  return [
    title,
    rule,
    line(head),
    rule,
    ...cells.map(line),
    rule,
    `total parameters: ${thousands(params.size)}`,
    `dtype: ${params.dtype}`,
    `device: ${device.name}`,
  ].join('\n');
}

/** What util.inspect / console.log show: one line per layer. */
export function inspectText(title: string, rows: SummaryRow[], params: FlatParameters, device: Device): string {
  const all = complete(rows, params);
  const body = all.map((r) => `  ${r.name}: ${r.type} -> ${r.output}, ${thousands(r.params)} parameters`);
  return [`${title} (${thousands(params.size)} parameters, ${params.dtype}, ${device.name}) {`, ...body, '}'].join(
    '\n',
  );
}
