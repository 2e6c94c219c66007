// Cluster: slots and GPUs with who runs what, running jobs, the queue, and utilization over time
// (sampled from /api/v1/cluster every 2 s in the browser; the history survives page changes).
import { api } from '../api.js';
import { lineChart } from '../charts.js';
import { badge, clear, h } from '../dom.js';
import { elapsed, fmtBytes, fmtDuration, fmtTime } from '../format.js';

const kSampleMs = 2000;
const kHistory = 1800;   // samples kept (one hour at 2 s)
const history = { t: [], cpu: [], gpu: [], mem: [], running: [], queued: [] };

function record(c) {
  const gpus = c.gpus || [];
  const pct = (used, total) => (total ? (100 * used) / total : null);
  history.t.push(Date.now() / 1000);
  history.cpu.push(pct(c.cpus?.used ?? 0, c.cpus?.total ?? 0));
  history.gpu.push(gpus.length ? pct(gpus.filter((g) => g.job !== null && g.job !== undefined).length, gpus.length) : null);
  history.mem.push(c.memory?.total ? pct(c.memory.used ?? 0, c.memory.total) : null);
  history.running.push((c.running || []).length);
  history.queued.push((c.queue || []).length);
  if (history.t.length > kHistory) for (const k of Object.keys(history)) history[k].shift();
}

function card(label, value, id) {
  return h('div', { class: 'card', id }, h('div', { class: 'v' }, value), h('div', { class: 'l' }, label));
}

function jobTable(jobs, id, label, empty) {
  return h('table', { class: 'data', id, 'aria-label': label },
    h('thead', {}, h('tr', {}, ...['ID', 'Name', 'User', 'State', 'CPUs', 'GPUs', 'Priority', 'Since', 'Reason']
      .map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, jobs.length ? jobs.map((j) => h('tr', { 'data-job': j.id },
      h('td', {}, h('a', { href: `#/jobs/${j.id}` }, String(j.id))), h('td', {}, j.name), h('td', {}, j.user),
      h('td', {}, badge(j.state)), h('td', {}, String(j.resources?.cpus ?? 1)), h('td', {}, String(j.resources?.gpus ?? 0)),
      h('td', {}, String(j.priority ?? 0)),
      h('td', {}, j.started_at ? fmtDuration(elapsed(j.started_at)) : fmtTime(j.created_at)),
      h('td', { class: 'muted' }, j.reason || ''))) : h('tr', {}, h('td', { colspan: 9, class: 'muted' }, empty))));
}

export async function render(main, _params, ctx) {
  const cards = h('div', { class: 'cards' });
  const gpuBox = h('div', { class: 'slots', id: 'gpu-slots', role: 'list', 'aria-label': 'GPUs' });
  const cpuBox = h('div', { class: 'slots', id: 'cpu-slots', role: 'list', 'aria-label': 'CPU slots' });
  const runningBox = h('div', { class: 'table-wrap' });
  const queueBox = h('div', { class: 'table-wrap' });
  const utilBox = h('div');
  const loadBox = h('div');
  main.append(h('h1', {}, 'Cluster'), cards,
    h('div', { class: 'grid2' },
      h('section', { class: 'panel', 'aria-labelledby': 'h-util' }, h('h2', { id: 'h-util' }, 'Utilization (%)'), utilBox),
      h('section', { class: 'panel', 'aria-labelledby': 'h-load' }, h('h2', { id: 'h-load' }, 'Running and queued jobs'), loadBox)),
    h('section', { class: 'panel', 'aria-labelledby': 'h-gpus' }, h('h2', { id: 'h-gpus' }, 'GPUs'), gpuBox),
    h('section', { class: 'panel', 'aria-labelledby': 'h-slots' }, h('h2', { id: 'h-slots' }, 'CPU slots'), cpuBox),
    h('section', { class: 'panel', 'aria-labelledby': 'h-running' }, h('h2', { id: 'h-running' }, 'Running'), runningBox),
    h('section', { class: 'panel', 'aria-labelledby': 'h-queue' }, h('h2', { id: 'h-queue' }, 'Queue'), queueBox));

  let util = null;
  let load = null;
  const paint = (c) => {
    const byJob = new Map([...(c.running || []), ...(c.queue || [])].map((j) => [j.id, j]));
    const gpus = c.gpus || [];
    const gpuUsed = gpus.filter((g) => g.job !== null && g.job !== undefined).length;
    clear(cards).append(
      card('CPU slots used', `${c.cpus?.used ?? 0} / ${c.cpus?.total ?? 0}`, 'card-cpus'),
      card('GPUs used', gpus.length ? `${gpuUsed} / ${gpus.length}` : 'none', 'card-gpus'),
      card('Memory reserved', c.memory?.total ? `${fmtBytes(c.memory.used)} / ${fmtBytes(c.memory.total)}` : '—', 'card-mem'),
      card('Running jobs', String((c.running || []).length), 'card-running'),
      card('Queued jobs', String((c.queue || []).length), 'card-queued'));
    const who = (jobId) => {
      const j = byJob.get(jobId);
      return j ? `${j.user} · ${j.name}` : '';
    };
    clear(gpuBox).append(...(gpus.length ? gpus.map((g) => {
      const busy = g.job !== null && g.job !== undefined;
      return h('div', { class: `slot gpu${busy ? ' busy' : ''}`, role: 'listitem',
        'aria-label': `GPU ${g.index} ${g.name || ''}: ${busy ? `job ${g.job} ${who(g.job)}` : 'free'}` },
      h('strong', {}, `GPU ${g.index}`), h('br'), busy ? h('a', { href: `#/jobs/${g.job}` }, `job ${g.job}`) : 'free',
      h('br'), h('span', { class: 'muted' }, busy ? who(g.job) : (g.name || '')));
    }) : [h('p', { class: 'muted' }, 'No GPUs in the pool (CPU slots only).')]));
    const slots = (c.slots || []).filter((s) => s.kind !== 'gpu');
    clear(cpuBox).append(...slots.map((s) => {
      const busy = s.job !== null && s.job !== undefined;
      return h('div', { class: `slot${busy ? ' busy' : ''}`, role: 'listitem',
        'aria-label': `CPU slot ${s.index}: ${busy ? `job ${s.job} of ${s.user}` : 'free'}` },
      h('strong', {}, `cpu ${s.index}`), h('br'), busy ? h('a', { href: `#/jobs/${s.job}` }, `#${s.job} ${s.user || ''}`) : h('span', { class: 'muted' }, 'free'));
    }));
    clear(runningBox).append(jobTable(c.running || [], 'running-table', 'Running jobs', 'Nothing running.'));
    clear(queueBox).append(jobTable(c.queue || [], 'queue-table', 'Queued jobs', 'The queue is empty.'));

    const udata = [history.t, history.cpu, history.gpu, history.mem];
    const udefs = [{ label: 'CPU slots %' }, { label: 'GPUs %' }, { label: 'memory %' }];
    const ldata = [history.t, history.running, history.queued];
    const ldefs = [{ label: 'running' }, { label: 'queued' }];
    if (!util) util = lineChart(utilBox, { key: 'cluster:util', series: udefs, data: udata, time: true, height: 200 });
    else util.update(udata, udefs);
    if (!load) load = lineChart(loadBox, { key: 'cluster:load', series: ldefs, data: ldata, time: true, height: 200 });
    else load.update(ldata, ldefs);
  };
  await ctx.every(kSampleMs, async () => {
    const c = await api('/cluster', { signal: ctx.signal });
    record(c);
    paint(c);
  });
}
