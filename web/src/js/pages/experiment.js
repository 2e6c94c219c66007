// One experiment: progress, best trial, sortable trials table (best highlighted), learning curves of all
// trials overlaid (pruned ones end in an x), and a parallel-coordinates plot of hyperparameters vs objective.
// Built for 1,000+ trials: the table is one HTML string, curves load in the background (6 at a time,
// downsampled server-side) and only for trials that reported something.
import { api, download, request } from '../api.js';
import { lineChart } from '../charts.js';
import { badge, clear, esc, h, toast } from '../dom.js';
import { fmtNum, fmtTime } from '../format.js';
import { drawParcoords } from '../parcoords.js';
import uPlot from '../../vendor/uPlot.esm.js';

const kCurvePoints = 200;
const kConcurrency = 6;
const kDoneTrial = new Set(['COMPLETED', 'PRUNED', 'FAILED', 'STOPPED']);

function paramDefs(exp, trials) {
  const space = exp.spec?.space || {};
  const names = Object.keys(space).filter((k) => space[k]?.type !== 'fixed');
  if (!names.length) {
    const seen = new Set();
    for (const t of trials) for (const k of Object.keys(t.params || {})) seen.add(k);
    return [...seen].map((name) => ({ name }));
  }
  return names.map((name) => ({ name, ...space[name] }));
}

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;     // empty values sort last either way
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}

export async function render(main, { args }, ctx) {
  const id = Number(args[0]);
  const t0 = performance.now();
  let [exp, trials] = await Promise.all([api(`/experiments/${id}`, { signal: ctx.signal }),
    api(`/experiments/${id}/trials`, { signal: ctx.signal }).then((r) => r.trials || [])]);
  const fetchedMs = performance.now() - t0;
  let params = paramDefs(exp, trials);
  const sort = { key: 'id', dir: 1 };
  const metric = exp.objective?.metric;

  const title = h('h1');
  const summary = h('div', { class: 'cards', id: 'exp-summary' });
  const bestBox = h('div', { id: 'best-trial' });
  const stopBtn = h('button', { type: 'button', class: 'btn btn-danger', id: 'stop' }, 'Stop');
  const resumeBtn = h('button', { type: 'button', class: 'btn', id: 'resume' }, 'Resume');
  const delBtn = h('button', { type: 'button', class: 'btn btn-danger', id: 'delete' }, 'Delete');
  const csvBtn = h('button', { type: 'button', class: 'btn', id: 'export-csv' }, 'Export CSV');
  const jsonBtn = h('button', { type: 'button', class: 'btn', id: 'export-json' }, 'JSON');
  const thead = h('thead');
  const tbody = h('tbody');
  const table = h('table', { class: 'data', id: 'trials-table', 'aria-label': 'Trials', 'aria-describedby': 'trials-note' }, thead, tbody);
  const canvas = h('canvas', { class: 'parcoords', id: 'parcoords', role: 'img' });
  const curvesBox = h('div', { id: 'curves' });
  const curvesNote = h('p', { class: 'legend-note', id: 'curves-note', 'aria-live': 'polite' });

  const act = async (path, what) => {
    try {
      exp = await api(path, { method: 'POST', signal: ctx.signal });
      toast(`${what}: experiment ${id}`);
      paintHeader();
    } catch (e) { toast(`${what} failed: ${e.message}`, 'error'); }
  };
  stopBtn.addEventListener('click', () => act(`/experiments/${id}/stop`, 'Stopped'));
  resumeBtn.addEventListener('click', () => act(`/experiments/${id}/resume`, 'Resumed'));
  delBtn.addEventListener('click', async () => {
    if (!confirm(`Delete experiment ${id} and its trials?`)) return;
    try { await request(`/experiments/${id}`, { method: 'DELETE' }); location.hash = '#/experiments'; } catch (e) { toast(`Delete failed: ${e.message}`, 'error'); }
  });
  csvBtn.addEventListener('click', () => download(`/experiments/${id}/export`, { format: 'csv' }, `experiment-${id}.csv`).catch((e) => toast(e.message, 'error')));
  jsonBtn.addEventListener('click', () => download(`/experiments/${id}/export`, { format: 'json' }, `experiment-${id}.json`).catch((e) => toast(e.message, 'error')));

  const paintHeader = () => {
    clear(title).append(exp.name || `experiment ${id}`, h('span', { class: 'muted' }, `#${id}`), badge(exp.state));
    title.querySelector('.badge').id = 'exp-state';
    const t = exp.trials || {};
    const pct = Math.round((exp.progress ?? 0) * 100);
    clear(summary).append(
      h('div', { class: 'card' }, h('div', { class: 'v' }, `${pct}%`),
        h('progress', { max: 1, value: exp.progress ?? 0, id: 'exp-progress', 'aria-label': 'Experiment progress' })),
      h('div', { class: 'card', id: 'trial-counts' }, h('div', { class: 'v' }, String(t.total ?? trials.length)),
        h('div', { class: 'l' }, `trials: ${t.running ?? 0} running, ${t.completed ?? 0} completed, ${t.pruned ?? 0} pruned, ${t.failed ?? 0} failed`)),
      h('div', { class: 'card' }, h('div', { class: 'v' }, exp.best ? fmtNum(exp.best.value) : '—'),
        h('div', { class: 'l' }, `best ${metric || 'objective'} (${exp.objective?.direction || ''})`)),
      h('div', { class: 'card' }, h('div', { class: 'v' }, exp.algorithm?.name || '—'),
        h('div', { class: 'l' }, `budget ${exp.budget?.max_trials ?? '?'} trials, ${exp.budget?.max_parallel ?? '?'} in parallel`)));
    clear(bestBox).append(exp.best
      ? h('p', {}, h('strong', {}, `Best: trial ${exp.best.trial}`), ` (${metric} = ${fmtNum(exp.best.value)}) `,
        h('span', { class: 'mono' }, Object.entries(exp.best.params || {}).map(([k, v]) => `${k}=${fmtNum(v)}`).join('  ')), ' · ',
        exp.best.job !== undefined && exp.best.job !== null ? h('a', { href: `#/jobs/${exp.best.job}` }, `job ${exp.best.job}`) : '')
      : h('p', { class: 'muted' }, 'No trial has reported the objective yet.'));
    if (exp.reason) bestBox.append(h('p', { class: 'muted' }, exp.reason));
    stopBtn.hidden = exp.state !== 'RUNNING';
    resumeBtn.hidden = exp.state !== 'STOPPED';
    delBtn.hidden = exp.state === 'RUNNING';
  };

  // Trials table: header buttons sort (aria-sort says how); one string of HTML for speed.
  const columns = () => [
    { key: 'id', label: 'Trial', num: true, get: (t) => t.id },
    { key: 'state', label: 'State', get: (t) => t.state },
    ...params.map((p) => ({ key: `p:${p.name}`, label: p.name, num: p.type !== 'categorical', get: (t) => t.params?.[p.name] })),
    { key: 'value', label: metric || 'value', num: true, get: (t) => t.value },
    { key: 'last_step', label: 'Last step', num: true, get: (t) => t.last_step },
    { key: 'attempts', label: 'Attempts', num: true, get: (t) => t.attempts },
    { key: 'job', label: 'Job', num: true, get: (t) => t.job },
  ];
  const paintHead = () => {
    clear(thead).append(h('tr', {}, ...columns().map((c) => {
      const th = h('th', { scope: 'col', class: c.num ? 'num' : '' },
        h('button', { type: 'button', class: 'sort', 'data-sort': c.key }, c.label));
      if (sort.key === c.key) th.setAttribute('aria-sort', sort.dir > 0 ? 'ascending' : 'descending');
      return th;
    })));
  };
  thead.addEventListener('click', (ev) => {
    const btn = ev.target.closest('button[data-sort]');
    if (!btn) return;
    if (sort.key === btn.dataset.sort) sort.dir = -sort.dir;
    else { sort.key = btn.dataset.sort; sort.dir = 1; }
    paintHead();
    paintRows();
    thead.querySelector(`button[data-sort="${CSS.escape(sort.key)}"]`)?.focus();
  });
  const paintRows = () => {
    const started = performance.now();
    const cols = columns();
    const col = cols.find((c) => c.key === sort.key) || cols[0];
    const sorted = trials.slice().sort((a, b) => {
      const va = col.get(a);
      const vb = col.get(b);
      if (va === null || va === undefined || vb === null || vb === undefined) return compare(va, vb);
      return sort.dir * compare(va, vb);
    });
    const bestId = exp.best?.trial;
    let html = '';
    for (const t of sorted) {
      const best = t.id === bestId;
      html += `<tr data-trial="${t.id}" class="${best ? 'best' : ''}">`;
      for (const c of cols) {
        const v = c.get(t);
        let cell;
        if (c.key === 'state') cell = `<span class="badge s-${esc(v)}">${esc(v)}</span>${t.reason ? ` <span class="muted">${esc(t.reason)}</span>` : ''}`;
        else if (c.key === 'job') cell = v === null || v === undefined ? '—' : `<a href="#/jobs/${esc(v)}">${esc(v)}</a>`;
        else if (c.key === 'id') cell = `${esc(v)}${best ? ' <span aria-label="best trial" title="best trial">★</span>' : ''}`;
        else cell = esc(fmtNum(v));
        html += `<td class="${c.num ? 'num' : ''}">${cell}</td>`;
      }
      html += '</tr>';
    }
    tbody.innerHTML = html;
    table.dataset.rows = String(sorted.length);
    table.dataset.paintMs = (performance.now() - started).toFixed(1);
  };

  const paintParcoords = () => {
    const bestId = exp.best?.trial;
    const rows = trials.map((t) => ({ params: t.params, value: t.value, best: t.id === bestId }));
    const n = drawParcoords(canvas, 'experiment', { params, rows, objective: exp.objective });
    canvas.setAttribute('aria-label', `Parallel coordinates of ${params.map((p) => p.name).join(', ')} against ${metric}: ${n} trials; the table below lists the same data`);
  };
  const resize = new ResizeObserver(() => paintParcoords());
  resize.observe(canvas);
  ctx.onLeave(() => resize.disconnect());

  // Learning curves: cached per trial; finished trials load once, running ones on every poll.
  const curves = new Map();     // trial id -> {points, state}
  const pending = new Set();
  let chart = null;
  let chartTimer = 0;
  const curveStyle = (t) => {
    if (t.id === exp.best?.trial) return { stroke: '#111', width: 2.5 };
    if (t.state === 'PRUNED') return { stroke: 'rgba(232,89,12,0.75)', dash: [5, 3], stopped: true };
    if (t.state === 'RUNNING') return { stroke: '#1c7ed6', width: 1.5 };
    if (t.state === 'FAILED') return { stroke: 'rgba(201,42,42,0.6)' };
    return { stroke: 'rgba(76,110,245,0.45)' };
  };
  // Series in the order curves arrived, so a newly loaded curve appends to the chart instead of rebuilding it.
  const arrival = [];
  let paintCost = 0;
  const paintCurves = () => {
    chartTimer = 0;
    if (!ctx.alive) return;
    const started = performance.now();
    const byId = new Map(trials.map((t) => [t.id, t]));
    const list = arrival.map((tid) => byId.get(tid)).filter((t) => t && curves.get(t.id)?.points.length);
    if (!list.length) {
      if (!chart) clear(curvesBox).append(h('p', { class: 'chart-empty' }, `No trial has reported ${metric} yet.`));
      return;
    }
    const data = uPlot.join(list.map((t) => {
      const pts = curves.get(t.id).points;
      return [pts.map((p) => p[0]), pts.map((p) => p[1])];
    }));
    const defs = list.map((t) => ({ label: `trial ${t.id}`, ...curveStyle(t) }));
    if (!chart) {
      clear(curvesBox);
      chart = lineChart(curvesBox, { key: 'curves', series: defs, data, height: 300, legend: list.length <= 12, yLabel: metric });
    } else {
      chart.update(data, defs);
    }
    chart.element.dataset.trials = String(list.length);
    curvesNote.textContent = `${list.length} trial curves of ${metric}. Black: best trial; orange dashed ending in ×: pruned (stopped early); blue: running. Drag to zoom, double-click to reset.`;
    paintCost = performance.now() - started;
  };
  // Repaints at most every 400 ms, and less often when a paint is expensive (hundreds of curves).
  const scheduleCurves = () => { if (!chartTimer) chartTimer = setTimeout(paintCurves, Math.max(400, 4 * paintCost)); };
  ctx.onLeave(() => clearTimeout(chartTimer));
  // One loader at a time: a poll while curves are still loading does not race it, but makes it run
  // once more when it ends (with the trials that poll saw: a trial may have finished meanwhile, and
  // its curve must then be fetched again), and waits for that.
  let loading = null;
  let again = false;
  const loadCurves = () => {
    if (loading) {
      again = true;
      return loading;
    }
    loading = (async () => {
      do {
        again = false;
        await loadMissingCurves();
      } while (again && ctx.alive);
    })().finally(() => { loading = null; });
    return loading;
  };
  const loadMissingCurves = async () => {
    const todo = trials.filter((t) => t.last_step !== null && t.last_step !== undefined
      && !pending.has(t.id) && (!curves.has(t.id) || !kDoneTrial.has(curves.get(t.id).state)));
    let next = 0;
    const worker = async () => {
      while (ctx.alive && next < todo.length) {
        const t = todo[next++];
        pending.add(t.id);
        try {
          const res = await api(`/experiments/${id}/trials/${t.id}/metrics`, { query: { name: metric, points: kCurvePoints }, signal: ctx.signal });
          const s = (res.series || []).find((x) => x.name === metric) || (res.series || [])[0];
          if (!curves.has(t.id)) arrival.push(t.id);
          curves.set(t.id, { points: s?.points || [], state: t.state });
          scheduleCurves();
        } finally { pending.delete(t.id); }
      }
    };
    await Promise.all(Array.from({ length: kConcurrency }, worker));
    curvesBox.dataset.loaded = String(curves.size);
  };

  main.append(title,
    h('div', { class: 'row', style: 'margin-bottom:14px' }, stopBtn, resumeBtn, csvBtn, jsonBtn, delBtn,
      h('a', { class: 'btn', href: '#/experiments' }, 'All experiments')),
    summary,
    h('section', { class: 'panel', 'aria-labelledby': 'h-best' }, h('h2', { id: 'h-best' }, 'Best trial'), bestBox),
    h('div', { class: 'grid2' },
      h('section', { class: 'panel', 'aria-labelledby': 'h-curves' }, h('h2', { id: 'h-curves' }, 'Learning curves'), curvesBox, curvesNote),
      h('section', { class: 'panel', 'aria-labelledby': 'h-pc' }, h('h2', { id: 'h-pc' }, 'Hyperparameters vs objective'), canvas,
        h('p', { class: 'legend-note' }, 'One line per trial; colour from light blue (worse) to orange (better); the best trial is black.'))),
    h('section', { class: 'panel', 'aria-labelledby': 'h-trials' },
      h('h2', { id: 'h-trials' }, 'Trials'),
      h('p', { id: 'trials-note', class: 'legend-note' }, 'Select a column header to sort. The best trial is highlighted and marked ★.'),
      h('div', { class: 'table-wrap' }, table)));
  paintHeader();
  paintHead();
  paintRows();
  paintParcoords();
  // Timings for the scale test: server fetch vs. the page's own work.
  main.dataset.fetchMs = fetchedMs.toFixed(0);
  main.dataset.paintMs = (performance.now() - t0 - fetchedMs).toFixed(0);
  main.dataset.ready = 'true';

  let lastSig = JSON.stringify([exp, trials]);
  // A finished experiment is drawn from the first fetch; a running one polls until it ends, then once more.
  let settled = exp.state !== 'RUNNING';
  loadCurves().catch(() => {});
  await ctx.every(3000, async () => {
    if (settled) return;
    const wasDone = exp.state !== 'RUNNING';
    exp = await api(`/experiments/${id}`, { signal: ctx.signal });
    trials = (await api(`/experiments/${id}/trials`, { signal: ctx.signal })).trials || [];
    const sig = JSON.stringify([exp, trials]);
    if (sig !== lastSig) {
      lastSig = sig;
      const before = params.length;
      params = paramDefs(exp, trials);
      paintHeader();
      if (params.length !== before) paintHead();
      paintRows();
      paintParcoords();
    }
    await loadCurves();
    scheduleCurves();
    if (wasDone) settled = true;
  }, { immediate: false });
}
