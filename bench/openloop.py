"""The open-loop load: requests leave on a fixed schedule whatever the answers' pace, and what Slack saw of
them afterwards (each answer's round trip, each click's updated case message)."""

from __future__ import annotations

import math
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.slack_load import CHANGES, KINDS, Job, Post, post_feedback, send
from slack_emulator import SlackEmulator

SLACK_DEADLINE = 3.0  # Slack gives up on an answer after 3 s
ERROR_REPLY = (":warning:", ":x:")


class Dispatcher:
    """Hands each call to an idle sender thread at its due time, starting another thread whenever none is
    idle: a late answer holds up its own thread only, never the next send, so the arrival rate is held."""

    def __init__(self, prime: Callable[[], None], threads: int = 64, limit: int = 2048):
        """`prime` runs once on each of the first `threads` threads before any load: it opens the thread's
        keep-alive clients, each costing 20-40 ms of CPU that would otherwise fall on the load's first
        seconds, or on a burst of threads started when a stall holds many answers back."""
        self._queue: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._cond = threading.Condition()
        self._idle = self._pending = 0
        self._threads: list[threading.Thread] = []
        self.limit = limit
        for _ in range(threads):
            self._pending += 1
            self._spawn(prime)
        self.join()

    def _spawn(self, prime: Callable[[], None] | None = None) -> None:
        t = threading.Thread(
            target=self._work, args=(prime,), name=f"sender-{len(self._threads)}", daemon=True
        )
        self._threads.append(t)
        t.start()

    def _work(self, call: Callable[[], None] | None) -> None:
        if call is None:
            call = self._queue.get()
        while call is not None:
            try:
                call()
            except Exception:  # noqa: BLE001 - a sender thread outlives any one call
                traceback.print_exc()
            finally:
                with self._cond:
                    self._idle += 1
                    self._pending -= 1
                    self._cond.notify_all()
            call = self._queue.get()

    def submit(self, call: Callable[[], None]) -> None:
        with self._cond:
            self._pending += 1
            if self._idle:
                self._idle -= 1
            elif len(self._threads) < self.limit:
                self._spawn()
        self._queue.put(call)

    def run(self, calls: list[tuple[float, Callable[[], None]]]) -> float:
        """Send each call at its due time (seconds from now + 0.1 s); returns the wall clock of time 0."""
        start, wall = time.monotonic() + 0.1, time.time() + 0.1
        for due, call in sorted(calls, key=lambda c: c[0]):
            wait = start + due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.submit(call)
        return wall

    def join(self, timeout: float = 120) -> None:
        with self._cond:
            self._cond.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(5)

    @property
    def size(self) -> int:
        return len(self._threads)


def run_load(
    dispatcher: Dispatcher,
    emu: SlackEmulator,
    ts_of: dict[int, str],
    jobs: list[Job],
    posts: list[Post],
    base_url: str,
    token: str,
) -> float:
    """Both loads together on one schedule; returns once every answer is in, with the wall clock of time 0."""
    calls: list[tuple[float, Callable[[], None]]] = [
        (j.due, lambda j=j: send(emu, j, ts_of)) for j in jobs
    ]
    calls += [(p.due, lambda p=p: post_feedback(base_url, token, p)) for p in posts]
    wall = dispatcher.run(calls)
    dispatcher.join()
    return wall


# -- what came back -----------------------------------------------------------------------------------------


@dataclass
class Phase:
    """One load at one rate, against one fresh copy of the database."""

    rate: float
    seconds: float
    answers: dict[str, list[float]] = field(default_factory=dict)  # Slack kind → round trips, s
    updates: dict[str, list[float]] = field(default_factory=dict)  # change → to chat.update, s
    ingest: list[float] = field(default_factory=list)  # POST /api/feedback round trips, s
    lag: list[float] = field(default_factory=list)  # how late each request left, s
    over_deadline: int = 0  # requests not answered within 3 s, or not at all
    failed: int = 0  # requests not answered successfully (not sent, not 200, an error shown)
    lost: int = 0  # successful changes without their event, or without their message update
    doubled: int = 0  # changes made or shown twice, ingested items stored twice
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    rss: float = 0.0
    threads: int = 0

    @property
    def overall(self) -> list[float]:
        return [x for k in KINDS for x in self.answers.get(k, [])]

    @property
    def clicks(self) -> list[float]:
        return [x for k in ("ack", "assign") for x in self.updates.get(k, [])]


def rid(job: Job) -> str:
    assert job.delivery is not None
    return str(job.delivery.payload.get("response_url", "")).rsplit("/", 1)[-1]


def error_replies(emu: SlackEmulator) -> dict[str, str]:
    """What the app told people at a response_url, by its id: buttons answer mistakes and errors there."""
    return {
        str(c.args.get("response_url_id")): str(c.args.get("text") or c.error or "")
        for c in emu.calls_to("response_url")
    }


def succeeded(job: Job, replies: dict[str, str]) -> bool:
    """Answered as successful: HTTP 200 within Slack's 3 s and no error shown to the person."""
    d = job.delivery
    if d is None or not d.ok:
        return False
    if job.kind in ("list", "show"):
        return not str((d.response or {}).get("text") or "").startswith(ERROR_REPLY)
    if job.kind == "submit":
        return not (d.response or {}).get("response_action")
    return rid(job) not in replies


def answers(
    phase: Phase, measured: list[Job], posts: list[Post], wall0: float, replies: dict
) -> None:
    """Round trips per kind, how late each request left, and what failed."""
    phase.answers = {k: [] for k in KINDS}
    failed: dict[str, int] = {}
    for job in measured:
        if job.delivery is None:
            phase.problems.append(f"{job.kind} not sent: {job.error}")
            phase.over_deadline += 1
            phase.failed += 1
            continue
        phase.answers[job.kind].append(job.delivery.elapsed)
        phase.lag.append(job.delivery.sent - (wall0 + job.due))
        if not job.delivery.ok or job.delivery.elapsed > SLACK_DEADLINE:
            phase.over_deadline += 1
        if not succeeded(job, replies):
            phase.failed += 1
            failed[job.kind] = failed.get(job.kind, 0) + 1
            if failed[job.kind] <= 3:
                phase.problems.append(f"{job.kind} failed: {_why(job, replies)}")
    for kind, n in failed.items():
        if n > 3:
            phase.problems.append(f"{kind}: {n} failed in all")
    for post in posts:
        phase.ingest.append(post.elapsed)
        phase.lag.append(post.sent - (wall0 + post.due))
        if post.status != 200 or post.elapsed > SLACK_DEADLINE:
            phase.over_deadline += 1
        if post.status != 200:
            phase.failed += 1
            phase.problems.append(f"POST /api/feedback: {post.status}")


def _why(job: Job, replies: dict[str, str]) -> str:
    d = job.delivery
    assert d is not None
    if not d.ok:
        return f"HTTP {d.status} {d.body[:100]!r}"
    if job.kind in ("ack", "assign", "resolve") and rid(job) in replies:
        return repr(replies[rid(job)][:120])
    answer = d.response or {}
    return repr(str(answer.get("text") or answer.get("response_action") or answer)[:120])


def wait_updates(
    emu: SlackEmulator,
    phase: Phase,
    measured: list[Job],
    replies: dict,
    ts_of: dict,
    timeout: float,
) -> None:
    """Seconds from each successful change's request leaving until the emulator recorded the bot's
    chat.update of that case's message (math.inf when none came within `timeout` of the load's end)."""
    wanted = [j for j in measured if j.kind in CHANGES and succeeded(j, replies)]
    deadline = time.monotonic() + timeout
    while True:
        seen: dict[tuple[str, str], list[float]] = {}
        for c in emu.calls_to("chat.update"):
            if c.ok:
                seen.setdefault((str(c.args.get("channel")), str(c.args.get("ts"))), []).append(
                    c.time
                )
        found = {}
        for j in wanted:
            times = [t for t in seen.get((j.channel, ts_of[j.case_id]), []) if t >= j.sent]
            if times:
                found[j] = min(times) - j.sent
        if len(found) == len(wanted) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    phase.updates = {k: [] for k in CHANGES}
    for j in wanted:
        phase.updates[j.kind].append(found.get(j, math.inf))
    missing = len(wanted) - len(found)
    if missing:
        phase.problems.append(
            f"{missing} changes' case messages not updated within {timeout:.0f} s"
        )
