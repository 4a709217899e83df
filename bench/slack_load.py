"""Slack's side of the latency benchmark: the load plan, the clients driving the emulator, and the two
measures — (a) the ack's round trip, (b) when the answer reached Slack."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass

from bench.datagen import BENCH_CONFIG
from bot.slack.ids import ActionId
from slack_emulator import SlackEmulator
from slack_emulator.driver import Delivery

KINDS = ("list", "ack")


# -- the load -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    kind: str  # "list" | "ack"
    channel: str
    user: str
    case_id: int = 0  # the case whose Acknowledge button is clicked


def plan(
    clients: int, per_kind: int, warmup: int, targets: list[tuple[int, str]], rng: random.Random
) -> tuple[list[list[Job]], list[list[Job]]]:
    """Warm-up and measured jobs per client: lists in a team's channel by its supervisor, and clicks on
    distinct open cases by their team's supervisor, in a shuffled order per client."""
    teams = BENCH_CONFIG["teams"]
    keys = list(teams)
    clicks = iter(targets)

    def listing() -> Job:
        team = teams[rng.choice(keys)]
        return Job("list", team["channel"], team["supervisors"][0])

    def click() -> Job:
        case_id, key = next(clicks)
        return Job("ack", teams[key]["channel"], teams[key]["supervisors"][0], case_id)

    warm: list[list[Job]] = [[] for _ in range(clients)]
    for i in range(warmup):
        warm[i % clients].append(listing() if i % 2 == 0 else click())
    measured = []
    for _ in range(clients):
        jobs = [listing() for _ in range(per_kind)] + [click() for _ in range(per_kind)]
        rng.shuffle(jobs)
        measured.append(jobs)
    return warm, measured


def drive(
    emu: SlackEmulator, jobs: list[list[Job]], ts_of: dict[int, str]
) -> tuple[list[tuple[Job, Delivery]], float]:
    """Each client sends its jobs back to back, the next as soon as the previous was answered."""
    results: list[tuple[Job, Delivery]] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    start = threading.Barrier(len(jobs) + 1)

    def client(mine: list[Job]) -> None:
        done = []
        try:
            start.wait()
            for job in mine:
                if job.kind == "list":
                    d = emu.slash_command("list", user=job.user, channel=job.channel)
                else:
                    d = emu.click(job.channel, ts_of[job.case_id], ActionId.ACK, job.user)
                done.append((job, d))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        with lock:
            results.extend(done)

    threads = [
        threading.Thread(target=client, args=(mine,), name=f"client-{i}")
        for i, mine in enumerate(jobs)
    ]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise errors[0]
    return results, elapsed


def rid(d: Delivery) -> str:
    return d.payload["response_url"].rsplit("/", 1)[1]


def wait_visible(
    emu: SlackEmulator, results: list[tuple[Job, Delivery]], timeout: float
) -> tuple[dict[str, list[float]], list[str]]:
    """(b): seconds from sending each request until its answer reached Slack: the ephemeral list at the
    response_url, the acknowledged case's chat.update. Also what went wrong (error replies, missing answers)."""
    lists = {rid(d): d.sent for job, d in results if job.kind == "list"}
    clicks = {
        (d.payload["container"]["channel_id"], d.payload["container"]["message_ts"]): d.sent
        for job, d in results
        if job.kind == "ack"
    }
    click_rids = {rid(d) for job, d in results if job.kind == "ack"}
    # A list answered in the ack itself is visible the moment the ack is back.
    in_ack = {
        rid(d): d.sent + d.elapsed
        for job, d in results
        if job.kind == "list"
        and d.response
        and (d.response.get("blocks") or d.response.get("text"))
    }
    deadline = time.monotonic() + timeout
    while True:
        seen_list, seen_ack, problems = dict(in_ack), {}, []
        for key in in_ack:
            reply = str(
                next(
                    d.response.get("text")
                    for job, d in results
                    if job.kind == "list" and rid(d) == key
                )
                or ""
            )
            if reply.startswith((":warning:", ":x:")):
                problems.append(f"list answered {reply[:120]!r}")
        for c in emu.calls:
            if c.method == "response_url":
                key = c.args.get("response_url_id")
                if key in lists:
                    seen_list[key] = c.time
                    reply = str(c.args.get("text") or "")
                    if not c.ok or reply.startswith((":warning:", ":x:")):
                        problems.append(f"list answered {reply[:120]!r} ({c.error})")
                elif key in click_rids:
                    problems.append(f"click answered {str(c.args.get('text'))[:120]!r}")
            elif c.method == "chat.update":
                key = (c.args.get("channel"), c.args.get("ts"))
                if key in clicks and key not in seen_ack:
                    seen_ack[key] = c.time
                    if not c.ok:
                        problems.append(f"chat.update failed: {c.error}")
        if (
            len(seen_list) == len(lists) and len(seen_ack) == len(clicks)
        ) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    missing = len(lists) - len(seen_list) + len(clicks) - len(seen_ack)
    if missing:
        problems.append(f"{missing} answers never reached Slack within {timeout:.0f} s")
    return {
        "list": [seen_list[k] - lists[k] for k in seen_list],
        "ack": [seen_ack[k] - clicks[k] for k in seen_ack],
    }, problems


def round_trips(results: list[tuple[Job, Delivery]]) -> tuple[dict[str, list[float]], list[str]]:
    """(a): seconds from sending each request until the app's answer (its ack) came back."""
    out: dict[str, list[float]] = {k: [] for k in KINDS}
    problems = [f"{job.kind}: HTTP {d.status} {d.body[:100]!r}" for job, d in results if not d.ok]
    for job, d in results:
        out[job.kind].append(d.elapsed)
    return out, problems
