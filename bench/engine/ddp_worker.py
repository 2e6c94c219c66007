#!/usr/bin/python3
"""PyTorch baseline for bench.py: DistributedDataParallel (Gloo, CPU) on the digits CNN.

Modes:
  fixed   -- spawned by bench.py with RANK/WORLD_SIZE/MASTER_*; times --steps steps.
  elastic -- run under torchrun (elastic agent); logs "<unix_ms> <world> <step>" per step to
             --log so bench.py can measure how long a membership change takes (full restart).
Same math as stoke-worker: fixed global batch split over ranks, mean loss, SGD with momentum.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "digits"))
from model import DigitsNet  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--mode", choices=["fixed", "elastic"], default="fixed")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--global-batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--log", default="")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    dist.init_process_group("gloo", timeout=__import__("datetime").timedelta(seconds=10))
    rank, world = dist.get_rank(), dist.get_world_size()
    data = np.load(args.data)
    x, y = torch.from_numpy(data["x"]), torch.from_numpy(data["y"])
    n = x.shape[0]
    torch.manual_seed(0)
    model = DDP(DigitsNet())
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    g = torch.Generator().manual_seed(0)
    order = torch.randperm(n, generator=g)
    steps_per_epoch = (n + args.global_batch - 1) // args.global_batch
    log = open(args.log, "a") if args.log else None

    dist.barrier()
    start = time.perf_counter()
    for step in range(args.steps):
        k = step % steps_per_epoch
        batch = order[k * args.global_batch:(k + 1) * args.global_batch]
        b = batch.shape[0]
        lo, hi = b * rank // world, b * (rank + 1) // world
        idx = batch[lo:hi]
        opt.zero_grad()
        # DDP averages gradients over ranks; with equal slices that is the global mean loss.
        loss = F.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        if log and rank == 0:
            log.write(f"{int(time.time() * 1000)} {world} {step}\n")
            log.flush()
    elapsed = time.perf_counter() - start
    if rank == 0 and args.mode == "fixed":
        print(f"{{\"steps\": {args.steps}, \"seconds\": {elapsed:.4f}}}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
