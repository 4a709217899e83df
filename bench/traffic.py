"""The clients of bench/outage_db.py and bench/crash.py: survey tools posting responses to the ingestion API
(and retrying what was refused, as they do), and a person in Slack acknowledging cases, each recording
what it sent and what it was answered."""

from __future__ import annotations

import heapq
import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from slack_emulator import SlackEmulator
from slack_emulator.driver import Delivery
from tests.e2e.harness import INGEST_TOKEN


def response(rid: str, team: str, negative: bool) -> dict:
    """A survey response of a minute ago: a negative one (CSAT 1, with a comment) opens a case."""
    at = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    it = {
        "id": rid,
        "submitted_at": at,
        "metric": "csat",
        "score": 1 if negative else 5,
        "team": team,
    }
    return it | ({"comment": "The parcel arrived late again"} if negative else {})


# -- survey tools ------------------------------------------------------------------------------------------


@dataclass
class Attempt:
    rid: str
    at: float  # wall clock when sent
    elapsed: float
    status: int | str  # the HTTP status, or "timeout" / "unreachable"


@dataclass(order=True)
class Request:
    due: float
    rid: str = field(compare=False)
    body: bytes = field(compare=False)
    items: int = field(compare=False)
    tries: int = field(default=0, compare=False)
    accepted: bool = field(default=False, compare=False)
    given_up: bool = field(default=False, compare=False)  # refused for good: a 4xx


class Ingester:
    """Survey tools sending new responses to POST /api/feedback at `rate` requests/s, in batches of 1 to
    `batch` items (ids `<rid>-<n>`, a `negative` share of them opening cases), from `senders` threads. A
    refused request (a 5xx, or no answer) is sent again later, as a survey tool retries: after its
    Retry-After, else after a backoff doubling from backoff[0] to backoff[1] s."""

    def __init__(
        self,
        base: str,
        teams: list[str],
        *,
        rate: float,
        batch: int,
        negative: float,
        seed: int,
        senders: int = 2,
        backoff: tuple[float, float] = (1.0, 8.0),
        timeout: float = 10.0,
    ):
        self.base, self.teams, self.rate = base, teams, rate
        self.batch, self.negative, self.backoff = batch, negative, backoff
        self.rng, self.timeout = random.Random(seed), timeout
        self.problems: list[str] = []  # answers no client should get: a 4xx, a wrong count
        self.requests: dict[str, Request] = {}
        self.attempts: list[Attempt] = []
        self._retries: list[Request] = []  # a heap by due time
        self._lock = threading.Lock()
        self._new, self._closed = threading.Event(), threading.Event()
        self._next = 0.0
        self._threads = [threading.Thread(target=self._send, daemon=True) for _ in range(senders)]

    def start(self) -> None:
        self._new.set()
        self._next = time.monotonic()
        for t in self._threads:
            t.start()

    def stop_new(self) -> None:
        """No new responses from now on; the refused ones are still retried."""
        self._new.clear()

    def pending(self) -> int:
        with self._lock:
            return sum(not r.accepted and not r.given_up for r in self.requests.values())

    def close(self) -> None:
        self._closed.set()
        for t in self._threads:
            t.join(self.timeout + 5)

    def _take(self) -> Request | None:
        now = time.monotonic()
        with self._lock:
            if self._retries and self._retries[0].due <= now:
                return heapq.heappop(self._retries)
            if not self._new.is_set() or now < self._next:
                return None
            self._next = max(self._next + 1 / self.rate, now - 1)  # a late sender does not burst
            rid = f"q{len(self.requests)}"
            team = self.rng.choice(self.teams)
            n = self.rng.randint(1, self.batch)
            items = [
                response(f"{rid}-{j}", team, self.rng.random() < self.negative) for j in range(n)
            ]
            self.requests[rid] = Request(now, rid, json.dumps(items).encode(), n)
            return self.requests[rid]

    def _send(self) -> None:
        headers = {"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/json"}
        with httpx.Client(timeout=self.timeout, headers=headers) as client:
            while not self._closed.is_set():
                req = self._take()
                if req is None:
                    time.sleep(0.01)
                    continue
                at, started, wait = time.time(), time.monotonic(), None
                try:
                    answer = client.post(f"{self.base}/api/feedback", content=req.body)
                    status: int | str = answer.status_code
                    if status == 200:
                        got = answer.json()
                        # A retry of a request whose COMMIT landed before its answer was lost: duplicates.
                        if got["accepted"] + got["duplicates"] != req.items:
                            self.problems.append(f"{req.rid} of {req.items} answered {got}")
                    elif "retry-after" in answer.headers:
                        wait = float(answer.headers["retry-after"])
                except httpx.TimeoutException:
                    status = "timeout"
                except httpx.TransportError:
                    status = "unreachable"
                elapsed = time.monotonic() - started
                with self._lock:
                    self.attempts.append(Attempt(req.rid, at, elapsed, status))
                    req.tries += 1
                    if status == 200:
                        req.accepted = True
                    elif not isinstance(status, int) or status >= 500:
                        low, high = self.backoff
                        backoff = min(low * 2 ** (req.tries - 1), high)
                        req.due = time.monotonic() + (wait or backoff) * self.rng.uniform(0.8, 1.2)
                        heapq.heappush(self._retries, req)
                    else:
                        req.given_up = True
                        self.problems.append(f"{req.rid} answered {status}: {answer.text[:200]}")


# -- people in Slack ---------------------------------------------------------------------------------------


@dataclass
class Interaction:
    kind: str  # "click" (Acknowledge), "command" (/feedback ack FB-n) or "list" (/feedback list)
    case: int | None
    at: float  # wall clock when Slack sent it
    status: int | str  # Slack's view of the answer: 200, "timeout", "unreachable", …
    elapsed: float  # until the HTTP answer
    outcome: str  # "done", "try again", "refused", "error", "no answer" or "answered"
    ephemeral_s: float | None = None  # until the emulator had the ephemeral message, if one came


class Clicker:
    """One person at a time in the teams' channels: acknowledges a case whose message still shows the
    Acknowledge button (every third one with `/feedback ack FB-n` instead of the button), and lists the
    open cases when there is none; each waits for its answer, so every ephemeral is its own. A case not
    acknowledged (a "try again", no answer) is tried again later, as the person would. While `holding`
    is set it only lists, so that cases pile up (to be clicked when the database is gone)."""

    def __init__(self, emu: SlackEmulator, config: dict, *, rate: float, seed: int):
        self.emu, self.rate, self.rng = emu, rate, random.Random(seed)
        self.people = {
            t["channel"]: t["members"] for t in config["teams"].values() if "members" in t
        }
        self.done: set[int] = set()  # cases this person saw acknowledged
        # … or refused: acknowledged already, by an attempt whose COMMIT landed before its answer was lost
        self.settled: set[int] = set()
        self.log: list[Interaction] = []
        self._tried: Counter[int] = Counter()
        self._stop = threading.Event()
        self.holding = threading.Event()  # set: only list, acknowledge nothing (cases pile up)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15)

    def waiting(self) -> list[tuple[str, str, int]]:
        """(channel, ts, case id) of each case message still showing Acknowledge, not settled yet."""
        return [
            (channel, m["ts"], case)
            for channel in self.people
            for m in self.emu.messages(channel)
            if (case := _case_of(m)) is not None and case not in self.done | self.settled
        ]

    def _run(self) -> None:
        n = 0
        while not self._stop.wait(1 / self.rate):
            n += 1
            todo = [] if self.holding.is_set() else self.waiting()
            todo.sort(key=lambda w: self._tried[w[2]])
            channel = todo[0][0] if todo else self.rng.choice(list(self.people))
            user = self.rng.choice(self.people[channel])
            if not todo:
                self._record("list", None, self.emu.slash_command("list", user, channel))
                continue
            _, ts, case = todo[0]
            self._tried[case] += 1
            if n % 3 == 0:
                delivery = self.emu.slash_command(f"ack FB-{case}", user, channel)
                self._record("command", case, delivery)
                continue
            try:
                delivery = self.emu.click(channel, ts, "case_ack", user)
            except LookupError:
                continue  # the message changed under us (acknowledged): the next scan skips it
            self._record("click", case, delivery)

    def _record(self, kind: str, case: int | None, d: Delivery) -> None:
        if kind == "click":  # the answer comes as a response_url ephemeral, before the HTTP answer
            until = d.sent + d.elapsed + 0.2
            said = [c for c in self.emu.calls_to("response_url") if d.sent <= c.time <= until]
            answer = said[0].args.get("text", "") if said else ""
            eph = said[0].time - d.sent if said else None
        else:
            answer = json.dumps(d.response or {})
            eph = d.elapsed if d.response else None
        if d.status != 200:
            outcome = "no answer"
        elif "Try again in a minute" in answer:
            outcome = "try again"
        elif "Something went wrong" in answer:
            outcome = "error"
        elif ":warning:" in answer:
            outcome = "refused"
        elif kind == "list" or (kind == "command" and "acknowledged." not in answer):
            outcome = "answered"
        else:
            outcome = "done"
        if case is not None and outcome == "done":
            self.done.add(case)
        elif case is not None and outcome == "refused":
            self.settled.add(case)
        self.log.append(Interaction(kind, case, d.sent, d.status, d.elapsed, outcome, eph))


def _case_of(message: dict) -> int | None:
    """The case id of a case's own message while it shows the Acknowledge button."""
    key = ((message.get("metadata") or {}).get("event_payload") or {}).get("key", "")
    parts = key.split(":")
    if len(parts) == 3 and parts[0] == "case" and parts[2] == "open":
        return int(parts[1]) if '"case_ack"' in json.dumps(message.get("blocks")) else None
    return None
