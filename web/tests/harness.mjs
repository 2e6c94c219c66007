// Test harness: a real `stoke server` on a free port with a temp data dir, a REST client for seeding,
// and Debian's chromium driven by playwright-core (never a downloaded browser).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '..', '..');
export const webRoot = resolve(here, '..', 'dist');
export const stokeBin = process.env.STOKE_BIN || join(repoRoot, 'build', 'src', 'apps', 'stoke');
export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
// Screenshots are written only when asked (npm run screenshots), never by a plain test run.
export const screenshotDir = process.env.STOKE_SCREENSHOTS || '';

let built = false;

export function preflight() {
  // Copy the current sources into dist/ so the tests never run stale assets.
  if (!built && existsSync(join(here, '..', 'node_modules', 'uplot'))) {
    execFileSync(process.execPath, [join(here, '..', 'build.mjs')], { stdio: 'ignore' });
    built = true;
  }
  const missing = [];
  if (!existsSync(stokeBin)) missing.push(`stoke binary ${stokeBin} (build it, or set STOKE_BIN)`);
  if (!existsSync(join(webRoot, 'index.html'))) missing.push(`${webRoot}/index.html (run npm install or node web/build.mjs)`);
  if (!existsSync(chromiumPath)) missing.push(`${chromiumPath} (apt-get install chromium)`);
  if (missing.length) throw new Error(`UI tests cannot run, missing: ${missing.join('; ')}`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls fn until it returns a truthy value or timeoutMs passes (then throws with `what`).
export async function waitFor(what, fn, timeoutMs = 20000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) { last = e; }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last?.message ?? JSON.stringify(last)})`);
    await sleep(everyMs);
  }
}

export class Server {
  constructor(proc, base, token, dataDir) {
    this.proc = proc;
    this.base = base;
    this.token = token;
    this.dataDir = dataDir;
  }

  async api(path, { method = 'GET', body, token = this.token, raw = false, headers = {} } = {}) {
    const init = { method, headers: { Authorization: `Bearer ${token}`, ...headers } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(`${this.base}/api/v1${path}`, init);
    if (raw) return res;
    const text = await res.text();
    const json = text ? JSON.parse(text) : null;
    if (!res.ok) {
      const err = new Error(`${method} ${path} -> ${res.status} ${text}`);
      err.status = res.status;
      err.body = json;
      throw err;
    }
    return json;
  }

  // Kills whatever still runs (jobs outlive a stopped server by design), then stops the server.
  async stop() {
    try {
      const exps = await this.api('/experiments?state=RUNNING').catch(() => ({ experiments: [] }));
      for (const e of exps.experiments || []) await this.api(`/experiments/${e.id}/stop`, { method: 'POST' }).catch(() => {});
      const live = await this.api('/jobs?state=QUEUED,STARTING,RUNNING&limit=500');
      for (const j of live.jobs) await this.api(`/jobs/${j.id}/kill?grace_s=0`, { method: 'POST' }).catch(() => {});
      await waitFor('jobs to end', async () => (await this.api('/jobs?state=QUEUED,STARTING,RUNNING&limit=1')).jobs.length === 0, 15000, 200);
    } catch { /* best effort; the server goes down regardless */ }
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(timer);
    if (!process.env.STOKE_KEEP_DATA) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export async function startServer({ cpuSlots = 4 } = {}) {
  preflight();
  const dataDir = mkdtempSync(join(tmpdir(), 'stoke-ui-'));
  const proc = spawn(stokeBin, ['server', '--port', '0', '--data-dir', dataDir, '--web-root', webRoot,
    '--cpu-slots', String(cpuSlots), '--gpus', 'none', '--kill-grace', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Never leave a server behind, even when a test process dies before its after() hook.
  const reap = () => { if (proc.exitCode === null) proc.kill('SIGKILL'); };
  process.once('exit', reap);
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; if (process.env.STOKE_UI_VERBOSE) process.stderr.write(d); });
  const base = await waitFor('stoke server to listen', () => {
    if (proc.exitCode !== null) throw new Error(`stoke server exited (${proc.exitCode}): ${out}`);
    return /listening on (https?:\/\/\S+)/.exec(out)?.[1];
  }, 30000, 50);
  const token = await waitFor('admin.token', () => {
    try { return readFileSync(join(dataDir, 'admin.token'), 'utf8').trim(); } catch { return ''; }
  }, 10000, 50);
  return new Server(proc, base, token, dataDir);
}

export const kChromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// A browser context with a fresh user-data-dir; page errors fail the test that reads `errors`.
export async function launchBrowser() {
  const userDataDir = mkdtempSync(join(tmpdir(), 'stoke-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath, headless: true, args: kChromiumArgs, viewport: { width: 1400, height: 900 },
    acceptDownloads: true,
  });
  context.setDefaultTimeout(15000);
  const page = context.pages()[0] || await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  // Error answers the UI handles (401 for a bad token, 400 from validation) log "Failed to load resource";
  // anything else on the console counts.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  return {
    context, page, errors,
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

// Logs in through the form (the real flow) and waits for the jobs page.
export async function login(page, server) {
  await page.goto(`${server.base}/#/login`);
  await page.getByLabel('API token').fill(server.token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForSelector('main[data-page="jobs"] #jobs-table');
}

export async function screenshot(page, name, { top = false, full = false } = {}) {
  if (!screenshotDir) return;
  if (top) await page.evaluate(() => { document.activeElement?.blur(); window.scrollTo(0, 0); });
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: full });
}

// Data of the uPlot instance registered under key (x values and each series' non-null count).
export async function chartData(page, key) {
  return page.evaluate((k) => {
    const u = window.__stoke?.charts?.[k];
    if (!u) return null;
    return {
      series: u.series.slice(1).map((s) => s.label),
      xs: u.data[0].length,
      counts: u.data.slice(1).map((ys) => ys.filter((v) => v !== null && v !== undefined).length),
      last: u.data.slice(1).map((ys) => { for (let i = ys.length - 1; i >= 0; i -= 1) if (ys[i] !== null && ys[i] !== undefined) return ys[i]; return null; }),
      lastX: u.data.slice(1).map((ys) => { for (let i = ys.length - 1; i >= 0; i -= 1) if (ys[i] !== null && ys[i] !== undefined) return u.data[0][i]; return null; }),
      stopped: u.series.slice(1).map((s) => Boolean(s.stopped)),
      xmin: u.data[0][0], xmax: u.data[0][u.data[0].length - 1],
    };
  }, key);
}

// A job script (python from Debian) that prints lines and reports metrics over REST like a trainer.
export const kTrainerScript = String.raw`
import json, os, sys, time, urllib.request
steps = int(sys.argv[1]) if len(sys.argv) > 1 else 20
pause = float(sys.argv[2]) if len(sys.argv) > 2 else 0.1
api, token, job = os.environ["STOKE_API"], os.environ["STOKE_TOKEN"], os.environ["STOKE_JOB_ID"]
def report(step, **values):
    body = json.dumps({"metrics": [{"step": step, "values": values}]}).encode()
    req = urllib.request.Request(f"{api}/jobs/{job}/metrics", data=body, method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()
for step in range(steps):
    loss = 2.3 / (1 + 0.3 * step)
    report(step, loss=loss, val_loss=loss * 1.1, acc=1 - loss / 2.5)
    print(f"step {step} loss {loss:.4f}", flush=True)
    time.sleep(pause)
print("done", flush=True)
`;
