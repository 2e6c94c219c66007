"""What a job sees (environment, files, its own token's scope), WMLA metric files, result download,
and code upload (multipart with an archive that becomes the working directory)."""

import io
import json
import os
import tarfile
import zipfile

import harness
import jobscripts
from jobscripts import PY


def make_tar_gz(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def make_zip(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_job_environment_and_token_scope(server, client, scratch):
    other = client.submit(["true"])
    client.wait_state(other["id"])
    probe = jobscripts.write(scratch, "probe.py", jobscripts.ENV_PROBE)
    hparams = {"lr": 0.1, "layers": [64, 32], "opt": "sgd"}
    job = client.submit([PY, probe, str(other["id"])], hparams=hparams, env={"FOO": "bar baz"},
                        resources={"cpus": 2})
    done = client.wait_state(job["id"], timeout_s=60)
    log = client.logs(job["id"])
    assert done["state"] == "COMPLETED", (done, log)
    seen = json.load(open(os.path.join(done["result_dir"], "seen.json")))
    assert seen["STOKE_JOB_ID"] == str(job["id"])
    assert seen["STOKE_API"].rstrip("/") == f"http://127.0.0.1:{server.port}/api/v1", seen["STOKE_API"]
    assert seen["STOKE_TOKEN"] and seen["STOKE_TOKEN"] != server.admin_token
    assert seen["hparams_file"] == hparams, seen["hparams_file"]
    assert seen["config.json"] == hparams, "config.json in the working dir holds the hyperparameters"
    assert os.path.realpath(seen["cwd"]) == os.path.realpath(done["working_dir"]), (seen["cwd"], done)
    assert os.path.realpath(seen["RESULT_DIR"]) == os.path.realpath(done["result_dir"])
    assert os.path.realpath(seen["LOG_DIR"]) == os.path.realpath(done["log_dir"])
    assert os.path.isdir(seen["LOG_DIR"])
    assert seen["OMP_NUM_THREADS"] == "2"
    assert seen.get("CUDA_VISIBLE_DEVICES") == "", "no GPUs: CUDA_VISIBLE_DEVICES is set and empty"
    assert seen["FOO"] == "bar baz"
    # the job's token: its own job only, metrics yes, nothing else
    scope = seen["scope"]
    assert scope["get_own"] == 200 and scope["post_own_metrics"] == 200, scope
    assert scope["get_other"] in (403, 404) and scope["post_other_metrics"] in (403, 404), scope
    assert scope["kill_other"] in (403, 404), scope
    assert scope["submit"] == 403 and scope["list_tokens"] == 403 and scope["create_token"] == 403, scope
    r = client.get(f"jobs/{job['id']}/metrics", query={"name": "probe"})
    assert r.status == 200 and r.json()["series"][0]["points"] == [[0, 1.0]], r
    other_series = client.get(f"jobs/{other['id']}/metrics").json()["series"]
    assert not [s for s in other_series if s["name"] == "x" and s["count"]], "a job token wrote another job's metrics"


WMLA_JOB = r'''
import json, os, time
with open(os.path.join(os.environ["LOG_DIR"], "evaluation-metrics.txt"), "a") as f:
    for it in range(1, 4):
        f.write(json.dumps({"meta": {"training_id": "x", "time": int(time.time() * 1000), "rindex": 1},
                            "grouplabel": "test",
                            "etimes": {"iteration": {"type": 2, "value": str(it)},
                                       "time_stamp": {"value": "2026-01-01T00:00:00"}},
                            "values": {"em_acc": {"type": 3, "value": str(0.5 + it / 10)}}}) + "\n")
with open(os.path.join(os.environ["RESULT_DIR"], "val_dict_list.json"), "w") as f:
    json.dump([{"steps": 1, "vd_loss": 0.9}, {"steps": 2, "vd_loss": 0.4}], f)
'''


def test_wmla_metric_files_become_metrics(client, scratch):
    script = jobscripts.write(scratch, "wmla.py", WMLA_JOB)
    job = client.submit([PY, script])
    assert client.wait_state(job["id"])["state"] == "COMPLETED"

    def series():
        r = client.get(f"jobs/{job['id']}/metrics")
        assert r.status == 200, r
        return {s["name"]: s for s in r.json()["series"]}
    got = harness.wait_until(lambda: (lambda s: s if any("em_acc" in n for n in s) and any(
        "vd_loss" in n for n in s) else None)(series()), 10, "WMLA metrics to be picked up")
    em = next(s for n, s in got.items() if n.endswith("em_acc"))
    vd = next(s for n, s in got.items() if n.endswith("vd_loss"))
    assert [[p[0], round(p[1], 6)] for p in em["points"]] == [[1, 0.6], [2, 0.7], [3, 0.8]], em
    assert vd["points"] == [[1, 0.9], [2, 0.4]], vd


def test_result_download_tar_gz_and_zip(client):
    job = client.submit(["sh", "-c", 'mkdir -p "$RESULT_DIR/sub" && echo model > "$RESULT_DIR/model.txt" && '
                                     'printf "\\001\\002" > "$RESULT_DIR/sub/w.bin"'])
    assert client.wait_state(job["id"])["state"] == "COMPLETED"
    r = client.get(f"jobs/{job['id']}/result")
    assert r.status == 200, r
    assert r.headers["content-type"].startswith("application/gzip"), r.headers
    with tarfile.open(fileobj=io.BytesIO(r.body), mode="r:gz") as tar:
        files = {m.name.lstrip("./"): tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    assert files.get("model.txt") == b"model\n" and files.get("sub/w.bin") == b"\x01\x02", files
    r = client.get(f"jobs/{job['id']}/result", query={"format": "zip"})
    assert r.status == 200 and r.headers["content-type"].startswith("application/zip"), r
    with zipfile.ZipFile(io.BytesIO(r.body)) as z:
        names = {n.lstrip("./"): n for n in z.namelist()}
        assert z.read(names["model.txt"]) == b"model\n" and z.read(names["sub/w.bin"]) == b"\x01\x02"


def _upload(client, archive, filename, ctype, argv):
    spec = json.dumps({"argv": argv, "name": "uploaded"}).encode()
    body, content_type = harness.multipart([("spec", None, "application/json", spec), ("code", filename, ctype, archive)])
    return client.post("jobs", raw=body, content_type=content_type)


CODE = {"train.py": b"import os\nprint('data:', open('data/x.txt').read().strip(), 'cwd-has-train', "
                    b"os.path.exists('train.py'))\n",
        "data/x.txt": b"payload-42\n"}


def test_multipart_upload_tar_gz_becomes_working_dir(client):
    r = _upload(client, make_tar_gz(CODE), "code.tar.gz", "application/gzip", [PY, "train.py"])
    assert r.status == 201, r
    job = r.json()
    done = client.wait_state(job["id"], timeout_s=60)
    log = client.logs(job["id"])
    assert done["state"] == "COMPLETED", (done, log)
    assert "data: payload-42 cwd-has-train True" in log, log
    assert os.path.exists(os.path.join(done["working_dir"], "data", "x.txt"))


def test_multipart_upload_zip(client):
    r = _upload(client, make_zip(CODE), "code.zip", "application/zip", [PY, "train.py"])
    assert r.status == 201, r
    job = client.wait_state(r.json()["id"], timeout_s=60)
    assert job["state"] == "COMPLETED" and "payload-42" in client.logs(job["id"]), job


def test_cli_submit_dir_uploads_code(server, client, scratch):
    code = scratch / "code"
    (code / "data").mkdir(parents=True)
    for name, data in CODE.items():
        (code / name).write_bytes(data)
    r = server.cli("submit", "--json", "--wait", "--dir", str(code), "--", PY, "train.py", timeout_s=60)
    assert r.returncode == 0, (r.stdout, r.stderr)
    job = json.loads(r.stdout)
    assert job["state"] == "COMPLETED", job
    assert "payload-42" in client.logs(job["id"])


# Not spelled out in docs/api.md; a security expectation (kept last because the suite runs with -x).
def test_job_token_does_not_outlive_the_job(server, client, scratch):
    job = client.submit(["sh", "-c", 'echo "$STOKE_TOKEN" > "$RESULT_DIR/token"'])
    done = client.wait_state(job["id"])
    token = open(os.path.join(done["result_dir"], "token")).read().strip()
    r = server.client(token).post(f"jobs/{job['id']}/metrics", {"metrics": [{"step": 0, "values": {"late": 1}}]})
    assert r.status in (401, 403, 409), f"a finished job's token should not post any more: {r}"
