// UI tests against a real stoke server: login/logout, job list filters, job page (live logs, metric
// charts with real data, 100k-point series downsampled, zoom), kill, result download, the builder
// (server validation shown at the field, code upload) and the cluster page.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { unlabeledControls } from './a11y.mjs';
import { chartData, kTrainerScript, launchBrowser, login, screenshot, startServer, waitFor } from './harness.mjs';

let server;
let browser;
let page;

const trainer = (steps, pause, name) => ({ name, argv: ['/usr/bin/python3', '-c', kTrainerScript, String(steps), String(pause)] });

describe('stoke web UI: jobs and cluster', { timeout: 240000 }, () => {
  before(async () => {
    server = await startServer({ cpuSlots: 4 });
    browser = await launchBrowser();
    page = browser.page;
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('logs in with a token, rejects a bad one, logs out', async () => {
    await page.goto(`${server.base}/`);
    await page.waitForSelector('#token');
    assert.match(page.url(), /#\/login$/);
    await screenshot(page, 'login');
    await page.getByLabel('API token').fill('stk_not_a_real_token');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForSelector('#token[aria-invalid="true"]');
    assert.match(await page.textContent('#token-error'), /not valid/);
    // Keyboard only: type the token and press Enter.
    await page.getByLabel('API token').fill(server.token);
    await page.getByLabel('API token').press('Enter');
    await page.waitForSelector('main[data-page="jobs"] #jobs-table');
    assert.equal(await page.evaluate(() => localStorage.getItem('stoke.token')), server.token);
    await waitFor('whoami', async () => /admin/.test(await page.textContent('#whoami')));
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForSelector('#token');
    assert.equal(await page.evaluate(() => localStorage.getItem('stoke.token')), null);
    await login(page, server);
  });

  it('job page follows logs live and charts metrics with the reported data', async () => {
    const job = await server.api('/jobs', { method: 'POST', body: trainer(30, 0.15, 'live-trainer') });
    await page.goto(`${server.base}/#/jobs/${job.id}`);
    await page.waitForSelector('#logs');
    // While it runs: output arrives through the follow stream and the loss chart fills in.
    await waitFor('live log lines', async () => /step 3 /.test(await page.textContent('#logs')));
    const running = await server.api(`/jobs/${job.id}`);
    assert.ok(['RUNNING', 'STARTING'].includes(running.state), `job should still run, is ${running.state}`);
    const early = await waitFor('loss chart', () => chartData(page, 'metric:loss'));
    assert.deepEqual(early.series, ['loss', 'val_loss']);
    await waitFor('job end', async () => (await page.textContent('#job-state')) === 'COMPLETED', 30000);
    await waitFor('all 30 steps charted', async () => (await chartData(page, 'metric:loss'))?.counts.every((c) => c === 30));
    const loss = await chartData(page, 'metric:loss');
    assert.equal(loss.xmin, 0);
    assert.equal(loss.xmax, 29);
    assert.ok(Math.abs(loss.last[0] - 2.3 / (1 + 0.3 * 29)) < 1e-9, `last loss ${loss.last[0]}`);
    const acc = await chartData(page, 'metric:acc');
    assert.deepEqual(acc.series, ['acc']);
    const logs = await page.textContent('#logs');
    assert.match(logs, /step 0 loss 2\.3000/);
    assert.match(logs, /\ndone\n?$/);
    assert.equal((logs.match(/step 29 /g) || []).length, 1, 'each log line exactly once');
    assert.match(await page.textContent('#timeline'), /COMPLETED/);
    await screenshot(page, 'job', { full: true });
    assert.deepEqual(await unlabeledControls(page), []);
    assert.deepEqual(browser.errors, []);
  });

  it('shows a 100,000-point series downsampled by the server, and zooms by refetching', async () => {
    const job = await server.api('/jobs', { method: 'POST', body: { name: 'big-series', argv: ['/bin/true'] } });
    for (let start = 0; start < 100000; start += 20000) {
      const metrics = Array.from({ length: 20000 }, (_, i) => ({ step: start + i, values: { loss: Math.exp(-(start + i) / 30000) + ((start + i) % 997 === 0 ? 1 : 0) } }));
      await server.api(`/jobs/${job.id}/metrics`, { method: 'POST', body: { metrics } });
    }
    const t0 = Date.now();
    await page.goto(`${server.base}/#/jobs/${job.id}`);
    const full = await waitFor('big chart', () => chartData(page, 'metric:loss'));
    const loadMs = Date.now() - t0;
    assert.ok(loadMs < 5000, `100k-point job page took ${loadMs} ms`);
    assert.equal(await page.getAttribute('.chart-box[aria-label="loss"]', 'data-total'), '100000');
    assert.ok(full.counts[0] <= 1000 && full.counts[0] >= 100, `downsampled to ${full.counts[0]} points`);
    assert.equal(full.xmin, 0);
    assert.equal(full.xmax, 99999);
    // Keyboard zoom (the same path as drag-to-zoom): the server returns that range at full detail.
    await page.getByLabel('From step').fill('1000');
    await page.getByLabel('To step').fill('1500');
    await page.getByRole('button', { name: 'Zoom', exact: true }).click();
    const zoomed = await waitFor('zoomed data', async () => { const d = await chartData(page, 'metric:loss'); return d.xmin >= 1000 && d.xmax <= 1500 && d; });
    assert.equal(zoomed.counts[0], 501, 'every step of the zoomed range');
    await page.getByRole('button', { name: 'Reset zoom' }).click();
    await waitFor('unzoomed', async () => (await chartData(page, 'metric:loss')).xmax === 99999);
    console.log(`# 100k-point series: job page with chart in ${loadMs} ms, ${full.counts[0]} points drawn`);
  });

  it('kills a running job from its page', async () => {
    const job = await server.api('/jobs', { method: 'POST', body: { name: 'sleeper', argv: ['/bin/sleep', '300'] } });
    await page.goto(`${server.base}/#/jobs/${job.id}`);
    await waitFor('running', async () => (await page.textContent('#job-state')) === 'RUNNING', 20000);
    await page.getByRole('button', { name: 'Kill' }).click();
    await waitFor('KILLED badge', async () => (await page.textContent('#job-state')) === 'KILLED', 20000);
    assert.equal((await server.api(`/jobs/${job.id}`)).state, 'KILLED');
    assert.ok(await page.isHidden('#kill'));
    assert.ok(await page.isVisible('#delete'));
  });

  it('downloads the result directory', async () => {
    const job = await server.api('/jobs', { method: 'POST', body: { name: 'writer', argv: ['/bin/sh', '-c', 'echo hello-result > "$RESULT_DIR/out.txt"'] } });
    await page.goto(`${server.base}/#/jobs/${job.id}`);
    await waitFor('completed', async () => (await page.textContent('#job-state')) === 'COMPLETED', 20000);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download result (.tar.gz)' }).click()]);
    const file = join(mkdtempSync(join(tmpdir(), 'stoke-dl-')), 'result.tar.gz');
    await download.saveAs(file);
    const bytes = readFileSync(file);
    assert.equal(bytes[0], 0x1f);
    assert.equal(bytes[1], 0x8b);
    const listing = execFileSync('tar', ['-xzOf', file, '--wildcards', '*out.txt']).toString();
    assert.equal(listing.trim(), 'hello-result');
  });

  it('lists jobs and filters them by state and name', async () => {
    await page.goto(`${server.base}/#/jobs`);
    await page.waitForSelector('#jobs-table tr[data-job]');
    const all = await page.$$eval('#jobs-table tr[data-job]', (rows) => rows.length);
    assert.ok(all >= 4, `${all} jobs listed`);
    await page.getByLabel('KILLED').check();
    await waitFor('state filter', async () => {
      const states = await page.$$eval('#jobs-table tr[data-job] .badge', (b) => b.map((x) => x.textContent));
      return states.length >= 1 && states.every((s) => s === 'KILLED');
    });
    assert.match(page.url(), /state=KILLED/);
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.getByLabel('Name').fill('writer');
    await page.getByRole('button', { name: 'Apply' }).click();
    await waitFor('name filter', async () => {
      const names = await page.$$eval('#jobs-table tr[data-job] td:nth-child(2)', (c) => c.map((x) => x.textContent));
      return names.length === 1 && names[0] === 'writer';
    });
    await page.getByRole('button', { name: 'Clear' }).click();
    await waitFor('cleared', async () => (await page.$$eval('#jobs-table tr[data-job]', (r) => r.length)) === all);
    await screenshot(page, 'jobs');
    assert.deepEqual(await unlabeledControls(page), []);
  });

  it('builder: the server\'s validation message appears at the field; an uploaded script runs', async () => {
    await page.goto(`${server.base}/#/new`);
    await page.waitForSelector('#builder');
    await page.getByLabel('Name', { exact: true }).fill('from-the-form');
    await page.getByLabel('Command').fill('/bin/sh run.sh "two words"');
    await page.getByLabel(/Upload files/).setInputFiles({ name: 'run.sh', mimeType: 'text/x-sh', buffer: Buffer.from('echo "uploaded script ran with: $1"\n') });
    await page.getByLabel('CPU slots').fill('999');
    await page.getByRole('button', { name: 'Submit job' }).click();
    const cpus = page.getByLabel('CPU slots');
    await waitFor('field error', async () => (await cpus.getAttribute('aria-invalid')) === 'true');
    const fieldError = await page.textContent('[data-error-for="resources.cpus"]');
    assert.match(fieldError, /999/);
    assert.match(await page.textContent('#form-error'), /resources\.cpus/);
    await screenshot(page, 'builder-error');
    assert.deepEqual(await unlabeledControls(page), []);
    await cpus.fill('1');
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.waitForURL(/#\/jobs\/\d+$/);
    const id = Number(/#\/jobs\/(\d+)$/.exec(page.url())[1]);
    await waitFor('uploaded script output', async () => /uploaded script ran with: two words/.test(await page.textContent('#logs')), 20000);
    const job = await server.api(`/jobs/${id}`);
    assert.equal(job.name, 'from-the-form');
    assert.deepEqual(job.argv, ['/bin/sh', 'run.sh', 'two words']);
  });

  it('builder: a picked code directory is packed and unpacked into the working directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stoke-code-'));
    mkdirSync(join(dir, 'pkg', 'data'), { recursive: true });
    writeFileSync(join(dir, 'main.sh'), 'cat pkg/data/values.txt; ls pkg\n');
    writeFileSync(join(dir, 'pkg', 'data', 'values.txt'), 'from-a-directory\n');
    await page.goto(`${server.base}/#/new`);
    await page.getByLabel('Command').fill('/bin/sh main.sh');
    await page.getByLabel('…or a code directory').setInputFiles(dir);
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.waitForURL(/#\/jobs\/\d+$/);
    await waitFor('directory contents in the output', async () => /from-a-directory\s+data/.test(await page.textContent('#logs')), 20000);
  });

  it('cluster page shows slots with who runs what, the queue and utilization over time', async () => {
    const a = await server.api('/jobs', { method: 'POST', body: { name: 'holder', argv: ['/bin/sleep', '300'], resources: { cpus: 3 } } });
    await waitFor('holder running', async () => (await server.api(`/jobs/${a.id}`)).state === 'RUNNING');
    const b = await server.api('/jobs', { method: 'POST', body: { name: 'waiter', argv: ['/bin/sleep', '300'], resources: { cpus: 2 } } });
    await page.goto(`${server.base}/#/cluster`);
    await waitFor('cpu card', async () => (await page.textContent('#card-cpus')).includes('3 / 4'));
    const busy = await page.$$eval('#cpu-slots .slot.busy', (s) => s.map((x) => x.getAttribute('aria-label')));
    assert.equal(busy.length, 3);
    assert.ok(busy.every((l) => l.includes(`job ${a.id}`) && l.includes('admin')), busy.join('|'));
    assert.ok(await page.isVisible(`#running-table tr[data-job="${a.id}"]`));
    assert.ok(await page.isVisible(`#queue-table tr[data-job="${b.id}"]`));
    await waitFor('3 utilization samples', async () => (await chartData(page, 'cluster:util'))?.xs >= 3, 15000);
    const util = await chartData(page, 'cluster:util');
    assert.equal(util.last[0], 75, 'CPU slots 3/4 = 75%');
    await screenshot(page, 'cluster');
    assert.deepEqual(await unlabeledControls(page), []);
    await server.api(`/jobs/${b.id}/kill?grace_s=0`, { method: 'POST' });
    await server.api(`/jobs/${a.id}/kill?grace_s=0`, { method: 'POST' });
    assert.deepEqual(browser.errors, []);
  });
});
