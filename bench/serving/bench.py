"""Serving benchmark: throughput and latency of one TorchScript model served three ways, measured
in one run with the same client load (wrk, single-row requests, fixed concurrency):

  1. stoke-serve with dynamic batching (--max-batch B --max-delay-ms D)
  2. stoke-serve at batch size 1 (--max-batch 1 --max-delay-ms 0)
  3. a plain Python server (python3-torch behind http.server, one forward per request)

Prints requests/s, p50 and p99 per setup and the ratios. The model is an MLP whose weights
(~75 MB at the default sizes) make a forward memory-bound, as real models on CPU are: one
forward over 32 rows costs little more than over one, which is what dynamic batching exploits.
"""

import argparse
import json
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_model(path, features, hidden):
    import torch
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Linear(features, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, hidden),
                            torch.nn.ReLU(), torch.nn.Linear(hidden, 10))
    torch.jit.script(m.eval()).save(path)


def wait_healthy(port, proc, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server not healthy")


def to_ms(text):
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v


def run_wrk(port, body_file, connections, threads, duration_s):
    lua = body_file + ".lua"
    with open(lua, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
        f.write(f'local f = io.open("{body_file}") wrk.body = f:read("*a") f:close()\n')
        f.write('function response(status, headers, body) if status ~= 200 then errors = (errors or 0) + 1 end end\n')
    out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration_s}s", "--latency",
                          "-s", lua, f"http://127.0.0.1:{port}/predict"], capture_output=True, text=True, check=True)
    text = out.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", text).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", text).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "non_2xx": int(non2xx.group(1)) if non2xx else 0}


def measure(name, cmd, port, body_file, args):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        wait_healthy(port, proc)
        run_wrk(port, body_file, args.connections, args.wrk_threads, max(1, args.duration // 4))  # warm-up
        result = run_wrk(port, body_file, args.connections, args.wrk_threads, args.duration)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    result["name"] = name
    print(f"{name:28s} {result['rps']:9.1f} req/s   p50 {result['p50_ms']:8.2f} ms   p99 {result['p99_ms']:8.2f} ms"
          + (f"   non-2xx {result['non_2xx']}" if result["non_2xx"] else ""), flush=True)
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--serve-bin", required=True)
    ap.add_argument("--features", type=int, default=512)
    ap.add_argument("--hidden", type=int, default=4096)
    ap.add_argument("--max-batch", type=int, default=32)
    ap.add_argument("--max-delay-ms", type=float, default=2)
    ap.add_argument("--threads", type=int, default=2, help="intra-op threads of every server")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="stoke-serving-bench-")
    model = os.path.join(work, "model.pt")
    make_model(model, args.features, args.hidden)
    body_file = os.path.join(work, "body.json")
    rng = random.Random(0)
    with open(body_file, "w") as f:
        json.dump({"instances": [[rng.uniform(-1, 1) for _ in range(args.features)]]}, f)
    print(f"model: MLP {args.features}-{args.hidden}-{args.hidden}-10, {args.connections} concurrent single-row "
          f"clients, {args.duration}s each, {args.threads} intra-op thread(s), device {args.device}", flush=True)

    results = {}
    port = free_port()
    results["batched"] = measure(
        f"stoke dynamic batch {args.max_batch}",
        [args.serve_bin, "--model", model, "--port", str(port), "--max-batch", str(args.max_batch), "--max-delay-ms",
         str(args.max_delay_ms), "--threads", str(args.threads), "--device", args.device], port, body_file, args)
    port = free_port()
    results["batch1"] = measure(
        "stoke batch size 1",
        [args.serve_bin, "--model", model, "--port", str(port), "--max-batch", "1", "--max-delay-ms", "0",
         "--threads", str(args.threads), "--device", args.device], port, body_file, args)
    port = free_port()
    results["python"] = measure(
        "python http.server + torch",
        [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "python_server.py"), "--model",
         model, "--port", str(port), "--threads", str(args.threads)], port, body_file, args)

    b, one, py = results["batched"], results["batch1"], results["python"]
    print(f"\nthroughput: dynamic batching / batch 1 = {b['rps'] / one['rps']:.2f}x   "
          f"dynamic batching / python = {b['rps'] / py['rps']:.2f}x   batch 1 / python = {one['rps'] / py['rps']:.2f}x")
    print(f"p99:        dynamic batching {b['p99_ms']:.1f} ms, batch 1 {one['p99_ms']:.1f} ms, python {py['p99_ms']:.1f} ms")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
