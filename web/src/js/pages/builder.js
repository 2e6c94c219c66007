// Experiment builder: one form for a training job or an HPO experiment (search-space editor, algorithm,
// budget), with code upload. The server validates; its error `field` (e.g. `space.lr.min`,
// `trial.resources.cpus`) is shown next to the matching input.
import { request } from '../api.js';
import { clear, h, uid } from '../dom.js';
import { isArchiveName, tarGz } from '../tar.js';

const kAlgorithms = ['random', 'grid', 'tpe', 'bayesian', 'hyperband', 'asha'];
const kTypes = ['float', 'int', 'categorical', 'fixed'];

// Shell-like split: whitespace separates, quotes group, backslash escapes.
export function splitCommand(text) {
  const out = [];
  let cur = '';
  let quote = '';
  let has = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = '';
      else if (c === '\\' && quote === '"' && i + 1 < text.length) cur += text[++i];
      else cur += c;
    } else if (c === '"' || c === "'") { quote = c; has = true; }
    else if (c === '\\' && i + 1 < text.length) { cur += text[++i]; has = true; }
    else if (/\s/.test(c)) { if (has || cur) out.push(cur); cur = ''; has = false; }
    else cur += c;
  }
  if (quote) throw Object.assign(new Error('unclosed quote in the command'), { field: 'argv' });
  if (has || cur) out.push(cur);
  return out;
}

// "16" -> 16, "sgd" -> "sgd", "true" -> true.
function scalar(text) {
  const t = text.trim();
  if (t === 'true' || t === 'false') return t === 'true';
  return t !== '' && Number.isFinite(Number(t)) ? Number(t) : t;
}

// A labelled input whose errors show below it; `path` is the request field it maps to.
function control(labelText, input, path, extra = {}) {
  input.id = input.id || uid('f');
  input.dataset.field = path;
  const label = h('label', { for: input.id, ...extra }, labelText, input);
  return label;
}

function num(name, attrs = {}) {
  return h('input', { type: 'number', name, step: 'any', ...attrs });
}

export async function render(main, { query }, ctx) {
  const mode = { value: query.get('mode') === 'hpo' ? 'hpo' : 'job' };
  const alert = h('div', { class: 'alert alert-error', role: 'alert', id: 'form-error', hidden: true });

  // What to run (shared by jobs and trials).
  const name = h('input', { name: 'name', placeholder: 'e.g. digits-lr-search' });
  const command = h('input', { name: 'command', required: true, class: 'mono',
    placeholder: '/usr/bin/python3 train.py --lr {lr}', 'aria-describedby': 'command-help' });
  const files = h('input', { type: 'file', name: 'code-files', multiple: true });
  const dir = h('input', { type: 'file', name: 'code-dir', webkitdirectory: true, multiple: true });
  const workingDir = h('input', { name: 'working_dir', class: 'mono', placeholder: 'absolute path (optional)' });
  const env = h('textarea', { name: 'env', rows: 2, placeholder: 'KEY=value, one per line' });
  const cpus = num('cpus', { min: 1, step: 1, value: 1 });
  const gpus = num('gpus', { min: 0, step: 1, value: 0 });
  const memory = h('input', { name: 'memory', placeholder: 'e.g. 4G (optional)' });
  const priority = num('priority', { step: 1, value: 0 });
  const maxRuntime = num('max_runtime_s', { min: 0, placeholder: 'none' });
  const hparams = h('textarea', { name: 'hparams', rows: 2, placeholder: '{"lr": 0.01}' });

  // HPO fields.
  const metric = h('input', { name: 'metric', placeholder: 'e.g. accuracy' });
  const direction = h('select', { name: 'direction' }, h('option', { value: 'maximize' }, 'maximize'), h('option', { value: 'minimize' }, 'minimize'));
  const algorithm = h('select', { name: 'algorithm' }, ...kAlgorithms.map((a) => h('option', { value: a }, a)));
  const resource = h('input', { name: 'resource', placeholder: 'e.g. epochs' });
  const minResource = num('min_resource', { min: 0 });
  const maxResource = num('max_resource', { min: 0 });
  const reduction = num('reduction_factor', { min: 2, placeholder: '3' });
  const gridPoints = num('grid_points', { min: 1, step: 1, placeholder: '5' });
  const medianOn = h('input', { type: 'checkbox', name: 'median_stopping' });
  const warmup = num('warmup_trials', { min: 0, step: 1, placeholder: '5' });
  const minSteps = num('min_steps', { min: 0, step: 1, placeholder: '1' });
  const maxTrials = num('max_trials', { min: 1, step: 1, value: 16 });
  const maxParallel = num('max_parallel', { min: 1, step: 1, value: 4 });
  const maxTime = num('max_time_s', { min: 0, placeholder: 'none' });
  const maxRetries = num('max_retries', { min: 0, step: 1, placeholder: '0' });
  const seed = num('seed', { step: 1, placeholder: 'random' });

  // Search-space editor: one row per parameter.
  const spaceBody = h('tbody');
  const spaceTable = h('table', { class: 'space', id: 'space-table', 'aria-label': 'Search space' },
    h('thead', {}, h('tr', {}, ...['Name', 'Type', 'Min', 'Max', 'Step', 'Log scale', 'Choices', 'Value', ''].map((t) => h('th', { scope: 'col' }, t)))),
    spaceBody);
  const addParam = (p = {}) => {
    const n = spaceBody.children.length + 1;
    const cell = (input, key, labelText) => {
      input.dataset.key = key;
      input.setAttribute('aria-label', `${labelText} of parameter ${n}`);
      input.id = uid('sp');
      return h('td', {}, h('label', { for: input.id, class: 'sp-cell' }, input));
    };
    const pname = h('input', { class: 'pname mono', value: p.name || '', placeholder: 'lr' });
    const type = h('select', {}, ...kTypes.map((t) => h('option', { value: t, selected: t === (p.type || 'float') }, t)));
    const min = num('min', { value: p.min ?? '' });
    const max = num('max', { value: p.max ?? '' });
    const step = num('step', { value: p.step ?? '', placeholder: '—' });
    const log = h('input', { type: 'checkbox', checked: Boolean(p.log) });
    const choices = h('input', { class: 'choices mono', value: (p.choices || []).join(', '), placeholder: 'sgd, adam' });
    const value = h('input', { class: 'mono', value: p.value ?? '', style: 'width:90px' });
    const remove = h('button', { type: 'button', class: 'btn btn-small btn-danger' }, 'Remove');
    remove.setAttribute('aria-label', `Remove parameter ${n}`);
    const tr = h('tr', { 'data-param-row': '' }, cell(pname, 'name', 'Name'), cell(type, 'type', 'Type'), cell(min, 'min', 'Minimum'),
      cell(max, 'max', 'Maximum'), cell(step, 'step', 'Step'), cell(log, 'log', 'Log scale'), cell(choices, 'choices', 'Choices'),
      cell(value, 'value', 'Fixed value'), h('td', {}, remove));
    const sync = () => {
      const t = type.value;
      const show = { min: t === 'float' || t === 'int', max: t === 'float' || t === 'int', step: t === 'int' || t === 'float',
        log: t === 'float' || t === 'int', choices: t === 'categorical', value: t === 'fixed' };
      for (const [k, on] of Object.entries(show)) {
        const input = tr.querySelector(`[data-key="${k}"]`);
        input.disabled = !on;
        input.closest('label').style.visibility = on ? '' : 'hidden';
      }
    };
    type.addEventListener('change', sync);
    remove.addEventListener('click', () => { tr.remove(); preview(); });
    sync();
    spaceBody.append(tr);
    return pname;
  };
  const addBtn = h('button', { type: 'button', class: 'btn', id: 'add-param' }, '+ Add parameter');
  addBtn.addEventListener('click', () => addParam().focus());

  const readSpace = () => {
    const space = {};
    for (const tr of spaceBody.querySelectorAll('tr')) {
      const get = (k) => tr.querySelector(`[data-key="${k}"]`);
      const pname = get('name').value.trim();
      if (!pname) continue;
      const t = get('type').value;
      const p = { type: t };
      if (t === 'float' || t === 'int') {
        if (get('min').value !== '') p.min = Number(get('min').value);
        if (get('max').value !== '') p.max = Number(get('max').value);
        if (get('step').value !== '') p.step = Number(get('step').value);
        if (get('log').checked) p.log = true;
      } else if (t === 'categorical') {
        p.choices = get('choices').value.split(',').map((s) => s.trim()).filter((s) => s !== '').map(scalar);
      } else {
        p.value = scalar(get('value').value);
      }
      space[pname] = p;
    }
    return space;
  };

  const readEnv = () => {
    const out = {};
    for (const line of env.value.split('\n')) {
      const t = line.trim();
      if (!t) continue;
      const eq = t.indexOf('=');
      if (eq <= 0) throw Object.assign(new Error(`environment line "${t}" is not KEY=value`), { field: 'env' });
      out[t.slice(0, eq)] = t.slice(eq + 1);
    }
    return out;
  };

  const readResources = () => {
    const r = {};
    if (cpus.value !== '') r.cpus = Number(cpus.value);
    if (gpus.value !== '') r.gpus = Number(gpus.value);
    if (memory.value.trim()) r.memory = /^\d+$/.test(memory.value.trim()) ? Number(memory.value.trim()) : memory.value.trim();
    return r;
  };

  const buildSpec = () => {
    const argv = splitCommand(command.value);
    const base = {};
    if (argv.length) base.argv = argv;
    const res = readResources();
    if (Object.keys(res).length) base.resources = res;
    const e = readEnv();
    if (Object.keys(e).length) base.env = e;
    if (workingDir.value.trim()) base.working_dir = workingDir.value.trim();
    if (mode.value === 'job') {
      const spec = { ...base };
      if (name.value.trim()) spec.name = name.value.trim();
      if (priority.value !== '' && Number(priority.value) !== 0) spec.priority = Number(priority.value);
      if (maxRuntime.value !== '') spec.max_runtime_s = Number(maxRuntime.value);
      if (hparams.value.trim()) {
        try { spec.hparams = JSON.parse(hparams.value); } catch (err) {
          throw Object.assign(new Error(`hyperparameters are not valid JSON: ${err.message}`), { field: 'hparams' });
        }
      }
      return spec;
    }
    const spec = {};
    if (name.value.trim()) spec.name = name.value.trim();
    spec.objective = { metric: metric.value.trim(), direction: direction.value };
    spec.space = readSpace();
    const alg = { name: algorithm.value };
    if (alg.name === 'asha' || alg.name === 'hyperband') {
      if (resource.value.trim()) alg.resource = resource.value.trim();
      if (minResource.value !== '') alg.min_resource = Number(minResource.value);
      if (maxResource.value !== '') alg.max_resource = Number(maxResource.value);
      if (reduction.value !== '') alg.reduction_factor = Number(reduction.value);
    }
    if (alg.name === 'grid' && gridPoints.value !== '') alg.grid_points = Number(gridPoints.value);
    if (medianOn.checked) {
      alg.median_stopping = {};
      if (warmup.value !== '') alg.median_stopping.warmup_trials = Number(warmup.value);
      if (minSteps.value !== '') alg.median_stopping.min_steps = Number(minSteps.value);
    }
    spec.algorithm = alg;
    const budget = {};
    for (const [k, input] of [['max_trials', maxTrials], ['max_parallel', maxParallel], ['max_time_s', maxTime], ['max_retries', maxRetries]]) {
      if (input.value !== '') budget[k] = Number(input.value);
    }
    spec.budget = budget;
    if (seed.value !== '') spec.seed = Number(seed.value);
    spec.trial = base;
    return spec;
  };

  // Code upload: one archive as is; loose files or a picked directory are packed into a .tar.gz.
  const buildCode = async () => {
    const picked = [...files.files];
    const fromDir = [...dir.files].map((f) => ({ path: f.webkitRelativePath.split('/').slice(1).join('/') || f.name, file: f }));
    if (!picked.length && !fromDir.length) return null;
    if (picked.length === 1 && !fromDir.length && isArchiveName(picked[0].name)) return { blob: picked[0], filename: picked[0].name };
    if (picked.some((f) => isArchiveName(f.name))) {
      throw Object.assign(new Error('upload one archive alone, or loose files / a directory'), { field: 'code' });
    }
    const blob = await tarGz([...picked.map((f) => ({ path: f.name, file: f })), ...fromDir]);
    return { blob, filename: 'code.tar.gz' };
  };

  // Error display: map a dotted request field to the closest input.
  const clearErrors = () => {
    alert.hidden = true;
    clear(alert);
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    for (const el of form.querySelectorAll('.field-error')) el.remove();
  };
  const findInput = (field) => {
    let path = field;
    if (mode.value === 'hpo' && path.startsWith('trial.')) path = path.slice('trial.'.length);
    if (path.startsWith('space.')) {
      const [, pname, key] = path.split('.');
      const row = [...spaceBody.querySelectorAll('tr')].find((tr) => tr.querySelector('[data-key="name"]').value.trim() === pname);
      if (row) return row.querySelector(`[data-key="${key}"]:not(:disabled)`) || row.querySelector('[data-key="name"]');
      return addBtn;
    }
    const segments = path.split('.');
    while (segments.length) {
      const el = form.querySelector(`[data-field="${CSS.escape(segments.join('.'))}"]`);
      if (el && !el.closest('[hidden]')) return el;
      segments.pop();
    }
    return null;
  };
  const showError = (message, field) => {
    const input = field ? findInput(field) : null;
    alert.hidden = false;
    clear(alert).append(h('strong', {}, 'The server did not accept this: '), message);
    if (field) alert.append(' ', h('span', { class: 'mono' }, `(${field})`));
    if (input) {
      const errId = uid('err');
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', [input.getAttribute('aria-describedby'), errId].filter(Boolean).join(' '));
      const msg = h('span', { class: 'field-error', id: errId, 'data-error-for': field }, message);
      (input.closest('label') || input.parentElement).append(msg);
      input.focus();
    }
  };

  const specPreview = h('pre', { class: 'mono', id: 'spec-preview', style: 'white-space:pre-wrap;margin:8px 0 0' });
  const preview = () => {
    try { specPreview.textContent = JSON.stringify(buildSpec(), null, 2); } catch (e) { specPreview.textContent = `(${e.message})`; }
  };

  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'submit' }, 'Submit job');
  const section = (legendText, id, ...children) => h('fieldset', { id }, h('legend', {}, legendText), ...children);

  const modeRadios = h('fieldset', { class: 'inline', id: 'mode' }, h('legend', { class: 'sr-only' }, 'Kind'),
    ...[['job', 'Training job'], ['hpo', 'HPO experiment']].map(([v, t]) => h('label', { class: 'check' },
      h('input', { type: 'radio', name: 'mode', value: v, checked: mode.value === v }), t)));

  const algoParams = h('div', { class: 'form-grid', style: 'margin-top:10px' },
    control('Resource hyperparameter', resource, 'algorithm.resource', { 'data-for-alg': 'asha hyperband' }),
    control('Min resource', minResource, 'algorithm.min_resource', { 'data-for-alg': 'asha hyperband' }),
    control('Max resource', maxResource, 'algorithm.max_resource', { 'data-for-alg': 'asha hyperband' }),
    control('Reduction factor', reduction, 'algorithm.reduction_factor', { 'data-for-alg': 'asha hyperband' }),
    control('Grid points per float', gridPoints, 'algorithm.grid_points', { 'data-for-alg': 'grid' }));
  const medianBox = h('div', { class: 'row', style: 'margin-top:10px' },
    h('label', { class: 'check' }, medianOn, 'Median stopping (prune trials below the median)'),
    control('Warm-up trials', warmup, 'algorithm.median_stopping.warmup_trials'),
    control('Min steps', minSteps, 'algorithm.median_stopping.min_steps'));
  medianOn.dataset.field = 'algorithm.median_stopping';

  const form = h('form', { id: 'builder', novalidate: true, 'aria-labelledby': 'builder-title' },
    alert,
    h('div', { class: 'panel' }, modeRadios),
    h('div', { class: 'panel' },
      section('What to run', 'fs-run',
        h('div', { class: 'form-grid' },
          control('Name', name, 'name'),
          control('Command', command, 'argv', { class: 'wide' }),
          h('p', { id: 'command-help', class: 'muted', style: 'grid-column:1/-1;margin:0' },
            'Quotes group words. In an experiment, {name} is replaced by the trial\'s value of hyperparameter "name".'),
          control('Upload files (a .tar/.tar.gz/.zip archive, a script, a model file)', files, 'code'),
          control('…or a code directory', dir, 'code.dir'),
          control('Working directory on the server', workingDir, 'working_dir'),
          control('Environment', env, 'env'))),
      section('Resources', 'fs-resources',
        h('div', { class: 'form-grid' },
          control('CPU slots', cpus, 'resources.cpus'),
          control('GPUs', gpus, 'resources.gpus'),
          control('Memory', memory, 'resources.memory'),
          control('Priority (-1000..1000)', priority, 'priority'),
          control('Max runtime (s)', maxRuntime, 'max_runtime_s')))),
    h('div', { class: 'panel', 'data-mode': 'job' },
      section('Hyperparameters (written to $STOKE_HPARAMS)', 'fs-hparams', h('div', { class: 'form-grid' }, control('JSON object', hparams, 'hparams', { class: 'wide' })))),
    h('div', { class: 'panel', 'data-mode': 'hpo' },
      section('Objective', 'fs-objective', h('div', { class: 'form-grid' },
        control('Metric', metric, 'objective.metric'), control('Direction', direction, 'objective.direction'))),
      section('Search space', 'fs-space', spaceTable, h('div', { style: 'margin-top:8px' }, addBtn)),
      section('Algorithm', 'fs-algorithm', h('div', { class: 'form-grid' }, control('Search algorithm', algorithm, 'algorithm.name')), algoParams, medianBox),
      section('Budget', 'fs-budget', h('div', { class: 'form-grid' },
        control('Max trials', maxTrials, 'budget.max_trials'), control('Trials in parallel', maxParallel, 'budget.max_parallel'),
        control('Max time (s)', maxTime, 'budget.max_time_s'), control('Retries per trial', maxRetries, 'budget.max_retries'),
        control('Seed', seed, 'seed')))),
    h('details', { class: 'panel' }, h('summary', {}, 'Request preview (JSON)'), specPreview),
    h('div', { class: 'row' }, submit, h('a', { href: '#/jobs', class: 'btn' }, 'Cancel')));
  spaceTable.dataset.field = 'space';
  addBtn.dataset.field = 'space.add';

  const syncMode = () => {
    for (const el of form.querySelectorAll('[data-mode]')) el.hidden = el.dataset.mode !== mode.value;
    priority.closest('label').hidden = mode.value !== 'job';
    maxRuntime.closest('label').hidden = mode.value !== 'job';
    submit.textContent = mode.value === 'job' ? 'Submit job' : 'Create experiment';
    for (const el of algoParams.querySelectorAll('[data-for-alg]')) el.hidden = !el.dataset.forAlg.split(' ').includes(algorithm.value);
    for (const el of [warmup, minSteps]) el.disabled = !medianOn.checked;
    preview();
  };
  modeRadios.addEventListener('change', (ev) => { mode.value = ev.target.value; clearErrors(); syncMode(); });
  algorithm.addEventListener('change', syncMode);
  medianOn.addEventListener('change', syncMode);
  form.addEventListener('input', preview);
  form.addEventListener('change', preview);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors();
    submit.disabled = true;
    try {
      const spec = buildSpec();
      const code = await buildCode();
      const path = mode.value === 'job' ? '/jobs' : '/experiments';
      let body = spec;
      if (code) {
        body = new FormData();
        body.append('spec', new Blob([JSON.stringify(spec)], { type: 'application/json' }), 'spec.json');
        body.append('code', code.blob, code.filename);
      }
      const res = await request(path, { method: 'POST', body, signal: ctx.signal });
      const created = await res.json();
      location.hash = mode.value === 'job' ? `#/jobs/${created.id}` : `#/experiments/${created.id}`;
    } catch (e) {
      if (e.name === 'AbortError') return;
      showError(e.message, e.field ?? '');
    } finally {
      submit.disabled = false;
    }
  });

  addParam({ name: '', type: 'float' });
  main.append(h('h1', { id: 'builder-title' }, 'New job or experiment'), form);
  syncMode();
}
