"""Handles on deployments (scoring endpoints): predict, scale, undeploy."""

from __future__ import annotations

from typing import Any, List

from ._handle import Handle


class Deployment(Handle):
    """A deployed model: ``predict`` scores inputs, ``scale`` sets replicas. Not thread-safe."""

    @property
    def id(self) -> str:
        """Deployments are addressed by name (``/api/v1/deployments/{name}``)."""
        return str(self.info.get("name") or self.info.get("id", ""))

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
        instances = list(instances)
        # A request carries at most the deployment's max_batch rows; larger inputs go in pieces.
        limit = int(self.info.get("batching", {}).get("max_batch", 32)) or 32
        predictions: List[Any] = []
        for start in range(0, len(instances), limit):
            doc = self._t.post_json(f"deployments/{self.id}/predict",
                                    {"instances": instances[start:start + limit]})
            predictions.extend(doc.get("predictions", []))
        return predictions

    def scale(self, replicas: int) -> "Deployment":
        """Fixes the replica count (min = max = ``replicas``) with ``PATCH /deployments/{name}``."""
        self.info = self._t.request("PATCH", f"deployments/{self.id}",
                                    json_body={"replicas": int(replicas)}).json()
        return self

    def undeploy(self) -> None:
        self._t.request("DELETE", f"deployments/{self.id}")
