"""End to end against a real `stoke server`: submit with code upload, wait, logs (whole and live),
metrics from stoke.report() inside the job, hparams, results, kill, listing, cluster."""

from __future__ import annotations

import io
import os
import textwrap

import pytest

import stoke

PY = "/usr/bin/python3"

TRAIN = textwrap.dedent('''
    import json, os, sys
    import stoke
    from helper import greeting
    hp = stoke.hparams(lr=0.1, epochs=1, opt="sgd")
    print(greeting(), json.dumps(hp, sort_keys=True), flush=True)
    for step in range(hp["epochs"]):
        loss = hp["lr"] / (step + 1)
        ok = stoke.report(step, loss=loss, acc=step / 10)
        print(f"step {step} loss {loss} reported {ok}", flush=True)
    print("to-stderr", file=sys.stderr, flush=True)
    with open(os.path.join(os.environ["RESULT_DIR"], "model.json"), "w") as f:
        json.dump({"lr": hp["lr"]}, f)
    os.makedirs(os.path.join(os.environ["RESULT_DIR"], "sub"), exist_ok=True)
    open(os.path.join(os.environ["RESULT_DIR"], "sub", "notes.txt"), "w").write("done\\n")
''')


@pytest.fixture
def code_dir(tmp_path):
    d = tmp_path / "code"
    d.mkdir()
    (d / "train.py").write_text(TRAIN)
    (d / "helper.py").write_text("def greeting():\n    return 'hello-from-helper'\n")
    (d / ".git").mkdir()
    (d / ".git" / "config").write_text("secret")
    return d


def test_submit_code_wait_logs_metrics_result(client, code_dir, job_env, tmp_path):
    job = client.submit([PY, "train.py"], code_dir=code_dir, name="unit-train", cpus=1,
                        hparams={"lr": "0.5", "epochs": 4, "opt": "adam"}, env=job_env)
    assert isinstance(job, stoke.Job) and job.id > 0 and job.name == "unit-train"
    progress = io.StringIO()
    job.wait(timeout=60, stream=progress)
    assert job.state == "COMPLETED", (job.info, job.logs())
    assert job.ok and job.exit_code == 0
    shown = progress.getvalue()
    assert f"job {job.id} unit-train: COMPLETED" in shown, shown

    out = job.logs()
    assert "hello-from-helper" in out
    assert '"epochs": 4, "lr": 0.5, "opt": "adam"' in out  # string "0.5" cast to the default's float
    assert "step 3 loss 0.125 reported True" in out and "to-stderr" in out
    assert job.logs(tail=1).strip() in out.splitlines()[-1]

    m = job.metrics()
    assert m["loss"] == [(0, 0.5), (1, 0.25), (2, 0.5 / 3), (3, 0.125)]
    assert [v for _, v in m["acc"]] == [0.0, 0.1, 0.2, 0.3]
    assert list(job.metrics("loss", start=2)) == ["loss"]
    assert job.metrics("loss", start=2)["loss"] == [(2, 0.5 / 3), (3, 0.125)]

    dest = tmp_path / "result"
    assert job.download_result(str(dest)) == str(dest)
    assert (dest / "model.json").read_text() == '{"lr": 0.5}'
    assert (dest / "sub" / "notes.txt").read_text() == "done\n"
    saved = job.download_result(str(tmp_path), extract=False, format="zip")
    assert saved.endswith(f"job-{job.id}-result.zip") and os.path.getsize(saved) > 0

    # The upload left .git out and the working directory holds the code.
    probe = client.submit(["/bin/sh", "-c", "ls -a"], code_dir=code_dir).wait(timeout=30, progress=False)
    listing = probe.logs().split()
    assert "train.py" in listing and "helper.py" in listing and ".git" not in listing

    probe.delete()
    with pytest.raises(stoke.NotFound):
        client.job(probe.id)


def test_stream_logs_live_until_the_job_ends(client):
    script = ("import sys, time\n"
              "for i in range(5):\n"
              "    print(f'line {i}', flush=True); time.sleep(0.2)\n"
              "sys.stdout.write('no-newline-at-end'); sys.stdout.flush()\n")
    job = client.submit([PY, "-c", script])
    lines = list(job.stream_logs(timeout=60))
    assert lines == [f"line {i}" for i in range(5)] + ["no-newline-at-end"]
    assert job.refresh().state == "COMPLETED"
    # tail + follow on a finished job: the last lines, then the end.
    assert list(job.stream_logs(tail=2, timeout=60)) == ["line 4", "no-newline-at-end"]
    out = io.StringIO()
    assert job.follow(out, timeout=60).state == "COMPLETED"
    assert out.getvalue().splitlines()[0] == "line 0"


def test_stream_logs_survives_a_quiet_stretch(client):
    job = client.submit([PY, "-c", "import time; print('a', flush=True); time.sleep(2.5); print('b')"])
    assert list(job.stream_logs(reconnect_after=0.7, timeout=60)) == ["a", "b"]


def test_kill_and_wait_timeout(client):
    job = client.submit(["sleep", "60"], name="sleeper")
    with pytest.raises(stoke.DeadlineExceeded):
        job.wait(timeout=0.3, progress=False)
    with pytest.raises(stoke.Conflict):
        job.delete()  # still running
    job.kill(grace_s=1)
    assert job.wait(timeout=30, progress=False).state == "KILLED"
    assert not job.ok and job.done


def test_list_jobs_by_state_and_pages(client):
    ids = [client.submit(["true"], name="listed").id for _ in range(3)]
    for i in ids:
        client.job(i).wait(timeout=30, progress=False)
    got = client.jobs(name="listed", state="COMPLETED", limit=2)
    assert [j.id for j in got] == sorted(ids, reverse=True)[:2]
    assert {j.id for j in client.jobs(name="listed", limit=10)} == set(ids)


def test_cluster_slots_usage_queue(client):
    c = client.cluster()
    assert c["cpus"]["total"] == 4
    assert [s["index"] for s in client.slots() if s["kind"] == "cpu"] == [0, 1, 2, 3]
    big = client.submit(["sleep", "60"], cpus=4, name="hog")
    try:
        assert big.wait(timeout=30, progress=False, states=("RUNNING",)).state == "RUNNING"
        waiting = client.submit(["true"], cpus=1, name="waiter")
        assert [j.id for j in client.queue()] == [waiting.id]
        assert big.id in [j.id for j in client.running()]
        assert client.usage() == {"cpus": {"total": 4, "used": 4}, "gpus": {"total": 0, "used": 0},
                                  "memory": client.cluster()["memory"]}
        assert {s["job"] for s in client.slots() if s["kind"] == "cpu"} == {big.id}
        assert {s["user"] for s in client.slots() if s["kind"] == "cpu"} == {big.info["user"]}
    finally:
        big.kill(grace_s=0)
    assert big.wait(timeout=30, progress=False).state == "KILLED"
    assert waiting.wait(timeout=30, progress=False).state == "COMPLETED"


def test_whoami_and_tokens(client):
    assert client.whoami()["admin"] is True
    tok = client.create_token("carol")
    assert tok["token"] and tok["user"] == "carol"
    carol = client.with_token(tok["token"])
    assert carol.whoami() == {"user": "carol", "admin": False}
    assert any(t["id"] == tok["id"] for t in client.tokens())
    client.revoke_token(tok["id"])
    with pytest.raises(stoke.Unauthenticated):
        carol.whoami()
