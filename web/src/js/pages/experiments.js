// Experiment list: state, progress, trial counts and best value; refreshes itself.
import { api } from '../api.js';
import { badge, clear, h } from '../dom.js';
import { fmtNum, fmtTime } from '../format.js';

export async function render(main, { query }, ctx) {
  const stateSel = h('select', { name: 'state', id: 'exp-state' },
    ...['', 'RUNNING', 'COMPLETED', 'STOPPED', 'FAILED'].map((s) => h('option', { value: s, selected: s === (query.get('state') || '') }, s || 'any')));
  stateSel.addEventListener('change', () => { location.hash = stateSel.value ? `#/experiments?state=${stateSel.value}` : '#/experiments'; });
  const tbody = h('tbody');
  main.append(
    h('h1', {}, 'Experiments', h('a', { href: '#/new?mode=hpo', class: 'btn btn-primary' }, 'New experiment')),
    h('div', { class: 'panel filters' }, h('label', { for: 'exp-state' }, 'State', stateSel)),
    h('div', { class: 'table-wrap' }, h('table', { class: 'data', id: 'experiments-table', 'aria-label': 'Experiments' },
      h('thead', {}, h('tr', {}, ...['ID', 'Name', 'User', 'State', 'Progress', 'Trials', 'Algorithm', 'Objective', 'Best', 'Created']
        .map((t) => h('th', { scope: 'col' }, t)))),
      tbody)));
  await ctx.every(3000, async () => {
    const res = await api('/experiments', { query: { state: query.get('state') || '', limit: 200 }, signal: ctx.signal });
    clear(tbody);
    for (const e of res.experiments) {
      const t = e.trials || {};
      tbody.append(h('tr', { 'data-experiment': e.id },
        h('td', {}, h('a', { href: `#/experiments/${e.id}` }, String(e.id))),
        h('td', {}, h('a', { href: `#/experiments/${e.id}` }, e.name || `experiment ${e.id}`)),
        h('td', {}, e.user), h('td', {}, badge(e.state)),
        h('td', {}, h('progress', { max: 1, value: e.progress ?? 0, 'aria-label': `Progress of ${e.name}` }), ` ${Math.round((e.progress ?? 0) * 100)}%`),
        h('td', {}, `${t.total ?? 0} (${t.running ?? 0} running, ${t.completed ?? 0} done, ${t.pruned ?? 0} pruned)`),
        h('td', {}, e.algorithm?.name || ''),
        h('td', {}, `${e.objective?.direction === 'minimize' ? 'min' : 'max'} ${e.objective?.metric || ''}`),
        h('td', { class: 'num' }, e.best ? fmtNum(e.best.value) : '—'),
        h('td', {}, fmtTime(e.created_at))));
    }
    if (!res.experiments.length) tbody.append(h('tr', {}, h('td', { colspan: 10, class: 'muted' }, 'No experiments yet.')));
  });
}
