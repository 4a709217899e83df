"""Who is waiting for an answer right now: the Slack requests being handled. Background work defers to them."""
from __future__ import annotations

import threading


class Answering:
    """Counts requests in the App's dispatch (bot.slack.app.LoopbotApp: HTTP and Socket Mode alike)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._count = 0

    def __enter__(self) -> None:
        with self._lock:
            self._count += 1

    def __exit__(self, *_: object) -> None:
        with self._lock:
            self._count -= 1

    def busy(self) -> bool:
        return self._count > 0
