"""Malformed and hostile requests: each gets the right 4xx (and field), the server stays healthy, and
nothing in the store or the data directory changes."""

import io
import json
import os
import tarfile
import zipfile

import pytest

from conftest import make_user
from harness import Client
from harness import multipart
from test_env import make_tar_gz

OK_JOB = {"argv": ["true"]}


def with_(**fields):
    spec = dict(OK_JOB)
    spec.update(fields)
    return spec


def tar_with(members):
    """members: list of TarInfo-like dicts {name, type, linkname, data}."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for m in members:
            info = tarfile.TarInfo(m["name"])
            info.type = m.get("type", tarfile.REGTYPE)
            info.linkname = m.get("linkname", "")
            data = m.get("data", b"")
            info.size = len(data) if info.type == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if info.type == tarfile.REGTYPE else None)
    return buf.getvalue()


def zip_with(names):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n in names:
            z.writestr(zipfile.ZipInfo(n), b"evil")
    return buf.getvalue()


def upload(archive, filename="code.tar.gz", ctype="application/gzip", spec=OK_JOB, parts=None):
    parts = parts if parts is not None else [("spec", None, "application/json", json.dumps(spec).encode()),
                                             ("code", filename, ctype, archive)]
    body, content_type = multipart(parts)
    return {"raw": body, "content_type": content_type}


@pytest.fixture(scope="module")
def world(server):
    """A finished job of another user, and a user token; then a snapshot of everything observable."""
    mallory, _ = make_user(server, "mallory")
    victim_token, _ = make_user(server, "victim")
    victim = server.client(victim_token)
    job = victim.submit(["sh", "-c", "echo secret > $RESULT_DIR/s"])
    victim.wait_state(job["id"])
    return {"mallory": mallory, "victim_job": job["id"], "escape": os.path.join(server.workdir, "escaped")}


def snapshot(server):
    admin = server.client()
    jobs = admin.get("jobs", query={"limit": 500}).json()["jobs"]
    tokens = admin.get("tokens").json()["tokens"]
    tree = []
    for root, dirs, files in os.walk(os.path.join(server.data_dir, "jobs")):
        tree += [os.path.relpath(os.path.join(root, n), server.data_dir) for n in dirs + files]
    return {"jobs": [(j["id"], j["state"]) for j in jobs], "tokens": tokens, "tree": sorted(tree)}


def cases(w):
    """(label, token ('admin'|'mallory'|None|text), method, path, request kwargs, status, field or None)."""
    vj, esc = w["victim_job"], w["escape"]
    big = {"argv": ["true"], "env": {"PAD": "x" * (2 << 20)}}
    return [
        ("broken json", "admin", "POST", "jobs", {"raw": b'{"argv": [', "content_type": "application/json"}, 400, None),
        ("json array body", "admin", "POST", "jobs", {"body": []}, 400, None),
        ("json string body", "admin", "POST", "jobs", {"body": "true"}, 400, None),
        ("empty body", "admin", "POST", "jobs", {"raw": b"", "content_type": "application/json"}, 400, None),
        ("not utf-8", "admin", "POST", "jobs", {"raw": b'{"argv": ["\xff\xfe"]}', "content_type": "application/json"},
         400, None),
        ("argv missing", "admin", "POST", "jobs", {"body": {}}, 400, "argv"),
        ("argv empty", "admin", "POST", "jobs", {"body": with_(argv=[])}, 400, "argv"),
        ("argv string", "admin", "POST", "jobs", {"body": with_(argv="ls -l")}, 400, "argv"),
        ("argv numbers", "admin", "POST", "jobs", {"body": with_(argv=[1, 2])}, 400, "argv.0"),
        ("argv.0 empty", "admin", "POST", "jobs", {"body": with_(argv=[""])}, 400, "argv.0"),
        ("cpus negative", "admin", "POST", "jobs", {"body": with_(resources={"cpus": -1})}, 400, "resources.cpus"),
        ("cpus zero", "admin", "POST", "jobs", {"body": with_(resources={"cpus": 0})}, 400, "resources.cpus"),
        ("cpus over pool", "admin", "POST", "jobs", {"body": with_(resources={"cpus": 5})}, 400, "resources.cpus"),
        ("cpus string", "admin", "POST", "jobs", {"body": with_(resources={"cpus": "2"})}, 400, "resources.cpus"),
        ("cpus fraction", "admin", "POST", "jobs", {"body": with_(resources={"cpus": 1.5})}, 400, "resources.cpus"),
        ("cpus huge", "admin", "POST", "jobs", {"body": with_(resources={"cpus": 2 ** 64})}, 400, "resources.cpus"),
        ("gpus none in pool", "admin", "POST", "jobs", {"body": with_(resources={"gpus": 1})}, 400, "resources.gpus"),
        ("gpus negative", "admin", "POST", "jobs", {"body": with_(resources={"gpus": -1})}, 400, "resources.gpus"),
        ("memory negative", "admin", "POST", "jobs", {"body": with_(resources={"memory": -5})}, 400,
         "resources.memory"),
        ("memory words", "admin", "POST", "jobs", {"body": with_(resources={"memory": "lots"})}, 400,
         "resources.memory"),
        ("resources not object", "admin", "POST", "jobs", {"body": with_(resources=[1])}, 400, "resources"),
        ("unknown resource", "admin", "POST", "jobs", {"body": with_(resources={"tpus": 1})}, 400, "resources.tpus"),
        ("unknown field", "admin", "POST", "jobs", {"body": with_(bogus=1)}, 400, "bogus"),
        ("priority too high", "admin", "POST", "jobs", {"body": with_(priority=5000)}, 400, "priority"),
        ("priority string", "admin", "POST", "jobs", {"body": with_(priority="high")}, 400, "priority"),
        ("max_runtime negative", "admin", "POST", "jobs", {"body": with_(max_runtime_s=-1)}, 400, "max_runtime_s"),
        ("env bad key", "admin", "POST", "jobs", {"body": with_(env={"1BAD": "x"})}, 400, "env"),
        ("env reserved key", "admin", "POST", "jobs", {"body": with_(env={"STOKE_TOKEN": "x"})}, 400, "env"),
        ("env non-string value", "admin", "POST", "jobs", {"body": with_(env={"A": 1})}, 400, "env"),
        ("env not object", "admin", "POST", "jobs", {"body": with_(env=["A=1"])}, 400, "env"),
        ("working_dir relative", "admin", "POST", "jobs", {"body": with_(working_dir="rel/dir")}, 400, "working_dir"),
        ("working_dir missing", "admin", "POST", "jobs", {"body": with_(working_dir="/no/such/dir/stoke")}, 400,
         "working_dir"),
        ("name too long", "admin", "POST", "jobs", {"body": with_(name="n" * 200)}, 400, "name"),
        ("hparams array", "admin", "POST", "jobs", {"body": with_(hparams=[1, 2])}, 400, "hparams"),
        ("text/plain body", "admin", "POST", "jobs", {"raw": json.dumps(OK_JOB).encode(),
                                                       "content_type": "text/plain"}, 415, "Content-Type"),
        ("json body over 1 MiB", "admin", "POST", "jobs", {"body": big}, 413, None),
        ("no token", None, "POST", "jobs", {"body": OK_JOB}, 401, None),
        ("unknown token", "stk_not_a_real_token", "POST", "jobs", {"body": OK_JOB}, 401, None),
        ("basic auth", "admin", "GET", "jobs", {"headers": {"Authorization": "Basic YWRtaW46YWRtaW4="}}, 401, None),
        ("empty bearer", "admin", "GET", "jobs", {"headers": {"Authorization": "Bearer "}}, 401, None),
        ("no token list", None, "GET", "jobs", {}, 401, None),
        ("no token metrics", None, "GET", "/metrics", {}, 401, None),
        ("missing job", "admin", "GET", "jobs/999999", {}, 404, None),
        ("missing job kill", "admin", "POST", "jobs/999999/kill", {}, 404, None),
        ("other's job get", "mallory", "GET", f"jobs/{vj}", {}, 404, None),
        ("other's job kill", "mallory", "POST", f"jobs/{vj}/kill", {}, 404, None),
        ("other's job delete", "mallory", "DELETE", f"jobs/{vj}", {}, 404, None),
        ("other's job logs", "mallory", "GET", f"jobs/{vj}/logs", {}, 404, None),
        ("other's job result", "mallory", "GET", f"jobs/{vj}/result", {}, 404, None),
        ("other's job metrics", "mallory", "POST", f"jobs/{vj}/metrics",
         {"body": {"metrics": [{"step": 1, "values": {"x": 1}}]}}, 404, None),
        ("user creates token", "mallory", "POST", "tokens", {"body": {"user": "mallory", "admin": True}}, 403, None),
        ("user revokes token", "mallory", "DELETE", "tokens/1", {}, 403, None),
        ("token empty user", "admin", "POST", "tokens", {"body": {"user": "", "admin": False}}, 400, "user"),
        ("token admin string", "admin", "POST", "tokens", {"body": {"user": "zed", "admin": "yes"}}, 400, "admin"),
        ("metrics negative step", "admin", "POST", f"jobs/{vj}/metrics",
         {"body": {"metrics": [{"step": -1, "values": {"x": 1}}]}}, 400, None),
        ("metrics string value", "admin", "POST", f"jobs/{vj}/metrics",
         {"body": {"metrics": [{"step": 1, "values": {"x": "high"}}]}}, 400, None),
        ("metrics infinite value", "admin", "POST", f"jobs/{vj}/metrics",
         {"raw": b'{"metrics": [{"step": 1, "values": {"x": 1e999}}]}', "content_type": "application/json"}, 400,
         None),
        ("metrics NaN literal", "admin", "POST", f"jobs/{vj}/metrics",
         {"raw": b'{"metrics": [{"step": 1, "values": {"x": NaN}}]}', "content_type": "application/json"}, 400, None),
        ("list limit zero", "admin", "GET", "jobs", {"query": {"limit": 0}}, 400, "limit"),
        ("list limit huge", "admin", "GET", "jobs", {"query": {"limit": 100000}}, 400, "limit"),
        ("list bad state", "admin", "GET", "jobs", {"query": {"state": "SLEEPING"}}, 400, "state"),
        ("list bad cursor", "admin", "GET", "jobs", {"query": {"cursor": "%%garbage"}}, 400, "cursor"),
        ("kill negative grace", "admin", "POST", f"jobs/{vj}/kill", {"query": {"grace_s": -1}}, 400, "grace_s"),
        ("result bad format", "admin", "GET", f"jobs/{vj}/result", {"query": {"format": "rar"}}, 400, "format"),
        ("archive ../ path", "admin", "POST", "jobs",
         upload(tar_with([{"name": "../escaped", "data": b"x"}])), 400, "code"),
        ("archive absolute path", "admin", "POST", "jobs",
         upload(tar_with([{"name": esc, "data": b"x"}])), 400, "code"),
        ("archive symlink out", "admin", "POST", "jobs",
         upload(tar_with([{"name": "link", "type": tarfile.SYMTYPE, "linkname": "/etc"},
                          {"name": "link/escaped", "data": b"x"}])), 400, "code"),
        ("archive symlink ../", "admin", "POST", "jobs",
         upload(tar_with([{"name": "up", "type": tarfile.SYMTYPE, "linkname": "../../.."}])), 400, "code"),
        ("archive hardlink out", "admin", "POST", "jobs",
         upload(tar_with([{"name": "pw", "type": tarfile.LNKTYPE, "linkname": "/etc/passwd"}])), 400, "code"),
        ("archive device file", "admin", "POST", "jobs",
         upload(tar_with([{"name": "dev", "type": tarfile.CHRTYPE}])), 400, "code"),
        ("archive garbage", "admin", "POST", "jobs", upload(b"this is not an archive" * 10), 400, "code"),
        ("zip ../ entry", "admin", "POST", "jobs",
         upload(zip_with(["ok.txt", "../../escaped"]), "code.zip", "application/zip"), 400, "code"),
        ("multipart no spec", "admin", "POST", "jobs",
         upload(None, parts=[("code", "c.tar.gz", "application/gzip", make_tar_gz({"a": b"1"}))]), 400, "spec"),
        ("multipart bad spec", "admin", "POST", "jobs",
         upload(None, parts=[("spec", None, "application/json", b'{"argv": 5}'),
                             ("code", "c.tar.gz", "application/gzip", make_tar_gz({"a": b"1"}))]), 400, "argv"),
        ("archive over 64 MiB", "admin", "POST", "jobs", upload(os.urandom(1024) * (65 * 1024)), 413, None),
    ]


def test_hostile_requests_are_rejected_and_change_nothing(server, world):
    before = snapshot(server)
    table = cases(world)
    assert len(table) >= 40
    failures = []
    for label, token, method, path, kwargs, status, field in table:
        tok = {"admin": server.admin_token, "mallory": world["mallory"]}.get(token, token)
        client = Client("127.0.0.1", server.port, tok)
        kwargs = dict(kwargs)
        try:
            r = client.request(method, path, kwargs.pop("body", None), **kwargs)
        except OSError as e:
            failures.append(f"{label}: connection error {e!r}")
            continue
        err = r.error()
        if r.status != status:
            failures.append(f"{label}: {method} {path} -> {r.status} (want {status}) {r.body[:200]!r}")
        elif not err.get("code") or "message" not in err:
            failures.append(f"{label}: error body is not {{error: {{code, message, field}}}}: {r.body[:200]!r}")
        elif field is not None and not str(err.get("field", "")).startswith(field):
            failures.append(f"{label}: field {err.get('field')!r}, want {field!r}")
        health = Client("127.0.0.1", server.port).get("/healthz")
        if health.status != 200 or not server.alive():
            failures.append(f"{label}: server unhealthy afterwards ({health.status}, alive={server.alive()})")
            break
    assert not os.path.exists(world["escape"]), "an archive wrote outside its directory"
    after = snapshot(server)
    assert after == before, f"store changed:\nbefore={before}\nafter={after}"
    assert not failures, f"{len(failures)} of {len(table)} cases wrong:\n" + "\n".join(failures)
