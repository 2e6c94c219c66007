"""A WMLA-notebook-style client for the end-to-end tests: logon with HTTP Basic, then the DLI REST calls
(`/platform/rest/deeplearning/v1`) with either `X-Auth-Token` (notebooks) or `Authorization: Bearer` (dlicmd).
Standard library only; one connection per request."""

import base64
import http.client
import io
import json
import os
import tarfile
import time
import urllib.parse
import uuid

DL = "/platform/rest/deeplearning/v1"
ACTIVE = ("NEW", "SUBMITTED", "PENDING_JOB_SCHEDULER", "PENDING_CRD_SCHEDULER", "LAUNCHING", "RUNNING", "RECOVERING",
          "UNKNOWN")
DONE = ("FINISHED", "KILLED", "ERROR")


class Answer:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, {k.lower(): v for k, v in headers}, body

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Answer {self.status} {self.body[:400]!r}>"


def multipart(fields):
    """fields: list of (name, value bytes|str, filename or None) -> (body, content type)."""
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for name, value, filename in fields:
        out.write(f"--{boundary}\r\n".encode())
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out.write(f"Content-Disposition: {disp}\r\n".encode())
        if filename:
            out.write(b"Content-Type: application/octet-stream\r\n")
        out.write(b"\r\n")
        out.write(value.encode() if isinstance(value, str) else value)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def model_dir_tar(src_dir, gzip=True):
    """What the notebooks upload: a tar of the model directory itself, named *.modelDir.tar, gzipped anyway."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gzip else "w") as tar:
        tar.add(src_dir, arcname=os.path.basename(src_dir.rstrip("/")))
    return buf.getvalue()


class Wmla:
    def __init__(self, port, token=None, header="x-auth", timeout_s=30.0):
        self.port, self.token, self.header, self.timeout_s = port, token, header, timeout_s

    def request(self, method, path, body=None, content_type=None, headers=None, query=None):
        hdrs = dict(headers or {})
        if self.token is not None:
            if self.header == "x-auth":
                hdrs["X-Auth-Token"] = self.token
            else:
                hdrs["Authorization"] = "Bearer " + self.token
        if content_type:
            hdrs["Content-Type"] = content_type
        if query:
            path += "?" + urllib.parse.urlencode(query)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout_s)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            return Answer(resp.status, resp.getheaders(), resp.read())
        finally:
            conn.close()

    def logon(self, user, password, path="/auth/v1/logon"):
        basic = base64.b64encode(f"{user}:{password}".encode()).decode()
        r = self.request("GET", path, headers={"Authorization": "Basic " + basic})
        if r.status == 200:
            self.token = r.json()["accessToken"]
        return r

    def submit(self, args, file_name, file_bytes, data=None):
        fields = [("file", file_bytes, file_name)]
        if data is not None:
            fields.append(("data", json.dumps(data), None))
        body, ctype = multipart(fields)
        return self.request("POST", DL + "/execs", body, ctype, query={"args": args})

    def exec(self, exec_id):
        r = self.request("GET", f"{DL}/execs/{exec_id}")
        assert r.status == 200, r
        return r.json()

    def wait_exec(self, exec_id, timeout_s=90.0, states=DONE):
        """Polls like the notebooks until the state leaves the active ones."""
        deadline = time.monotonic() + timeout_s
        while True:
            e = self.exec(exec_id)
            if e["state"] in states:
                return e
            assert time.monotonic() < deadline, f"exec {exec_id} still {e['state']} after {timeout_s}s"
            time.sleep(0.2)

    def start_hpo(self, task, file_name, file_bytes):
        body, ctype = multipart([("file", file_bytes, file_name), ("data", json.dumps(task), None)])
        return self.request("POST", DL + "/hypersearch", body, ctype)

    def hpo(self, name):
        r = self.request("GET", f"{DL}/hypersearch/{name}")
        assert r.status == 200, r
        return r.json()

    def wait_hpo(self, name, timeout_s=120.0):
        deadline = time.monotonic() + timeout_s
        while True:
            t = self.hpo(name)
            if t["state"] in ("FINISHED", "FAILED", "STOPPED"):
                return t
            assert time.monotonic() < deadline, f"HPO task {name} still {t['state']} ({t['progress']}) after {timeout_s}s"
            time.sleep(0.3)


def assert_wmla_error(answer, status, field=None):
    """A WMLA-style error: the HTTP status, and a body {"code": status, "message": ..., ["field"]}."""
    assert answer.status == status, answer
    doc = answer.json()
    assert doc["code"] == status and doc["message"], doc
    if field is not None:
        assert doc.get("field") == field, doc
    return doc
