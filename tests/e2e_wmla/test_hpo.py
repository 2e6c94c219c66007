"""HPO tasks as the WMLA notebooks send them: Random, Hyperband, ExperimentGridSearch -> experiments and best."""

import json
import textwrap

import pytest

import wmla

# Reads config.json (values may be strings in WMLA: cast), writes $RESULT_DIR/val_dict_list.json.
TRAIN = textwrap.dedent("""
    import json, os
    cfg = json.loads(open("config.json").read())
    lr = float(cfg["learning_rate"])
    epochs = int(cfg.get("epochs", 1))
    bonus = 0.0 if cfg.get("optimizer", "Adam") == "Adam" else 1.0
    history = []
    for epoch in range(1, epochs + 1):
        loss = (lr - 0.03) ** 2 + 1.0 / epoch + bonus
        history.append({"steps": epoch, "loss": loss, "accuracy": 1.0 / (1.0 + loss)})
    print("config", json.dumps(cfg))
    with open(os.path.join(os.environ["RESULT_DIR"], "val_dict_list.json"), "w") as f:
        json.dump(history, f)
""")


def code(tmp_path):
    root = tmp_path / "hpo-demo"
    root.mkdir()
    (root / "train.py").write_text(TRAIN)
    return wmla.model_dir_tar(str(root))


def lr_param():
    return {"name": "learning_rate", "type": "Range", "dataType": "DOUBLE", "minDbVal": 0.001, "maxDbVal": 0.1,
            "minIntVal": 0, "maxIntVal": 0, "discreteDbVal": [], "discreteIntVal": [], "discreateStrVal": []}


def check_best(task, maximize=False):
    done = [e for e in task["experiments"] if e["metricVal"] is not None]
    assert done, task
    pick = max if maximize else min
    assert task["best"]["metricVal"] == pick(e["metricVal"] for e in done), task
    assert task["best"]["appId"].startswith("wmla-")
    return done


def test_random_task(dl, tmp_path):
    task = {"modelSpec": {"args": "--exec-start PyTorch --workerDeviceType cpu --model-main train.py"},
            "algoDef": {"algorithm": "Random", "maxRunTime": 60, "maxJobNum": 4, "maxParalleJobNum": 2,
                        "objectiveMetric": "loss", "objective": "minimize",
                        "algoParams": [{"name": "RandomSeed", "value": "11"}]},
            "hyperParams": [lr_param()]}
    r = dl.start_hpo(task, "hpo-demo.modelDir.tar", code(tmp_path))
    assert r.status == 200, r
    name = r.json()["uid"]
    assert r.json()["href"].endswith("/hypersearch/" + name)
    t = dl.wait_hpo(name)
    assert t["state"] == "FINISHED" and t["progress"] == "4/4" and t["complete"] == 4 and t["failed"] == 0, t
    assert t["hpoName"] == name and t["creator"] == "dse_user" and t["duration"].count(":") == 2
    assert t["algoDef"]["maxParalleJobNum"] == 2 and t["hyperParams"][0]["userDefined"] is False
    rows = check_best(t)
    assert len(rows) == 4 and all(e["state"] == "FINISHED" for e in rows)
    for e in rows:
        hp = {h["name"]: h for h in e["hyperParams"]}
        lr = float(hp["learning_rate"]["fixedVal"])
        assert hp["learning_rate"]["dataType"] == "double" and 0.001 <= lr <= 0.1
        assert e["metricVal"] == pytest.approx((lr - 0.03) ** 2 + 1.0)
        # Each experiment's appId is an ordinary exec.
        assert dl.exec(e["appId"])["state"] == "FINISHED"
    assert name in [x["hpoName"] for x in dl.request("GET", f"{wmla.DL}/hypersearch").json()]
    wmla.assert_wmla_error(dl.request("PUT", f"{wmla.DL}/hypersearch/{name}"), 400)  # already stopped
    assert dl.request("DELETE", f"{wmla.DL}/hypersearch/{name}").status == 204
    wmla.assert_wmla_error(dl.request("GET", f"{wmla.DL}/hypersearch/{name}"), 404)


def test_hyperband_task(dl_x, tmp_path):
    task = {"modelSpec": {"args": "--exec-start PyTorch --workerDeviceType cpu --model-main train.py"},
            "algoDef": {"algorithm": "Hyperband", "maxJobNum": 9, "maxParalleJobNum": 3, "objectiveMetric": "accuracy",
                        "objective": "maximize", "hyperbandEta": 3.0,
                        "algoParams": [{"name": "RandomSeed", "value": "5"}, {"name": "ResourceName", "value": "epochs"},
                                       {"name": "ResourceValue", "value": "9"}, {"name": "eta", "value": "3"}]},
            "hyperParams": [lr_param()]}
    r = dl_x.start_hpo(task, "hpo-demo.modelDir.tar", code(tmp_path))
    assert r.status == 200, r
    t = dl_x.wait_hpo(r.json()["uid"], timeout_s=150)
    assert t["state"] == "FINISHED", t
    rows = check_best(t, maximize=True)
    # Stoke's Hyperband is asynchronous: every trial gets the full budget (epochs = ResourceValue in its
    # config.json) and is stopped at a rung when its reported curve is behind.
    assert {e["maxiteration"] for e in t["experiments"]} == {9}
    best_hp = {h["name"]: h for h in t["best"]["hyperParams"]}
    assert best_hp["epochs"]["fixedVal"] == "9" and best_hp["epochs"]["dataType"] == "int"
    lr = float(best_hp["learning_rate"]["fixedVal"])
    assert t["best"]["metricVal"] == pytest.approx(1.0 / (1.0 + (lr - 0.03) ** 2 + 1.0 / 9))
    assert 1 <= len(rows) <= 9


def test_experiment_grid_search(dl_x, tmp_path):
    rows = [(1, "0.1", "Adam"), (2, "0.03", "SGD"), (7, "0.02", "Adam")]
    task = {"modelSpec": {"args": "--exec-start PyTorch --workerDeviceType cpu --model-main train.py"},
            "algoDef": {"algorithm": "ExperimentGridSearch", "maxParalleJobNum": 3, "objectiveMetric": "loss",
                        "objective": "minimize"},
            "experiments": [{"id": i, "hyperParams": [{"name": "learning_rate", "dataType": "DOUBLE", "fixedVal": lr},
                                                      {"name": "optimizer", "dataType": "STRING", "fixedVal": opt}]}
                            for i, lr, opt in rows]}
    r = dl_x.start_hpo(task, "hpo-demo.modelDir.tar", code(tmp_path))
    assert r.status == 200, r
    t = dl_x.wait_hpo(r.json()["uid"])
    assert t["state"] == "FINISHED" and t["progress"] == "3/3", t
    check_best(t)
    by_id = {e["id"]: e for e in t["experiments"]}
    assert sorted(by_id) == [1, 2, 7]
    for i, lr, opt in rows:
        e = by_id[i]
        hp = {h["name"]: h["fixedVal"] for h in e["hyperParams"]}
        assert float(hp["learning_rate"]) == float(lr) and hp["optimizer"] == opt, e
        bonus = 0.0 if opt == "Adam" else 1.0
        assert e["metricVal"] == pytest.approx((float(lr) - 0.03) ** 2 + 1.0 + bonus)
        # The trial saw the row's values in config.json, not an index.
        log = dl_x.request("GET", f"{wmla.DL}/execs/{e['appId']}/log").text
        cfg = json.loads(log.split("config ", 1)[1].splitlines()[0])
        assert cfg == {"learning_rate": float(lr), "optimizer": opt}, cfg
    assert t["best"]["id"] == 7


def test_algorithms_listed(dl):
    r = dl.request("GET", f"{wmla.DL}/hypersearch/algorithm")
    assert r.status == 200
    assert [a["name"] for a in r.json()] == ["Random", "TPE", "Bayesian", "Hyperband", "ExperimentGridSearch"]


SLOW = textwrap.dedent("""
    import json, os, time
    from emetrics import EMetrics
    cfg = json.loads(open("config.json").read())
    lr, epochs = float(cfg["learning_rate"]), int(cfg["epochs"])
    history = []
    with EMetrics.open() as em:   # emetrics lines are read while the trial runs: Hyperband can stop it early
        for epoch in range(1, epochs + 1):
            time.sleep(0.4)
            acc = 1.0 / (1.0 + 100 * (lr - 0.03) ** 2 + 1.0 / epoch)
            em.record(EMetrics.TEST_GROUP, epoch, {"accuracy": acc})
            history.append({"steps": epoch, "accuracy": acc})
    with open(os.path.join(os.environ["RESULT_DIR"], "val_dict_list.json"), "w") as f:
        json.dump(history, f)
""")


def test_hyperband_stops_trials_that_fall_behind(dl_x, tmp_path):
    root = tmp_path / "slow"
    root.mkdir()
    (root / "train.py").write_text(SLOW)
    task = {"modelSpec": {"args": "--exec-start PyTorch --workerDeviceType cpu --model-main train.py"},
            "algoDef": {"algorithm": "Hyperband", "maxJobNum": 9, "maxParalleJobNum": 3, "objectiveMetric": "accuracy",
                        "objective": "maximize",
                        "algoParams": [{"name": "RandomSeed", "value": "2"}, {"name": "ResourceName", "value": "epochs"},
                                       {"name": "ResourceValue", "value": "9"}, {"name": "eta", "value": "3"}]},
            "hyperParams": [lr_param()]}
    r = dl_x.start_hpo(task, "slow.modelDir.tar", wmla.model_dir_tar(str(root)))
    assert r.status == 200, r
    t = dl_x.wait_hpo(r.json()["uid"], timeout_s=150)
    assert t["state"] == "FINISHED", t
    states = [e["state"] for e in t["experiments"]]
    assert "KILLED" in states and "FINISHED" in states, states
    check_best(t, maximize=True)
