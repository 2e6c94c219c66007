// One job: details, state timeline, kill / result download / delete, live logs (follow) and metric charts
// (one chart per metric family, e.g. loss + val_loss; drag to zoom, which re-fetches that step range).
// Elastic training jobs add their workers (live), the train options and a Scale control.
import { api, download, request, streamEvents } from '../api.js';
import { alignSeries, lineChart } from '../charts.js';
import { badge, clear, h, toast, uid } from '../dom.js';
import { elapsed, fmtBytes, fmtDuration, fmtTime, kFinalStates } from '../format.js';

const kMaxLogChars = 2_000_000;
const kChartPoints = 1000;

// loss, val_loss -> "loss"; acc, val_acc -> "acc": series of one family share a chart. A rate keeps its
// unit: samples_per_s -> "samples_per_s" (not "s").
export function metricFamily(name) {
  const rate = /(?:^|[_/.])([^_/.]+_per_[^_/.]+)$/.exec(name);
  if (rate) return rate[1];
  return name.split(/[_/.]/).filter(Boolean).pop() || name;
}

// Chart titles for the families the training engine reports; anything else is titled by its family.
const kFamilyTitles = { world: 'world size (workers)', samples_per_s: 'samples / s', lr: 'learning rate' };
export function familyTitle(family) {
  return kFamilyTitles[family] || family;
}

function timeline(job) {
  const created = Date.parse(job.created_at);
  const started = job.started_at ? Date.parse(job.started_at) : null;
  const finished = job.finished_at ? Date.parse(job.finished_at) : null;
  const now = Date.now();
  const segs = [];
  const queuedEnd = started ?? finished ?? now;
  segs.push({ state: 'QUEUED', from: created, to: queuedEnd });
  if (started) segs.push({ state: 'RUNNING', from: started, to: finished ?? now });
  if (finished) segs.push({ state: job.state, from: finished, to: finished, end: true });
  const total = Math.max(1, (finished ?? now) - created);
  const bar = h('div', { class: 'timeline', role: 'img',
    'aria-label': segs.map((s) => `${s.state} ${s.end ? '' : fmtDuration((s.to - s.from) / 1000)}`).join(', ') },
  ...segs.map((s) => h('div', { class: `tl-${s.state}`, style: `flex:${s.end ? 0 : Math.max(0.08, (s.to - s.from) / total)} 0 auto`,
    title: `${s.state}${s.end ? '' : ` for ${fmtDuration((s.to - s.from) / 1000)}`}` },
  s.end ? s.state : `${s.state} ${fmtDuration((s.to - s.from) / 1000)}`)));
  const events = h('ol', { class: 'tl-events' },
    h('li', {}, h('strong', {}, 'Submitted '), fmtTime(job.created_at)),
    job.started_at ? h('li', {}, h('strong', {}, 'Started '), fmtTime(job.started_at)) : null,
    job.finished_at ? h('li', {}, h('strong', {}, `${job.state} `), fmtTime(job.finished_at),
      job.exit_code !== null && job.exit_code !== undefined ? ` (exit ${job.exit_code})` : '') : null);
  return h('div', { id: 'timeline' }, bar, events);
}

// Long commands (an inline script) fold behind their first 120 characters.
function commandView(argv) {
  const text = argv.join(' ');
  if (text.length <= 160) return h('span', { class: 'mono' }, text);
  return h('details', {}, h('summary', { class: 'mono' }, `${text.slice(0, 120)}…`), h('pre', { class: 'mono', style: 'white-space:pre-wrap;margin:4px 0 0' }, argv.join('\n')));
}

// "2 running (min 1, max 2)", plus how many are leaving (scaled down, at their next step boundary).
export function workersSummary(job) {
  const procs = job.worker_processes || [];
  const running = procs.filter((p) => !p.leaving).length;
  const leaving = procs.length - running;
  const w = job.workers || {};
  return `${running} running${leaving ? `, ${leaving} leaving` : ''} (min ${w.min ?? 1}, max ${w.max ?? 1})`;
}

function workersView(job) {
  const procs = job.worker_processes || [];
  const summary = h('span', { id: 'workers-summary' }, workersSummary(job));
  if (kFinalStates.has(job.state) || !procs.length) return summary;
  const list = h('ul', { class: 'workers', id: 'worker-list', 'aria-label': 'Worker processes' },
    ...procs.map((p) => h('li', { class: p.leaving ? 'leaving' : '', dataset: { index: String(p.index), pid: String(p.pid) } },
      h('span', { class: 'mono' }, `#${p.index}`), ` pid ${p.pid}`,
      (p.cpus || []).length ? ` · cpus ${p.cpus.join(',')}` : '',
      (p.gpus || []).length ? ` · gpus ${p.gpus.join(',')}` : '',
      p.leaving ? h('span', { class: 'muted' }, ' · leaving') : null)));
  return [summary, list];
}

// The train options as "key value" pairs (model, data, batch, lr, ...).
function trainView(train) {
  const entries = Object.entries(train || {});
  if (!entries.length) return '—';
  return h('span', { class: 'mono', id: 'train-options' },
    entries.map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join('  '));
}

function details(job) {
  const r = job.resources || {};
  const alloc = job.allocation || {};
  const elastic = job.type === 'elastic';
  const rows = [
    ['User', job.user],
    ...(elastic
      ? [['Workers', workersView(job)], ['Training', trainView(job.train)],
        ['Worker flags', h('details', {}, h('summary', {}, 'stoke-worker train …'),
          h('pre', { class: 'mono', style: 'white-space:pre-wrap;margin:4px 0 0' }, (job.argv || []).join(' ')))]]
      : [['Command', commandView(job.argv || [])]]),
    ['Resources', `${r.cpus ?? 1} CPU, ${r.gpus ?? 0} GPU${r.memory ? `, ${fmtBytes(r.memory)}` : ''}${elastic ? ' per worker' : ''}`],
    ['Allocation', `${(alloc.cpus || []).length ? `cpus ${alloc.cpus.join(',')}` : '—'}${(alloc.gpus || []).length ? `; gpus ${alloc.gpus.join(',')}` : ''}`],
    ['Priority', String(job.priority ?? 0)],
    ['Exit code', job.exit_code ?? '—'],
    ['Reason', job.reason || '—'],
    ['Duration', fmtDuration(elapsed(job.started_at, job.finished_at))],
    ['Working dir', h('span', { class: 'mono' }, job.working_dir || '—')],
  ];
  if (job.hparams && Object.keys(job.hparams).length) rows.push(['Hyperparameters', h('span', { class: 'mono' }, JSON.stringify(job.hparams))]);
  return h('dl', { class: 'kv' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

export async function render(main, { args }, ctx) {
  const id = Number(args[0]);
  let job = await api(`/jobs/${id}`, { signal: ctx.signal });

  const title = h('h1');
  const detailsBox = h('div');
  const timelineBox = h('div');
  const killBtn = h('button', { type: 'button', class: 'btn btn-danger', id: 'kill' }, 'Kill');
  const delBtn = h('button', { type: 'button', class: 'btn btn-danger', id: 'delete' }, 'Delete');
  const tgzBtn = h('button', { type: 'button', class: 'btn', id: 'download-tgz' }, 'Download result (.tar.gz)');
  const zipBtn = h('button', { type: 'button', class: 'btn', id: 'download-zip' }, '.zip');

  // Scale (elastic jobs while they run): forces the number of workers, 1..workers.max.
  const scaleErrId = uid('err');
  const scaleInput = h('input', { type: 'number', id: 'scale-workers', name: 'workers', min: 1, step: 1, required: true,
    style: 'width:90px', 'aria-describedby': `scale-help ${scaleErrId}` });
  const scaleError = h('span', { class: 'field-error', id: scaleErrId, role: 'alert' });
  const scaleBtn = h('button', { type: 'submit', class: 'btn btn-small', id: 'scale' }, 'Scale');
  const scaleForm = h('form', { class: 'row scale-form', id: 'scale-form', 'aria-label': 'Scale workers', novalidate: true },
    h('label', { for: 'scale-workers' }, 'Workers', scaleInput), scaleBtn,
    h('span', { class: 'legend-note', id: 'scale-help' }, 'Sets the number of workers; leaving workers stop at their next step.'),
    scaleError);
  const setScaleError = (message) => {
    scaleError.textContent = message;
    if (message) scaleInput.setAttribute('aria-invalid', 'true');
    else scaleInput.removeAttribute('aria-invalid');
  };
  scaleForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    setScaleError('');
    const max = job.workers?.max ?? 1;
    const n = Number(scaleInput.value);
    if (scaleInput.value === '' || !Number.isInteger(n) || n < 1 || n > max) {
      setScaleError(`Enter a whole number from 1 to ${max}.`);
      scaleInput.focus();
      return;
    }
    scaleBtn.disabled = true;
    try {
      job = await api(`/jobs/${id}/scale`, { method: 'POST', body: { workers: n }, signal: ctx.signal });
      toast(`Scaling job ${id} to ${n} worker${n === 1 ? '' : 's'}`);
      paint();
    } catch (e) {
      if (e.name === 'AbortError') return;
      setScaleError(e.message);
      toast(`Scale failed: ${e.message}`, 'error');
      scaleInput.focus();
    } finally { scaleBtn.disabled = false; }
  });

  const paint = () => {
    clear(title).append(`${job.name}`, h('span', { class: 'muted' }, `#${job.id}`), badge(job.state));
    title.querySelector('.badge').id = 'job-state';
    clear(detailsBox).append(details(job));
    clear(timelineBox).append(timeline(job));
    const done = kFinalStates.has(job.state);
    killBtn.hidden = done;
    delBtn.hidden = !done;
    const scalable = job.type === 'elastic' && !done;
    scaleForm.hidden = !scalable;
    if (scalable) {
      scaleInput.max = String(job.workers?.max ?? 1);
      // Starts at the current size; never overwrites what the user is typing.
      if (scaleInput.value === '' && document.activeElement !== scaleInput) {
        scaleInput.value = String(Math.max(1, (job.worker_processes || []).filter((p) => !p.leaving).length));
      }
    }
  };

  killBtn.addEventListener('click', async () => {
    killBtn.disabled = true;
    try {
      job = await api(`/jobs/${id}/kill`, { method: 'POST', signal: ctx.signal });
      toast(`Kill sent to job ${id}`);
      paint();
    } catch (e) { toast(`Kill failed: ${e.message}`, 'error'); } finally { killBtn.disabled = false; }
  });
  delBtn.addEventListener('click', async () => {
    if (!confirm(`Delete job ${id}, its metrics and files?`)) return;
    try {
      await request(`/jobs/${id}`, { method: 'DELETE' });
      location.hash = '#/jobs';
    } catch (e) { toast(`Delete failed: ${e.message}`, 'error'); }
  });
  const fetchResult = async (format) => {
    try {
      const size = await download(`/jobs/${id}/result`, format ? { format } : {}, `job-${id}-result.${format === 'zip' ? 'zip' : 'tar.gz'}`);
      toast(`Downloaded ${fmtBytes(size)}`);
    } catch (e) { toast(`Download failed: ${e.message}`, 'error'); }
  };
  tgzBtn.addEventListener('click', () => fetchResult(''));
  zipBtn.addEventListener('click', () => fetchResult('zip'));

  // Metrics: a step range form (keyboard zoom) mirrors drag-to-zoom on the charts.
  const fromInput = h('input', { type: 'number', name: 'from', min: 0, step: 1, style: 'width:110px' });
  const toInput = h('input', { type: 'number', name: 'to', min: 0, step: 1, style: 'width:110px' });
  const rangeForm = h('form', { class: 'row', 'aria-label': 'Step range' },
    h('label', {}, 'From step', fromInput), h('label', {}, 'To step', toInput),
    h('button', { type: 'submit', class: 'btn btn-small' }, 'Zoom'),
    h('button', { type: 'button', class: 'btn btn-small', id: 'zoom-reset' }, 'Reset zoom'),
    h('span', { class: 'legend-note' }, 'Drag across a chart to zoom; double-click to reset.'));
  const chartsBox = h('div', { class: 'grid2', id: 'charts' });
  const charts = new Map();
  let range = { from: null, to: null };
  let lastSig = '';

  const loadMetrics = async () => {
    const query = { points: kChartPoints };
    if (range.from !== null) query.from = Math.floor(range.from);
    if (range.to !== null) query.to = Math.ceil(range.to);
    const res = await api(`/jobs/${id}/metrics`, { query, signal: ctx.signal });
    const series = (res.series || []).filter((s) => s.points?.length);
    const sig = JSON.stringify(series.map((s) => [s.name, s.count, s.points.length, s.points[s.points.length - 1]])) + JSON.stringify(range);
    if (sig === lastSig) return;
    lastSig = sig;
    const families = new Map();
    for (const s of series) {
      const f = metricFamily(s.name);
      if (!families.has(f)) families.set(f, []);
      families.get(f).push(s);
    }
    if (!families.size && !charts.size) {
      clear(chartsBox).append(h('p', { class: 'chart-empty' }, 'No metrics reported yet.'));
      return;
    }
    chartsBox.querySelector('.chart-empty')?.remove();
    for (const [family, list] of [...families].sort()) {
      const data = alignSeries(list.map((s) => s.points));
      const defs = list.map((s) => ({ label: s.name }));
      const total = list.reduce((n, s) => n + (s.count || s.points.length), 0);
      const key = `metric:${family}`;
      if (charts.has(family)) {
        charts.get(family).update(data, defs);
      } else {
        const cell = h('div', { class: 'panel', style: 'margin:0' });
        chartsBox.append(cell);
        charts.set(family, lineChart(cell, { key, title: familyTitle(family), series: defs, data, sync: `job-${id}`, onZoom: zoom }));
      }
      charts.get(family).element.dataset.total = String(total);
    }
  };
  const zoom = (from, to) => {
    range = { from, to };
    fromInput.value = from === null ? '' : Math.floor(from);
    toInput.value = to === null ? '' : Math.ceil(to);
    loadMetrics().catch((e) => toast(`Metrics: ${e.message}`, 'error'));
  };
  rangeForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    zoom(fromInput.value === '' ? null : Number(fromInput.value), toInput.value === '' ? null : Number(toInput.value));
  });
  rangeForm.querySelector('#zoom-reset').addEventListener('click', () => zoom(null, null));

  // Logs: the tail first, then follow (SSE, one event per line) from its byte offset; reconnects while
  // the job runs.
  const followBox = h('input', { type: 'checkbox', id: 'autoscroll', checked: true });
  const pre = h('pre', { class: 'logs', id: 'logs', tabindex: 0, 'aria-label': 'Job output', 'aria-live': 'off' });
  const utf8 = new TextEncoder();
  let offset = 0;
  const appendLog = (text) => {
    pre.append(text);
    if (pre.textContent.length > kMaxLogChars) pre.textContent = pre.textContent.slice(-kMaxLogChars / 2);
    if (followBox.checked) pre.scrollTop = pre.scrollHeight;
  };
  const followLogs = async () => {
    const first = await request(`/jobs/${id}/logs`, { query: { tail: 2000 }, signal: ctx.signal });
    appendLog(await first.text());
    offset = Number(first.headers.get('X-Stoke-Log-Offset') || 0);
    let ended = kFinalStates.has(job.state);
    while (ctx.alive && !ended) {
      try {
        await streamEvents(`/jobs/${id}/logs`, { follow: 'true', offset }, (type, data) => {
          if (type === 'end') { ended = true; return; }
          offset += utf8.encode(data).length + 1;
          appendLog(`${data}\n`);
        }, ctx.signal);
      } catch (e) {
        if (!ctx.alive) return;
      }
      // A dropped connection (no `end` event) resumes from the offset after a pause.
      if (!ended) await new Promise((r) => setTimeout(r, 1000));
    }
    pre.dataset.complete = 'true';
  };

  main.append(
    title,
    h('div', { class: 'row', style: 'margin-bottom:14px' }, killBtn, tgzBtn, zipBtn, delBtn,
      h('a', { class: 'btn', href: '#/jobs' }, 'All jobs')),
    h('div', { class: 'grid2' },
      h('section', { class: 'panel', 'aria-labelledby': 'h-details' }, h('h2', { id: 'h-details' }, 'Details'), detailsBox, scaleForm),
      h('section', { class: 'panel', 'aria-labelledby': 'h-timeline' }, h('h2', { id: 'h-timeline' }, 'State timeline'), timelineBox)),
    h('section', { class: 'panel', 'aria-labelledby': 'h-metrics' }, h('h2', { id: 'h-metrics' }, 'Metrics'), rangeForm,
      h('div', { style: 'height:10px' }), chartsBox),
    h('section', { class: 'panel', 'aria-labelledby': 'h-logs' },
      h('div', { class: 'row' }, h('h2', { id: 'h-logs', style: 'margin:0' }, 'Logs'),
        h('label', { class: 'check' }, followBox, 'Follow (scroll to new output)')),
      h('div', { style: 'height:8px' }), pre));
  paint();

  followLogs().catch((e) => { if (ctx.alive && e.name !== 'AbortError') appendLog(`\n[logs unavailable: ${e.message}]\n`); });
  // Polls until the job is final, then once more (late metrics); while zoomed, live metric updates pause.
  let settled = false;
  await ctx.every(2000, async () => {
    if (settled) return;
    const wasFinal = kFinalStates.has(job.state);
    job = await api(`/jobs/${id}`, { signal: ctx.signal });
    paint();
    if (range.from === null && range.to === null) await loadMetrics();
    if (wasFinal) settled = true;
  });
}
