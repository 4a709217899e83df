"""Group commit: requests made at the same moment by many threads are applied together, in one unit of work,
by one of the callers, so a burst of changes pays for one transaction instead of one each."""
from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

R = TypeVar("R")  # a request
T = TypeVar("T")  # its result

# Applies a batch; returns, in order, each request's result or the exception that request alone raised.
Apply = Callable[[Sequence[R]], Sequence["T | BaseException"]]


@dataclass(eq=False)
class _Waiting(Generic[R, T]):
    request: R
    key: Hashable
    wake: threading.Event = field(default_factory=threading.Event)
    leads: bool = False
    done: bool = False
    outcome: T | BaseException | None = None


class Group(Generic[R, T]):
    """No thread of its own: the first caller to find nobody applying becomes the leader. It applies what is
    waiting (its own request included), answers every caller of the batch, and hands the lead to the next
    waiting caller. An idle process pays nothing: a lone request is a batch of one, run by its own caller.

    Two requests with the same key never share a batch: the later one goes into the next, so it is checked
    against what the earlier one committed (the second of two clicks on one case is told who got there first).
    """

    def __init__(self, apply: Apply, *, key: Callable[[R], Hashable], max_batch: int = 64):
        self._apply = apply
        self._key = key
        self._max = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Waiting[R, T]] = []
        self._busy = False  # a leader is applying, or about to

    def submit(self, request: R) -> T:
        """Apply `request` (with whatever else is waiting) and return its result, or raise its exception."""
        me: _Waiting[R, T] = _Waiting(request, self._key(request))
        with self._lock:
            self._queue.append(me)
            if not self._busy:
                self._busy = me.leads = True
        while not me.done:
            if me.leads:
                self._lead(me)
            else:
                me.wake.wait()
                me.wake.clear()
        if isinstance(me.outcome, BaseException):
            raise me.outcome
        return me.outcome  # type: ignore[return-value]

    def _lead(self, me: _Waiting[R, T]) -> None:
        with self._lock:
            batch, later, keys = [], [], set()
            for waiting in self._queue:
                if waiting.key in keys or len(batch) >= self._max:
                    later.append(waiting)
                else:
                    batch.append(waiting)
                    keys.add(waiting.key)
            self._queue = later
        try:
            outcomes: Sequence[T | BaseException] = self._apply([w.request for w in batch])
        except BaseException as error:  # noqa: BLE001 - every caller of the batch must hear of it, not only the leader
            outcomes = [error] * len(batch)
        with self._lock:
            for waiting, outcome in zip(batch, outcomes, strict=True):
                waiting.outcome, waiting.done = outcome, True
            me.leads = False
            successor = self._queue[0] if self._queue else None
            if successor is None:
                self._busy = False
            else:
                successor.leads = True
        for waiting in batch:
            if waiting is not me:
                waiting.wake.set()
        if successor is not None and successor is not me:
            successor.wake.set()
