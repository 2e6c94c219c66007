"""A real `stoke server` for the client's tests: free port, temporary data dir, admin token."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def find_binary() -> str:
    """$STOKE_BIN, else the first build directory of this checkout that has the server."""
    if os.environ.get("STOKE_BIN"):
        return os.environ["STOKE_BIN"]
    for build in ("build", "build-py", "build-e2e"):
        candidate = os.path.join(REPO, build, "src", "apps", "stoke")
        if os.path.exists(candidate):
            return candidate
    return ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StokeServer:
    """One server process (--cpu-slots 4 --gpus none). Not thread-safe."""

    def __init__(self, binary: str, cpu_slots: int = 4) -> None:
        self.binary = binary
        self.workdir = tempfile.mkdtemp(prefix="stoke-pytest-")
        self.data_dir = os.path.join(self.workdir, "data")
        self.log_path = os.path.join(self.workdir, "server.log")
        self.cpu_slots = cpu_slots
        self.port = 0
        self.proc = None
        self.admin_token = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 20.0) -> "StokeServer":
        self.port = free_port()
        cmd = [self.binary, "server", "--port", str(self.port), "--data-dir", self.data_dir,
               "--cpu-slots", str(self.cpu_slots), "--gpus", "none"]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"stoke server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"stoke server not healthy after {timeout_s}s:\n{self.log_tail()}")
            time.sleep(0.05)
        token_file = os.path.join(self.data_dir, "admin.token")
        while not os.path.exists(token_file):
            if time.monotonic() > deadline:
                raise RuntimeError("no admin.token written")
            time.sleep(0.05)
        with open(token_file) as f:
            self.admin_token = f.read().strip()
        return self

    def log_tail(self, max_bytes: int = 8000) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - max_bytes))
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return "(no server log)"

    def _kill_job_processes(self) -> None:
        """Jobs run in their own sessions and may outlive the server: SIGKILL those pointing at it."""
        marker = f"STOKE_API=http://127.0.0.1:{self.port}/".encode()
        for pid in os.listdir("/proc"):
            if not pid.isdigit() or int(pid) == os.getpid():
                continue
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if marker in f.read():
                        os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._kill_job_processes()
        if not os.environ.get("STOKE_TEST_KEEP"):
            shutil.rmtree(self.workdir, ignore_errors=True)
