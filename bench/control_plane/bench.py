"""Control-plane benchmark: Stoke vs Slurm on this machine, side by side, in one run.

Measures
  1. submit -> process started latency (the job runs `date +%s.%N > FILE`; latency = that time minus the
     wall-clock time just before the submit call), from an idle system, one job at a time;
  2. accepted (durable) submissions per second with N concurrent submitters;
  3. Stoke only: API p99 latency with C concurrent clients while L log streams (`follow=true`) are open.
Prints a table and the Stoke/Slurm ratios. See run.sh for the knobs.
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "e2e"))
import harness  # noqa: E402
import slurm_cluster  # noqa: E402

TS_CMD = "date +%s.%N > {path}"


def percentile(values, p):
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, int(round(p / 100.0 * len(ordered) + 0.5 - 1e-9)))
    return ordered[min(rank, len(ordered)) - 1]


def read_timestamp(path, timeout_s):
    harness.wait_until(lambda: os.path.exists(path) and os.path.getsize(path) > 0, timeout_s,
                       f"timestamp file {path}", interval_s=0.001)
    with open(path) as f:
        return float(f.read().strip())


def measure_latency(submit, wait_idle, samples, scratch, tag, timeout_s=30.0, handles=None):
    """submit(cmd) starts a job running shell command `cmd`; wait_idle() returns when nothing runs.
    What submit returns is appended to `handles` when given."""
    out = []
    for i in range(samples):
        wait_idle()
        path = os.path.join(scratch, f"ts-{tag}-{i}")
        t0 = time.time()
        handle = submit(TS_CMD.format(path=path))
        out.append(read_timestamp(path, timeout_s) - t0)
        if handles is not None:
            handles.append(handle)
    return out


def measure_throughput(submit, total, concurrency):
    """Runs `total` submit() calls spread over `concurrency` threads; returns (per second, errors)."""
    errors = []
    counter = iter(range(total))
    lock = threading.Lock()

    def worker():
        while True:
            with lock:
                if next(counter, None) is None:
                    return
            try:
                submit("true")
            except Exception as e:  # counted, not fatal: a failed submission is not a durable one
                errors.append(repr(e))

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    return (total - len(errors)) / elapsed, errors


# --- Slurm --------------------------------------------------------------------------------------------------
def bench_slurm(args, scratch, results):
    params = args.slurm_sched_params
    with slurm_cluster.SlurmCluster(cpus=args.cpus, scheduler_parameters=params) as cluster:
        def idle():
            harness.wait_until(lambda: cluster.queue_length() == 0, 60, "slurm queue to drain", 0.005)

        lat = measure_latency(lambda cmd: cluster.sbatch(cmd), idle, args.latency_samples, scratch, "slurm")
        results["slurm_latency"] = lat
        cluster.cancel_all()
        rate, errors = measure_throughput(lambda cmd: cluster.sbatch(cmd), args.submissions, args.concurrency)
        results["slurm_rate"] = rate
        results["slurm_rate_errors"] = len(errors)
        cluster.cancel_all()


# --- Stoke --------------------------------------------------------------------------------------------------
def stoke_rest_submitter(server):
    client = server.client()

    def submit(cmd):
        r = client.post("jobs", {"argv": ["sh", "-c", cmd], "resources": {"cpus": 1}})
        if r.status != 201:
            raise RuntimeError(f"POST jobs -> {r}")
        return r.json()["id"]
    return submit


def stoke_cli_submitter(server):
    def submit(cmd):
        r = server.cli("submit", "--cpus", "1", "--", "sh", "-c", cmd)
        if r.returncode != 0:
            raise RuntimeError(f"stoke submit -> {r.returncode}: {r.stderr.strip()}")
    return submit


def stoke_idle(server):
    client = server.client()

    def idle():
        def nothing_active():
            r = client.get("jobs", query={"state": "QUEUED,STARTING,RUNNING", "limit": 1})
            return r.status == 200 and not r.json()["jobs"]
        harness.wait_until(nothing_active, 120, "stoke queue to drain", 0.005)
    return idle


def kill_active(server):
    client = server.client()
    while True:
        r = client.get("jobs", query={"state": "QUEUED,STARTING,RUNNING", "limit": 500})
        jobs = r.json()["jobs"] if r.status == 200 else []
        if not jobs:
            return
        for job in jobs:
            client.post(f"jobs/{job['id']}/kill", query={"grace_s": 0})
        time.sleep(0.05)


def open_log_streams(server, job_ids, count):
    """Opens `count` follow=true log streams spread over job_ids; a thread drains them."""
    socks = []
    for i in range(count):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        job = job_ids[i % len(job_ids)]
        s.sendall((f"GET /api/v1/jobs/{job}/logs?follow=true HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   f"Authorization: Bearer {server.admin_token}\r\n\r\n").encode())
        s.setblocking(False)
        socks.append(s)
    stop = threading.Event()
    received = [0]

    def drain():
        import selectors
        sel = selectors.DefaultSelector()
        for s in socks:
            sel.register(s, selectors.EVENT_READ)
        while not stop.is_set():
            for key, _ in sel.select(timeout=0.2):
                try:
                    data = key.fileobj.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(key.fileobj)
                received[0] += len(data)

    t = threading.Thread(target=drain, daemon=True)
    t.start()

    def close():
        stop.set()
        t.join(timeout=5)
        for s in socks:
            s.close()
        return received[0]
    return close


def run_wrk(server, path, connections, duration_s, threads):
    """Runs wrk and returns (p50_ms, p99_ms, requests_per_s, non2xx, wrk_cpu_s)."""
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration_s}s", "--latency",
           "-H", f"Authorization: Bearer {server.admin_token}", f"{server.base_url}{path}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed: {out}")
    return parse_wrk(out) + (usage.ru_utime + usage.ru_stime,)


def parse_wrk(out):
    def to_ms(text):
        for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
            if text.endswith(unit):
                return float(text[:-len(unit)]) * scale
        return float(text)
    p50 = p99 = rps = None
    non2xx = 0
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "50%":
            p50 = to_ms(parts[1])
        elif len(parts) == 2 and parts[0] == "99%":
            p99 = to_ms(parts[1])
        elif line.startswith("Requests/sec:"):
            rps = float(parts[1])
        elif "Non-2xx or 3xx responses:" in line:
            non2xx = int(parts[-1])
        elif line.strip().startswith("Socket errors:"):
            non2xx += sum(int(x.strip(",")) for x in parts if x.strip(",").isdigit())
    if p99 is None or rps is None:
        raise RuntimeError(f"cannot parse wrk output:\n{out}")
    return p50, p99, rps, non2xx


def bench_stoke(args, scratch, results):
    with harness.StokeServer(binary=args.stoke_bin, cpu_slots=args.cpus) as server:
        idle = stoke_idle(server)
        ids = []
        results["stoke_latency"] = measure_latency(stoke_rest_submitter(server), idle, args.latency_samples,
                                                   scratch, "rest", handles=ids)
        jobs = [server.client().job(i) for i in ids]
        results["stoke_server_latency"] = [harness.parse_time(j["started_at"]) - harness.parse_time(j["created_at"])
                                           for j in jobs]
        cli_ok = server.cli("whoami").returncode == 0
        if cli_ok:
            results["stoke_cli_latency"] = measure_latency(stoke_cli_submitter(server), idle,
                                                           args.latency_samples, scratch, "cli")
        kill_active(server)
        rate, errors = measure_throughput(stoke_rest_submitter(server), args.submissions, args.concurrency)
        results["stoke_rate"], results["stoke_rate_errors"] = rate, len(errors)
        if errors:
            results["stoke_rate_first_error"] = errors[0]
        kill_active(server)
        if cli_ok:
            rate, errors = measure_throughput(stoke_cli_submitter(server), args.submissions, args.concurrency)
            results["stoke_cli_rate"], results["stoke_cli_rate_errors"] = rate, len(errors)
            kill_active(server)

        if shutil.which("wrk") is None:
            results["api_note"] = "wrk missing: API latency not measured"
            return
        client = server.client()
        streamers = [client.submit(["sh", "-c", "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.1; done"],
                                   resources={"cpus": 1})["id"] for _ in range(args.cpus)]
        for job in streamers:
            client.wait_state(job, "RUNNING", timeout_s=30)
        close_streams = open_log_streams(server, streamers, args.log_streams)
        time.sleep(0.5)
        for label, path in (("GET /api/v1/jobs/{id}", f"/api/v1/jobs/{streamers[0]}"),
                            ("GET /api/v1/jobs?limit=20", "/api/v1/jobs?limit=20"),
                            ("GET /healthz", "/healthz")):
            p50, p99, rps, bad, cpu = run_wrk(server, path, args.clients, args.wrk_seconds, args.wrk_threads)
            results.setdefault("api", []).append(
                {"route": label, "p50_ms": p50, "p99_ms": p99, "rps": rps, "errors": bad,
                 "generator_cpu_pct": 100.0 * cpu / args.wrk_seconds})
        results["log_stream_bytes"] = close_streams()
        kill_active(server)


def fmt_ms(v):
    return f"{v * 1000:.1f}"


def print_report(args, results):
    rows = []
    sl, st = results.get("slurm_latency"), results.get("stoke_latency")
    stc = results.get("stoke_cli_latency")

    def ratio(a, b, higher_better):
        if a is None or b is None or a == 0 or b == 0:
            return "-"
        return f"{(a / b if higher_better else b / a):.1f}x"

    for name, p in (("submit->start p50 (ms)", 50), ("submit->start p99 (ms)", 99)):
        a = percentile(st, p) if st else None
        c = percentile(stc, p) if stc else None
        b = percentile(sl, p) if sl else None
        rows.append((name, fmt_ms(a) if a is not None else "-", fmt_ms(c) if c is not None else "-",
                     fmt_ms(b) if b is not None else "-", ratio(a, b, False), ratio(c, b, False)))
    srv = results.get("stoke_server_latency")
    if srv:
        rows.append(("Stoke server-side created->started p50/p99 (ms)",
                     f"{fmt_ms(percentile(srv, 50))}/{fmt_ms(percentile(srv, 99))}", "", "", "", ""))
    a, c, b = results.get("stoke_rate"), results.get("stoke_cli_rate"), results.get("slurm_rate")
    rows.append((f"submissions/s ({args.concurrency} submitters)", f"{a:.0f}" if a else "-",
                 f"{c:.0f}" if c else "-", f"{b:.0f}" if b else "-", ratio(a, b, True), ratio(c, b, True)))
    header = ("metric", "Stoke REST", "Stoke CLI", "Slurm sbatch", "REST vs Slurm", "CLI vs Slurm")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths))  # noqa: E731
    print()
    print(f"Control plane, {args.cpus} CPU slots, {os.cpu_count()} cores; latency from an idle system, "
          f"{args.latency_samples} samples each; {args.submissions} submissions per rate figure")
    print(line(header))
    print(line(["-" * w for w in widths]))
    for r in rows:
        print(line(r))
    print("(ratios: how many times better Stoke is; >1x = Stoke better. A Stoke 201 means the job is committed to "
          "SQLite; slurmctld saves its state asynchronously, so Slurm's figure is not durable in the same sense)")
    print(f"load average before/after: {results.get('load_before')} / {results.get('load_after')} "
          "(other processes on the machine compete with both sides)")
    errs = {k: v for k, v in results.items() if k.endswith("_errors") and v}
    if errs:
        print(f"failed submissions: {errs} {results.get('stoke_rate_first_error', '')}")
    if "api" in results:
        print()
        print(f"Stoke API under load: {args.clients} concurrent clients (wrk, {args.wrk_threads} threads, "
              f"{args.wrk_seconds}s each) with {args.log_streams} open follow=true log streams "
              f"({results.get('log_stream_bytes', 0)} bytes streamed)")
        api_rows = [("route", "p50 ms", "p99 ms", "req/s", "errors", "wrk CPU %")] + [
            (a["route"], f"{a['p50_ms']:.2f}", f"{a['p99_ms']:.2f}", f"{a['rps']:.0f}", str(a["errors"]),
             f"{a['generator_cpu_pct']:.0f}") for a in results["api"]]
        w = [max(len(r[i]) for r in api_rows) for i in range(6)]
        for r in api_rows:
            print("  ".join(x.ljust(y) for x, y in zip(r, w)))
        print("(wrk CPU % = CPU time of the load generator / wall time; 100% = one full core)")
    if "api_note" in results:
        print(results["api_note"])
    print()
    print("raw:", json.dumps({k: v for k, v in results.items() if not isinstance(v, list) or k == "api"}))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stoke-bin", default=harness.default_binary())
    ap.add_argument("--cpus", type=int, default=4, help="CPU slots of both schedulers")
    ap.add_argument("--latency-samples", type=int, default=50)
    ap.add_argument("--submissions", type=int, default=500)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--log-streams", type=int, default=100)
    ap.add_argument("--wrk-seconds", type=int, default=10)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--slurm-sched-params", default="batch_sched_delay=0,sched_min_interval=0",
                    help="SchedulerParameters for slurm.conf (default: tuned for low latency)")
    ap.add_argument("--only", choices=("slurm", "stoke"), help="run one side only")
    args = ap.parse_args()
    results = {"load_before": [round(x, 1) for x in os.getloadavg()]}
    scratch = tempfile.mkdtemp(prefix="stoke-bench-")
    try:
        if args.only != "stoke":
            bench_slurm(args, scratch, results)
        if args.only != "slurm":
            if args.stoke_bin and os.path.exists(args.stoke_bin):
                bench_stoke(args, scratch, results)
            else:
                print(f"stoke binary not found ({args.stoke_bin!r}); Stoke side skipped", file=sys.stderr)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        results["load_after"] = [round(x, 1) for x in os.getloadavg()]
        print_report(args, results)


if __name__ == "__main__":
    main()
