"""Fault switches (429, 5xx, hang, error) a test flips mid-run, and the record of every call the app made."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Fault:
    kind: str  # "ratelimited" | "server_error" | "hang" | "fail"
    method: str  # a Web API method, "response_url", or "*" for all
    times: int | None = None  # None: until cleared
    fraction: float | None = None  # None: every matching call
    retry_after: int = 1
    status: int = 500
    seconds: float = 0.0
    error: str = ""

    def matches(self, method: str) -> bool:
        return self.method in ("*", method)


@dataclass
class Decision:
    hang: float = 0.0
    fault: Fault | None = None


class Faults:
    def __init__(self, seed: int = 0):
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        # Seeded, so a probabilistic run is the same run every time.
        self._rng = random.Random(seed)

    def add(self, fault: Fault) -> None:
        if fault.fraction is not None and not 0 < fault.fraction <= 1:
            raise ValueError("fraction must be in (0, 1]")
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def _fires(self, fault: Fault) -> bool:
        if fault.fraction is not None and self._rng.random() >= fault.fraction:
            return False
        if fault.times is not None:
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
        return True

    def take(self, method: str) -> Decision:
        """What to do to this call: hangs add up; the first firing answer-fault wins."""
        decision = Decision()
        with self._lock:
            for fault in list(self._faults):
                if not fault.matches(method):
                    continue
                if fault.kind == "hang":
                    if self._fires(fault):
                        decision.hang += fault.seconds
                elif decision.fault is None and self._fires(fault):
                    decision.fault = fault
        return decision


@dataclass
class CallRecord:
    method: str
    args: dict[str, Any]
    ok: bool
    error: str | None
    status: int
    time: float
    duration: float = 0.0
    content_type: str = ""
    token: str | None = None
    response: dict[str, Any] = field(default_factory=dict)


class CallLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[CallRecord] = []
        self._cond = threading.Condition(self._lock)

    def add(self, record: CallRecord) -> None:
        with self._cond:
            self._calls.append(record)
            self._cond.notify_all()

    def all(self) -> list[CallRecord]:
        with self._lock:
            return list(self._calls)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def wait(self, method: str, count: int, timeout: float) -> list[CallRecord]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self._calls if c.method == method]
                left = deadline - time.monotonic()
                if len(found) >= count or left <= 0:
                    return found
                self._cond.wait(left)


class InFlight:
    """Calls the emulator has received but not answered yet (e.g. held by a hang)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def begin(self, method: str) -> None:
        with self._lock:
            self._counts[method] = self._counts.get(method, 0) + 1

    def end(self, method: str) -> None:
        with self._lock:
            self._counts[method] -= 1

    def __call__(self, method: str | None = None) -> int:
        with self._lock:
            return sum(n for m, n in self._counts.items() if method in (None, m))
