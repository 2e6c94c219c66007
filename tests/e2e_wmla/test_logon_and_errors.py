"""Logon, users (REST and CLI), both auth headers, and malformed WMLA requests -> WMLA-style errors."""

import base64
import json

import wmla
from conftest import PASSWORD, USER


def test_logon_both_paths_and_bad_credentials(server):
    c = wmla.Wmla(server.port)
    for path in ("/auth/v1/logon", "/platform/rest/conductor/v1/auth/logon"):
        r = c.logon(USER, PASSWORD, path=path)
        assert r.status == 200 and r.json()["accessToken"].startswith("stk_"), r
    bad = wmla.Wmla(server.port).logon(USER, "wrong")
    wmla.assert_wmla_error(bad, 401)
    assert bad.headers["www-authenticate"].startswith("Basic")
    wmla.assert_wmla_error(wmla.Wmla(server.port).logon("nobody", PASSWORD), 401)
    wmla.assert_wmla_error(wmla.Wmla(server.port).request("GET", "/auth/v1/logon"), 401)
    garbage = wmla.Wmla(server.port).request("GET", "/auth/v1/logon", headers={"Authorization": "Basic %%%"})
    wmla.assert_wmla_error(garbage, 401)
    for header in ("x-auth", "bearer"):
        anon = wmla.Wmla(server.port, token="stk_" + "0" * 64, header=header)
        wmla.assert_wmla_error(anon.request("GET", f"{wmla.DL}/execs"), 401)
        wmla.assert_wmla_error(wmla.Wmla(server.port, header=header).request("GET", f"{wmla.DL}/execs"), 401)


def test_cli_user_commands(server):
    r = server.cli("user", "create", "cli_user", "--password-stdin", input_text="cli-user-password\n")
    assert r.returncode == 0, r.stderr
    r = server.cli("user", "ls")
    assert r.returncode == 0 and "cli_user" in r.stdout, r
    assert wmla.Wmla(server.port).logon("cli_user", "cli-user-password").status == 200
    r = server.cli("user", "passwd", "cli_user", "--password-stdin", input_text="changed-password\n")
    assert r.returncode == 0, r.stderr
    wmla.assert_wmla_error(wmla.Wmla(server.port).logon("cli_user", "cli-user-password"), 401)
    c = wmla.Wmla(server.port)
    assert c.logon("cli_user", "changed-password").status == 200
    # A non-admin may change their own password, not create users.
    me = server.cli("user", "passwd", "cli_user", "--password-stdin", token=c.token, input_text="third-password\n")
    assert me.returncode == 0, me.stderr
    r = server.cli("user", "create", "x_user", "--password-stdin", token=c.token, input_text="x-user-password\n")
    assert r.returncode != 0 and "admin" in r.stderr, r


def test_malformed_exec_requests(dl):
    script = b"print('x')\n"
    cases = [
        ("", "args"),
        ("--exec-start caffe --model-main m.py", "args.--exec-start"),
        ("--exec-start PyTorch --model-main m.py --numWorker 2", "args.--numWorker"),
        ("--exec-start distPyTorch --model-main m.py --numWorker zero", "args.--numWorker"),
        ("--exec-start PyTorch --model-main m.py --workerDeviceType tpu", "args.--workerDeviceType"),
        ("--exec-start PyTorch --model-main m.py --workerDeviceType gpu", "args"),  # no GPU in this pool
        ("--exec-start PyTorch --model-main other.py", "args.--model-main"),
        ("--exec-start PyTorch --model-main 'm.py", "args"),
        ("--exec-start PyTorch --model-main m.py --cs-datastore-meta type=fs,data_path=../../etc",
         "args.--cs-datastore-meta"),
    ]
    for args, field in cases:
        wmla.assert_wmla_error(dl.submit(args, "m.py", script), 400, field)
    wmla.assert_wmla_error(dl.submit("--exec-start PyTorch --model-main m.py", "m.modelDir.tar", b"not a tar"), 400,
                           "file")
    body, ctype = wmla.multipart([("data", "{}", None)])
    wmla.assert_wmla_error(dl.request("POST", f"{wmla.DL}/execs", body, ctype,
                                      query={"args": "--exec-start PyTorch --model-main m.py"}), 400, "file")
    wmla.assert_wmla_error(dl.submit("--exec-start PyTorch --model-main m.py", "m.py", script, data="{"), 400)
    wmla.assert_wmla_error(dl.request("POST", f"{wmla.DL}/execs", b"{}", "application/json",
                                      query={"args": "x"}), 400, "Content-Type")
    for missing in ("wmla-99999", "not-an-id"):
        wmla.assert_wmla_error(dl.request("GET", f"{wmla.DL}/execs/{missing}"), 404)
        wmla.assert_wmla_error(dl.request("POST", f"{wmla.DL}/execs/{missing}/stop"), 404)
    r = dl.submit("--exec-start PyTorch --model-main m.py", "m.py", script)
    assert r.status == 200, r
    wmla.assert_wmla_error(dl.request("GET", f"{wmla.DL}/execs/{r.json()['id']}/log", query={"logType": "x"}), 400,
                           "logType")


def test_malformed_hpo_requests(dl):
    good = {"modelSpec": {"args": "--exec-start PyTorch --model-main m.py"},
            "algoDef": {"algorithm": "Random", "maxJobNum": 1, "objectiveMetric": "loss"},
            "hyperParams": [{"name": "lr", "type": "Range", "dataType": "double", "minDbVal": 0.1, "maxDbVal": 1}]}

    def patched(**changes):
        t = json.loads(json.dumps(good))
        for path, value in changes.items():
            target = t
            keys = path.split("__")
            for k in keys[:-1]:
                target = target[int(k)] if isinstance(target, list) else target[k]
            target[keys[-1]] = value
        return t

    cases = [
        (patched(algoDef__algorithm="Simplex"), "algoDef.algorithm"),
        (patched(algoDef__objectiveMetric=""), "algoDef.objectiveMetric"),
        (patched(algoDef__maxParalleJobNum=0), "algoDef.maxParalleJobNum"),
        (patched(hyperParams=[]), "hyperParams"),
        (patched(hyperParams__0__minDbVal=5), "hyperParams.0.minDbVal"),
        (patched(hyperParams__0__type="Discrete"), "hyperParams.0.discreteDbVal"),
        (patched(modelSpec__args="--exec-start Caffe --model-main m.py"), "modelSpec.args.--exec-start"),
        (patched(modelSpec__args="--exec-start PyTorch --model-main absent.py"), "modelSpec.args.--model-main"),
        (patched(algoDef__algorithm="ExperimentGridSearch"), "experiments"),
        (patched(algoDef__algorithm="Hyperband"), "algoDef.algoParams.ResourceValue"),
    ]
    for task, field in cases:
        wmla.assert_wmla_error(dl.start_hpo(task, "m.py", b"print(1)\n"), 400, field)
    body, ctype = wmla.multipart([("file", b"print(1)\n", "m.py"), ("data", "{oops", None)])
    wmla.assert_wmla_error(dl.request("POST", f"{wmla.DL}/hypersearch", body, ctype), 400, "data")
    for method in ("GET", "PUT", "DELETE"):
        wmla.assert_wmla_error(dl.request(method, f"{wmla.DL}/hypersearch/no-such-task"), 404)
