// UI tests of hyperparameter search against a real stoke server: an HPO experiment created through the
// builder form (server validation shown in the search-space row, uploaded trial script), trials appearing
// live, learning curves and parallel coordinates drawn from the trials' data, sorting, and a
// 1,000-trial experiment loaded within a time budget.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { unlabeledControls } from './a11y.mjs';
import { chartData, launchBrowser, login, screenshot, startServer, waitFor } from './harness.mjs';

// Budgets for the 1,000-trial experiment page, headless chromium on a shared 2-core machine. The page's own
// work is budgeted tightly; the end-to-end figures include the server's answers (see README).
const kPaintBudgetMs = 1000;     // data in hand -> 1,000 table rows and 1,000 parallel-coordinate lines drawn
const kSortBudgetMs = 200;       // header click -> 1,000 rows re-sorted and re-drawn (measured in the page)
const kTableBudgetMs = 6000;     // navigation -> table and parallel coordinates, server fetch included
const kCurvesBudgetMs = 30000;   // navigation -> every trial's curve fetched (1,000 requests) and drawn

// The trial: reads its hyperparameters, reports accuracy per epoch like a trainer would.
const kTrialScript = String.raw`
import json, math, os, time, urllib.request
hp = json.load(open(os.environ["STOKE_HPARAMS"]))
lr, opt, epochs = float(hp["lr"]), hp["opt"], int(hp["epochs"])
api, token, job = os.environ["STOKE_API"], os.environ["STOKE_TOKEN"], os.environ["STOKE_JOB_ID"]
for epoch in range(1, epochs + 1):
    acc = (0.95 - 0.08 * abs(math.log10(lr) + 2.0) + (0.02 if opt == "adam" else 0.0)) * (1 - 0.5 ** epoch)
    body = json.dumps({"metrics": [{"step": epoch, "values": {"accuracy": acc}}]}).encode()
    req = urllib.request.Request(api + "/jobs/" + job + "/metrics", data=body, method="POST",
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()
    print("epoch %d accuracy %.4f" % (epoch, acc), flush=True)
    time.sleep(0.25)
`;

let server;
let browser;
let page;
let supported = true;


describe('stoke web UI: experiments', { timeout: 420000 }, () => {
  before(async () => {
    server = await startServer({ cpuSlots: 4 });
    const probe = await server.api('/experiments', { raw: true });
    supported = probe.status !== 404;
    browser = await launchBrowser();
    page = browser.page;
    await login(page, server);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('creates an HPO experiment through the form and shows trials, curves and parallel coordinates', async (t) => {
    if (!supported) return t.skip('the server has no /api/v1/experiments yet');
    await page.goto(`${server.base}/#/new`);
    await page.getByLabel('HPO experiment').check();
    await page.getByLabel('Name', { exact: true }).fill('ui-search');
    await page.getByLabel('Command').fill('/usr/bin/python3 trial.py');
    await page.getByLabel(/Upload files/).setInputFiles({ name: 'trial.py', mimeType: 'text/x-python', buffer: Buffer.from(kTrialScript) });
    await page.getByLabel('Metric').fill('accuracy');
    await page.getByLabel('Direction').selectOption('maximize');
    // Row 1: lr with min > max (the server must refuse it and name the field).
    await page.getByLabel('Name of parameter 1').fill('lr');
    await page.getByLabel('Minimum of parameter 1').fill('0.1');
    await page.getByLabel('Maximum of parameter 1').fill('0.0001');
    await page.getByLabel('Log scale of parameter 1').check();
    await page.getByRole('button', { name: '+ Add parameter' }).click();
    await page.getByLabel('Name of parameter 2').fill('opt');
    await page.getByLabel('Type of parameter 2').selectOption('categorical');
    await page.getByLabel('Choices of parameter 2').fill('sgd, adam');
    await page.getByRole('button', { name: '+ Add parameter' }).click();
    await page.getByLabel('Name of parameter 3').fill('epochs');
    await page.getByLabel('Type of parameter 3').selectOption('fixed');
    await page.getByLabel('Fixed value of parameter 3').fill('3');
    await page.getByLabel('Search algorithm').selectOption('random');
    await page.getByLabel('Max trials').fill('6');
    await page.getByLabel('Trials in parallel').fill('3');
    await page.getByLabel('Seed').fill('7');
    await screenshot(page, 'builder');
    assert.deepEqual(await unlabeledControls(page), []);
    await page.getByRole('button', { name: 'Create experiment' }).click();

    const errorEl = page.locator('[data-error-for^="space.lr"]');
    await errorEl.waitFor();
    const field = await errorEl.getAttribute('data-error-for');
    const row1 = page.locator('#space-table tbody tr').nth(0);
    assert.equal(await row1.locator('[aria-invalid="true"]').count(), 1, `the error for ${field} is in the lr row`);
    assert.ok((await errorEl.textContent()).length > 0);
    await screenshot(page, 'builder-hpo-error');

    await page.getByLabel('Minimum of parameter 1').fill('0.0001');
    await page.getByLabel('Maximum of parameter 1').fill('0.1');
    await page.getByRole('button', { name: 'Create experiment' }).click();
    await page.waitForURL(/#\/experiments\/\d+$/);
    const id = Number(/#\/experiments\/(\d+)$/.exec(page.url())[1]);
    const exp = await server.api(`/experiments/${id}`);
    assert.equal(exp.name, 'ui-search');
    assert.deepEqual(exp.spec.space.opt.choices, ['sgd', 'adam']);
    assert.equal(exp.spec.trial.argv[1], 'trial.py');

    // Trials appear while it runs (the page polls), then all six finish.
    await waitFor('a trial row while the experiment runs', async () => (await page.locator('#trials-table tbody tr').count()) >= 1
      && (await page.textContent('#exp-state')) === 'RUNNING', 30000);
    await waitFor('experiment completed', async () => (await page.textContent('#exp-state')) === 'COMPLETED', 90000, 250);
    await waitFor('6 rows', async () => (await page.getAttribute('#trials-table', 'data-rows')) === '6');
    const trials = (await server.api(`/experiments/${id}/trials`)).trials;
    const best = await server.api(`/experiments/${id}/best`);

    // Learning curves: one series per trial, three epochs each, values as the trials reported them.
    const curves = await waitFor('all curves', async () => { const d = await chartData(page, 'curves'); return d?.series.length === 6 && d.counts.every((c) => c === 3) && d; }, 15000);
    const bestIdx = curves.series.indexOf(`trial ${best.id}`);
    assert.ok(bestIdx >= 0);
    assert.ok(Math.abs(curves.last[bestIdx] - best.value) < 1e-9, `best curve ends at ${curves.last[bestIdx]}, best value ${best.value}`);
    // Parallel coordinates: lr, opt and the objective; one line per trial.
    assert.equal(await page.getAttribute('#parcoords', 'data-lines'), '6');
    assert.equal(await page.getAttribute('#parcoords', 'data-axes'), 'lr,opt,accuracy');
    // The best trial row is highlighted.
    assert.equal(await page.getAttribute('#trials-table tr.best', 'data-trial'), String(best.id));
    // Sorting by the objective: descending puts the best first.
    const head = page.getByRole('button', { name: 'accuracy', exact: true });
    await head.click();
    await head.click();
    assert.equal(await page.getAttribute('#trials-table th[aria-sort]', 'aria-sort'), 'descending');
    assert.equal(await page.getAttribute('#trials-table tbody tr:first-child', 'data-trial'), String(best.id));
    const values = trials.map((x) => x.value).sort((a, b) => b - a);
    assert.equal(best.value, values[0]);
    assert.deepEqual(await unlabeledControls(page), []);

    await page.goto(`${server.base}/#/experiments`);
    await page.waitForSelector(`#experiments-table tr[data-experiment="${id}"]`);
    await screenshot(page, 'experiments');
    assert.deepEqual(browser.errors, []);
  });

  it('draws ASHA-pruned trials as stopped curves', async (t) => {
    if (!supported) return t.skip('the server has no /api/v1/experiments yet');
    const exp = await server.api('/experiments', { method: 'POST', body: {
      name: 'asha-digits-like', objective: { metric: 'accuracy', direction: 'maximize' },
      space: { lr: { type: 'float', min: 0.001, max: 0.2, log: true }, opt: { type: 'categorical', choices: ['sgd', 'adam'] },
        epochs: { type: 'fixed', value: 9 } },
      algorithm: { name: 'asha', resource: 'epochs', min_resource: 1, max_resource: 9, reduction_factor: 3 },
      budget: { max_trials: 12, max_parallel: 4 }, seed: 5,
      trial: { argv: ['/usr/bin/python3', '-c', kTrialScript], resources: { cpus: 1 } } } });
    await page.goto(`${server.base}/#/experiments/${exp.id}`);
    await waitFor('experiment completed', async () => (await page.textContent('#exp-state')) === 'COMPLETED', 120000, 250);
    const trials = (await server.api(`/experiments/${exp.id}/trials`)).trials;
    const pruned = trials.filter((x) => x.state === 'PRUNED');
    assert.ok(pruned.length >= 1, 'ASHA pruned some trials');
    const withCurves = trials.filter((x) => x.last_step !== null && x.last_step !== undefined);
    const curves = await waitFor('every curve', async () => { const d = await chartData(page, 'curves'); return d?.series.length === withCurves.length && d; }, 20000);
    for (const trial of withCurves) {
      const i = curves.series.indexOf(`trial ${trial.id}`);
      assert.ok(i >= 0, `curve of trial ${trial.id}`);
      assert.equal(curves.lastX[i], trial.last_step, `trial ${trial.id} curve ends at its last step`);
      assert.equal(curves.stopped[i], trial.state === 'PRUNED', `trial ${trial.id} (${trial.state}) drawn ${curves.stopped[i] ? 'stopped' : 'running on'}`);
    }
    assert.ok(pruned.every((x) => x.last_step < 9) && trials.some((x) => x.state === 'COMPLETED' && x.last_step === 9));
    assert.equal(await page.locator('#trials-table .badge.s-PRUNED').count(), pruned.length);
    // Keyboard: a sort header is a button reached by Tab and pressed with Enter.
    await page.focus('#trials-table button[data-sort="value"]');
    await page.keyboard.press('Enter');
    assert.equal(await page.getAttribute('#trials-table th[aria-sort]', 'aria-sort'), 'ascending');
    await page.keyboard.press('Enter');
    const bestId = (await server.api(`/experiments/${exp.id}/best`)).id;
    assert.equal(await page.getAttribute('#trials-table tbody tr:first-child', 'data-trial'), String(bestId));
    assert.equal(await page.getAttribute('#trials-table tr.best', 'data-trial'), String(bestId));
    await screenshot(page, 'experiment', { top: true });
    assert.deepEqual(browser.errors, []);
  });

  it('loads an experiment of 1,000 trials within budget', async (t) => {
    if (!supported) return t.skip('the server has no /api/v1/experiments yet');
    // Each trial is one shell process reporting its score once (step 1) over REST with curl.
    const report = 'curl -sf -X POST -H "Authorization: Bearer $STOKE_TOKEN" -H "Content-Type: application/json" '
      + '-d "{\\"metrics\\":[{\\"step\\":1,\\"values\\":{\\"score\\":$STOKE_HP_X}}]}" "$STOKE_API/jobs/$STOKE_JOB_ID/metrics"';
    const exp = await server.api('/experiments', { method: 'POST', body: {
      name: 'thousand', objective: { metric: 'score', direction: 'maximize' },
      space: { x: { type: 'float', min: 0, max: 1 }, y: { type: 'int', min: 1, max: 100 }, kind: { type: 'categorical', choices: ['a', 'b', 'c'] } },
      algorithm: { name: 'random' }, budget: { max_trials: 1000, max_parallel: 16 }, seed: 3,
      trial: { argv: ['/bin/sh', '-c', report], resources: { cpus: 1 } },
    } });
    const seedStart = Date.now();
    await waitFor('1,000 trials done', async () => (await server.api(`/experiments/${exp.id}`)).state !== 'RUNNING', 300000, 1000);
    const done = await server.api(`/experiments/${exp.id}`);
    assert.equal(done.trials.total, 1000, JSON.stringify(done.trials));
    console.log(`# seeded 1,000 trials in ${Date.now() - seedStart} ms`);

    await page.goto(`${server.base}/#/jobs`);
    await page.waitForSelector('#jobs-table');
    const t0 = Date.now();
    await page.goto(`${server.base}/#/experiments/${exp.id}`);
    await page.waitForSelector('#trials-table[data-rows="1000"]');
    await page.waitForSelector('#parcoords[data-lines="1000"]');
    const tableMs = Date.now() - t0;
    await waitFor('1,000 curves', async () => (await chartData(page, 'curves'))?.series.length === 1000, kCurvesBudgetMs + 10000, 200);
    const curvesMs = Date.now() - t0;
    const fetchMs = Number(await page.getAttribute('main', 'data-fetch-ms'));
    const paintMs = Number(await page.getAttribute('main', 'data-paint-ms'));
    await page.getByRole('button', { name: 'score', exact: true }).click();
    await page.waitForSelector('#trials-table th[aria-sort="ascending"]');
    const sortMs = Number(await page.getAttribute('#trials-table', 'data-paint-ms'));
    console.log(`# 1,000 trials: navigation -> table + parallel coordinates ${tableMs} ms (budget ${kTableBudgetMs}; `
      + `server fetch ${fetchMs} ms, page paint ${paintMs} ms, budget ${kPaintBudgetMs}), all 1,000 curves ${curvesMs} ms `
      + `(budget ${kCurvesBudgetMs}), sort ${sortMs} ms (budget ${kSortBudgetMs})`);
    const curves = await chartData(page, 'curves');
    assert.ok(curves.counts.every((c) => c === 1));
    const first = await page.getAttribute('#trials-table tbody tr:first-child', 'data-trial');
    const trials = (await server.api(`/experiments/${exp.id}/trials`)).trials;
    const lowest = trials.reduce((a, b) => (b.value < a.value ? b : a));
    assert.equal(first, String(lowest.id), 'ascending sort puts the lowest score first');
    await screenshot(page, 'experiment-1000', { top: true });
    assert.ok(paintMs <= kPaintBudgetMs, `page paint ${paintMs} ms`);
    assert.ok(tableMs <= kTableBudgetMs, `table in ${tableMs} ms`);
    assert.ok(curvesMs <= kCurvesBudgetMs, `curves in ${curvesMs} ms`);
    assert.ok(sortMs <= kSortBudgetMs, `sort in ${sortMs} ms`);
    assert.deepEqual(browser.errors, []);
  });
});
