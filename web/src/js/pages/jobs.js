// Job list with filters (state, name, user for admins); refreshes itself; "Load more" follows the cursor.
import { api } from '../api.js';
import { whoami } from '../app.js';
import { badge, clear, h } from '../dom.js';
import { elapsed, fmtDuration, fmtTime } from '../format.js';

const kStates = ['QUEUED', 'STARTING', 'RUNNING', 'COMPLETED', 'FAILED', 'KILLED', 'LOST'];

function resources(r) {
  if (!r) return '';
  const parts = [`${r.cpus ?? 1} cpu`];
  if (r.gpus) parts.push(`${r.gpus} gpu`);
  return parts.join(', ');
}

function row(job) {
  return h('tr', { 'data-job': job.id },
    h('td', { class: 'num' }, h('a', { href: `#/jobs/${job.id}` }, String(job.id))),
    h('td', {}, h('a', { href: `#/jobs/${job.id}` }, job.name)),
    h('td', {}, job.user),
    h('td', {}, badge(job.state)),
    h('td', {}, resources(job.resources)),
    h('td', {}, fmtTime(job.created_at)),
    h('td', { class: 'num' }, fmtDuration(elapsed(job.started_at, job.finished_at))),
    h('td', { class: 'mono muted' }, (job.argv || []).join(' ').slice(0, 80)));
}

export async function render(main, { query }, ctx) {
  const selected = new Set((query.get('state') || '').split(',').filter(Boolean));
  const nameInput = h('input', { type: 'search', name: 'name', value: query.get('name') || '', placeholder: 'any' });
  const userInput = h('input', { type: 'search', name: 'user', value: query.get('user') || '', placeholder: 'any' });
  const stateBoxes = kStates.map((s) => h('label', { class: 'check' },
    h('input', { type: 'checkbox', name: 'state', value: s, checked: selected.has(s) }), s));
  const form = h('form', { class: 'filters panel', 'aria-label': 'Job filters' },
    h('fieldset', { class: 'inline' }, h('legend', { class: 'sr-only' }, 'State'), ...stateBoxes),
    h('label', {}, 'Name', nameInput),
    whoami()?.admin ? h('label', {}, 'User', userInput) : null,
    h('button', { type: 'submit', class: 'btn' }, 'Apply'),
    h('button', { type: 'button', class: 'btn', onclick: () => { location.hash = '#/jobs'; } }, 'Clear'));

  const apply = () => {
    const q = new URLSearchParams();
    const states = stateBoxes.map((l) => l.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
    if (states.length) q.set('state', states.join(','));
    if (nameInput.value.trim()) q.set('name', nameInput.value.trim());
    if (userInput.value.trim()) q.set('user', userInput.value.trim());
    const next = `#/jobs${q.toString() ? `?${q}` : ''}`;
    if (next !== location.hash) location.hash = next;
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); apply(); });
  form.addEventListener('change', (ev) => { if (ev.target.type === 'checkbox') apply(); });

  const tbody = h('tbody');
  const count = h('span', { class: 'muted', 'aria-live': 'polite' });
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, 'Load more');
  main.append(
    h('h1', {}, 'Jobs', h('a', { href: '#/new', class: 'btn btn-primary' }, 'New job or experiment')),
    form,
    h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'jobs-table', 'aria-label': 'Jobs' },
      h('thead', {}, h('tr', {}, ...['ID', 'Name', 'User', 'State', 'Resources', 'Created', 'Duration', 'Command']
        .map((t) => h('th', { scope: 'col', class: t === 'ID' || t === 'Duration' ? 'num' : '' }, t)))),
      tbody)),
    h('div', { class: 'row', style: 'margin-top:10px' }, more, count));

  const filters = { state: query.get('state') || '', name: query.get('name') || '', user: query.get('user') || '' };
  let shown = 50;
  let cursor = null;
  const load = async () => {
    const res = await api('/jobs', { query: { ...filters, limit: Math.min(500, shown) }, signal: ctx.signal });
    clear(tbody);
    for (const job of res.jobs) tbody.append(row(job));
    if (!res.jobs.length) tbody.append(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No jobs match.')));
    cursor = res.next_cursor;
    more.hidden = !cursor;
    count.textContent = `${res.jobs.length} job${res.jobs.length === 1 ? '' : 's'}${cursor ? ' (more available)' : ''}`;
  };
  more.addEventListener('click', async () => {
    if (shown < 500) { shown += 50; await load(); return; }
    // Past the largest page the list stops refreshing and appends pages by cursor.
    const res = await api('/jobs', { query: { ...filters, limit: 500, cursor }, signal: ctx.signal });
    for (const job of res.jobs) tbody.append(row(job));
    cursor = res.next_cursor;
    more.hidden = !cursor;
  });
  await ctx.every(3000, load);
}
