"""Time-driven work benchmark (issue 4): huddle digest, threshold cycle, escalations and weekly summary on 5M rows."""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import loop  # noqa: E402
from bench.datagen import BENCH_CONFIG  # noqa: E402
from bench.jobs_report import markdown, summary, team_rules  # noqa: E402


def jobs_config(work: Path, now: datetime) -> Path:
    """BENCH_CONFIG with the five fixed and four SPC rules on every team, and a daily huddle at `now`: the
    benchmark's digest is then the one a huddle firing at `now` posts, covering the full day of data before it."""
    config = copy.deepcopy(BENCH_CONFIG)
    for i, team in enumerate(config["teams"].values()):
        team["huddle"] = f"{now.minute} {now.hour} * * *"
        team["thresholds"] = team_rules(i, list(config["categories"]))
    path = work / "jobs.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def data_end(db: Path) -> datetime:
    """The newest response's submitted_at, read through the model so the stored format is the product's."""
    from sqlalchemy import func, select

    from storage.db import make_engine
    from storage.models import Feedback

    engine = make_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.max(Feedback.submitted_at))).scalar_one()
    finally:
        engine.dispose()


# -- the child: only the core and the jobs, so its VmHWM is theirs -----------------------------------------


def peak_rss_mib() -> float:
    """This process's resident-memory high-water mark (VmHWM), as bench/latency.py reads it."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def clocked(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def child(db: str, config_path: str, now: datetime, args: argparse.Namespace) -> dict[str, Any]:
    from bot.cases.lifecycle import Cases
    from bot.feedback.ingest import Ingestor
    from bot.reports.digest import Digests
    from bot.reports.weekly import Weekly
    from bot.slack.blocks.digest import digest_message
    from bot.slack.blocks.weekly import weekly_message
    from config.loader import load_config
    from storage.db import make_engine, make_read_sessions, make_sessions
    from wiring import Core, job_context

    # The core as wiring.build_core builds it, and the jobs as `loopbot run` wires them (job_context: e.g. the
    # escalations' renderer of the leaders' channel post), so the benchmark follows the product's wiring.
    config = load_config(config_path)
    engine = make_engine(f"sqlite:///{db}")
    sessions, reads = make_sessions(engine), make_read_sessions(engine)
    cases = Cases(sessions, config, reads=reads)
    ctx = job_context(Core(engine, sessions, reads, cases, Ingestor(sessions, config)), config)
    out: dict[str, Any] = {"rss": {}}

    # No warm-up: the first team's figure carries the statements' first compilation, as a bot's first huddle does.
    digests = Digests(reads, config)
    compose, render, period = [], [], None
    for key, team in config.teams.items():
        digest, t_compose = clocked(lambda k=key: digests.for_team(k, now))
        _, t_render = clocked(lambda d=digest, t=team: digest_message(d, t, now=now))
        compose.append(t_compose)
        render.append(t_render)
        period = (digest.until - digest.since).total_seconds() / 3600
    out.update(
        digest_compose=compose,
        digest_render=render,
        digest_period_h=period,
        digest_responses=digest.responses,
        digest_open=digest.open,
    )
    out["rss"]["digest"] = peak_rss_mib()

    weekly = Weekly(reads, config)
    w_compose, w_render = [], []
    for _ in range(args.weekly):
        summary, t = clocked(lambda: weekly.compose(now))
        w_compose.append(t)
        w_render.append(clocked(lambda s=summary: weekly_message(s, config))[1])
    out.update(weekly_compose=w_compose, weekly_render=w_render)
    out["rss"]["weekly"] = peak_rss_mib()

    out.update(thresholds_measure(ctx.thresholds, reads, config, now, args))
    out["rss"]["thresholds"] = peak_rss_mib()

    escalations = ctx.escalations
    done, t_first = clocked(lambda: escalations.run(now))
    out.update(escalation_first=t_first, escalation_first_done=len(done))
    e_steady, e_done = [], 0
    for k in range(1, args.escalations + 1):
        done, t = clocked(lambda k=k: escalations.run(now + timedelta(minutes=k)))
        e_steady.append(t)
        e_done += len(done)
    out.update(escalation_steady=e_steady, escalation_steady_done=e_done)
    out["rss"]["escalations"] = peak_rss_mib()

    out["loop"] = loop.measure(ctx, cases, config, now)
    out["rss"]["loop"] = peak_rss_mib()
    engine.dispose()
    return out


def thresholds_measure(
    thresholds: Any, reads: Any, config: Any, now: datetime, args: argparse.Namespace
) -> dict[str, Any]:
    """The first cycle (it judges the SPC rules and opens the breaches' cases), the steady ones (SPC rules
    judged once per completed local day: their readings are kept), the cycles after a local midnight (the
    judged days forgotten, so each judges again, with the cases already open), and the SPC reads alone."""
    from bot.alerts.spc_reads import last_complete_day
    from bot.alerts.spc_rules import SpcJudge, read_spc

    out: dict[str, Any] = {}
    report, t_first = clocked(lambda: thresholds.evaluate(now))
    out.update(
        cycle_first=t_first,
        cycle_first_opened=len(report.opened),
        cycle_first_spc=sum(":spc:" in (c.rule_key or "") for c in report.opened),
        cycle_rules=report.rules,
        cycle_failed=report.failed,
    )
    steady, changed, midnights = [], 0, 0
    teams = list(config.teams.values())
    # The job runs every minute: each steady cycle one minute later, the rules' windows sliding with it.
    for k in range(1, args.cycles + 1):
        at = now + timedelta(minutes=k)
        report, t = clocked(lambda at=at: thresholds.evaluate(at))
        steady.append(t)
        changed += len(report.opened) + len(report.recovered)
        out["cycle_failed"].update(report.failed)
        # A steady cycle past a team's midnight judges that team's SPC rules again: said in the report.
        midnights += any(last_complete_day(t, at) != last_complete_day(t, now) for t in teams)
    out.update(cycle_steady=steady, cycle_steady_changed=changed, cycle_midnights=midnights)
    judging = []
    for k in range(1, args.cycles + 1):
        thresholds.spc = SpcJudge()  # what a new local day does: no team's readings are current
        at = now + timedelta(minutes=args.cycles + k)
        report, t = clocked(lambda at=at: thresholds.evaluate(at))
        judging.append(t)
        out["cycle_failed"].update(report.failed)
    out["cycle_judging"] = judging

    def judge_all() -> list[Any]:
        with reads.begin() as s:
            return [
                reading
                for team in teams
                for reading in read_spc(
                    s, team, [r for r in team.thresholds if r.is_spc], last_complete_day(team, now)
                ).values()
            ]

    spc = [clocked(judge_all) for _ in range(args.cycles)]
    out.update(
        spc_reads=[t for _, t in spc],
        spc_rules=len(spc[0][0]),
        spc_readable=sum(r.readable for r in spc[0][0]),
        spc_signals=sum(r.breached for r in spc[0][0]),
    )
    return out


# -- the parent: data, runs, figures ---------------------------------------------------------------------


def one_run(
    n: int, cached: Path, work: Path, config_path: Path, now: datetime, args: argparse.Namespace
) -> dict:
    # Each run gets a fresh copy: the first threshold cycle and the escalation catch-up write to it.
    db = work / f"run{n}.db"
    shutil.copyfile(cached, db)
    try:
        proc = subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--child",
                str(db),
                str(config_path),
                now.isoformat(),
                "--weekly",
                str(args.weekly),
                "--cycles",
                str(args.cycles),
                "--escalations",
                str(args.escalations),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )  # its stderr (the product's warnings) shows as it comes
        if proc.returncode != 0:
            raise RuntimeError(f"run {n} failed with exit status {proc.returncode}")
        return json.loads(proc.stdout)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=3)
    database_args(p)
    p.add_argument("--weekly", type=int, default=5, help="weekly summaries per run")
    p.add_argument("--cycles", type=int, default=10, help="steady threshold cycles per run")
    p.add_argument("--escalations", type=int, default=5, help="steady escalation runs per run")
    p.add_argument("--child", nargs=3, metavar=("DB", "CONFIG", "NOW"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        db, config_path, now = args.child
        print(json.dumps(child(db, config_path, datetime.fromisoformat(now), args)))
        return

    cached, gen, size, counts, now = prepared_db(args)
    work = Path(tempfile.mkdtemp(prefix="loopbot-jobs-"))
    try:
        config_path = jobs_config(work, now)
        runs = []
        for n in range(1, args.runs + 1):
            started = time.perf_counter()
            runs.append(one_run(n, cached, work, config_path, now, args))
            print(
                summary(runs[-1], n)
                + "\n"
                + loop.loop_summary(runs[-1]["loop"])
                + f"\n  ({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
            )
        print(
            f"\n### Time-driven work — {time.strftime('%Y-%m-%d')}, {platform.node()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}\n"
        )
        print(markdown(runs, args, now, counts, size, gen))
        print("\n#### Improvement loop (issue 17), same runs\n")
        print(loop.loop_markdown(runs))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def database_args(p: argparse.ArgumentParser) -> None:
    """The 5M-row database's parameters; bench/analytics.py and bench/charts.py take the same, so that
    seed.cached_db finds the one cached file all three use."""
    p.add_argument("--rows", type=int, default=5_000_000)
    # Proportional to bench/latency.py's 50k cases for 1M rows: 5 % of the responses, with the same backlog shape.
    p.add_argument("--cases", type=int, default=250_000)
    p.add_argument("--open", type=int, default=25_000)
    p.add_argument("--acknowledged", type=int, default=15_000)


def prepared_db(
    args: argparse.Namespace,
) -> tuple[Path, float | None, float, dict[str, int], datetime]:
    """The cached 5M-row database (generated the first time), its size in MiB, row counts, and `now`."""
    from bench import seed

    cached, gen, fresh = seed.cached_db(
        rows=args.rows, cases=args.cases, open_=args.open, acknowledged=args.acknowledged
    )
    size = cached.stat().st_size / 2**20
    took = f"{gen:.1f} s" if gen is not None else "an unknown time"
    print(
        f"database {cached} ({size:,.0f} MiB): "
        + (f"generated in {took}" if fresh else f"cached (its generation took {took})"),
        file=sys.stderr,
    )
    conn = sqlite3.connect(cached)
    try:
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("feedback", "cases", "case_events", "outbox")
        }
    finally:
        conn.close()
    # datagen ends its data when the database was generated: `now` follows the newest response, whenever this runs.
    now = data_end(cached).replace(second=0, microsecond=0) + timedelta(minutes=1)
    return cached, gen, size, counts, now


if __name__ == "__main__":
    main()
