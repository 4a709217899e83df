"""Slack latency benchmark (issue 16): Slack requests at a realistic open-loop rate beside 100 ingested
responses/s on the 1M-row database, the headroom above that rate, and closed-loop throughput against a
bare-ack floor.

Run: .venv/bin/python bench/latency.py [--postgres URL] [--runs 3] [--quick]
Prints each run's figures and PASS/FAIL to stderr, then a Markdown section for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from slack_sdk import WebClient
from sqlalchemy import text, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import openloop_report as report  # noqa: E402
from bench import openloop_servers as servers  # noqa: E402
from bench import pgcopy, seed  # noqa: E402
from bench.datagen import BENCH_CONFIG  # noqa: E402
from bench.openloop import Dispatcher, Phase, answers, error_replies, run_load, wait_updates  # noqa: E402
from bench.openloop_check import check, last_event  # noqa: E402
from bench.openloop_servers import SECRET, TOKEN, peak_rss_mib, server  # noqa: E402
from bench.slack_load import (  # noqa: E402
    MIX,
    Draw,
    Job,
    Pool,
    closed_plan,
    drive_closed,
    ingest_plan,
    messages_needed,
    prime,
    schedule,
)
from slack_emulator import SlackEmulator  # noqa: E402
from storage.db import make_engine, make_sessions  # noqa: E402

CHANNELS = {t["channel"]: k.replace("team", "team-") for k, t in BENCH_CONFIG["teams"].items()}
CHANNELS[BENCH_CONFIG["leaders_channel"]] = "leaders"
USERS: dict[str, str | dict] = {
    sup: f"supervisor {key[4:]}"
    for key, t in BENCH_CONFIG["teams"].items()
    for sup in t["supervisors"]
}
USERS.update({leader: "leader one" for leader in BENCH_CONFIG["leaders"]})
INGEST_RATE = 100  # responses/s, in POSTs of 10
WARM_RATE, WARM_S = 30, 3  # each load starts with 3 s at 30 req/s, not counted
# The catch-up hands the job no renderer of leaders' posts, whereupon it warns, once each time, that no
# leaders_channel is configured; those posts are marked delivered unsent anyway.
logging.getLogger("loopbot.escalations").setLevel(logging.ERROR)


# -- what every phase shares --------------------------------------------------------------------------------


@dataclasses.dataclass
class Bench:
    args: argparse.Namespace
    work: Path
    cached: Path
    pg_template: str | None
    config: Path
    pool: Pool
    render: Renderer
    copies: int = 0

    def fresh_database(self) -> str:
        self.copies += 1
        if self.args.postgres:
            assert self.pg_template
            url = pgcopy.fresh_copy(self.args.postgres, self.pg_template, self._pg_name())
        else:
            shutil.copyfile(self.cached, self.work / "run.db")
            url = f"sqlite:///{self.work / 'run.db'}"
        self._catch_up(url)
        return url

    def _catch_up(self, url: str) -> None:
        """Escalate the seeded cases already past their SLA, as the live system would have done before this
        snapshot, and mark those posts delivered. Otherwise the job's first round (at second 30 of a minute)
        floods the load with a backlog no live system has (170 escalations on a database built that day)."""
        from bot.alerts.escalations import Escalations
        from bot.clock import utcnow
        from storage.models import OutboxMessage

        engine = make_engine(url)
        Escalations(make_sessions(engine), self.render.config).run(utcnow())
        with engine.begin() as conn:
            conn.execute(
                update(OutboxMessage)
                .where(OutboxMessage.state == "pending")
                .values(state="delivered", delivered_at=utcnow())
            )
        engine.dispose()

    def _pg_name(self) -> str:
        return f"loopbot_latency_run{os.getpid()}"

    def drop_database(self) -> None:
        if self.args.postgres:
            pgcopy.drop(self.args.postgres, self._pg_name())
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.work / 'run.db'}{suffix}").unlink(missing_ok=True)

    def post_messages(self, emu: SlackEmulator, url: str, jobs: list[Job]) -> dict[int, str]:
        """Post the clicked cases' messages into the emulator as the notifier once did, and point the cases
        at them so the bot's chat.update finds them; case id → ts."""
        client = WebClient(token=emu.bot_token, base_url=emu.api_url)
        ts_of = {
            cid: client.chat_postMessage(channel=ch, unfurl_links=False, **msg)["ts"]
            for cid, (ch, msg) in self.render(messages_needed(jobs)).items()
        }
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE cases SET slack_ts = :ts WHERE id = :cid"),
                [{"ts": ts, "cid": cid} for cid, ts in ts_of.items()],
            )
        engine.dispose()
        return ts_of


class Renderer:
    """The case messages of the pool's cases, rendered by the product's renderer as the notifier would
    post them, from a copy of the cached database; each rendered once."""

    def __init__(self, cached: Path, work: Path, config_path: Path):
        from bot.cases.lifecycle import Cases
        from config.loader import load_config

        shutil.copyfile(cached, work / "render.db")
        self.config = load_config(str(config_path))
        self.engine = make_engine(f"sqlite:///{work / 'render.db'}")
        self.sessions = make_sessions(self.engine)
        self.cases = Cases(self.sessions, self.config)
        self.done: dict[int, tuple[str, dict]] = {}

    def pool(self, rng: random.Random) -> Pool:
        with self.sessions.begin() as s:
            found = s.execute(
                text(
                    "SELECT id, team, state, assignee FROM cases WHERE state != 'resolved' ORDER BY id"
                )
            ).all()
            cases = s.execute(text("SELECT max(id) FROM cases")).scalar_one()
        opened = [(cid, team) for cid, team, state, _ in found if state == "open"]
        acked = [(cid, team) for cid, team, state, who in found if state != "open" and who is None]
        rng.shuffle(opened)
        rng.shuffle(acked)
        # Acknowledge takes open cases; Assign to me and Resolve the rest, in the mix's proportions.
        share = MIX["ack"] / (MIX["ack"] + MIX["assign"] + 1)
        split = int((len(opened) + len(acked)) * share)
        return Pool(acks=opened[:split], others=opened[split:] + acked, cases=cases)

    def __call__(self, ids: set[int]) -> dict[int, tuple[str, dict]]:
        from bot.clock import utcnow
        from bot.slack.blocks.case import case_message

        for cid in sorted(ids - set(self.done)):
            detail = self.cases.get(cid)
            team = self.config.teams[detail.case.team]
            self.done[cid] = (team.channel, case_message(detail, team, now=utcnow()))
        return {cid: self.done[cid] for cid in ids}


# -- the phases ---------------------------------------------------------------------------------------------


def open_phase(b: Bench, rate: float, seconds: float, seed_: int, settle: float) -> Phase:
    """One open-loop load at `rate` Slack requests/s for `seconds`, with ingestion at 100 responses/s, on a
    fresh copy of the database and a fresh `loopbot run`, after a 3 s warm-up."""
    draw = Draw(b.pool, random.Random(seed_))
    warm = schedule(WARM_RATE, WARM_S, draw)
    jobs = schedule(rate, seconds, draw)
    warm_posts = ingest_plan(INGEST_RATE, WARM_S)
    posts = ingest_plan(INGEST_RATE, seconds, first=sum(len(p.ids) for p in warm_posts))
    phase = Phase(rate, seconds)
    url = b.fresh_database()
    try:
        with SlackEmulator(channels=CHANNELS, users=USERS, signing_secret=SECRET) as emu:
            ts_of = b.post_messages(emu, url, warm + jobs)
            base_event = last_event(url)
            log = b.work / f"loopbot-{b.copies}.log"
            with server(emu, log, url=url, config=b.config) as (base, proc):
                senders = Dispatcher(prime=lambda: prime(emu, TOKEN))
                run_load(senders, emu, ts_of, warm, warm_posts, base, TOKEN)
                # Let the warm-up's posts go out, so the measured load starts from a quiet bot.
                wait_updates(emu, Phase(0, 0), warm, error_replies(emu), ts_of, settle)
                wall0 = run_load(senders, emu, ts_of, jobs, posts, base, TOKEN)
                replies = error_replies(emu)
                answers(phase, jobs, posts, wall0, replies)
                wait_updates(emu, phase, jobs, replies, ts_of, settle)
                time.sleep(1)  # a second update of a message would come about now
                replies = error_replies(emu)
                phase.rss, phase.threads = peak_rss_mib(proc.pid), senders.size
                senders.close()
            check(phase, url, base_event, warm + jobs, warm_posts + posts, emu, replies, ts_of)
            phase.problems += [f"emulator: {e[:200]}" for e in emu.internal_errors]
            phase.problems += [
                f"Slack would refuse: {p}" for d in emu.deliveries for p in d.problems
            ]
    finally:
        b.drop_database()
    return phase


def closed_phase(b: Bench, seed_: int) -> report.Closed:
    """Clients that send back to back (no ingestion): `loopbot run` and the floor, same requests, same run."""
    draw = Draw(b.pool, random.Random(seed_))
    warm = closed_plan(b.args.clients, 3, draw)
    plans = closed_plan(b.args.clients, b.args.requests, draw)
    again = [[dataclasses.replace(j, done=threading.Event()) for j in p] for p in warm + plans]
    out = report.Closed()
    url = b.fresh_database()
    try:
        with SlackEmulator(channels=CHANNELS, users=USERS, signing_secret=SECRET) as emu:
            ts_of = b.post_messages(emu, url, [j for p in plans + warm for j in p])
            # The floor first: it changes no message, so the bot finds them all as posted.
            with server(emu, b.work / "floor.log"):
                jobs, elapsed = drive_closed(emu, warm, plans, ts_of)
            out.floor_rate, out.floor = len(jobs) / elapsed, jobs
            with server(emu, b.work / "closed.log", url=url, config=b.config):
                jobs, elapsed = drive_closed(emu, again[: len(warm)], again[len(warm) :], ts_of)
            out.bot_rate, out.bot = len(jobs) / elapsed, jobs
    finally:
        b.drop_database()
    return out


def one_run(b: Bench, n: int) -> report.Run:
    a = b.args
    run = report.Run(main=open_phase(b, a.rate, a.seconds, 100 * n, a.settle))
    print(report.phase_line(run.main), file=sys.stderr)
    # Headroom: up in steps from the measured rate while both latency targets hold; down if it failed.
    ceiling = b.pool.max_requests() / (a.step_seconds + WARM_S)
    rates: Iterator[float] = (
        (a.rate + a.step * i for i in range(1, 1000))
        if report.latency_ok(run.main)
        else (r for r in (a.rate * 2 / 3, a.rate / 3))
    )
    for rate in rates:
        if rate > ceiling:
            run.capped = True
            break
        step = open_phase(b, rate, a.step_seconds, 100 * n + len(run.steps) + 1, a.step_settle)
        run.steps.append(step)
        print(report.phase_line(step), file=sys.stderr)
        if report.latency_ok(step) != report.latency_ok(run.main):
            break
    run.closed = closed_phase(b, 100 * n + 99)
    return run


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--postgres",
        metavar="URL",
        help="run Loopbot on PostgreSQL: the server's maintenance "
        "database, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    )
    p.add_argument("--runs", type=int, default=3)
    p.add_argument(
        "--quick",
        action="store_true",
        help="one run: 10 s, headroom steps of 5 s, 600 closed-loop requests",
    )
    p.add_argument("--rate", type=float, default=30, help="Slack requests/s of the realistic load")
    p.add_argument("--seconds", type=float, default=60, help="length of the realistic load")
    p.add_argument("--step", type=float, default=30, help="headroom: req/s added per step")
    p.add_argument("--step-seconds", type=float, default=20, help="headroom: length of a step")
    p.add_argument("--settle", type=float, default=120, help="s to wait for updates after the load")
    p.add_argument("--step-settle", type=float, default=20, help="the same after a headroom step")
    p.add_argument("--clients", type=int, default=20, help="closed loop: clients")
    p.add_argument("--requests", type=int, default=150, help="closed loop: requests per client")
    p.add_argument(
        "--product",
        type=Path,
        help="measure `loopbot run` of this checkout instead (e.g. a git worktree of the code before a "
        "change); the load, emulator and database stay this checkout's",
    )
    args = p.parse_args()
    if args.product:
        servers.PRODUCT["root"] = args.product.resolve()
    if args.quick:
        args.runs, args.seconds, args.step_seconds, args.requests = 1, 10, 5, 30
        args.settle, args.step_settle = 30, 10

    cached, gen, fresh = seed.cached_db(
        rows=1_000_000, cases=50_000, open_=5_000, acknowledged=3_000
    )
    print(f"database {cached}: " + ("generated" if fresh else "cached"), file=sys.stderr)
    pg_template, database = None, None
    if args.postgres:
        database = pgcopy.server_version(args.postgres)
        pg_template, took = pgcopy.template(cached, args.postgres)
        print(
            f"PostgreSQL template {pg_template}" + (f" built in {took:.0f} s" if took else ""),
            file=sys.stderr,
        )
    work = Path(tempfile.mkdtemp(prefix="loopbot-latency-"))
    try:
        config_path, _ = seed.bench_config(work)
        render = Renderer(cached, work, config_path)
        b = Bench(
            args, work, cached, pg_template, config_path, render.pool(random.Random(3)), render
        )
        runs, began = [], time.perf_counter()
        for n in range(1, args.runs + 1):
            started = time.perf_counter()
            runs.append(one_run(b, n))
            print(report.summary(runs[-1], n, time.perf_counter() - started), file=sys.stderr)
        print(report.markdown(runs, args, database, gen, time.perf_counter() - began))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
