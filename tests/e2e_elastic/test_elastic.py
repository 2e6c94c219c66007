"""Elastic training jobs through the server: real stoke-worker processes, the server-hosted rendezvous,
the scheduler's shrink and growth, `stoke scale`, kills, bad input and `stoke train`."""

import io
import json
import os
import tarfile
import time

from harness import TERMINAL_STATES, multipart, wait_until


def upload_spec(client, spec, files, path="jobs"):
    """POST `path` with the spec and a tar.gz of `files` (paths) as the working directory."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for file in files:
            tar.add(file, arcname=os.path.basename(file))
    body, ctype = multipart([("spec", None, "application/json", json.dumps(spec).encode()),
                             ("code", "code.tar.gz", "application/gzip", buf.getvalue())])
    return client.request("POST", path, raw=body, content_type=ctype)


def elastic_spec(workers, **train):
    options = {"model": "model.pt", "data": "train.npz", "val": "val.npz", "global_batch": 48, "lr": 0.05,
               "momentum": 0.9}
    options.update(train)
    return {"type": "elastic", "workers": workers, "resources": {"cpus": 1}, "train": options}


def worker_pids(job):
    """supervisor pid -> the stoke-worker pid under it, for the job's current workers."""
    out = {}
    for w in job.get("worker_processes", []):
        sup = w["pid"]
        try:
            with open(f"/proc/{sup}/task/{sup}/children") as f:
                kids = [int(p) for p in f.read().split()]
        except OSError:
            kids = []
        out[sup] = kids[0] if kids else None
    return out


def metric_values(client, job_id, name):
    r = client.get(f"jobs/{job_id}/metrics", query={"name": name, "points": 100000})
    assert r.status == 200, r.text
    series = [s for s in r.json()["series"] if s["name"] == name]
    return [p[1] for p in series[0]["points"]] if series else []


def running_workers(client, job_id, n):
    def check():
        job = client.job(job_id)
        assert job["state"] not in TERMINAL_STATES, job
        live = [w for w in job.get("worker_processes", []) if not w["leaving"]]
        return job if len(live) == n and len(job["worker_processes"]) == n else None
    return check


def start_training(client, problem, workers, epochs):
    """Submits an elastic job that may grow to `workers` and waits until it trains at that size."""
    r = upload_spec(client, elastic_spec({"min": 1, "max": workers}, epochs=epochs), problem)
    assert r.status == 201, r.text
    job_id = r.json()["id"]
    job = wait_until(running_workers(client, job_id, workers), 60, f"{workers} workers")
    wait_until(lambda: workers in metric_values(client, job_id, "world"), 60, f"a step at world size {workers}")
    return job_id, job


def test_shrinks_for_higher_priority_work_and_grows_back_with_survivors_untouched(server, problem):
    client = server.client()
    job_id, job = start_training(client, problem, 3, epochs=400)
    before = worker_pids(job)
    assert all(before.values()), before
    first = [w["pid"] for w in job["worker_processes"]]

    # A higher-priority job needs one slot: the newest worker leaves at a step boundary.
    urgent = client.submit(["sleep", "6"], priority=10, resources={"cpus": 1})
    wait_until(lambda: client.job(urgent["id"])["state"] == "RUNNING", 60, "the urgent job to start")
    job = wait_until(running_workers(client, job_id, 2), 30, "the shrink to 2 workers")
    survivors = worker_pids(job)
    assert list(survivors) == first[:2], (first, survivors)
    assert all(survivors[s] == before[s] for s in survivors), (before, survivors)  # same processes
    wait_until(lambda: 2 in metric_values(client, job_id, "world"), 60, "a step at world size 2")

    # It ends: the elastic job grows back into the freed slot; the survivors are still the same processes.
    assert client.wait_state(urgent["id"], timeout_s=60)["state"] == "COMPLETED"
    job = wait_until(running_workers(client, job_id, 3), 60, "the growth back to 3 workers")
    after = worker_pids(job)
    assert all(after[s] == before[s] for s in first[:2]), (before, after)
    wait_until(lambda: metric_values(client, job_id, "world")[-1] == 3, 60, "steps at world size 3 again")
    worlds = metric_values(client, job_id, "world")
    assert worlds.index(2) > worlds.index(3)

    # Scale down to one by request; stop it; every process is gone.
    r = client.post(f"jobs/{job_id}/scale", {"workers": 1})
    assert r.status == 202, r.text
    wait_until(running_workers(client, job_id, 1), 30, "scale to 1 worker")
    pids = list(worker_pids(client.job(job_id)).values())
    assert client.post(f"jobs/{job_id}/kill").status == 202
    final = client.wait_state(job_id, timeout_s=30)
    assert final["state"] == "KILLED", final
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}"), f"worker {pid} survived the kill"


def test_trains_to_completion_and_reports_metrics(server, problem):
    client = server.client()
    r = upload_spec(client, elastic_spec({"min": 1, "max": 2}, epochs=3), problem)
    assert r.status == 201, r.text
    job = r.json()
    assert job["type"] == "elastic" and job["workers"] == {"min": 1, "max": 2, "min_wait_s": 120}
    final = client.wait_state(job["id"], timeout_s=120)
    assert final["state"] == "COMPLETED", (final, client.logs(final["id"])[-3000:])
    accuracy = metric_values(client, job["id"], "val_accuracy")
    assert accuracy and accuracy[-1] > 0.9, accuracy
    for name in ("train_loss", "loss", "lr", "samples_per_s", "world", "val_loss"):
        assert metric_values(client, job["id"], name), name
    result = client.get(f"jobs/{job['id']}/result")
    assert result.status == 200
    with tarfile.open(fileobj=io.BytesIO(result.body), mode="r:gz") as tar:
        names = tar.getnames()
    assert "model.pt" in names and "checkpoint.pt" in names, names


def test_bad_elastic_input_names_the_field(server, problem):
    client = server.client()
    cases = [
        ({"type": "elastic", "train": {"model": "model.pt"}}, "train.data"),
        (elastic_spec({"min": 2, "max": 1}), "workers.max"),
        (elastic_spec({"min": 4, "max": 4}), "workers.min"),  # 4 workers x 1 cpu > 3 slots
        (elastic_spec({"min": 1, "max": 2}, optimizer="lbfgs"), "train.optimizer"),
        (elastic_spec({"min": 1, "max": 2}, lr="fast"), "train.lr"),
        (dict(elastic_spec({"min": 1, "max": 2}), argv=["x"]), "argv"),
    ]
    for spec, field in cases:
        r = client.post("jobs", spec)
        assert r.status == 400, (spec, r.text)
        assert r.json()["error"]["field"] == field, (spec, r.text)
    plain = client.submit(["sleep", "0"])
    r = client.post(f"jobs/{plain['id']}/scale", {"workers": 2})
    assert r.status == 400 and r.json()["error"]["field"] == "id", r.text
    r = client.post("jobs/999999/scale", {"workers": 2})
    assert r.status == 404, r.text


def test_worker_that_cannot_start_fails_the_job_with_its_reason(server, problem):
    client = server.client()
    r = upload_spec(client, elastic_spec({"min": 1, "max": 2}, data="missing.npz"), problem)
    assert r.status == 201, r.text
    final = client.wait_state(r.json()["id"], timeout_s=60)
    assert final["state"] == "FAILED", final
    assert "missing.npz" in final["reason"], final["reason"]


def test_stoke_train_cli_waits_for_the_job(server, problem):
    model, train, val = problem
    started = time.monotonic()
    run = server.cli("train", model, "--data", train, "--val", val, "--workers", "1:2", "--epochs", "2",
                     "--global-batch", "32", "--lr", "0.05", "--set", "momentum=0.9", "--wait", timeout_s=180)
    assert run.returncode == 0, (run.stdout, run.stderr)
    job_id = int(run.stdout.strip().splitlines()[0])
    job = server.client().job(job_id)
    assert job["state"] == "COMPLETED" and job["train"]["epochs"] == 2, job
    assert "COMPLETED" in run.stderr
    assert time.monotonic() - started < 180
    bad = server.cli("scale", str(job_id), "--workers", "2")
    assert bad.returncode != 0 and "only a running job" in bad.stderr, bad.stderr


def test_hpo_experiment_with_elastic_trials(server, problem):
    """Each trial is an elastic training job; the tuned values reach the engine through the train object."""
    client = server.client()
    spec = {
        "name": "elastic-lr",
        "objective": {"metric": "val_accuracy", "direction": "maximize"},
        "space": {"lr": {"type": "float", "min": 0.001, "max": 0.2, "log": True},
                  "optimizer": {"type": "categorical", "choices": ["sgd", "adam"]}},
        "algorithm": {"name": "random"},
        "budget": {"max_trials": 3, "max_parallel": 2},
        "seed": 3,
        "trial": elastic_spec({"min": 1, "max": 2}, epochs=2, lr="{lr}", optimizer="{optimizer}"),
    }
    bad = dict(spec, trial=elastic_spec({"min": 1, "max": 2}, lr="{rate}"))
    r = client.post("experiments", bad)
    assert r.status == 400 and r.json()["error"]["field"] == "trial.train.lr", r.text

    r = upload_spec(client, spec, problem, path="experiments")
    assert r.status == 201, r.text
    exp_id = r.json()["id"]
    exp = wait_until(lambda: (lambda e: e if e["state"] != "RUNNING" else None)(client.get(f"experiments/{exp_id}").json()),
                     240, "the experiment to finish", interval_s=0.5)
    assert exp["state"] == "COMPLETED" and exp["trials"]["completed"] == 3, exp
    trials = client.get(f"experiments/{exp_id}/trials").json()["trials"]
    for t in trials:
        job = client.job(t["job"])
        assert job["type"] == "elastic"
        assert job["train"]["lr"] == t["params"]["lr"] and job["train"]["optimizer"] == t["params"]["optimizer"]
        assert t["value"] is not None
    assert exp["best"]["value"] == max(t["value"] for t in trials)


def test_a_killed_worker_is_replaced_and_the_job_finishes(server, problem):
    client = server.client()
    job_id, job = start_training(client, problem, 2, epochs=150)
    pids = worker_pids(job)
    victim_sup, victim = list(pids.items())[-1]
    os.kill(victim, 9)
    # The survivor carries on; the scheduler starts a replacement in the freed slot.
    job = wait_until(lambda: (lambda j: j if len(j.get("worker_processes", [])) == 2 and
                              victim_sup not in [w["pid"] for w in j["worker_processes"]] else None)(client.job(job_id)),
                     60, "a replacement worker")
    survivor_sup = [s for s in pids if s != victim_sup][0]
    assert worker_pids(job).get(survivor_sup) == pids[survivor_sup]
    final = client.wait_state(job_id, timeout_s=180)
    assert final["state"] == "COMPLETED", (final, client.logs(job_id)[-3000:])
    log = client.logs(job_id)
    assert "failed" in log or "lost" in log, log[-3000:]


def test_server_restart_resumes_the_job_from_its_checkpoint(problem):
    from harness import StokeServer
    with StokeServer(cpu_slots=2) as srv:
        client = srv.client()
        r = upload_spec(client, elastic_spec({"min": 1, "max": 2}, epochs=300), problem)
        assert r.status == 201, r.text
        job_id = r.json()["id"]
        wait_until(lambda: len(metric_values(client, job_id, "epoch")) >= 3, 90, "three epochs (checkpoints)")
        srv.kill9()
        srv.start(port=srv.port)
        client = srv.client()
        job = wait_until(lambda: (lambda j: j if j["state"] == "RUNNING" else None)(client.job(job_id)), 60,
                         "the job to run again")
        assert "checkpoint" in job["reason"], job
        final = client.wait_state(job_id, timeout_s=240)
        assert final["state"] == "COMPLETED", (final, client.logs(job_id)[-3000:])
        log = client.logs(job_id)
        assert "resumed from" in log, log[-3000:]
