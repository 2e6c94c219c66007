"""Hyperparameter search from Python (skipped, with the reason, while the server has no experiments
route) and elastic training."""

from __future__ import annotations

import io
import textwrap

import pytest

import stoke

PY = "/usr/bin/python3"

# A trial: objective peaks at x = 0.3; reports it at each of `epochs` steps.
OBJECTIVE = textwrap.dedent('''
    import stoke
    hp = stoke.hparams(x=0.0, epochs=2)
    for step in range(1, hp["epochs"] + 1):
        stoke.report(step, score=1.0 - (hp["x"] - 0.3) ** 2 + 0.01 * step)
''')

YAML_SPEC = textwrap.dedent('''
    name: py-yaml
    objective: {metric: score, direction: maximize}
    space:
      x: {type: float, min: 0.0, max: 1.0}
      epochs: {type: fixed, value: 2}
    algorithm: {name: random}
    budget: {max_trials: 2, max_parallel: 2}
    seed: 7
    trial:
      argv: [/usr/bin/python3, objective.py]
      resources: {cpus: 1}
      env: {PYTHONPATH: "%s"}
''')


def _spec(job_env):
    return {
        "name": "py-grid",
        "objective": {"metric": "score", "direction": "maximize"},
        "space": {"x": {"type": "categorical", "choices": [0.0, 0.3, 0.9]},
                  "epochs": {"type": "fixed", "value": 2}},
        "algorithm": {"name": "grid"},
        "budget": {"max_trials": 3, "max_parallel": 2},
        "seed": 1,
        "trial": {"argv": [PY, "objective.py"], "resources": {"cpus": 1}, "env": dict(job_env)},
    }


@pytest.fixture
def experiments_supported(client):
    try:
        client.experiments(limit=1)
    except stoke.NotSupportedByServer as e:
        pytest.skip(f"server has no experiments route yet: {e}")


@pytest.fixture
def code(tmp_path):
    (tmp_path / "objective.py").write_text(OBJECTIVE)
    return tmp_path


def test_experiment_from_dict_best_trials_curves(client, experiments_supported, code, job_env):
    exp = client.create_experiment(_spec(job_env), code_dir=code)
    assert isinstance(exp, stoke.Experiment) and exp.name == "py-grid"
    shown = io.StringIO()
    exp.wait(timeout=90, stream=shown)
    assert f"experiment {exp.id} py-grid: COMPLETED 100% trials 3 done" in shown.getvalue(), shown.getvalue()
    assert exp.state == "COMPLETED", exp.info
    best = exp.best()
    assert best["params"]["x"] == pytest.approx(0.3)
    assert best["value"] == pytest.approx(1.0 + 0.02)
    trials = exp.trials()
    assert len(trials) == 3 and {t["state"] for t in trials} == {"COMPLETED"}
    curve = exp.trial_metrics(best["id"], "score")
    assert [s for s, _ in curve["score"]] == [1, 2]
    exported = exp.export("json")
    assert exported
    assert "x" in exp.export("csv")
    assert client.experiment(exp.id).state == "COMPLETED"
    assert exp.id in [e.id for e in client.experiments()]


def test_experiment_from_yaml_file_and_spec_errors(client, experiments_supported, code, job_env, tmp_path):
    path = tmp_path / "search.yaml"
    path.write_text(YAML_SPEC % job_env["PYTHONPATH"])
    exp = client.create_experiment(str(path), code_dir=code)
    assert exp.wait(timeout=90, progress=False).state == "COMPLETED", exp.info
    assert len(exp.trials()) == 2
    bad = _spec(job_env)
    bad["space"]["x"] = {"type": "float", "min": 1.0, "max": 0.0}
    with pytest.raises(stoke.InvalidArgument) as e:
        client.create_experiment(bad, code_dir=code)
    assert e.value.field.startswith("space.x"), e.value


def test_stop_resume_delete(client, experiments_supported, tmp_path):
    spec = {"name": "py-stop", "objective": {"metric": "score", "direction": "maximize"},
            "space": {"x": {"type": "float", "min": 0.0, "max": 1.0}}, "algorithm": {"name": "random"},
            "budget": {"max_trials": 4, "max_parallel": 1},
            "trial": {"argv": ["sleep", "60"], "resources": {"cpus": 1}}}
    exp = client.create_experiment(spec)
    assert exp.state == "RUNNING"
    assert exp.id in [e.id for e in client.experiments(state="RUNNING")]
    with pytest.raises(stoke.Conflict):
        exp.delete()  # still running
    assert exp.stop().state == "STOPPED"
    assert exp.wait(timeout=30, progress=False).state == "STOPPED"
    assert exp.resume().state == "RUNNING"
    exp.stop()
    exp.delete()
    with pytest.raises(stoke.NotFound):
        client.experiment(exp.id)


def test_elastic_training(client, tmp_path):
    pytest.importorskip("torch")
    import numpy as np
    import torch
    model = torch.jit.script(torch.nn.Linear(4, 2))
    model.save(str(tmp_path / "model.pt"))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    np.savez(tmp_path / "train.npz", x=x, y=(x[:, 0] > 0).astype(np.int64))
    job = client.train(tmp_path / "model.pt", tmp_path / "train.npz", workers=(1, 2), global_batch=16,
                       epochs=2, lr=0.1, name="py-elastic", options={"momentum": 0.9})
    assert job.wait(timeout=90, progress=False).state == "COMPLETED", job.logs()
    assert "train_loss" in job.metrics()
    with pytest.raises(stoke.InvalidArgument) as e:
        client.train(tmp_path / "model.pt", tmp_path / "train.npz", options={"optimiser": "adam"})
    assert e.value.field == "train.optimiser"
