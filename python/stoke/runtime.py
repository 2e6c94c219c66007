"""What training code calls from inside a Stoke job: its hyperparameters and metric reports.

The server starts every job with ``STOKE_JOB_ID``, ``STOKE_API``, ``STOKE_TOKEN`` (valid for this job only)
and ``STOKE_HPARAMS`` (a JSON file). Outside a job both helpers warn once and do nothing, so the same
script runs on a laptop unchanged.
"""

from __future__ import annotations

import json
import math
import operator
import os
import threading
import time
import warnings
from typing import Any, Dict, Mapping, Optional

from .config import normalize_url
from .errors import InvalidArgument, StokeError
from .transport import Transport

# Retries of a report that failed for a transient reason (connection, 429, 5xx); then warn and go on.
RETRY_DELAYS_S = (0.2, 0.5, 1.0)

_warned = set()
_lock = threading.Lock()


def _warn_once(key: str, message: str) -> None:
    with _lock:
        if key in _warned:
            return
        _warned.add(key)
    warnings.warn(message, RuntimeWarning, stacklevel=3)


def in_job() -> bool:
    """True when running as a Stoke job (the server set ``STOKE_JOB_ID`` and ``STOKE_API``)."""
    return bool(os.environ.get("STOKE_JOB_ID") and os.environ.get("STOKE_API"))


def job_id() -> Optional[int]:
    value = os.environ.get("STOKE_JOB_ID")
    return int(value) if value and value.isdigit() else None


def _cast(value: Any, like: Any) -> Any:
    """WMLA-era configs carry numbers as strings ("epochs": "1"); cast to the default's type."""
    if not isinstance(value, str) or like is None or isinstance(like, str):
        return value
    try:
        if isinstance(like, bool):
            return value.strip().lower() in ("1", "true", "yes", "on")
        if isinstance(like, int):
            return int(float(value))
        if isinstance(like, float):
            return float(value)
    except ValueError:
        return value
    return value


def hparams(**defaults: Any) -> Dict[str, Any]:
    """The job's hyperparameters (``$STOKE_HPARAMS``, else ``config.json`` in the working directory)
    over ``defaults``. A value that arrives as a string is cast to its default's type.

    ``lr = stoke.hparams(lr=0.01, epochs=5)["lr"]``. Outside a job: warns once, returns the defaults.
    """
    path = os.environ.get("STOKE_HPARAMS")
    values: Dict[str, Any] = {}
    source = path if path and os.path.isfile(path) else ("config.json" if os.path.isfile("config.json") else None)
    if source is None:
        if not in_job():
            _warn_once("hparams", "stoke.hparams(): not running as a Stoke job (no STOKE_HPARAMS); "
                                  "using the defaults")
        return dict(defaults)
    try:
        with open(source, encoding="utf-8") as f:
            doc = json.load(f)
        if isinstance(doc, dict):
            values = doc
    except (OSError, ValueError) as e:
        _warn_once("hparams-read", f"stoke.hparams(): cannot read {source}: {e}; using the defaults")
    merged = dict(defaults)
    for k, v in values.items():
        merged[k] = _cast(v, defaults.get(k))
    return merged


class Reporter:
    """Posts metrics of one job with its own token. Thread-safe (no shared connection)."""

    def __init__(self, api: str, token: str, job: int, timeout: float = 10.0) -> None:
        self.job = job
        self.key = (api, token, job)
        self._t = Transport(normalize_url(api), token, timeout)

    def post(self, items: list) -> bool:
        """Posts items, retrying transient failures; True when the server accepted them."""
        last: Optional[Exception] = None
        for attempt in range(len(RETRY_DELAYS_S) + 1):
            try:
                self._t.post_json(f"jobs/{self.job}/metrics", {"metrics": items})
                return True
            except StokeError as e:
                last = e
                transient = e.status is None or e.status == 429 or e.status >= 500
                if not transient:
                    break
            if attempt < len(RETRY_DELAYS_S):
                time.sleep(RETRY_DELAYS_S[attempt])
        _warn_once(f"report-fail-{type(last).__name__}",
                   f"stoke.report(): metrics not recorded ({last}); training goes on")
        return False


_reporter: Optional[Reporter] = None


def _get_reporter() -> Optional[Reporter]:
    global _reporter
    if not in_job():
        return None
    api, token, jid = os.environ["STOKE_API"], os.environ.get("STOKE_TOKEN", ""), job_id()
    if jid is None:
        return None
    with _lock:
        if _reporter is None or _reporter.key != (api, token, jid):
            _reporter = Reporter(api, token, jid)
        return _reporter


def _clean_values(metrics: Mapping[str, Any]) -> Dict[str, float]:
    values: Dict[str, float] = {}
    for name, value in metrics.items():
        if hasattr(value, "item"):  # numpy scalars, 0-d torch tensors
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"stoke.report(): metric {name!r} must be a number, got {type(value).__name__}")
        if not math.isfinite(value):
            _warn_once(f"nonfinite-{name}", f"stoke.report(): metric {name!r} is {value}; not recorded "
                                            "(the server keeps finite numbers only)")
            continue
        values[name] = float(value)
    return values


def report(step: int, **metrics: Any) -> bool:
    """Records ``metrics`` (numbers) at ``step`` for the running job: ``stoke.report(3, loss=0.2, acc=0.9)``.

    Returns True when the server stored them. Transient server errors are retried briefly and then only
    warned about, so training never stops because of a report; NaN/inf values are dropped with a warning.
    Outside a job: warns once and returns False.
    """
    try:
        checked = -1 if isinstance(step, bool) else operator.index(step)  # ints, numpy integers
    except TypeError:
        checked = -1
    if checked < 0:
        raise InvalidArgument(f"stoke.report(): step must be an integer >= 0, got {step!r}", field="step")
    step = checked
    values = _clean_values(metrics)
    reporter = _get_reporter()
    if reporter is None:
        _warn_once("report", "stoke.report(): not running as a Stoke job (no STOKE_JOB_ID/STOKE_API); "
                             "metrics are not recorded")
        return False
    if not values:
        return False
    return reporter.post([{"step": step, "values": values}])
