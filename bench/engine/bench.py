#!/usr/bin/python3
"""Side-by-side engine benchmarks (run with Debian's /usr/bin/python3, torch 1.13).

1. Step throughput: stoke-worker vs PyTorch DDP (Gloo, CPU), same digits CNN, data, global batch,
   world size and threads per process. Prints steps/s and the ratio stoke/DDP.
2. Rescale latency: a worker added (process launch -> first step at the new size) and removed
   (request -> first step at the new size): stoke's in-place regroup vs torchrun's elastic agent,
   which restarts every worker on a membership change.

  /usr/bin/python3 bench/engine/bench.py --worker build-engine/src/engine/stoke-worker
"""
import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DIGITS = os.path.join(HERE, "..", "..", "examples", "digits")
PY = "/usr/bin/python3"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(work):
    subprocess.run([PY, os.path.join(DIGITS, "make_data.py"), "--out", work], check=True, capture_output=True)
    subprocess.run([PY, os.path.join(DIGITS, "model.py"), "--out", os.path.join(work, "model.pt")], check=True,
                   capture_output=True)


def ddp_throughput(work, world, steps, batch, threads):
    port = free_port()
    procs = []
    for rank in range(world):
        env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                   WORLD_SIZE=str(world), OMP_NUM_THREADS=str(threads))
        procs.append(subprocess.Popen(
            [PY, os.path.join(HERE, "ddp_worker.py"), "--data", os.path.join(work, "train.npz"), "--steps",
             str(steps), "--global-batch", str(batch), "--threads", str(threads)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True))
    out = [p.communicate(timeout=600)[0] for p in procs]
    result = json.loads(out[0].strip().splitlines()[-1])
    return result["steps"] / result["seconds"]


def start_rendezvous(worker, target, max_workers=8):
    p = subprocess.Popen([worker, "rendezvous", "--port", "0", "--max", str(max_workers), "--target", str(target),
                          "--heartbeat-timeout-ms", "1500", "--settle-ms", "100"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = p.stdout.readline().strip()
    return p, url


def stoke_train_cmd(worker, work, steps, batch, threads, extra):
    return [worker, "train", "--model", os.path.join(work, "model.pt"), "--data", os.path.join(work, "train.npz"),
            "--global-batch", str(batch), "--lr", "0.05", "--momentum", "0.9", "--threads", str(threads),
            "--max-steps", str(steps), "--epochs", "100000"] + extra


def stoke_throughput(worker, work, world, steps, batch, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    if world == 1:
        out = subprocess.run(stoke_train_cmd(worker, work, steps, batch, threads, []), env=env, check=True,
                             capture_output=True, text=True).stdout
        summaries = [json.loads(out.strip().splitlines()[-1])]
    else:
        rdzv, url = start_rendezvous(worker, world)
        procs = [subprocess.Popen(stoke_train_cmd(worker, work, steps, batch, threads, ["--store", url]), env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                 for _ in range(world)]
        summaries = [json.loads(p.communicate(timeout=600)[0].strip().splitlines()[-1]) for p in procs]
        rdzv.wait(timeout=30)
    s = max(summaries, key=lambda s: s["train_seconds"])  # the slowest rank sets the pace
    return s["steps_trained_here"] / s["train_seconds"]


def read_regroups(metrics):
    events = []
    if os.path.exists(metrics):
        with open(metrics) as f:
            for line in f:
                d = json.loads(line)
                if d.get("event") == "regroup":
                    events.append(d)
    return events


def wait_for(pred, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v is not None:
            return v
        time.sleep(0.01)
    raise TimeoutError("condition not met")


def stoke_rescale(worker, work, cycles, threads):
    out = os.path.join(work, "stoke-rescale")
    metrics = os.path.join(out, "metrics.jsonl")
    rdzv, url = start_rendezvous(worker, 2)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cmd = stoke_train_cmd(worker, work, 10**7, 64, threads, ["--store", url, "--output", out])
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    # Scale requests go straight into the job store (what the server's scheduler does), so the
    # timing does not include starting a CLI process.
    import torch.distributed as dist
    host, port = url[len("tcp://"):].rsplit(":", 1)
    store = dist.TCPStore(host, int(port), is_master=False, timeout=__import__("datetime").timedelta(seconds=30))
    up, down, internal = [], [], []
    try:
        wait_for(lambda: True if any(e["world"] == 2 for e in read_regroups(metrics)) else None, 60)
        for _ in range(cycles):
            seen = len(read_regroups(metrics))
            store.set("scale/target", "3")
            t0 = time.time() * 1000
            procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            e = wait_for(lambda: next((e for e in read_regroups(metrics)[seen:] if e["world"] == 3), None), 60)
            up.append(e["t_ms"] - t0)
            internal.append(e["latency_ms"])
            time.sleep(0.5)
            seen = len(read_regroups(metrics))
            t1 = time.time() * 1000
            store.set("scale/target", "2")
            e = wait_for(lambda: next((e for e in read_regroups(metrics)[seen:] if e["world"] == 2), None), 60)
            down.append(e["t_ms"] - t1)
            internal.append(e["latency_ms"])
            time.sleep(0.5)
        # A crash: kill -9 of a member -> the survivors' first step at the smaller size.
        seen = len(read_regroups(metrics))
        store.set("scale/target", "3")
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(lambda: next((e for e in read_regroups(metrics)[seen:] if e["world"] == 3), None), 60)
        time.sleep(0.5)
        seen = len(read_regroups(metrics))
        t2 = time.time() * 1000
        procs[-1].kill()
        e = wait_for(lambda: next((e for e in read_regroups(metrics)[seen:] if e["world"] == 2), None), 60)
        crash = e["t_ms"] - t2
    finally:
        for p in procs:
            p.kill()
        rdzv.kill()
    return up, down, internal, crash


def read_torch_log(path):
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3:
                    rows.append(tuple(int(v) for v in parts))
    return rows


def torchrun_rescale(work, cycles, threads):
    port = free_port()
    log = os.path.join(work, "torchrun.log")

    def agent():
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        return subprocess.Popen(
            [PY, "-m", "torch.distributed.run", "--nnodes=1:4", "--nproc_per_node=1", "--rdzv_backend=c10d",
             f"--rdzv_endpoint=127.0.0.1:{port}", "--rdzv_id=bench",
             "--rdzv_conf=last_call_timeout=1",  # default 30 s; 1 s is torchrun at its quickest
             "--max_restarts=100", "--monitor_interval=0.1",
             # torch 1.13's Std.from_str("0") returns None on Python 3.11 (Flag iteration skips
             # NONE), which crashes the agent; any non-zero stream choice avoids that path.
             "--redirects=2", "--tee=2",
             os.path.join(HERE, "ddp_worker.py"), "--mode", "elastic", "--steps", str(10**7), "--data",
             os.path.join(work, "train.npz"), "--threads", str(threads), "--log", log],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    agents = [agent()]
    time.sleep(1.0)  # the first agent hosts the rendezvous store
    agents.append(agent())
    up, down = [], []
    try:
        wait_for(lambda: True if any(r[1] == 2 for r in read_torch_log(log)) else None, 120)
        for _ in range(cycles):
            t0 = time.time() * 1000
            agents.append(agent())
            r = wait_for(lambda: next((r for r in read_torch_log(log) if r[1] == 3 and r[0] > t0), None), 180)
            up.append(r[0] - t0)
            time.sleep(0.5)
            leaving = agents.pop()
            t1 = time.time() * 1000
            os.killpg(leaving.pid, signal.SIGKILL)
            r = wait_for(lambda: next((r for r in read_torch_log(log) if r[1] == 2 and r[0] > t1), None), 180)
            down.append(r[0] - t1)
            time.sleep(0.5)
    finally:
        for a in agents:
            try:
                os.killpg(a.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return up, down


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--worker", required=True, help="path to stoke-worker")
    p.add_argument("--worlds", type=int, nargs="+", default=[1, 2])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--global-batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cycles", type=int, default=3)
    p.add_argument("--skip-throughput", action="store_true")
    p.add_argument("--skip-rescale", action="store_true")
    p.add_argument("--skip-torchrun", action="store_true")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args()

    work = tempfile.mkdtemp(prefix="stoke-bench-")
    prepare(work)
    print(f"work dir {work}; {os.cpu_count()} cpus; threads/process {args.threads}")
    if not args.skip_throughput:
        for w in args.worlds:
            ddp = ddp_throughput(work, w, args.steps, args.global_batch, args.threads)
            stoke = stoke_throughput(args.worker, work, w, args.steps, args.global_batch, args.threads)
            print(f"throughput world={w} batch={args.global_batch}: stoke {stoke:.1f} steps/s, "
                  f"DDP {ddp:.1f} steps/s, ratio {stoke / ddp:.2f}x")
    if not args.skip_rescale:
        up, down, internal, crash = stoke_rescale(args.worker, work, args.cycles, args.threads)
        print(f"stoke rescale 2->3 (launch -> first step at 3): p50 {statistics.median(up):.0f} ms  {up}")
        print(f"stoke rescale 3->2 (request -> first step at 2): p50 {statistics.median(down):.0f} ms  {down}")
        print(f"stoke crash 3->2 (kill -9 -> first step at 2; heartbeat timeout 1.5 s): {crash:.0f} ms")
        print(f"stoke regroup inside the workers (step boundary -> state synced): p50 "
              f"{statistics.median(internal):.0f} ms")
        if not args.skip_torchrun:
            tup, tdown = torchrun_rescale(work, args.cycles, args.threads)
            print(f"torchrun 2->3 (agent launch -> first step at 3): p50 {statistics.median(tup):.0f} ms  {tup}")
            print(f"torchrun 3->2 (agent killed -> first step at 2): p50 {statistics.median(tdown):.0f} ms  {tdown}")
            print(f"ratio torchrun/stoke: up {statistics.median(tup) / statistics.median(up):.1f}x, "
                  f"down {statistics.median(tdown) / statistics.median(down):.1f}x")
    if not args.keep:
        __import__("shutil").rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
