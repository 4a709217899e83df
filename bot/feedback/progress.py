"""A one-line progress bar on a terminal's stderr; silent when output is not a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    def __init__(self, stream: TextIO = sys.stderr, width: int = 30):
        self.stream, self.width = stream, width
        self.enabled = stream.isatty()
        self.started = time.monotonic()
        self._last = 0.0

    def __call__(self, done: int, total: int, rows: int) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self._last < 0.1 and done < total):
            return
        self._last = now
        frac = done / total if total else 1.0
        filled = int(self.width * frac)
        rate = rows / max(now - self.started, 1e-9)
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (self.width - filled)}] {frac:6.1%} {rows:,} rows {rate:,.0f}/s"
        )
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()
