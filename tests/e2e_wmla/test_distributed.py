"""distPyTorch: N ranks with MASTER_ADDR/MASTER_PORT/WORLD_SIZE/RANK, really running torch.distributed (Gloo)."""

import textwrap

import wmla

DDP = textwrap.dedent("""
    import json, os
    import torch
    import torch.distributed as dist

    dist.init_process_group("gloo")          # env:// rendezvous from the variables the launcher set
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.05)
    g = torch.Generator().manual_seed(rank)
    x = torch.randn(32, 4, generator=g)
    y = x.sum(1, keepdim=True)
    for step in range(20):
        opt.zero_grad()
        loss = ((ddp(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
    t = torch.tensor([float(rank + 1)])
    dist.all_reduce(t)
    w = torch.cat([p.detach().flatten() for p in model.parameters()])
    gathered = [torch.zeros_like(w) for _ in range(world)]
    dist.all_gather(gathered, w)
    same = all(torch.equal(gathered[0], v) for v in gathered)
    print(f"rank {rank}/{world} allreduce={t.item():.1f} in_sync={same} loss={loss.item():.4f}", flush=True)
    if rank == 0:
        with open(os.path.join(os.environ["RESULT_DIR"], "val_dict_list.json"), "w") as f:
            json.dump([{"steps": 20, "loss": loss.item()}], f)
    dist.destroy_process_group()
""")

FAIL = textwrap.dedent("""
    import os, sys, time
    if os.environ["RANK"] == "1":
        print("rank 1 fails", flush=True)
        sys.exit(3)
    time.sleep(120)
""")


def test_dist_pytorch_two_workers(dl_x, server):
    r = dl_x.submit("--exec-start distPyTorch --numWorker 2 --workerDeviceType cpu --model-main ddp.py", "ddp.py",
                    DDP.encode())
    assert r.status == 200, r
    sub = r.json()
    assert sub["numWorker"] == 2
    job = server.client().job(sub["stokeJobId"])
    assert job["resources"]["cpus"] == 2  # numWorker x per-worker cpus, one Stoke job
    final = dl_x.wait_exec(sub["id"], timeout_s=150)
    log = dl_x.request("GET", f"{wmla.DL}/execs/{sub['id']}/log").text
    assert final["state"] == "FINISHED", (final, log)
    for rank in (0, 1):
        assert f"rank {rank}/2 allreduce=3.0 in_sync=True" in log, log


def test_a_failing_rank_fails_the_exec(dl_x):
    r = dl_x.submit("--exec-start distPyTorch --numWorker 2 --workerDeviceType cpu --model-main fail.py", "fail.py",
                    FAIL.encode())
    assert r.status == 200, r
    final = dl_x.wait_exec(r.json()["id"], timeout_s=60)
    assert final["state"] == "ERROR" and final["exitCode"] == 3, final
    err = dl_x.request("GET", f"{wmla.DL}/execs/{final['id']}/log", query={"logType": "errlog"}).text
    assert "rank 1 failed with status 3" in err, err


def test_edt_pytorch_runs_fixed_size_and_says_so(dl_x):
    script = b"import os\nprint('world', os.environ['WORLD_SIZE'], 'rank', os.environ['RANK'], flush=True)\n"
    r = dl_x.submit("--exec-start edtPyTorch --edt-options maxWorkers=2 --workerDeviceType cpu --model-main e.py",
                    "e.py", script)
    assert r.status == 200, r
    assert "fixed number of workers" in r.json()["warning"]
    final = dl_x.wait_exec(r.json()["id"], timeout_s=60)
    assert final["state"] == "FINISHED" and final["elastic"] is True, final
    log = dl_x.request("GET", f"{wmla.DL}/execs/{final['id']}/log").text
    assert "world 2 rank 0" in log and "world 2 rank 1" in log, log
