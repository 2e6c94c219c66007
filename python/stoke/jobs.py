"""Handles on jobs: state, wait, logs (whole or followed live), metrics, kill, results."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
import time
from typing import Any, Dict, Iterator, List, Optional, Sequence, TextIO, Tuple, Union

from ._handle import Handle
from .archive import extract_tar
from .errors import DeadlineExceeded, InvalidArgument
from .progress import ProgressLine

TERMINAL_STATES = ("COMPLETED", "FAILED", "KILLED", "LOST")

# name -> [(step, value), ...] in step order
MetricSeries = Dict[str, List[Tuple[int, float]]]


def parse_series(doc: Any) -> MetricSeries:
    out: MetricSeries = {}
    for s in (doc or {}).get("series", []):
        out[s["name"]] = [(int(p[0]), float(p[1])) for p in s.get("points", [])]
    return out


def series_frame(series: MetricSeries) -> Any:
    """A pandas DataFrame indexed by step with one column per metric (pandas must be installed)."""
    try:
        import pandas as pd  # noqa: WPS433 - optional dependency
    except ImportError:
        raise ImportError("metrics as a DataFrame need pandas (pip install pandas); "
                          "the plain lists come from .metrics()") from None
    columns = {name: pd.Series({step: value for step, value in pts}, dtype="float64")
               for name, pts in series.items()}
    frame = pd.DataFrame(columns)
    frame.index.name = "step"
    return frame.sort_index()


class Job(Handle):
    """A job on the server. ``info`` is the job object as last fetched (see docs/api.md); ``refresh()``
    fetches it again. Not thread-safe (share the Client, not Job handles, between threads)."""

    # --- plain attributes --------------------------------------------------------------------------------
    @property
    def exit_code(self) -> Optional[int]:
        return self.info.get("exit_code")

    @property
    def reason(self) -> str:
        return self.info.get("reason", "")

    @property
    def done(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def ok(self) -> bool:
        return self.state == "COMPLETED"

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.name!r} {self.state}>"

    # --- state ---------------------------------------------------------------------------------------------
    def refresh(self) -> "Job":
        self.info = self._t.get_json(f"jobs/{self.id}")
        return self

    def wait(self, timeout: Optional[float] = None, *, progress: bool = True, stream: Optional[TextIO] = None,
             poll: float = 1.0, states: Optional[Sequence[str]] = None) -> "Job":
        """Blocks until the job ends (COMPLETED, FAILED, KILLED or LOST), or reaches one of ``states``
        when given (e.g. ``("RUNNING",)``), and returns it.

        Shows a progress line (state, elapsed seconds, reason) on ``stream`` (default stderr) unless
        ``progress=False``. Raises :class:`DeadlineExceeded` when ``timeout`` seconds pass first.
        """
        line = ProgressLine(progress, stream)
        start = time.monotonic()
        interval = 0.05
        try:
            while True:
                self.refresh()
                elapsed = time.monotonic() - start
                why = f" - {self.reason}" if self.reason else ""
                line.show(f"job {self.id} {self.name}: {self.state} {elapsed:5.1f}s{why}",
                          key=f"{self.state}{why}")
                if self.done or (states is not None and self.state in states):
                    return self
                if timeout is not None and elapsed >= timeout:
                    raise DeadlineExceeded(f"job {self.id} still {self.state} after {timeout}s", status=None)
                sleep = min(interval, poll)
                if timeout is not None:
                    sleep = max(0.0, min(sleep, start + timeout - time.monotonic()))
                time.sleep(sleep)
                interval *= 2
        finally:
            line.done()

    def kill(self, grace_s: Optional[int] = None) -> "Job":
        """SIGTERM to the job's process tree, SIGKILL after ``grace_s`` (server default 10 s)."""
        self.info = self._t.post_json(f"jobs/{self.id}/kill", query={"grace_s": grace_s})
        return self

    def delete(self) -> None:
        """Removes a finished job with its metrics and files (Conflict while it runs)."""
        self._t.request("DELETE", f"jobs/{self.id}")

    # --- logs ----------------------------------------------------------------------------------------------
    def logs(self, *, tail: Optional[int] = None, offset: int = 0) -> str:
        """The job's output (stdout+stderr) so far; ``tail`` keeps the last N lines."""
        return self._t.request("GET", f"jobs/{self.id}/logs", query={"offset": offset or None, "tail": tail}).text

    def stream_logs(self, *, tail: Optional[int] = None, offset: int = 0, timeout: Optional[float] = None,
                    reconnect_after: float = 15.0) -> Iterator[str]:
        """Yields output lines live (without their newline) until the job ends.

        Uses ``follow=true`` (chunked text). A quiet stream is reopened at the byte offset reached every
        ``reconnect_after`` seconds, so a job that prints nothing for a long time does not time out.
        Raises :class:`DeadlineExceeded` when the job is still running after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        pos = offset
        pending = b""
        if tail is not None:
            r = self._t.request("GET", f"jobs/{self.id}/logs", query={"offset": offset or None, "tail": tail})
            pos = int(r.headers.get("x-stoke-log-offset", offset + len(r.body)))
            pending = r.body
        while True:
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                yield raw.decode("utf-8", errors="replace")
            ended = False
            wait_s = reconnect_after
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DeadlineExceeded(f"job {self.id} still running after {timeout}s of log streaming")
                wait_s = min(wait_s, max(left, 0.05))
            try:
                for piece in self._t.stream("GET", f"jobs/{self.id}/logs", query={"follow": True, "offset": pos},
                                            headers={"Accept": "text/plain"}, timeout=wait_s):
                    pos += len(piece)
                    pending += piece
                    *lines, pending = pending.split(b"\n")
                    for raw in lines:
                        yield raw.decode("utf-8", errors="replace")
                    if deadline is not None and time.monotonic() > deadline:
                        break
                else:
                    ended = True
            except socket.timeout:
                ended = False
            if ended or self.refresh().done:
                if not ended:  # the job ended while we reconnect: read what is left
                    rest = self.logs(offset=pos).encode("utf-8")
                    pending += rest
                *lines, pending = pending.split(b"\n")
                for raw in lines:
                    yield raw.decode("utf-8", errors="replace")
                if pending:
                    yield pending.decode("utf-8", errors="replace")
                return

    def follow(self, stream: Optional[TextIO] = None, *, tail: Optional[int] = None,
               timeout: Optional[float] = None) -> "Job":
        """Prints the output live to ``stream`` (stdout) until the job ends; returns the refreshed job."""
        out = stream if stream is not None else sys.stdout
        for line in self.stream_logs(tail=tail, timeout=timeout):
            out.write(line + "\n")
            out.flush()
        return self.refresh()

    # --- metrics -------------------------------------------------------------------------------------------
    def metrics(self, names: Optional[Union[str, Sequence[str]]] = None, *, start: Optional[int] = None,
                end: Optional[int] = None, points: Optional[int] = None) -> MetricSeries:
        """``{"loss": [(step, value), ...], ...}``; every series unless ``names`` is given. Long series are
        downsampled by the server to ``points`` (default 1000) keeping min and max per bucket."""
        if isinstance(names, str):
            names = [names]
        doc = self._t.get_json(f"jobs/{self.id}/metrics",
                               query={"name": list(names) if names else None, "from": start, "to": end,
                                      "points": points})
        return parse_series(doc)

    def metrics_frame(self, names: Optional[Union[str, Sequence[str]]] = None, **kw: Any) -> Any:
        """The same as a pandas DataFrame (index: step, one column per metric)."""
        return series_frame(self.metrics(names, **kw))

    def post_metrics(self, step: int, **values: float) -> int:
        """Posts one step's values as the owner/admin (inside a job use :func:`stoke.report`)."""
        doc = self._t.post_json(f"jobs/{self.id}/metrics", {"metrics": [{"step": step, "values": values}]})
        return int(doc.get("accepted", 0))

    # --- results -------------------------------------------------------------------------------------------
    def download_result(self, dest: str = ".", *, extract: bool = True, format: str = "tar.gz") -> str:
        """Fetches the job's ``$RESULT_DIR``.

        With ``extract`` (tar.gz only) the files land in ``dest`` (a directory, created if needed) after
        checking each entry (no absolute paths, ``..`` or links); returns ``dest``. Otherwise the archive is
        saved as ``dest`` (or ``dest/job-<id>-result.<format>`` when ``dest`` is a directory) and that path
        is returned.
        """
        if format not in ("tar.gz", "zip"):
            raise InvalidArgument("format must be tar.gz or zip", field="format")
        if extract and format != "tar.gz":
            raise InvalidArgument("only tar.gz results can be extracted here; use extract=False", field="format")
        fd, tmp = tempfile.mkstemp(prefix=f"stoke-result-{self.id}-", suffix="." + format)
        try:
            with os.fdopen(fd, "wb") as f:
                for piece in self._t.stream("GET", f"jobs/{self.id}/result", query={"format": format},
                                            headers={"Accept": "application/gzip, application/zip"}):
                    f.write(piece)
            if extract:
                extract_tar(tmp, dest)
                return dest
            target = dest
            if os.path.isdir(dest):
                target = os.path.join(dest, f"job-{self.id}-result.{format}")
            shutil.move(tmp, target)
            tmp = ""
            return target
        finally:
            if tmp and os.path.exists(tmp):
                os.unlink(tmp)
