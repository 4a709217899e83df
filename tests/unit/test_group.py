"""Group commit: concurrent requests applied in batches by one caller at a time, each answered on its own."""
from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from bot.group import Group


class Recorder:
    """An apply that takes a while (as a transaction does), records its batches and fails where told."""

    def __init__(self, seconds: float = 0.02):
        self.seconds = seconds
        self.batches: list[list[tuple[str, int]]] = []
        self.running = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def __call__(self, requests: Sequence[tuple[str, int]]) -> list[object]:
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            time.sleep(self.seconds)
            self.batches.append(list(requests))
            if any(key == "boom" for key, _ in requests):
                raise RuntimeError("the database went away")
            return [ValueError(f"bad {n}") if n < 0 else f"{key}:{n}" for key, n in requests]
        finally:
            with self._lock:
                self.running -= 1


def submit_all(group: Group, requests: list[tuple[str, int]]) -> dict[tuple[str, int], object]:
    outcomes: dict[tuple[str, int], object] = {}
    barrier = threading.Barrier(len(requests))

    def one(request: tuple[str, int]) -> None:
        barrier.wait()
        try:
            outcomes[request] = group.submit(request)
        except Exception as error:  # noqa: BLE001 - the outcome under test
            outcomes[request] = error

    threads = [threading.Thread(target=one, args=(r,)) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "a caller never got its answer"
    return outcomes


def test_a_lone_request_is_a_batch_of_one_run_by_its_caller() -> None:
    apply = Recorder(seconds=0)
    group = Group(apply, key=lambda r: r[0])
    assert group.submit(("a", 1)) == "a:1"
    assert apply.batches == [[("a", 1)]]


def test_requests_made_at_once_share_batches_and_each_caller_gets_its_own_answer() -> None:
    apply = Recorder()
    group = Group(apply, key=lambda r: r[0])
    requests = [(f"case{i}", i) for i in range(30)]
    outcomes = submit_all(group, requests)
    assert outcomes == {r: f"{r[0]}:{r[1]}" for r in requests}
    assert sorted(r for batch in apply.batches for r in batch) == sorted(requests)  # each applied once
    assert len(apply.batches) < len(requests)  # while one batch ran, the others gathered
    assert apply.most_at_once == 1  # one leader at a time


def test_two_requests_with_one_key_never_share_a_batch() -> None:
    apply = Recorder()
    group = Group(apply, key=lambda r: r[0])
    requests = [("same", i) for i in range(8)] + [(f"other{i}", i) for i in range(8)]
    outcomes = submit_all(group, requests)
    assert all(outcomes[r] == f"{r[0]}:{r[1]}" for r in requests)
    for batch in apply.batches:
        keys = [key for key, _ in batch]
        assert len(keys) == len(set(keys)), batch


def test_batches_are_capped() -> None:
    apply = Recorder()
    group = Group(apply, key=lambda r: r[1], max_batch=4)
    submit_all(group, [("k", i) for i in range(20)])
    assert max(len(b) for b in apply.batches) <= 4


def test_a_request_s_own_error_goes_to_its_caller_only() -> None:
    apply = Recorder()
    group = Group(apply, key=lambda r: r[1])
    outcomes = submit_all(group, [("a", 1), ("b", -2), ("c", 3)])
    assert outcomes[("a", 1)] == "a:1" and outcomes[("c", 3)] == "c:3"
    assert isinstance(outcomes[("b", -2)], ValueError) and str(outcomes[("b", -2)]) == "bad -2"


def test_a_failing_batch_fails_its_callers_and_the_group_goes_on() -> None:
    apply = Recorder(seconds=0)
    group = Group(apply, key=lambda r: r[1])
    with pytest.raises(RuntimeError, match="went away"):
        group.submit(("boom", 1))
    assert group.submit(("fine", 2)) == "fine:2"  # the lead was handed back
