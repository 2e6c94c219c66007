"""The one-line progress display used by Job.wait() and Experiment.wait()."""

from __future__ import annotations

import sys
from typing import Optional, TextIO


class ProgressLine:
    """Rewrites one line on a terminal; on anything else prints a line only when the text changes.

    Not thread-safe: one per wait.
    """

    def __init__(self, enabled: bool = True, stream: Optional[TextIO] = None) -> None:
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.last_key: Optional[str] = None
        self.width = 0

    def show(self, text: str, key: Optional[str] = None) -> None:
        """Shows ``text``; off a terminal, only when ``key`` (default: the text) changed since last time."""
        if not self.enabled:
            return
        key = text if key is None else key
        if self.tty:
            pad = max(0, self.width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self.width = len(text)
            self.stream.flush()
        elif key != self.last_key:
            self.stream.write(text + "\n")
            self.stream.flush()
        self.last_key = key

    def done(self) -> None:
        if self.enabled and self.tty and self.width:
            self.stream.write("\n")
            self.stream.flush()
