// One self-contained report.html per run: inline SVG line charts, tables, no scripts, no network.

export interface Series {
  name: string;
  points: Array<[number, number]>;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf'];

export function esc(s: unknown): string {
  return String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

function tick(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(1) : Number(v.toPrecision(3)).toString();
}

/** A line chart of one or more series as an inline SVG (a path per series). */
export function lineChart(title: string, series: Series[], xLabel: string, logY = false): string {
  const W = 540,
    H = 260,
    L = 64,
    R = 12,
    T = 28,
    B = 40;
  const pts = series.map((s) => ({
    ...s,
    points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0)),
  }));
  const all = pts.flatMap((s) => s.points);
  if (all.length === 0) return `<figure><figcaption>${esc(title)}</figcaption><p>no data</p></figure>`;
  const fy = (y: number) => (logY ? Math.log10(y) : y);
  let x0 = Math.min(...all.map((p) => p[0])),
    x1 = Math.max(...all.map((p) => p[0]));
  let y0 = Math.min(...all.map((p) => fy(p[1]))),
    y1 = Math.max(...all.map((p) => fy(p[1])));
  if (x1 === x0) ((x0 -= 0.5), (x1 += 0.5));
  if (y1 === y0) {
    const d = Math.abs(y0) * 0.1 || 0.5;
    y0 -= d;
    y1 += d;
  }
  const sx = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const sy = (y: number) => T + (1 - (fy(y) - y0) / (y1 - y0)) * (H - T - B);
  const parts: string[] = [];
  parts.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#ccc"/>`);
  for (let i = 0; i <= 4; i++) {
    const yv = y0 + ((y1 - y0) * i) / 4;
    const y = T + (1 - i / 4) * (H - T - B);
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    parts.push(
      `<text x="${L - 4}" y="${y + 4}" text-anchor="end" font-size="10">${esc(tick(logY ? 10 ** yv : yv))}</text>`,
    );
    const xv = x0 + ((x1 - x0) * i) / 4;
    parts.push(`<text x="${sx(xv)}" y="${H - B + 14}" text-anchor="middle" font-size="10">${esc(tick(xv))}</text>`);
  }
  parts.push(
    `<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle" font-size="11">${esc(xLabel)}${logY ? ' (y on a log scale)' : ''}</text>`,
  );
  pts.forEach((s, i) => {
    const c = COLORS[i % COLORS.length]!;
    if (s.points.length === 1) {
      const [x, y] = s.points[0]!;
      parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${c}"/>`);
    }
    const d = s.points.map(([x, y], j) => `${j ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
    parts.push(
      `<path class="series" d="${d}" fill="none" stroke="${c}" stroke-width="1.5"><title>${esc(s.name)}</title></path>`,
    );
    parts.push(
      `<rect x="${L + 8 + i * 130}" y="8" width="10" height="10" fill="${c}"/><text x="${L + 22 + i * 130}" y="17" font-size="11">${esc(s.name)}</text>`,
    );
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`;
  return `<figure><figcaption>${esc(title)}</figcaption>${svg}${parts.join('')}</svg></figure>`;
}

export function table(head: string[], rows: unknown[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

export interface ReportInput {
  title: string;
  description: string;
  summary: Array<[string, unknown]>;
  charts: string[];
  final: Record<string, number>;
  samples: string[];
  samplesTitle: string;
  parameters: Array<{ name: string; shape: number[]; size: number }>;
  config: unknown;
}

export function renderReport(r: ReportInput): string {
  const total = r.parameters.reduce((a, p) => a + p.size, 0);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>
body{font-family:sans-serif;max-width:1180px;margin:1em auto;padding:0 1em;color:#222}
figure{display:inline-block;margin:0.5em;vertical-align:top}figcaption{font-weight:bold;margin-bottom:4px}
table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left;font-size:13px}
pre{background:#f6f6f6;padding:0.6em;overflow:auto;font-size:12px}
</style></head><body>
<h1>${esc(r.title)}</h1>
<p>${esc(r.description)}</p>
${table(['', ''], r.summary)}
<h2>Final metrics</h2>
${table(
  ['metric', 'value'],
  Object.entries(r.final).map(([k, v]) => [k, Number.isFinite(v) ? Number(v.toPrecision(5)) : v]),
)}
<h2>Training</h2>
${r.charts.join('\n')}
<h2>${esc(r.samplesTitle)}</h2>
<pre>${r.samples.map(esc).join('\n')}</pre>
<h2>Model: ${total.toLocaleString('en-US')} parameters</h2>
${table(
  ['parameter', 'shape', 'count'],
  r.parameters.map((p) => [p.name, p.shape.join(' x '), p.size]),
)}
<h2>Configuration</h2>
<pre>${esc(JSON.stringify(r.config, null, 2))}</pre>
</body></html>
`;
}
