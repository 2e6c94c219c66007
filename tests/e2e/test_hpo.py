"""Hyperparameter search end to end: specs validated with named fields, an ASHA experiment over the
digits example that survives a kill -9 of the server, and a trial that never reports its metric."""

import io
import json
import os
import tarfile
import time

import harness

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DIGITS_DIR = os.path.join(ROOT, "examples", "hpo_digits")


def pack(directory):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in sorted(os.listdir(directory)):
            if name.endswith((".py", ".yaml")):
                tar.add(os.path.join(directory, name), arcname=name)
    return buf.getvalue()


def base_spec(**over):
    spec = {
        "name": "bad",
        "objective": {"metric": "loss"},
        "space": {"lr": {"type": "float", "min": 0.001, "max": 0.1, "log": True}},
        "algorithm": {"name": "random"},
        "budget": {"max_trials": 2},
        "trial": {"argv": ["true"]},
    }
    spec.update(over)
    return spec


def test_bad_specs_name_the_field(client):
    cases = [
        (base_spec(space={}), "space"),
        (base_spec(space={"lr": {"type": "float", "min": 1, "max": 0}}), "space.lr.min"),
        (base_spec(space={"lr": {"type": "float", "min": 0, "max": 1, "log": True}}), "space.lr.min"),
        (base_spec(space={"lr": {"type": "int", "min": -1, "max": 5, "log": True}}), "space.lr.min"),
        (base_spec(algorithm={"name": "annealing"}), "algorithm.name"),
        (base_spec(algorithm="asha"), "algorithm.max_resource"),
        (base_spec(objective={"metric": "loss", "direction": "sideways"}), "objective.direction"),
        (base_spec(budget={"max_trials": 0}), "budget.max_trials"),
        (base_spec(trial={"argv": ["echo", "{momentum}"]}), "trial.argv.1"),
        (base_spec(trial={"argv": ["echo"], "resources": {"gpus": 8}}), "trial.resources.gpus"),
        (base_spec(surprise=1), "surprise"),
    ]
    for spec, field in cases:
        r = client.post("experiments", spec)
        assert r.status == 400, (spec, r)
        if field is not None:
            assert r.error()["field"] == field, (spec, r.error())
    # YAML with a duplicate parameter name
    dup = b"name: d\nobjective: {metric: loss}\nspace:\n  lr: {type: float, min: 0.1, max: 1}\n" \
          b"  lr: {type: float, min: 0.1, max: 1}\nalgorithm: random\ntrial: {argv: [true]}\n"
    r = client.post("experiments", raw=dup, content_type="application/yaml")
    assert r.status == 400 and "duplicate" in r.error()["message"], r
    assert client.get("experiments").json()["experiments"] == []


def test_trial_that_never_reports_fails_with_reason(client):
    spec = base_spec(name="silent", budget={"max_trials": 2, "max_parallel": 2})
    r = client.post("experiments", spec)
    assert r.status == 201, r
    exp_id = r.json()["id"]
    harness.wait_until(lambda: client.get(f"experiments/{exp_id}").json()["state"] != "RUNNING", 60,
                       "experiment to finish")
    trials = client.get(f"experiments/{exp_id}/trials").json()["trials"]
    assert len(trials) == 2
    for t in trials:
        assert t["state"] == "FAILED", t
        assert "without reporting" in t["reason"] and "'loss'" in t["reason"], t


def test_digits_asha_survives_server_restart(fresh_server):
    server = fresh_server
    client = server.client()
    with open(os.path.join(DIGITS_DIR, "search.yaml"), "rb") as f:
        spec_yaml = f.read()
    body, ctype = harness.multipart([("spec", "search.yaml", "application/yaml", spec_yaml),
                             ("code", "code.tar.gz", "application/gzip", pack(DIGITS_DIR))])
    r = client.post("experiments", raw=body, content_type=ctype)
    assert r.status == 201, r
    exp_id = r.json()["id"]

    # Let a few trials finish, then kill -9 the server mid-experiment and start it again.
    harness.wait_until(
        lambda: sum(1 for t in client.get(f"experiments/{exp_id}/trials").json()["trials"]
                    if t["state"] in ("COMPLETED", "PRUNED")) >= 3, 300, "three finished trials")
    server.kill9()
    time.sleep(1)
    server.start()
    client = server.client()

    harness.wait_until(lambda: client.get(f"experiments/{exp_id}").json()["state"] != "RUNNING", 600,
                       "the experiment to finish after the restart", interval_s=1)
    exp = client.get(f"experiments/{exp_id}").json()
    assert exp["state"] == "COMPLETED", exp
    trials = client.get(f"experiments/{exp_id}/trials").json()["trials"]
    assert len(trials) == 16
    assert sorted(t["id"] for t in trials) == list(range(16))

    # Every trial ran once per attempt: no job twice for the same (trial, attempt).
    jobs = client.get("jobs", query={"limit": 500}).json()["jobs"]
    names = [j["name"] for j in jobs if j["name"].startswith(f"e{exp_id}-")]
    assert len(names) == len(set(names)), names
    attempts = sum(t["attempts"] for t in trials)
    assert len(names) == attempts, (len(names), attempts)

    # ASHA stopped the weak trials early, and the best one learned digits.
    pruned = [t for t in trials if t["state"] == "PRUNED"]
    assert pruned, [t["state"] for t in trials]
    # A stop lands between reports, so a pruned trial may get one or two epochs further than the
    # rung that stopped it, but it never trains to the end: its job was killed, not completed.
    for t in pruned:
        job = client.job(t["job"])
        assert job["state"] == "KILLED", (t, job["state"])
    steps = sorted(t["last_step"] for t in pruned)
    assert steps[len(steps) // 2] < 9, steps
    best = client.get(f"experiments/{exp_id}/best").json()
    assert best["best_value"] >= 0.95, best
    assert exp["best"]["value"] >= 0.95

    curve = client.get(f"experiments/{exp_id}/trials/{best['id']}/metrics", query={"name": "accuracy"}).json()
    steps = [p[0] for p in curve["series"][0]["points"]]
    assert steps == sorted(steps) and steps[-1] == best["last_step"]

    csv = client.get(f"experiments/{exp_id}/export", query={"format": "csv"}).text
    assert csv.splitlines()[0].startswith("trial,job,state,value")
    assert len(csv.strip().splitlines()) == 17
