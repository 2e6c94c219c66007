// Parallel-coordinates plot on a canvas: one vertical axis per hyperparameter plus the objective,
// one polyline per trial coloured by its objective value; the best trial is drawn last, thick.
// Registered in window.__stoke.parcoords[key] with the axes and the number of lines drawn.

const kMargin = { top: 28, bottom: 30, left: 40, right: 60 };

function numericAxis(name, values, log) {
  const finite = values.filter((v) => typeof v === 'number' && Number.isFinite(v) && (!log || v > 0));
  let min = Math.min(...finite);
  let max = Math.max(...finite);
  if (!finite.length) { min = 0; max = 1; }
  if (min === max) { min -= 0.5; max += 0.5; if (log) { min = max / 10; } }
  const f = log ? Math.log10 : (v) => v;
  const lo = f(min);
  const hi = f(max);
  return { name, kind: 'numeric', log, min, max, pos: (v) => (typeof v === 'number' ? (f(v) - lo) / (hi - lo || 1) : null) };
}

function categoricalAxis(name, values, choices) {
  const cats = choices?.length ? choices.map(String) : [...new Set(values.map(String))].sort();
  const n = Math.max(1, cats.length - 1);
  return { name, kind: 'categorical', choices: cats, pos: (v) => (cats.indexOf(String(v)) < 0 ? null : cats.indexOf(String(v)) / n) };
}

// Colour from poor (light blue) to good (dark orange) for t in 0..1.
function ramp(t) {
  const a = [116, 192, 252];
  const b = [217, 72, 15];
  const c = a.map((x, i) => Math.round(x + (b[i] - x) * t));
  return `rgba(${c[0]},${c[1]},${c[2]},0.55)`;
}

function fmtTick(axis, t) {
  if (axis.kind === 'categorical') return null;
  const v = axis.log ? 10 ** (Math.log10(axis.min) + t * (Math.log10(axis.max) - Math.log10(axis.min)))
    : axis.min + t * (axis.max - axis.min);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(1) : String(+v.toPrecision(3));
}

// params: [{name, type, log, choices}], rows: [{params, value, best}], objective: {metric, direction}.
export function drawParcoords(canvas, key, { params, rows, objective }) {
  const dpr = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || 800;
  const height = canvas.clientHeight || 340;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);

  const axes = params.map((p) => {
    const values = rows.map((r) => r.params?.[p.name]);
    const numeric = p.type === 'float' || p.type === 'int' || (!p.type && values.every((v) => v === undefined || typeof v === 'number'));
    return numeric ? numericAxis(p.name, values, Boolean(p.log)) : categoricalAxis(p.name, values, p.choices);
  });
  const objAxis = numericAxis(objective?.metric || 'objective', rows.map((r) => r.value), false);
  objAxis.objective = true;
  axes.push(objAxis);

  const plotH = height - kMargin.top - kMargin.bottom;
  const xs = axes.map((_, i) => kMargin.left + (axes.length === 1 ? 0 : (i * (width - kMargin.left - kMargin.right)) / (axes.length - 1)));
  const yOf = (t) => kMargin.top + (1 - t) * plotH;
  const maximize = objective?.direction === 'maximize';
  const goodness = (v) => {
    const t = objAxis.pos(v);
    return t === null ? null : maximize ? t : 1 - t;
  };

  const drawLine = (row, style, widthPx) => {
    ctx.strokeStyle = style;
    ctx.lineWidth = widthPx;
    ctx.beginPath();
    let pen = false;
    axes.forEach((axis, i) => {
      const t = axis.objective ? axis.pos(row.value) : axis.pos(row.params?.[axis.name]);
      if (t === null || Number.isNaN(t)) { pen = false; return; }
      const y = yOf(t);
      if (pen) ctx.lineTo(xs[i], y); else ctx.moveTo(xs[i], y);
      pen = true;
    });
    ctx.stroke();
  };

  let drawn = 0;
  // Trials without a value first (grey, underneath), then by goodness so the good ones are on top.
  const ordered = rows.filter((r) => !r.best).map((r) => ({ r, g: goodness(r.value) }));
  ordered.sort((a, b) => (a.g ?? -1) - (b.g ?? -1));
  for (const { r, g } of ordered) {
    drawLine(r, g === null ? 'rgba(134,142,150,0.35)' : ramp(g), 1);
    drawn += 1;
  }
  for (const r of rows.filter((x) => x.best)) {
    drawLine(r, '#111', 3);
    drawn += 1;
  }

  ctx.fillStyle = '#1d2330';
  ctx.font = '12px system-ui, sans-serif';
  ctx.textAlign = 'center';
  axes.forEach((axis, i) => {
    ctx.strokeStyle = '#5d6678';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(xs[i], yOf(0));
    ctx.lineTo(xs[i], yOf(1));
    ctx.stroke();
    ctx.font = 'bold 12px system-ui, sans-serif';
    ctx.fillText(axis.objective ? `${axis.name} (${maximize ? 'max' : 'min'})` : `${axis.name}${axis.log ? ' (log)' : ''}`, xs[i], 16);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textAlign = 'left';
    if (axis.kind === 'categorical') {
      axis.choices.forEach((c, k) => ctx.fillText(c, xs[i] + 4, yOf(axis.pos(c)) + 4));
    } else {
      for (const t of [0, 0.5, 1]) ctx.fillText(fmtTick(axis, t), xs[i] + 4, yOf(t) + 4);
    }
    ctx.textAlign = 'center';
  });

  canvas.dataset.lines = String(drawn);
  canvas.dataset.axes = axes.map((a) => a.name).join(',');
  window.__stoke.parcoords[key] = { axes: axes.map((a) => a.name), lines: drawn };
  return drawn;
}
