"""Training code inside real jobs: stoke.report() and the WMLA emetrics shim reach the server's metrics."""

from __future__ import annotations

import json
import textwrap

import stoke

PY = "/usr/bin/python3"

REPORTER = textwrap.dedent('''
    import os, warnings
    warnings.simplefilter("error")  # a warning here (outside-a-job or failed report) fails the job
    import numpy as np
    import stoke
    assert stoke.in_job() and stoke.job_id() == int(os.environ["STOKE_JOB_ID"])
    for step in range(3):
        assert stoke.report(np.int64(step), loss=np.float32(1.0 / (step + 1)), acc=0.5 * step) is True
    print("reported", flush=True)
''')

EMETRICS = textwrap.dedent('''
    import os
    from emetrics import EMetrics
    with EMetrics.open("1") as em:
        for it in range(1, 4):
            em.record(EMetrics.TRAIN_GROUP, it, {"loss": 1.0 / it})
            em.record(EMetrics.TEST_GROUP, it, {"accuracy": 0.3 * it, "loss": 0.9 / it})
    print("emetrics written", os.listdir(os.environ["LOG_DIR"]), flush=True)
''')


def test_report_from_inside_a_job_reaches_the_server(client, job_env, tmp_path):
    (tmp_path / "r.py").write_text(REPORTER)
    job = client.submit([PY, "r.py"], code_dir=tmp_path, env=job_env).wait(timeout=60, progress=False)
    assert job.state == "COMPLETED", job.logs()
    m = job.metrics()
    assert m["loss"] == [(0, 1.0), (1, 0.5), (2, pytest_approx(1 / 3))]
    assert m["acc"] == [(0, 0.0), (1, 0.5), (2, 1.0)]


def pytest_approx(x):
    import pytest
    return pytest.approx(x, rel=1e-6)


def test_emetrics_shim_feeds_server_metrics(client, job_env, tmp_path):
    (tmp_path / "e.py").write_text(EMETRICS)
    job = client.submit([PY, "e.py"], code_dir=tmp_path, env=job_env).wait(timeout=60, progress=False)
    assert job.state == "COMPLETED", job.logs()
    assert "evaluation-metrics.txt" in job.logs()
    m = job.metrics()
    # test group -> plain names, train group -> train_<name>; values ingested from the file by the server.
    assert m["accuracy"] == [(1, pytest_approx(0.3)), (2, pytest_approx(0.6)), (3, pytest_approx(0.9))]
    assert m["loss"] == [(1, pytest_approx(0.9)), (2, pytest_approx(0.45)), (3, pytest_approx(0.3))]
    assert m["train_loss"] == [(1, 1.0), (2, 0.5), (3, pytest_approx(1 / 3))]
    dest = tmp_path / "res"
    job.download_result(str(dest))
    assert json.loads((dest / "val_dict_list.json").read_text()) == [
        {"steps": it, "accuracy": 0.3 * it, "loss": 0.9 / it} for it in range(1, 4)]


def test_owner_can_post_metrics_and_bad_values_name_the_field(client):
    job = client.submit(["true"]).wait(timeout=30, progress=False)
    assert job.post_metrics(5, score=2.5) == 1
    assert job.metrics("score") == {"score": [(5, 2.5)]}
    try:
        job.post_metrics(6, score="high")
    except stoke.InvalidArgument as e:
        assert e.field == "metrics.0.values.score"
    else:
        raise AssertionError("a string metric value was accepted")
