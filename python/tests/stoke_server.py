"""A real `stoke server` for the client's tests: the end-to-end suite's harness (tests/e2e/harness.py),
with the names these tests use."""

from __future__ import annotations

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))

from harness import StokeServer as _HarnessServer  # noqa: E402
from harness import default_binary as find_binary  # noqa: E402,F401
from harness import free_port  # noqa: E402,F401


class StokeServer(_HarnessServer):
    """One server process (--cpu-slots 4 --gpus none) on a free port with a temporary data dir.
    ``cleanup()`` stops it, kills jobs left running and removes the directory. Not thread-safe."""

    def __init__(self, binary: str, cpu_slots: int = 4) -> None:
        super().__init__(binary=binary, cpu_slots=cpu_slots)

    @property
    def url(self) -> str:
        return self.base_url
