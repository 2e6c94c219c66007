"""Handles on deployments (scoring endpoints). The server routes are a later issue; every call raises
:class:`stoke.NotSupportedByServer` until the server has them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List

if TYPE_CHECKING:  # pragma: no cover
    from .transport import Transport


class Deployment:
    """A deployed model: ``predict`` scores inputs, ``scale`` sets replicas. Not thread-safe."""

    def __init__(self, transport: "Transport", info: Dict[str, Any]) -> None:
        self._t = transport
        self.info = info

    @property
    def id(self) -> str:
        return str(self.info["id"])

    @property
    def name(self) -> str:
        return self.info.get("name", "")

    @property
    def state(self) -> str:
        return self.info.get("state", "")

    def __repr__(self) -> str:
        return f"<Deployment {self.id} {self.name!r} {self.state}>"

    def refresh(self) -> "Deployment":
        self.info = self._t.get_json(f"deployments/{self.id}")
        return self

    def predict(self, instances: Any) -> List[Any]:
        """Scores a batch: ``instances`` is a list of inputs (nested lists of numbers, or anything with
        ``tolist()`` such as a numpy array); returns one prediction per instance."""
        if hasattr(instances, "tolist"):
            instances = instances.tolist()
        doc = self._t.post_json(f"deployments/{self.id}/predict", {"instances": list(instances)})
        return list(doc.get("predictions", []))

    def scale(self, replicas: int) -> "Deployment":
        self.info = self._t.post_json(f"deployments/{self.id}/scale", {"replicas": int(replicas)})
        return self

    def undeploy(self) -> None:
        self._t.request("DELETE", f"deployments/{self.id}")
