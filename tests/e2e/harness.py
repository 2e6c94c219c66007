"""Start a real `stoke server` and talk to it over HTTP, with the standard library only.

Used by the pytest end-to-end suite (tests/e2e) and by the control-plane benchmark (bench/control_plane).
`StokeServer` owns one server process; `Client` is a tiny HTTP client (one connection per request, so it is
safe to share between threads).
"""

import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import uuid

TERMINAL_STATES = ("COMPLETED", "FAILED", "KILLED", "LOST")
API_PREFIX = "/api/v1/"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_binary():
    if os.environ.get("STOKE_BIN"):
        return os.environ["STOKE_BIN"]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for build in ("build", "build-e2e"):
        candidate = os.path.join(root, build, "src", "apps", "stoke")
        if os.path.exists(candidate):
            return candidate
    return ""


def parse_time(value):
    """Job timestamps are ISO-8601 UTC strings ("2026-11-26T14:02:10.123Z"); returns epoch seconds."""
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return value / 1000.0 if value > 1e11 else float(value)
    from datetime import datetime
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def wait_until(predicate, timeout_s, what, interval_s=0.02):
    """Polls `predicate` until it returns a truthy value; raises AssertionError naming `what` on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(interval_s)


def _die_with_parent():
    """In the child before exec: SIGKILL it when the test process dies (a killed pytest leaks no server)."""
    import ctypes
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body) if self.body else None

    def error(self):
        """The `error` object of an error answer, or {} when the body is not one."""
        try:
            doc = self.json()
        except ValueError:
            return {}
        return doc.get("error", {}) if isinstance(doc, dict) else {}

    def __repr__(self):
        return f"<Response {self.status} {self.body[:300]!r}>"


class Client:
    """HTTP client for one server and one token (None = no Authorization header)."""

    def __init__(self, host, port, token=None, timeout_s=30.0):
        self.host, self.port, self.token, self.timeout_s = host, port, token, timeout_s

    def with_token(self, token):
        return Client(self.host, self.port, token, self.timeout_s)

    @staticmethod
    def url_path(path, query=None):
        full = path if path.startswith("/") else API_PREFIX + path
        if query:
            full += ("&" if "?" in full else "?") + urllib.parse.urlencode(query)
        return full

    def request(self, method, path, body=None, *, raw=None, content_type=None, headers=None, query=None,
                timeout_s=None):
        """`body` is sent as JSON; `raw` as bytes with `content_type`. Never raises on HTTP errors."""
        hdrs = dict(headers or {})
        if self.token is not None and "Authorization" not in hdrs:
            hdrs["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif raw is not None:
            data = raw
            if content_type is not None:
                hdrs.setdefault("Content-Type", content_type)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout_s or self.timeout_s)
        try:
            conn.request(method, self.url_path(path, query), body=data, headers=hdrs)
            resp = conn.getresponse()
            return Response(resp.status, resp.getheaders(), resp.read())
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def open_stream(self, path, query=None, headers=None, timeout_s=None):
        """Starts a GET and returns (connection, response) with the body unread, for streaming."""
        hdrs = dict(headers or {})
        if self.token is not None:
            hdrs["Authorization"] = f"Bearer {self.token}"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout_s or self.timeout_s)
        conn.request("GET", self.url_path(path, query), headers=hdrs)
        return conn, conn.getresponse()

    # --- job helpers -------------------------------------------------------------------------------------
    def submit(self, argv, **spec):
        spec["argv"] = list(argv)
        r = self.post("jobs", spec)
        assert r.status == 201, f"submit {spec} -> {r}"
        return r.json()

    def job(self, job_id):
        r = self.get(f"jobs/{job_id}")
        assert r.status == 200, f"GET jobs/{job_id} -> {r}"
        return r.json()

    def wait_state(self, job_id, states=TERMINAL_STATES, timeout_s=30.0):
        states = (states,) if isinstance(states, str) else tuple(states)
        holder = {}

        def reached():
            holder["job"] = self.job(job_id)
            return holder["job"]["state"] in states

        try:
            wait_until(reached, timeout_s, f"job {job_id} to reach {states}", interval_s=0.05)
        except AssertionError as e:
            raise AssertionError(f"{e}; last seen {holder.get('job')}") from None
        return holder["job"]

    def logs(self, job_id, **query):
        r = self.get(f"jobs/{job_id}/logs", query=query or None)
        assert r.status == 200, f"logs {job_id} -> {r}"
        return r.text


class StokeServer:
    """One `stoke server` process on a free loopback port with its own data directory.

    Not thread-safe; the clients it hands out are.
    """

    def __init__(self, binary=None, data_dir=None, cpu_slots=4, extra_args=(), workdir=None):
        self.binary = binary or default_binary()
        if not self.binary or not os.path.exists(self.binary):
            raise RuntimeError(f"stoke binary not found (STOKE_BIN={self.binary!r})")
        self.workdir = workdir or tempfile.mkdtemp(prefix="stoke-e2e-")
        self.data_dir = data_dir or os.path.join(self.workdir, "data")
        self.home = os.path.join(self.workdir, "home")  # HOME for CLI runs: no user config leaks in
        os.makedirs(self.home, exist_ok=True)
        self.cpu_slots = cpu_slots
        self.extra_args = list(extra_args)
        self.port = None
        self.proc = None
        self.admin_token = None
        self.log_path = os.path.join(self.workdir, "server.log")
        self._own_workdir = workdir is None

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def client(self, token="admin"):
        return Client("127.0.0.1", self.port, self.admin_token if token == "admin" else token)

    def start(self, timeout_s=20.0, port=None):
        self.port = port or self.port or free_port()
        cmd = [self.binary, "server", "--port", str(self.port), "--data-dir", self.data_dir,
               "--cpu-slots", str(self.cpu_slots), "--gpus", "none", *self.extra_args]
        log = open(self.log_path, "ab")
        log.write(f"\n===== start {' '.join(cmd)}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=_die_with_parent)
        log.close()
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"stoke server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if Client("127.0.0.1", self.port, timeout_s=2).get("/healthz").status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"stoke server not healthy after {timeout_s}s:\n{self.log_tail()}")
            time.sleep(0.05)
        token_file = os.path.join(self.data_dir, "admin.token")
        wait_until(lambda: os.path.exists(token_file), 5, "admin.token")
        with open(token_file) as f:
            self.admin_token = f.read().strip()
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill9(self):
        """SIGKILL of the server process only (jobs run in their own sessions and must survive)."""
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self, timeout_s=10.0):
        if not self.alive():
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def log_tail(self, max_bytes=12000):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - max_bytes))
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return "(no server log)"

    def cli(self, *args, token="admin", timeout_s=60.0, input_text=None):
        """Runs `stoke ARGS` against this server; returns CompletedProcess (text)."""
        env = dict(os.environ, HOME=self.home, STOKE_URL=self.base_url)
        env.pop("STOKE_TOKEN", None)
        tok = self.admin_token if token == "admin" else token
        if tok is not None:
            env["STOKE_TOKEN"] = tok
        return subprocess.run([self.binary, *args], env=env, capture_output=True, text=True,
                              timeout=timeout_s, input=input_text)

    def kill_job_processes(self):
        """SIGKILLs every process whose environment points at this server (jobs outlive the server)."""
        if self.port is None:
            return
        prefix = f"STOKE_API=http://127.0.0.1:{self.port}".encode()
        markers = (prefix + b"/", prefix + b"\0")
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    env = f.read()
                    if any(m in env for m in markers):
                        os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass

    def cleanup(self):
        self.stop()
        self.kill_job_processes()
        if self._own_workdir and not os.environ.get("STOKE_E2E_KEEP"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except Exception:
            self.cleanup()
            raise

    def __exit__(self, *exc):
        self.cleanup()


def multipart(parts):
    """parts: list of (name, filename, content_type, bytes). Returns (body, content_type)."""
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for name, filename, ctype, data in parts:
        out.write(f"--{boundary}\r\n".encode())
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out.write(f"Content-Disposition: {disp}\r\nContent-Type: {ctype}\r\n\r\n".encode())
        out.write(data)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"
