"""Handles on hyperparameter-search experiments: progress, best trial, trials and their curves."""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional, Sequence, TextIO, Union

from ._handle import Handle
from .errors import DeadlineExceeded
from .jobs import MetricSeries, parse_series, series_frame
from .progress import ProgressLine

EXPERIMENT_TERMINAL_STATES = ("COMPLETED", "STOPPED", "FAILED")


class Experiment(Handle):
    """An experiment on the server; ``info`` is the experiment object as last fetched (docs/api.md).
    Not thread-safe."""

    @property
    def progress(self) -> float:
        return float(self.info.get("progress") or 0.0)

    @property
    def done(self) -> bool:
        return self.state in EXPERIMENT_TERMINAL_STATES

    def __repr__(self) -> str:
        return f"<Experiment {self.id} {self.name!r} {self.state} {self.progress:.0%}>"

    def refresh(self) -> "Experiment":
        self.info = self._t.get_json(f"experiments/{self.id}")
        return self

    def _line(self) -> str:
        t = self.info.get("trials") or {}
        best = self.info.get("best") or {}
        objective = (self.info.get("objective") or {}).get("metric", "objective")
        best_text = f" best {objective}={best['value']:.6g} (trial {best.get('trial')})" \
            if isinstance(best.get("value"), (int, float)) else ""
        return (f"experiment {self.id} {self.name}: {self.state} {self.progress:4.0%} trials "
                f"{t.get('completed', 0)} done, {t.get('running', 0)} running, {t.get('pruned', 0)} pruned, "
                f"{t.get('failed', 0)} failed{best_text}")

    def wait(self, timeout: Optional[float] = None, *, progress: bool = True, stream: Optional[TextIO] = None,
             poll: float = 2.0) -> "Experiment":
        """Watches the experiment until COMPLETED, STOPPED or FAILED, with a progress line; returns it.
        Raises :class:`DeadlineExceeded` after ``timeout`` seconds."""
        line = ProgressLine(progress, stream)
        start = time.monotonic()
        interval = 0.1
        try:
            while True:
                self.refresh()
                line.show(self._line())
                if self.done:
                    return self
                elapsed = time.monotonic() - start
                if timeout is not None and elapsed >= timeout:
                    raise DeadlineExceeded(f"experiment {self.id} still {self.state} after {timeout}s")
                sleep = min(interval, poll)
                if timeout is not None:
                    sleep = max(0.0, min(sleep, start + timeout - time.monotonic()))
                time.sleep(sleep)
                interval *= 2
        finally:
            line.done()

    watch = wait

    def best(self) -> Dict[str, Any]:
        """The best trial object so far (id, job, params, value, ...)."""
        return self._t.get_json(f"experiments/{self.id}/best")

    def trials(self) -> List[Dict[str, Any]]:
        return list(self._t.get_json(f"experiments/{self.id}/trials").get("trials", []))

    def trials_frame(self) -> Any:
        """Trials as a pandas DataFrame: one row per trial, params flattened to ``param_<name>`` columns."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("trials as a DataFrame need pandas; .trials() gives the plain list") from None
        rows = []
        for t in self.trials():
            row = {k: v for k, v in t.items() if k != "params"}
            row.update({f"param_{k}": v for k, v in (t.get("params") or {}).items()})
            rows.append(row)
        return pd.DataFrame(rows)

    def trial_metrics(self, trial: int, names: Optional[Union[str, Sequence[str]]] = None, *,
                      points: Optional[int] = None) -> MetricSeries:
        """One trial's curves across its restarts: ``{"accuracy": [(step, value), ...]}``."""
        if isinstance(names, str):
            names = [names]
        doc = self._t.get_json(f"experiments/{self.id}/trials/{trial}/metrics",
                               query={"name": list(names) if names else None, "points": points})
        return parse_series(doc)

    def trial_metrics_frame(self, trial: int, names: Optional[Union[str, Sequence[str]]] = None, **kw: Any) -> Any:
        return series_frame(self.trial_metrics(trial, names, **kw))

    def stop(self) -> "Experiment":
        self.info = self._t.post_json(f"experiments/{self.id}/stop")
        return self

    def resume(self) -> "Experiment":
        self.info = self._t.post_json(f"experiments/{self.id}/resume")
        return self

    def delete(self) -> None:
        self._t.request("DELETE", f"experiments/{self.id}")

    def export(self, format: str = "json") -> Any:
        """Every trial with its params and final value: parsed JSON for ``json``, the text for ``csv``."""
        r = self._t.request("GET", f"experiments/{self.id}/export", query={"format": format})
        return r.json() if format == "json" else r.text
