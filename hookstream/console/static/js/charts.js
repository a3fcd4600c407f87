// Tiny SVG charts (no library): a sparkline and a horizontal bar.
import { h, svg } from './dom.js';

const W = 200;
const H = 36;

export function sparkline(values, label) {
  const el = svg('svg', { class: 'spark', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': label });
  const points = values.filter((v) => Number.isFinite(v));
  if (points.length < 2) return el;
  const max = Math.max(...points, 1e-9);
  const step = W / (points.length - 1);
  const xy = points.map((v, i) => `${(i * step).toFixed(1)},${(H - 2 - (v / max) * (H - 4)).toFixed(1)}`);
  el.append(svg('polygon', { points: `0,${H} ${xy.join(' ')} ${W},${H}` }));
  el.append(svg('polyline', { points: xy.join(' ') }));
  return el;
}

export function bar(label, value, max, kind = '') {
  const width = max > 0 ? Math.max(0, Math.min(1, value / max)) * 100 : 0;
  const graphic = svg('svg', { viewBox: '0 0 100 12', preserveAspectRatio: 'none', 'aria-hidden': 'true' });
  graphic.append(svg('rect', { class: 'track', x: 0, y: 0, width: 100, height: 12 }));
  graphic.append(svg('rect', { class: `fill ${kind}`, x: 0, y: 0, width: width.toFixed(2), height: 12 }));
  return h('div', { class: 'bar' }, h('span', { text: label }), graphic, h('span', { class: 'mono', text: String(value) }));
}

export function tile(label, value, sub, series) {
  return h('div', { class: 'tile', role: 'group', 'aria-label': label },
    h('div', { class: 'label', text: label }),
    h('div', { class: 'value', text: value }),
    sub ? h('div', { class: 'sub', text: sub }) : null,
    series ? sparkline(series, `${label}, recent trend`) : null);
}
