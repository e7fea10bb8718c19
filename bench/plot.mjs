// A dependency-free SVG line chart for `bench/run scale`: panels side by side, each with ours
// and the reference against N on a logarithmic axis.

const W = 440;
const H = 300;
const M = { left: 64, right: 16, top: 44, bottom: 48 };
const COLORS = { ours: '#d9480f', js: '#1c7ed6' };
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Round numbers for a linear axis from 0 to at least `max`. */
function ticks(max) {
  const raw = max / 5;
  const pow = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? raw;
  const out = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) out.push(v);
  if (out.at(-1) < max) out.push(out.at(-1) + step);
  return out;
}
const label = (v) => (v >= 10000 ? `${v / 1000}k` : v >= 100 ? v.toFixed(0) : `${+v.toFixed(2)}`);

function panel({ title, ours, js }, x0) {
  const points = [...ours, ...js].filter(([, y]) => Number.isFinite(y));
  const ns = [...new Set(points.map(([n]) => n))].sort((a, b) => a - b);
  const yTicks = ticks(Math.max(...points.map(([, y]) => y), 1e-9));
  const yMax = yTicks.at(-1);
  const [lo, hi] = [Math.log10(ns[0]), Math.log10(ns.at(-1))];
  const px = (n) => x0 + M.left + ((Math.log10(n) - lo) / (hi - lo || 1)) * (W - M.left - M.right);
  const py = (y) => M.top + (1 - y / yMax) * (H - M.top - M.bottom);
  const out = [`<text x="${x0 + W / 2}" y="24" text-anchor="middle" font-weight="bold">${esc(title)}</text>`];
  for (const t of yTicks) {
    out.push(`<line x1="${x0 + M.left}" x2="${x0 + W - M.right}" y1="${py(t)}" y2="${py(t)}" stroke="#ddd"/>`);
    out.push(`<text x="${x0 + M.left - 6}" y="${py(t) + 4}" text-anchor="end">${label(t)}</text>`);
  }
  for (const n of ns) {
    out.push(`<line x1="${px(n)}" x2="${px(n)}" y1="${M.top}" y2="${H - M.bottom}" stroke="#eee"/>`);
    out.push(`<text x="${px(n)}" y="${H - M.bottom + 16}" text-anchor="middle">${label(n)}</text>`);
  }
  out.push(`<text x="${x0 + (W + M.left) / 2}" y="${H - 10}" text-anchor="middle">subscribers (N, log scale)</text>`);
  for (const [name, series] of [['ours', ours], ['js', js]]) {
    const pts = series.filter(([, y]) => Number.isFinite(y));
    out.push(
      `<polyline fill="none" stroke="${COLORS[name]}" stroke-width="2" points="${pts.map(([n, y]) => `${px(n).toFixed(1)},${py(y).toFixed(1)}`).join(' ')}"/>`,
    );
    for (const [n, y] of pts) out.push(`<circle cx="${px(n).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3.5" fill="${COLORS[name]}"><title>${name} N=${n}: ${label(y)}</title></circle>`);
  }
  return out.join('\n');
}

/** The whole figure: `panels` is a list of `{ title, ours: [[n, y]], js: [[n, y]] }`. */
export function scalePlot({ title, panels }) {
  const width = W * panels.length;
  const legend = [
    ['ours', 'ours (Rust/Wasm)'],
    ['js', 'JS reference'],
  ]
    .map(([k, text], i) => {
      const x = width / 2 - 150 + i * 170;
      return `<rect x="${x}" y="${H + 8}" width="14" height="4" fill="${COLORS[k]}"/><text x="${x + 20}" y="${H + 14}">${text}</text>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H + 48}" viewBox="0 0 ${width} ${H + 48}" font-family="sans-serif" font-size="12">
<title>${esc(title)}</title>
<rect width="100%" height="100%" fill="#fff"/>
${panels.map((p, i) => panel(p, i * W)).join('\n')}
${legend}
<text x="${width / 2}" y="${H + 36}" text-anchor="middle" fill="#555">${esc(title)}</text>
</svg>
`;
}
