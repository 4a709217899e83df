"""Slack's side of the latency benchmark: the request mix, the open-loop schedule, the closed-loop clients,
and one request of each kind sent through the Slack emulator (or to the ingestion API)."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from bench.datagen import BENCH_CONFIG, feedback
from bot.slack.ids import ActionId, BlockId, CallbackId
from slack_emulator import SlackEmulator
from slack_emulator.driver import Delivery

# Slack request kinds: Acknowledge and Assign-to-me clicks, `/feedback list`, `/feedback show FB-n`, the
# Resolve… button (its listener calls views.open) and the submission of the modal it opened.
KINDS = ("ack", "assign", "list", "show", "resolve", "submit")
CLICKS = ("ack", "assign")  # click → updated case message is a target for these
# What each change leaves in case_events: (kind, source).
CHANGES = {
    "ack": ("acknowledged", "button"),
    "assign": ("assigned", "button"),
    "submit": ("resolved", "modal"),
}
# Requests per block of 30 (one second at 30 req/s): one resolve modal opened and submitted per block.
MIX = {"ack": 9, "assign": 6, "list": 6, "show": 7}
BLOCK = 30
SUBMIT_AFTER = 15  # slots between opening a resolve modal and submitting it (0.5 s at 30 req/s)
ACTIONS = {"ack": ActionId.ACK, "assign": ActionId.ASSIGN_ME, "resolve": ActionId.RESOLVE}
RESOLUTION = {
    BlockId.OUTCOME: {BlockId.OUTCOME: "fixed"},
    BlockId.ROOT_CAUSE: {BlockId.ROOT_CAUSE: "late_delivery"},
    BlockId.ACTION: {BlockId.ACTION: "Called the customer back and refunded the delivery fee."},
}
INGEST_BATCH = 10  # items per POST /api/feedback; 10 POSTs a second make 100 responses/s
INGEST_SEED = 41  # external ids b-41-<n>: none of them is in the seeded database (seed 5)


# -- the cases clicked --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pool:
    """Distinct cases to click, as (case id, team key): open ones for Acknowledge, unresolved and
    unassigned ones for Assign to me and Resolve. Every phase starts from a fresh copy of the database,
    so each phase draws from the start again."""

    acks: list[tuple[int, str]]
    others: list[tuple[int, str]]
    cases: int  # `show` picks any case id from 1 to this

    def max_requests(self) -> int:
        """How many requests of the open-loop mix one phase can send before it runs out of cases."""
        # A block of 30 clicks MIX["ack"] open cases, and MIX["assign"] + 1 (the resolve) others.
        return min(len(self.acks) // MIX["ack"], len(self.others) // (MIX["assign"] + 1)) * BLOCK


class Draw:
    """One phase's way through the pool: every case is clicked at most once."""

    def __init__(self, pool: Pool, rng: random.Random):
        self.acks: Iterator[tuple[int, str]] = iter(pool.acks)
        self.others: Iterator[tuple[int, str]] = iter(pool.others)
        self.pool, self.rng = pool, rng

    def case(self, kind: str) -> tuple[int, str]:
        try:
            return next(self.acks if kind == "ack" else self.others)
        except StopIteration:
            raise SystemExit(
                f"the database has too few cases for this many {kind} clicks"
            ) from None


# -- the jobs -----------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Job:
    kind: str
    channel: str
    user: str
    case_id: int = 0
    due: float = 0.0  # seconds after the load's start (open loop)
    opened: Job | None = None  # a submission: the Resolve… click that opened its modal
    delivery: Delivery | None = None
    error: str = ""  # why it was not sent
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def sent(self) -> float:
        return self.delivery.sent if self.delivery else 0.0


def _team(key: str) -> dict:
    return BENCH_CONFIG["teams"][key]


def _job(kind: str, draw: Draw, due: float = 0.0) -> Job:
    if kind in ("ack", "assign", "resolve"):
        case_id, key = draw.case(kind)
        return Job(kind, _team(key)["channel"], _team(key)["supervisors"][0], case_id, due)
    team = _team(draw.rng.choice(list(BENCH_CONFIG["teams"])))
    case_id = draw.rng.randint(1, draw.pool.cases) if kind == "show" else 0
    return Job(kind, team["channel"], team["supervisors"][0], case_id, due)


def schedule(rate: float, seconds: float, draw: Draw) -> list[Job]:
    """The open-loop plan: requests every 1/rate s, in blocks of 30 holding the mix in a shuffled order,
    one Resolve… click in the first half of each block and its modal's submission 15 slots later."""
    jobs: list[Job] = []
    slot = 1 / rate
    for block in range(max(1, round(rate * seconds / BLOCK))):
        kinds = [k for k, n in MIX.items() for _ in range(n)]
        draw.rng.shuffle(kinds)
        opened_at = draw.rng.randrange(SUBMIT_AFTER)
        kinds.insert(opened_at, "resolve")
        kinds.insert(opened_at + SUBMIT_AFTER, "submit")
        opened = None
        for i, kind in enumerate(kinds):
            due = (block * BLOCK + i) * slot
            if kind == "submit":
                assert opened is not None
                jobs.append(Job(kind, opened.channel, opened.user, opened.case_id, due, opened))
                continue
            jobs.append(_job(kind, draw, due))
            if kind == "resolve":
                opened = jobs[-1]
    return jobs


def closed_plan(clients: int, per_client: int, draw: Draw) -> list[list[Job]]:
    """Job lists for clients that send back to back: the mix without the modal (the floor cannot open one)."""
    kinds = [k for k, n in MIX.items() for _ in range(n)]
    plans = []
    for _ in range(clients):
        mine = [kinds[i % len(kinds)] for i in range(per_client)]
        draw.rng.shuffle(mine)
        plans.append([_job(k, draw) for k in mine])
    return plans


def messages_needed(jobs: list[Job]) -> set[int]:
    return {j.case_id for j in jobs if j.kind in ACTIONS}


# -- sending one job ----------------------------------------------------------------------------------------


def send(emu: SlackEmulator, job: Job, ts_of: dict[int, str]) -> None:
    """Do what the person does; the job records Slack's delivery (the answer and its round trip)."""
    try:
        if job.kind == "list":
            job.delivery = emu.slash_command("list", user=job.user, channel=job.channel)
        elif job.kind == "show":
            job.delivery = emu.slash_command(
                f"show FB-{job.case_id}", user=job.user, channel=job.channel
            )
        elif job.kind in ACTIONS:
            job.delivery = emu.click(job.channel, ts_of[job.case_id], ACTIONS[job.kind], job.user)
        else:
            view = _modal_of(emu, job)
            if view is not None:
                job.delivery = emu.submit_view(view["id"], job.user, RESOLUTION)
    except Exception as exc:  # noqa: BLE001 - reported with the results
        job.error = f"{type(exc).__name__}: {exc}"[:200]
    finally:
        job.done.set()


def _modal_of(emu: SlackEmulator, job: Job) -> dict | None:
    """The resolve modal the job's Resolve… click opened, waiting for that click's answer first."""
    assert job.opened is not None
    if not job.opened.done.wait(30) or not (job.opened.delivery and job.opened.delivery.ok):
        job.error = "its Resolve… click failed"
        return None
    for view in emu.open_views(job.user):
        if view["callback_id"] == CallbackId.RESOLVE and f'"case_id":{job.case_id}' in (
            view.get("private_metadata") or ""
        ):
            return view
    job.error = "no resolve modal open for its case"
    return None


def drive_closed(
    emu: SlackEmulator, warm: list[list[Job]], plans: list[list[Job]], ts_of: dict[int, str]
) -> tuple[list[Job], float]:
    """Each client sends its warm-up jobs, then (timed, all clients together) its jobs back to back, the
    next as soon as the previous was answered; the clients' connections are open before the clock starts."""
    start = threading.Barrier(len(plans) + 1)

    def client(before: list[Job], mine: list[Job]) -> None:
        for job in before:
            send(emu, job, ts_of)
        start.wait()
        for job in mine:
            send(emu, job, ts_of)

    threads = [
        threading.Thread(target=client, args=(w, p), name=f"client-{i}")
        for i, (w, p) in enumerate(zip(warm, plans, strict=True))
    ]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    return [j for p in plans for j in p], time.perf_counter() - began


# -- ingestion ----------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Post:
    """One POST /api/feedback of INGEST_BATCH items."""

    body: bytes
    ids: list[str]
    due: float = 0.0
    sent: float = 0.0  # wall clock
    elapsed: float = 0.0
    status: int | str = "not sent"
    accepted: int = 0
    duplicates: int = 0


def ingest_plan(per_second: float, seconds: float, first: int = 0) -> list[Post]:
    """Batches of recent responses (of the last hour, so negative ones open cases as live ones do), spaced
    evenly; `first` numbers the items on from an earlier plan of the same phase."""
    n = max(1, round(per_second * seconds / INGEST_BATCH))
    end = datetime.now(UTC) - timedelta(minutes=1)
    items = list(feedback(first + n * INGEST_BATCH, seed=INGEST_SEED, days=1 / 24, end=end))[first:]
    return [
        Post(
            json.dumps(chunk).encode(),
            [it["id"] for it in chunk],
            b * INGEST_BATCH / per_second,
        )
        for b in range(n)
        for chunk in [items[b * INGEST_BATCH : (b + 1) * INGEST_BATCH]]
    ]


_local = threading.local()


def ingest_client(token: str) -> None:
    """This thread's keep-alive client for the API, made before it sends (making one costs 20-40 ms)."""
    if not hasattr(_local, "client"):
        _local.client = httpx.Client(
            timeout=3.0,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )


def prime(emu: SlackEmulator, token: str) -> None:
    """Open this thread's keep-alive clients, to Slack's request URL with a request that changes nothing
    (`/feedback help`) and to the API."""
    ingest_client(token)
    team = next(iter(BENCH_CONFIG["teams"].values()))
    emu.slash_command("help", user=team["supervisors"][0], channel=team["channel"])


def post_feedback(base_url: str, token: str, post: Post) -> None:
    ingest_client(token)
    post.sent, started = time.time(), time.monotonic()
    try:
        r = _local.client.post(f"{base_url}/api/feedback", content=post.body)
        post.status = r.status_code
        if r.status_code == 200:
            answer = r.json()
            post.accepted, post.duplicates = answer["accepted"], answer["duplicates"]
    except httpx.TimeoutException:
        post.status = "timeout"
    except httpx.TransportError as exc:
        post.status = f"unreachable: {exc}"
    post.elapsed = time.monotonic() - started
