"""The notebook flow: log on -> submit a PyTorch exec with a *.modelDir.tar -> poll -> logs -> result zip."""

import io
import json
import os
import textwrap
import zipfile

import pytest

import wmla

TRAIN = textwrap.dedent("""
    import argparse, json, os, sys
    from emetrics import EMetrics   # Stoke ships the WMLA helper: no copying it next to the code

    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--lr", type=float, default=0.1)
    args = p.parse_args()
    env = {k: os.environ.get(k, "") for k in ("DATA_DIR", "DLI_DATA_FS", "RESULT_DIR", "LOG_DIR", "CHECKPOINT_DIR",
                                             "SAVED_MODEL_DIR", "DLI_EXECID", "APP_ID", "FRAME_WORK")}
    print("ENV " + json.dumps(env))
    print("from the data dir: " + open(os.path.join(os.environ["DATA_DIR"], "hello.txt")).read().strip())
    print("helper import works:", open("lib/helper.txt").read().strip())
    sys.stderr.write("this goes to stderr\\n")
    with EMetrics.open("1") as em:
        for epoch in range(1, args.epochs + 1):
            loss = 1.0 / (epoch * args.lr * 10)
            em.record(EMetrics.TEST_GROUP, epoch, {"loss": loss, "accuracy": 1 - loss / 2})
            print(f"epoch {epoch} loss {loss:.4f}")
    with open(os.path.join(os.environ["SAVED_MODEL_DIR"], "model.txt"), "w") as f:
        f.write("weights")
    with open(os.path.join(os.environ["CHECKPOINT_DIR"], "ckpt.txt"), "w") as f:
        f.write("checkpoint")
""")


@pytest.fixture(scope="module")
def model_tar(tmp_path_factory, server):
    root = tmp_path_factory.mktemp("model") / "mnist-wmla"
    (root / "lib").mkdir(parents=True)
    (root / "main.py").write_text(TRAIN)
    (root / "lib" / "helper.txt").write_text("yes")
    # The data the job reads, staged under DLI_DATA_FS (<data-dir>/wmla/data) as on WMLA's shared file system.
    data = os.path.join(server.data_dir, "wmla", "data", "pytorch_mnist")
    os.makedirs(data, exist_ok=True)
    with open(os.path.join(data, "hello.txt"), "w") as f:
        f.write("staged data")
    return wmla.model_dir_tar(str(root))


ARGS = ("--exec-start PyTorch --cs-datastore-meta type=fs,data_path=pytorch_mnist --workerDeviceNum 1 "
        "--appName mnist-app --model-main main.py --epochs 3 --lr 0.5")


def test_notebook_flow(dl, model_tar, server):
    r = dl.submit(ARGS, "mnist-wmla.modelDir.tar", model_tar)
    assert r.status == 200, r
    sub = r.json()
    exec_id = sub["id"]
    assert exec_id.startswith("wmla-") and sub["appId"] == exec_id and sub["submissionId"] == exec_id
    assert sub["state"] in wmla.ACTIVE
    assert "no GPUs" in sub.get("warning", "")  # --workerDeviceNum 1 on a CPU-only pool runs on CPU, and says so

    final = dl.wait_exec(exec_id)
    assert final["state"] == "FINISHED", final
    for key in ("appId", "appName", "args", "createTime", "creator", "elastic", "framework", "id", "numWorker",
                "state", "submissionId", "workDir"):
        assert key in final, key
    assert final["appName"] == "mnist-app" and final["framework"] == "PyTorch" and final["creator"] == "dse_user"
    assert final["args"] == ARGS and final["numWorker"] == 1 and final["elastic"] is False
    assert final["workDir"].endswith("/work/mnist-wmla")
    assert final["createTime"].endswith("Z")

    out = dl.request("GET", f"{wmla.DL}/execs/{exec_id}/log", query={"logType": "outlog"})
    assert out.status == 200, out
    assert "epoch 3 loss" in out.text and "this goes to stderr" not in out.text
    assert "from the data dir: staged data" in out.text and "helper import works: yes" in out.text
    env = json.loads(next(line for line in out.text.splitlines() if line.startswith("ENV "))[4:])
    result_dir = env["RESULT_DIR"]
    assert env["DLI_EXECID"] == exec_id and env["APP_ID"] == exec_id and env["FRAME_WORK"] == "PyTorch"
    assert env["CHECKPOINT_DIR"] == os.path.join(result_dir, "checkpoint")
    assert env["SAVED_MODEL_DIR"] == os.path.join(result_dir, "model")
    assert env["DATA_DIR"] == os.path.join(env["DLI_DATA_FS"], "pytorch_mnist") and env["LOG_DIR"]
    err = dl.request("GET", f"{wmla.DL}/execs/{exec_id}/log", query={"logType": "errlog"})
    assert "this goes to stderr" in err.text and "epoch 3" not in err.text
    both = dl.request("GET", f"{wmla.DL}/execs/{exec_id}/log", query={"logType": "outerrlog"})
    assert "this goes to stderr" in both.text and "epoch 3" in both.text

    res = dl.request("GET", f"{wmla.DL}/execs/{exec_id}/result")
    assert res.status == 200, res
    disposition = res.headers["content-disposition"]
    assert f"size={len(res.body)}" in disposition, disposition
    names = zipfile.ZipFile(io.BytesIO(res.body)).namelist()
    assert "model/model.txt" in names and "checkpoint/ckpt.txt" in names and "val_dict_list.json" in names, names
    vdl = json.loads(zipfile.ZipFile(io.BytesIO(res.body)).read("val_dict_list.json"))
    assert [v["steps"] for v in vdl] == [1, 2, 3]

    # Metrics came from the emetrics file and val_dict_list.json, no log parsing: Stoke's metrics API has them.
    stoke = server.client()
    job = sub["stokeJobId"]
    series = stoke.get(f"jobs/{job}/metrics", query={"name": "loss"}).json()["series"]
    assert series and [p[0] for p in series[0]["points"]] == [1, 2, 3]
    # And the exec is an ordinary Stoke job (CLI and UI show it).
    assert stoke.get(f"jobs/{job}").json()["user"] == "dse_user"

    listed = dl.request("GET", f"{wmla.DL}/execs/").json()
    assert exec_id in [e["id"] for e in listed]


def test_same_archive_twice_and_single_script(dl_x, model_tar):
    # WMLA refused a second submission of one tar; here each submission unpacks into its own job directory.
    ids = []
    for _ in range(2):
        r = dl_x.submit(ARGS, "mnist-wmla.modelDir.tar", model_tar)
        assert r.status == 200, r
        ids.append(r.json()["id"])
    assert ids[0] != ids[1]
    for i in ids:
        assert dl_x.wait_exec(i)["state"] == "FINISHED"
    # A single .py upload, the way the CPD notebook sends main.py.
    script = b"import os\nprint('single script in', os.path.basename(os.getcwd()))\n"
    r = dl_x.submit("--exec-start tensorflow --model-main main.py", "main.py", script)
    assert r.status == 200, r
    e = dl_x.wait_exec(r.json()["id"])
    assert e["state"] == "FINISHED" and e["framework"] == "tensorflow"
    assert "single script in work" in dl_x.request("GET", f"{wmla.DL}/execs/{e['id']}/log").text
    # --user-cmd: the words after -- are the whole command.
    r = dl_x.submit("--exec-start PyTorch --workerDeviceType cpu --user-cmd -- /bin/sh -c 'echo user cmd $FRAME_WORK'",
                    "main.py", script)
    assert r.status == 200, r
    e = dl_x.wait_exec(r.json()["id"])
    assert e["state"] == "FINISHED" and "user cmd PyTorch" in dl_x.request("GET", f"{wmla.DL}/execs/{e['id']}/log").text


def test_stop_and_delete(dl_x, server):
    script = b"import time\nprint('started', flush=True)\ntime.sleep(120)\n"
    r = dl_x.submit("--exec-start PyTorch --workerDeviceType cpu --model-main sleepy.py", "sleepy.py", script)
    assert r.status == 200, r
    exec_id = r.json()["id"]
    dl_x.wait_exec(exec_id, states=("RUNNING",), timeout_s=60)
    wmla.assert_wmla_error(dl_x.request("DELETE", f"{wmla.DL}/execs/{exec_id}"), 409)
    stop = dl_x.request("POST", f"{wmla.DL}/execs/{exec_id}/stop")
    assert stop.status == 204, stop
    assert dl_x.wait_exec(exec_id, timeout_s=30)["state"] == "KILLED"
    assert dl_x.request("DELETE", f"{wmla.DL}/execs/{exec_id}").status == 204
    wmla.assert_wmla_error(dl_x.request("GET", f"{wmla.DL}/execs/{exec_id}"), 404)
    # DELETE /execs removes the caller's finished execs.
    r = dl_x.request("DELETE", f"{wmla.DL}/execs")
    assert r.status == 200 and r.json()["deleted"], r
    assert dl_x.request("GET", f"{wmla.DL}/execs").json() == []


def test_frameworks(dl):
    r = dl.request("GET", f"{wmla.DL}/execs/frameworks")
    assert r.status == 200, r
    names = {f["name"]: f for f in r.json()}
    assert set(names) == {"PyTorch", "tensorflow", "distPyTorch", "edtPyTorch"}
    assert names["distPyTorch"]["execMode"] == "distributed" and names["edtPyTorch"]["appName"] == "ElasticPyTorchTrain"
