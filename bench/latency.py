"""Slack latency benchmark (issue 3): `/feedback list` and Acknowledge over HTTP, 20 clients, against a bare-ack floor."""

from __future__ import annotations

import argparse
import math
import os
import platform
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from slack_sdk import WebClient
from sqlalchemy import text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import pgcopy, seed  # noqa: E402
from bench.datagen import BENCH_CONFIG  # noqa: E402
from bench.ingest import free_port  # noqa: E402
from bench.slack_load import KINDS, Job, drive, plan, round_trips, wait_visible  # noqa: E402
from bot.slack.ids import ActionId  # noqa: E402
from slack_emulator import SlackEmulator  # noqa: E402
from storage.db import make_engine  # noqa: E402

SECRET = "bench-signing-secret"
CHANNELS = {
    team["channel"]: key.replace("team", "team-") for key, team in BENCH_CONFIG["teams"].items()
}
CHANNELS[BENCH_CONFIG["leaders_channel"]] = "leaders"
USERS: dict[str, str | dict] = {
    sup: f"supervisor {key[4:]}"
    for key, t in BENCH_CONFIG["teams"].items()
    for sup in t["supervisors"]
}
USERS.update({leader: "leader one" for leader in BENCH_CONFIG["leaders"]})
P99_TARGET_MS = 150
P50_FLOOR_FACTOR = 3


# -- the two servers ----------------------------------------------------------------------------------------


def wait_healthy(url: str, proc: subprocess.Popen, log: Path | None = None) -> None:
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            raise RuntimeError(
                f"server exited with {proc.returncode}: {log.read_text()[-3000:] if log else ''}"
            )
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"server did not come up: {log.read_text()[-3000:] if log else ''}")
        time.sleep(0.1)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def peak_rss_mib(pid: int) -> float:
    """The kernel's high-water marks of the resident memory of the process and its children (the writer
    process): exact, where sampling every 50 ms (bench/ingest.py) could miss a short peak."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024 + sum(peak_rss_mib(int(child)) for child in children)
    return math.nan


def slack_env(emu: SlackEmulator, port: int, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "LOOPBOT_", "DATABASE_URL"))
    }
    env.update(
        {
            "SLACK_BOT_TOKEN": emu.bot_token,
            "SLACK_API_URL": emu.api_url,
            "SLACK_SIGNING_SECRET": SECRET,
            "LOOPBOT_HOST": "127.0.0.1",
            "LOOPBOT_PORT": str(port),
            "LOOPBOT_LOG_FORMAT": "text",
            **extra,
        }
    )
    return env


def serve_floor(port: int) -> None:
    """The floor: a bare bolt App whose listeners only ack, on the stack `loopbot run` uses (FastAPI,
    uvicorn, bot.slack.http.slack_router dispatching in the thread pool)."""
    import uvicorn
    from fastapi import FastAPI
    from slack_bolt import Ack, App

    from bot.slack.http import slack_router

    # The client only answers bolt's one auth.test (on the first request), from the emulator.
    app = App(
        client=WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        token_verification_enabled=False,
    )

    @app.command("/feedback")
    def command(ack: Ack) -> None:
        ack()

    @app.action(ActionId.ACK.value)
    def acknowledge(ack: Ack) -> None:
        ack()

    api = FastAPI(docs_url=None, redoc_url=None)
    api.include_router(slack_router(app))

    @api.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    uvicorn.run(api, host="127.0.0.1", port=port, log_config=None, access_log=False)


# -- one run ------------------------------------------------------------------------------------------------


@dataclass
class Run:
    bot: dict[str, list[float]] = field(default_factory=dict)  # (a) per kind, seconds
    floor: dict[str, list[float]] = field(default_factory=dict)
    seen: dict[str, list[float]] = field(default_factory=dict)  # (b) per kind, seconds
    rss: float = 0.0
    bot_rate: float = 0.0  # requests/s over the measured load
    floor_rate: float = 0.0
    problems: list[str] = field(default_factory=list)


def post_messages(emu: SlackEmulator, messages: dict[int, tuple[str, dict]]) -> dict[int, str]:
    """Post the case messages the clients will click into the emulator, as the notifier once did; case id → ts."""
    client = WebClient(token=emu.bot_token, base_url=emu.api_url)
    return {
        cid: client.chat_postMessage(
            channel=channel, unfurl_links=False, unfurl_media=False, **msg
        )["ts"]
        for cid, (channel, msg) in messages.items()
    }


def point_cases_at(url: str, ts_of: dict[int, str]) -> None:
    """Make the database's cases name the messages just posted, so the bot's chat.update finds them."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE cases SET slack_ts = :ts WHERE id = :cid"),
            [{"ts": ts, "cid": cid} for cid, ts in ts_of.items()],
        )
    engine.dispose()


def one_run(
    n: int,
    args: argparse.Namespace,
    work: Path,
    cached: Path,
    pg_template: str | None,
    config_path: Path,
    messages: dict[int, tuple[str, dict]],
    warm: list[list[Job]],
    measured: list[list[Job]],
) -> Run:
    run = Run()
    db, pg_db = work / f"run{n}.db", f"loopbot_latency_run{n}"
    if args.postgres:
        url = pgcopy.fresh_copy(args.postgres, pg_template, pg_db)
    else:
        shutil.copyfile(cached, db)
        url = f"sqlite:///{db}"
    with SlackEmulator(channels=CHANNELS, users=USERS, signing_secret=SECRET) as emu:
        ts_of = post_messages(emu, messages)
        point_cases_at(url, ts_of)

        port = free_port()
        floor = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve-floor", str(port)],
            cwd=ROOT,
            env=slack_env(emu, port),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_healthy(f"http://127.0.0.1:{port}", floor)
            emu.deliver_http(f"http://127.0.0.1:{port}/slack/events", SECRET)
            drive(emu, warm, ts_of)
            results, elapsed = drive(emu, measured, ts_of)
        finally:
            stop(floor)
            emu.close_http_clients()
        run.floor, problems = round_trips(results)
        run.problems += [f"floor {p}" for p in problems]
        run.floor_rate = len(results) / elapsed

        port = free_port()
        log = work / f"loopbot{n}.log"
        with log.open("wb") as out:
            bot = subprocess.Popen(
                [sys.executable, "-m", "loopbot", "run"],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=slack_env(emu, port, DATABASE_URL=url, LOOPBOT_CONFIG=str(config_path)),
            )
        try:
            wait_healthy(f"http://127.0.0.1:{port}", bot, log)
            emu.deliver_http(f"http://127.0.0.1:{port}/slack/events", SECRET)
            warm_results, _ = drive(emu, warm, ts_of)
            # Let the warm-up's posts finish, so the measured load starts from a quiet bot.
            wait_visible(emu, warm_results, args.settle)
            results, elapsed = drive(emu, measured, ts_of)
            run.seen, problems = wait_visible(emu, results, args.settle)
            run.problems += problems
            run.rss = peak_rss_mib(bot.pid)
        finally:
            stop(bot)
            emu.close_http_clients()
        run.bot, problems = round_trips(results)
        run.problems += problems
        run.bot_rate = len(results) / elapsed
        run.problems += [f"emulator: {e[:200]}" for e in emu.internal_errors]
        run.problems += [f"Slack would refuse: {p}" for d in emu.deliveries for p in d.problems]
    if args.postgres:
        pgcopy.drop(args.postgres, pg_db)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return run


def render_messages(
    cached: Path, work: Path, config_path: Path, needed: int, rng: random.Random
) -> tuple[dict, list]:
    """The case messages of `needed` distinct open cases, rendered by the product's renderer as the
    notifier would post them; and (case id, team) per case, in the order the clients will click them."""
    from sqlalchemy import select

    from bot.cases.lifecycle import Cases
    from bot.clock import utcnow
    from bot.slack.blocks.case import case_message
    from config.loader import load_config
    from storage.db import make_engine, make_sessions
    from storage.models import Case

    db = work / "render.db"
    shutil.copyfile(cached, db)
    config = load_config(str(config_path))
    engine = make_engine(f"sqlite:///{db}")
    sessions = make_sessions(engine)
    with sessions.begin() as s:
        open_cases = list(
            s.execute(
                select(Case.id, Case.team).where(Case.state == "open").order_by(Case.id)
            ).tuples()
        )
    if len(open_cases) < needed:
        raise SystemExit(
            f"{needed:,} clicks need as many open cases; the database has {len(open_cases):,}"
        )
    targets = rng.sample(open_cases, needed)
    cases, now, messages = Cases(sessions, config), utcnow(), {}
    for cid, team in targets:
        messages[cid] = (
            config.teams[team].channel,
            case_message(cases.get(cid), config.teams[team], now=now),
        )
    engine.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return messages, targets


# -- figures ------------------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return 1000 * ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


QUANTILES = (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))


def summary(run: Run, n: int) -> str:
    lines = [
        f"run {n}: {run.bot_rate:,.0f} req/s (floor {run.floor_rate:,.0f} req/s), peak RSS {run.rss:.0f} MiB"
    ]
    for kind in KINDS:
        for name, data in (
            ("(a) loopbot", run.bot[kind]),
            ("(a) floor  ", run.floor[kind]),
            ("(b) seen   ", run.seen[kind]),
        ):
            lines.append(
                f"  {kind:4} {name} n={len(data):5}  "
                + "  ".join(f"{q} {pct(data, p):7.1f}" for q, p in QUANTILES)
                + " ms"
            )
    if run.problems:
        lines.append(f"  PROBLEMS ({len(run.problems)}): " + "; ".join(run.problems[:5]))
    return "\n".join(lines)


def markdown(runs: list[Run], args: argparse.Namespace, gen: float | None) -> str:
    def med(get: Any) -> float:
        return statistics.median(get(r) for r in runs)

    def fmt(values: list[float], digits: int = 0) -> str:
        return " · ".join(f"{v:,.{digits}f}" for v in values)

    names = {"list": "`/feedback list`", "ack": "Acknowledge click"}
    visible = {
        "list": "the ephemeral list is shown (in the ack, or at the response_url)",
        "ack": "the case message is updated (chat.update)",
    }
    out = [
        f"{args.clients} clients × {args.requests} requests of each kind ({args.clients * args.requests:,} `list`, "
        f"{args.clients * args.requests:,} Acknowledge per run) after {args.warmup} warm-up requests; "
        f"{args.feedback:,} feedback rows, {args.cases:,} cases ({args.open:,} open); medians of {len(runs)} runs, ms.",
        "",
        "| measure | p50 | p90 | p99 | max |",
        "|---|---|---|---|---|",
    ]
    for kind in KINDS:
        for label, get in (
            (f"(a) {names[kind]}: answer (ack) over HTTP, Loopbot", lambda r, k=kind: r.bot[k]),
            (
                f"(a) {names[kind]}: floor, bare bolt app that only acks",
                lambda r, k=kind: r.floor[k],
            ),
            (f"(b) {names[kind]}: until {visible[kind]}", lambda r, k=kind: r.seen[k]),
        ):
            cells = [f"{med(lambda r, g=get, p=p: pct(g(r), p)):,.1f}" for _, p in QUANTILES]
            out.append(f"| {label} | " + " | ".join(cells) + " |")
    out += ["", "| target | median | runs | |", "|---|---|---|---|"]
    for kind in KINDS:
        p99 = [pct(r.bot[kind], 99) for r in runs]
        m = statistics.median(p99)
        out.append(
            f"| (a) {names[kind]} p99 ≤ {P99_TARGET_MS} ms | {m:,.1f} ms | {fmt(p99, digits=1)} | "
            f"{'met' if m <= P99_TARGET_MS else 'MISSED'} |"
        )
    for kind in KINDS:
        ratios = [pct(r.bot[kind], 50) / pct(r.floor[kind], 50) for r in runs]
        m = statistics.median(ratios)
        out.append(
            f"| (a) {names[kind]} p50 ≤ {P50_FLOOR_FACTOR} × floor p50 | {m:.2f} × "
            f"({med(lambda r, k=kind: pct(r.bot[k], 50)):.1f} vs {med(lambda r, k=kind: pct(r.floor[k], 50)):.1f} ms) | "
            f"{fmt(ratios, digits=2)} | {'met' if m <= P50_FLOOR_FACTOR else 'MISSED'} |"
        )
    out.append(
        f"| peak RSS of `loopbot run` and its child processes | {max(r.rss for r in runs):.0f} MiB (max) | {fmt([r.rss for r in runs])} | |"
    )
    out.append(
        f"| throughput, both kinds | {med(lambda r: r.bot_rate):,.0f} req/s (floor {med(lambda r: r.floor_rate):,.0f}) | "
        f"{fmt([r.bot_rate for r in runs])} | |"
    )
    problems = sum(len(r.problems) for r in runs)
    out += [
        "",
        f"Problems (non-200 answers, error replies, answers that never arrived): {problems}.",
    ]
    if gen is not None:
        out.append(f"Generating the database took {gen:.0f} s (cached in /tmp for later runs).")
    return "\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument(
        "--requests", type=int, default=100, help="per client and kind (list, Acknowledge)"
    )
    p.add_argument("--warmup", type=int, default=50, help="requests before measuring, not counted")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--feedback", type=int, default=1_000_000)
    p.add_argument("--cases", type=int, default=50_000)
    p.add_argument("--open", type=int, default=5_000)
    p.add_argument("--acknowledged", type=int, default=3_000)
    p.add_argument(
        "--settle",
        type=float,
        default=300,
        help="seconds to wait for answers to reach Slack after the load",
    )
    p.add_argument(
        "--postgres",
        metavar="URL",
        help="run Loopbot on PostgreSQL: a URL of the server's maintenance "
        "database, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres (default: SQLite)",
    )
    p.add_argument("--serve-floor", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.serve_floor:
        serve_floor(args.serve_floor)
        return

    cached, gen, fresh = seed.cached_db(
        rows=args.feedback, cases=args.cases, open_=args.open, acknowledged=args.acknowledged
    )
    took = f"{gen:.1f} s" if gen is not None else "an unknown time"
    print(
        f"database {cached} ({cached.stat().st_size / 2**20:.0f} MiB): "
        + (f"generated in {took}" if fresh else f"cached (its generation took {took})"),
        file=sys.stderr,
    )
    pg_template, database = None, f"SQLite {sqlite3.sqlite_version}"
    if args.postgres:
        database = pgcopy.server_version(args.postgres)
        pg_template, pg_took = pgcopy.template(cached, args.postgres)
        print(
            f"PostgreSQL template {pg_template}: "
            + (f"copied in {pg_took:.1f} s" if pg_took else "cached"),
            file=sys.stderr,
        )
    work = Path(tempfile.mkdtemp(prefix="loopbot-latency-"))
    try:
        config_path, _ = seed.bench_config(work)
        rng = random.Random(3)
        clicks = (args.warmup + 1) // 2 + args.clients * args.requests
        messages, targets = render_messages(cached, work, config_path, clicks, rng)
        warm, measured = plan(args.clients, args.requests, args.warmup, targets, rng)
        runs = []
        for n in range(1, args.runs + 1):
            started = time.perf_counter()
            runs.append(
                one_run(n, args, work, cached, pg_template, config_path, messages, warm, measured)
            )
            print(
                summary(runs[-1], n) + f"\n  ({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
            )
        print(
            f"\n### Slack latency — {time.strftime('%Y-%m-%d')}, {platform.node()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, {database}\n"
        )
        print(markdown(runs, args, gen))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
