// UI test of an elastic training job against a real stoke server: a TorchScript model and npz data made
// with Debian's python3 (torch + numpy), submitted as a multipart elastic job on two CPU slots; the job page
// shows the workers (live), the train options and a world-size chart with the real data; the Scale control
// shrinks the job to one worker (row and chart follow), and the Kill button ends it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { unlabeledControls } from './a11y.mjs';
import { launchBrowser, login, screenshot, startServer, waitFor } from './harness.mjs';

// 4 gaussian classes in 16 dimensions; a 16-64-4 MLP. Fast: thousands of steps a second.
const kMakeInputs = String.raw`
import numpy as np, torch, torch.nn as nn
torch.manual_seed(0)
rng = np.random.default_rng(0)
torch.jit.script(nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 4))).save("model.pt")
centers = rng.normal(0, 3, (4, 16)).astype(np.float32)
def make(n):
    y = rng.integers(0, 4, n)
    x = (centers[y] + rng.normal(0, 1, (n, 16))).astype(np.float32)
    return x, y.astype(np.int64)
x, y = make(3000); np.savez("train.npz", x=x, y=y)
x, y = make(600); np.savez("val.npz", x=x, y=y)
`;

// 1000 epochs of 63 steps: about a minute of training, far longer than the test needs (it kills the job).
const kSpec = {
  type: 'elastic', name: 'elastic-ui', workers: { min: 1, max: 2 }, resources: { cpus: 1 },
  train: { model: 'model.pt', data: 'train.npz', val: 'val.npz', global_batch: 48, epochs: 1000, lr: 0.05 },
};

// Every y value of a chart's series (not only the last), read from the uPlot instance.
async function chartValues(page, key, series = 0) {
  return page.evaluate(([k, s]) => {
    const u = window.__stoke?.charts?.[k];
    return u ? Array.from(u.data[s + 1]).filter((v) => v !== null && v !== undefined) : null;
  }, [key, series]);
}

let server;
let browser;
let page;
let codeDir;

describe('stoke web UI: elastic training job', { timeout: 120000 }, () => {
  before(async () => {
    codeDir = mkdtempSync(join(tmpdir(), 'stoke-elastic-'));
    execFileSync('/usr/bin/python3', ['-c', kMakeInputs], { cwd: codeDir, stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('tar', ['-czf', 'code.tar.gz', 'model.pt', 'train.npz', 'val.npz'], { cwd: codeDir });
    server = await startServer({ cpuSlots: 2 });
    browser = await launchBrowser();
    page = browser.page;
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    if (codeDir) rmSync(codeDir, { recursive: true, force: true });
  });

  it('shows workers and world size live, scales from 2 workers to 1, and kills the job', async () => {
    const t0 = Date.now();
    const form = new FormData();
    form.append('spec', new Blob([JSON.stringify(kSpec)], { type: 'application/json' }));
    form.append('code', new Blob([readFileSync(join(codeDir, 'code.tar.gz'))], { type: 'application/gzip' }), 'code.tar.gz');
    const res = await fetch(`${server.base}/api/v1/jobs`, { method: 'POST', headers: { Authorization: `Bearer ${server.token}` }, body: form });
    assert.equal(res.status, 201, await res.clone().text());
    const job = await res.json();
    assert.equal(job.type, 'elastic');

    await login(page, server);
    await page.goto(`${server.base}/#/jobs/${job.id}`);
    await page.waitForSelector('#job-state');

    // Workers row: both CPU slots, one worker each; the worker list names each process.
    await waitFor('2 workers running', async () => (await page.textContent('#workers-summary')) === '2 running (min 1, max 2)', 20000);
    const workers = await page.$$eval('#worker-list li', (li) => li.map((x) => x.textContent));
    assert.equal(workers.length, 2, workers.join('|'));
    const live = await server.api(`/jobs/${job.id}`);
    for (const p of live.worker_processes) assert.ok(workers.some((w) => w.includes(`pid ${p.pid}`) && w.includes(`cpus ${p.cpus.join(',')}`)), `${JSON.stringify(p)} in ${workers.join('|')}`);
    // Training row instead of Command; the worker flags stay folded.
    const dts = await page.$$eval('#h-details ~ div dl.kv dt', (d) => d.map((x) => x.textContent));
    assert.ok(dts.includes('Training') && dts.includes('Workers') && !dts.includes('Command'), dts.join('|'));
    const train = await page.textContent('#train-options');
    assert.match(train, /model=model\.pt/);
    assert.match(train, /global_batch=48/);
    assert.match(train, /lr=0\.05/);

    // The world-size chart, with its real data: the job may start with one worker and grow, so it reaches 2.
    await waitFor('world-size chart at 2', async () => (await chartValues(page, 'metric:world'))?.at(-1) === 2, 15000);
    assert.ok(await page.isVisible('.chart-box[aria-label="world size (workers)"]'));
    await waitFor('samples_per_s charted under its own title', () => page.isVisible('.chart-box[aria-label="samples / s"]'), 10000);
    const before2 = (await chartValues(page, 'metric:world')).length;
    await screenshot(page, 'elastic-job', { full: true });
    assert.deepEqual(await unlabeledControls(page), []);

    // Scale: an out-of-range value is refused at the field; then 1, typed and submitted from the keyboard.
    const scale = page.getByLabel('Workers', { exact: true });
    assert.equal(await scale.getAttribute('max'), '2');
    await scale.fill('3');
    await page.getByRole('button', { name: 'Scale', exact: true }).click();
    await waitFor('field error', async () => (await scale.getAttribute('aria-invalid')) === 'true', 5000);
    assert.match(await page.textContent('#scale-form .field-error'), /1 to 2/);
    await scale.fill('1');
    await scale.press('Enter');
    await waitFor('scale accepted', async () => (await scale.getAttribute('aria-invalid')) === null, 5000);
    await waitFor('1 worker running', async () => /^1 running/.test(await page.textContent('#workers-summary')), 20000);
    assert.equal(await page.textContent('#workers-summary'), '1 running (min 1, max 2)');
    await waitFor('worker list of 1', async () => (await page.$$('#worker-list li')).length === 1, 10000);
    // The chart then shows the shrink: a 1 after the 2s (the last value is 1).
    await waitFor('world-size chart down to 1', async () => (await chartValues(page, 'metric:world'))?.at(-1) === 1, 15000);
    const world = await chartValues(page, 'metric:world');
    assert.ok(world.length > before2, `${world.length} points after the scale, ${before2} before`);
    assert.ok(world.includes(2) && world.includes(1), `world values ${[...new Set(world)]}`);
    assert.ok(world.lastIndexOf(2) < world.lastIndexOf(1), 'world 1 comes after world 2');
    assert.equal((await server.api(`/jobs/${job.id}`)).state, 'RUNNING', 'still training after the scale');

    // Kill from the page: the badge turns KILLED and the Scale control goes away.
    await page.getByRole('button', { name: 'Kill' }).click();
    await waitFor('KILLED badge', async () => (await page.textContent('#job-state')) === 'KILLED', 20000);
    assert.ok(await page.isHidden('#scale-form'));
    assert.ok(await page.isHidden('#worker-list'));
    assert.equal((await server.api(`/jobs/${job.id}`)).state, 'KILLED');
    assert.deepEqual(browser.errors, []);
    console.log(`# elastic job page: submit to KILLED in ${Date.now() - t0} ms`);
  });
});
