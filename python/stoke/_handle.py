"""What every handle on a server object shares: the transport and the object as last fetched."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict

if TYPE_CHECKING:  # pragma: no cover
    from .transport import Transport


class Handle:
    """A job, experiment or deployment on the server; ``info`` is its object as last fetched
    (docs/api.md)."""

    def __init__(self, transport: "Transport", info: Dict[str, Any]) -> None:
        self._t = transport
        self.info = info

    @property
    def id(self) -> Any:
        return int(self.info["id"])

    @property
    def name(self) -> str:
        return self.info.get("name", "")

    @property
    def state(self) -> str:
        return self.info.get("state", "")
