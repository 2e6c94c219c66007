"""WMLA/WML ``emetrics`` compatibility: ``from emetrics import EMetrics`` keeps working under Stoke.

``EMetrics.record(group, iteration, values)`` appends one JSON line per call to
``$LOG_DIR/evaluation-metrics.txt`` in the WMLA shape::

    {"meta": {"training_id": "...", "time": <ms>, "rindex": 1[, "subid": "..."]}, "grouplabel": "test",
     "etimes": {"iteration": {"type": 2, "value": "3"}, "time_stamp": {"value": "2026-...T..."}},
     "values": {"accuracy": {"type": 3, "value": "0.9"}}}

and, when opened with a ``subId`` (HPO), writes ``$RESULT_DIR/val_dict_list.json`` =
``[{"steps": iteration, **test_values}, ...]`` on close. The Stoke server reads both files into the job's
metrics (test group -> plain name, other groups -> ``<group>_<name>``), so nothing is posted over REST
from here (no double counting).

Folder: ``$LOG_DIR``, else ``$JOB_STATE_DIR/logs``, else ``/tmp``; with a ``subId``, WMLA used
``<folder>/<subId>/``. Inside a Stoke job the file stays at ``$LOG_DIR/evaluation-metrics.txt`` (the
one place the server follows live); the subId is still written into each line's ``meta``.
"""

from __future__ import annotations

import datetime
import json
import os
import threading
import time
from typing import IO, Any, Dict, List, Mapping, Optional

METRICS_FILE = "evaluation-metrics.txt"
VAL_DICT_LIST = "val_dict_list.json"


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") and callable(value.item) else value


def _encode(value: Any) -> Dict[str, Any]:
    """WMLA type codes: 2 = int, 3 = float, none = string. Values travel as strings."""
    value = _plain(value)
    if isinstance(value, bool):
        return {"value": str(value)}
    if isinstance(value, int):
        return {"type": 2, "value": str(value)}
    if isinstance(value, float):
        return {"type": 3, "value": repr(value)}
    return {"value": str(value)}


def metrics_folder(sub_id: Optional[str] = None) -> str:
    if os.environ.get("LOG_DIR"):
        folder = os.environ["LOG_DIR"]
    elif os.environ.get("JOB_STATE_DIR"):
        folder = os.path.join(os.environ["JOB_STATE_DIR"], "logs")
    else:
        folder = "/tmp"
    if sub_id is not None and not os.environ.get("STOKE_JOB_ID"):
        folder = os.path.join(folder, str(sub_id))
    return folder


class EMetrics:
    """One open metrics file. Thread-safe: ``record`` may be called from several threads."""

    TEST_GROUP = "test"
    TRAIN_GROUP = "train"

    def __init__(self, subId: Optional[str], f: Optional[IO[str]]) -> None:  # noqa: N803 - WMLA's name
        self.trainingId = os.environ.get("TRAINING_ID") or os.environ.get("STOKE_JOB_ID") or ""  # noqa: N815
        self.rIndex = 1  # noqa: N815 - never incremented, as in WMLA's copies
        self.subId = subId  # noqa: N815
        self.f = f
        self.test_history: List[Dict[str, Any]] = []
        self._lock = threading.Lock()

    @staticmethod
    def open(subId: Optional[str] = None) -> "EMetrics":  # noqa: N803
        folder = metrics_folder(subId)
        os.makedirs(folder, exist_ok=True)
        f = open(os.path.join(folder, METRICS_FILE), "a", encoding="utf-8")
        return EMetrics(subId, f)

    def __enter__(self) -> "EMetrics":
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        self.close()

    def record(self, group: str, iteration: int, values: Mapping[str, Any]) -> None:
        """Appends one line for ``group`` (``EMetrics.TEST_GROUP`` or ``TRAIN_GROUP``) at ``iteration``."""
        iteration = _plain(iteration)
        plain = {k: _plain(v) for k, v in values.items()}
        meta: Dict[str, Any] = {"training_id": self.trainingId, "time": int(time.time() * 1000),
                                "rindex": self.rIndex}
        if self.subId:
            meta["subid"] = str(self.subId)
        line = {
            "meta": meta,
            "grouplabel": group,
            "etimes": {"iteration": _encode(iteration),
                       "time_stamp": {"value": datetime.datetime.now().isoformat()}},
            "values": {k: _encode(v) for k, v in plain.items()},
        }
        text = json.dumps(line) + "\n"
        with self._lock:
            if group == EMetrics.TEST_GROUP and self.subId:
                entry: Dict[str, Any] = {"steps": iteration}
                entry.update(plain)
                self.test_history.append(entry)
            if self.f is not None:
                self.f.write(text)
                self.f.flush()

    def close(self) -> None:
        with self._lock:
            if self.f is not None:
                self.f.close()
                self.f = None
            if self.subId:
                folder = os.environ.get("RESULT_DIR") or "/tmp"
                os.makedirs(folder, exist_ok=True)
                tmp = os.path.join(folder, VAL_DICT_LIST + ".tmp")
                with open(tmp, "w", encoding="utf-8") as out:
                    json.dump(self.test_history, out)
                os.replace(tmp, os.path.join(folder, VAL_DICT_LIST))
