// A small inline-SVG time-series chart with horizontal alarm-level lines (no chart library needed).
const LEVEL_COLOURS = { blue: '#1f6fd1', yellow: '#d4a300', orange: '#e86a10', red: '#c8102e' };

export function seriesChart(series, { width = 340, height = 180, title = '', numeric = false, xunit = 'm', invert = false } = {}) {
  const xval = (p) => (numeric ? Number(p.x) : new Date(p.t).getTime());
  const pts = (series.points || []).map((p) => [xval(p), invert ? -Number(p.v) : Number(p.v)]).filter((p) => isFinite(p[0]) && isFinite(p[1]));
  const xfmt = (x) => (numeric ? `${Math.round(x)} ${xunit}` : new Date(x).toISOString().slice(0, 10));
  const thr = (series.thresholds || []).filter((x) => isFinite(Number(x.value)));
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', title);
  const m = { l: 44, r: 8, t: 16, b: 22 };
  const add = (tag, attrs, text) => {
    const el = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    svg.appendChild(el);
    return el;
  };
  add('text', { x: m.l, y: 11, class: 'ctitle' }, title + (series.unit ? ` (${series.unit})` : ''));
  if (!pts.length) { add('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'hint' }, '—'); return svg; }
  const xs = pts.map((p) => p[0]);
  const ys = pts.map((p) => p[1]).concat(thr.map((x) => Number(x.value)));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs) || 1];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (y0 === y1) { y0 -= 1; y1 += 1; }
  const sx = (x) => m.l + (x - x0) / ((x1 - x0) || 1) * (width - m.l - m.r);
  const sy = (y) => height - m.b - (y - y0) / (y1 - y0) * (height - m.t - m.b);
  add('line', { x1: m.l, y1: height - m.b, x2: width - m.r, y2: height - m.b, class: 'axis' });
  add('line', { x1: m.l, y1: m.t, x2: m.l, y2: height - m.b, class: 'axis' });
  add('text', { x: m.l - 4, y: sy(y1) + 4, 'text-anchor': 'end', class: 'tick' }, y1.toFixed(1));
  add('text', { x: m.l - 4, y: sy(y0), 'text-anchor': 'end', class: 'tick' }, y0.toFixed(1));
  add('text', { x: m.l, y: height - 6, class: 'tick' }, xfmt(x0));
  add('text', { x: width - m.r, y: height - 6, 'text-anchor': 'end', class: 'tick' }, xfmt(x1));
  for (const th of thr) {
    const y = sy(Number(th.value));
    const c = LEVEL_COLOURS[th.level] || '#888';
    add('line', { x1: m.l, y1: y, x2: width - m.r, y2: y, stroke: c, 'stroke-dasharray': '4 3', class: 'thr' });
    add('text', { x: width - m.r - 2, y: y - 2, 'text-anchor': 'end', fill: c, class: 'tick' }, th.label || th.level);
  }
  add('polyline', { points: pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' '), class: 'series' });
  return svg;
}
