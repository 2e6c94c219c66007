// Line charts on uPlot. Each chart registers its uPlot instance in window.__stoke.charts[key]
// (the UI tests read the plotted data from there) and mirrors counts in data-* attributes.
import uPlot from '../vendor/uPlot.esm.js';
import { h } from './dom.js';
import { fmtNum } from './format.js';

export const kPalette = ['#1c7ed6', '#e8590c', '#2b8a3e', '#ae3ec9', '#f08c00', '#0c8599', '#c2255c', '#5c940d',
  '#4263eb', '#862e9c'];

// Steps are integers: no 1.2, 1.4 ticks on a step axis.
const kStepIncrs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7];

// Counts non-null y values over all series of an aligned uPlot data array.
function countPoints(data) {
  let n = 0;
  for (let s = 1; s < data.length; s += 1) {
    for (const v of data[s]) if (v !== null && v !== undefined) n += 1;
  }
  return n;
}

// Draws an "x" at the last point of every series flagged `stopped` (pruned trials).
function stoppedMarkers(u) {
  const { ctx } = u;
  ctx.save();
  ctx.lineWidth = 2 * devicePixelRatio;
  u.series.forEach((s, i) => {
    if (i === 0 || !s.stopped || !s.show) return;
    const ys = u.data[i];
    let j = ys.length - 1;
    while (j >= 0 && (ys[j] === null || ys[j] === undefined)) j -= 1;
    if (j < 0) return;
    const x = u.valToPos(u.data[0][j], 'x', true);
    const y = u.valToPos(ys[j], s.scale, true);
    const r = 4 * devicePixelRatio;
    ctx.strokeStyle = typeof s.stroke === 'function' ? s.stroke(u, i) : s.stroke;
    ctx.beginPath();
    ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r);
    ctx.moveTo(x + r, y - r); ctx.lineTo(x - r, y + r);
    ctx.stroke();
  });
  ctx.restore();
}

// A chart in `box`: {key, title, series:[{label, stroke, dash, width, stopped}], data:[xs, ys...],
// time (x is unix seconds), legend, height, onZoom(min|null, max|null)} -> {plot, update(data, series)}.
export function lineChart(box, options) {
  const { key, title, height = 240, time = false, legend = true, onZoom, xLabel = 'step', yLabel = '' } = options;
  const target = h('div', { class: 'chart' });
  const heading = title ? h('h3', {}, title) : null;
  const wrap = h('div', { class: 'chart-box', role: 'group', 'aria-label': title || key }, heading, target);
  box.append(wrap);
  let plot = null;
  let seriesSigs = [];
  let userZoom = false;

  const seriesOpts = (s, i) => ({
    label: s.label,
    stroke: s.stroke || kPalette[i % kPalette.length],
    width: s.width ?? 1.5,
    dash: s.dash,
    spanGaps: true,
    value: (u, v) => fmtNum(v),
    stopped: Boolean(s.stopped),
  });

  const make = (data, series) => {
    if (plot) plot.destroy();
    const opts = {
      width: Math.max(300, target.clientWidth || box.clientWidth || 600),
      height,
      scales: { x: { time } },
      legend: { show: legend, live: legend },
      cursor: { drag: { x: true, y: false }, sync: options.sync ? { key: options.sync } : undefined },
      axes: [
        { label: time ? '' : xLabel, labelSize: time ? 0 : 18, size: time ? 50 : 36, incrs: time ? undefined : kStepIncrs },
        { label: yLabel, labelSize: yLabel ? 18 : 0, size: 56, values: (u, vals) => vals.map(fmtNum) },
      ],
      series: [
        { label: time ? 'time' : xLabel, value: time ? '{HH}:{mm}:{ss}' : (u, v) => fmtNum(v) },
        ...series.map(seriesOpts),
      ],
      hooks: {
        draw: [stoppedMarkers],
        setSelect: [(u) => {
          if (u.select.width < 3) return;
          userZoom = true;
          const min = u.posToVal(u.select.left, 'x');
          const max = u.posToVal(u.select.left + u.select.width, 'x');
          onZoom?.(min, max);
        }],
      },
    };
    plot = new uPlot(opts, data, target);
    plot.over.addEventListener('dblclick', () => { if (userZoom) { userZoom = false; onZoom?.(null, null); } });
  };

  // Series appended at the end (curves arriving one by one) are added in place; any other change rebuilds.
  const update = (data, series) => {
    const sigs = series.map((s) => JSON.stringify(s));
    const extends_ = plot && sigs.length >= seriesSigs.length && seriesSigs.every((sig, i) => sig === sigs[i]);
    if (!extends_) {
      make(data, series);
    } else {
      for (let i = seriesSigs.length; i < series.length; i += 1) plot.addSeries(seriesOpts(series[i], i), i + 1);
      plot.setData(data);
    }
    seriesSigs = sigs;
    wrap.dataset.series = String(series.length);
    wrap.dataset.points = String(countPoints(data));
    window.__stoke.charts[key] = plot;
  };
  update(options.data, options.series);

  const resize = new ResizeObserver(() => {
    const w = Math.max(300, target.clientWidth);
    if (plot && Math.abs(plot.width - w) > 2) plot.setSize({ width: w, height });
  });
  resize.observe(target);
  return {
    get plot() { return plot; },
    element: wrap,
    update,
    destroy() { resize.disconnect(); plot?.destroy(); plot = null; wrap.remove(); delete window.__stoke.charts[key]; },
  };
}

// Aligns series given as [[x, y], ...] lists onto one x array (uPlot's data layout), nulls where absent.
export function alignSeries(pointLists) {
  if (pointLists.length === 1) {
    const pts = pointLists[0];
    return [pts.map((p) => p[0]), pts.map((p) => p[1])];
  }
  const tables = pointLists.map((pts) => [pts.map((p) => p[0]), pts.map((p) => p[1])]);
  return uPlot.join(tables);
}
