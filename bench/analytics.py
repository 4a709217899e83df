"""`/feedback stats` benchmark (issues 5, 18; charts are bench/charts.py): stats, breakdowns, categories and the
customer view on bench/jobs.py's 5M-row database."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import analytics_views as views  # noqa: E402
from bench.jobs import clocked, database_args, jobs_config, peak_rss_mib, prepared_db  # noqa: E402
from bench.jobs_report import ms, table_row  # noqa: E402

STATS_TARGET_MS = 300
RSS_TARGET_MB = 400
# (key, what it measures, days, all teams?): the first is the one with the target, and runs first in each child,
# so its first call carries the statements' compilation, as a bot's first `/feedback stats all` does.
SCENARIOS = [
    ("all30", "`/feedback stats all`, last 30 days", 30, True),
    ("one30", "`/feedback stats` of one team, last 30 days", 30, False),
    ("all90", "`/feedback stats all`, last 90 days", 90, True),
]


# -- the child: only the config, the read sessions and the stats, so its VmHWM is theirs --------------------


def child(db: str, config_path: str, now: datetime, args: argparse.Namespace) -> dict[str, Any]:
    from bot.reports.stats import Stats
    from bot.slack.blocks.stats import stats_message
    from config.loader import load_config
    from storage.db import make_engine, make_read_sessions

    # As loopbot.py wires it: Stats(core.reads, config), core.reads being make_read_sessions on the engine.
    config = load_config(config_path)
    engine = make_engine(f"sqlite:///{db}")
    reads = make_read_sessions(engine)
    stats = Stats(reads, config)
    team = args.team or next(iter(config.teams))
    out: dict[str, Any] = {"rss": {}, "team": team}
    for key, _, days, all_teams in SCENARIOS:
        keys = list(config.teams) if all_teams else [team]
        since, label = now - timedelta(days=days), f"last {days}d"
        compose, render, result, message = [], [], [], {}
        for _ in range(args.repeats):
            result, t_compose = clocked(partial(stats.for_teams, keys, since, now, now))
            message, t_render = clocked(
                partial(
                    stats_message, result, config.teams, period_label=label, all_teams=all_teams
                )
            )
            compose.append(t_compose)
            render.append(t_render)
        out[key] = {
            "compose": compose,
            "render": render,
            "teams": len(result),
            "opened": sum(t.opened for t in result),
            "resolved": sum(t.resolved for t in result),
            "acknowledged": sum(t.acknowledged for t in result),
            "open": sum(t.open for t in result),
            "responses": sum(
                t.headline.csat_n + t.headline.nps_n + t.headline.ces_n for t in result
            ),
            "blocks": len(message["blocks"]),
            "bytes": len(json.dumps(message)),
        }
        out["rss"][key] = peak_rss_mib()
    more = views.measure(stats, reads, config, now, args)
    out["rss"].update(more.pop("rss"))
    out.update(more)
    engine.dispose()
    return out


# -- the parent: data, runs, figures ---------------------------------------------------------------------


def one_run(
    n: int, cached: Path, work: Path, config_path: Path, now: datetime, args: argparse.Namespace
) -> dict:
    # A fresh copy per run, as bench/jobs.py does: the stats only read, but no run sees another's leftovers.
    db = work / f"run{n}.db"
    shutil.copyfile(cached, db)
    try:
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            str(db),
            str(config_path),
            now.isoformat(),
            "--repeats",
            str(args.repeats),
            "--customers",
            str(args.customers),
        ] + (["--team", args.team] if args.team else [])
        proc = subprocess.run(
            cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True
        )  # stderr shows as it comes
        if proc.returncode != 0:
            raise RuntimeError(f"run {n} failed with exit status {proc.returncode}")
        return json.loads(proc.stdout)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)


def totals(s: dict) -> list[float]:
    """compose + render of each repeat, in seconds; [0] is the first call."""
    return [a + b for a, b in zip(s["compose"], s["render"])]


def summary(r: dict, n: int) -> str:
    lines = [
        f"run {n}: peak RSS {max(r['rss'].values()):.0f} MiB "
        f"({', '.join(f'{k} {v:.0f}' for k, v in r['rss'].items())})"
    ]
    for key, _, _, _ in SCENARIOS:
        s = r[key]
        lines.append(
            f"  {key}: first {1000 * totals(s)[0]:.1f} ms; then both {ms(totals(s)[1:])}; "
            f"for_teams {ms(s['compose'][1:])}; stats_message {ms(s['render'][1:])}"
        )
    return "\n".join(lines + views.summary(r))


def markdown(
    runs: list[dict],
    args: argparse.Namespace,
    now: datetime,
    counts: dict[str, int],
    size_mib: float,
    gen: float | None,
) -> str:

    def of(key: str, part: str, agg: Any, first: bool = False) -> list[float]:
        values = [totals(r[key]) if part == "both" else r[key][part] for r in runs]
        return [1000 * (v[0] if first else agg(v[1:])) for v in values]

    first, rest = runs[0], args.repeats - 1
    target = (STATS_TARGET_MS, f"≤ {STATS_TARGET_MS} ms")
    rows = []
    for key, what, _, _ in SCENARIOS:
        t = target if key == "all30" else (None, "")
        rows += [
            table_row(
                f"{what}, `for_teams` + `stats_message`: first call",
                of(key, "both", None, first=True),
                "ms",
                *t,
            ),
            table_row(
                f"{what}, `for_teams` + `stats_message`: median of the {rest} repeats after it",
                of(key, "both", statistics.median),
                "ms",
                *t,
            ),
            table_row(
                f"{what}, `for_teams` + `stats_message`: max of those repeats",
                of(key, "both", max),
                "ms",
                *t,
            ),
            table_row(
                "… `Stats.for_teams` alone: median of the repeats",
                of(key, "compose", statistics.median),
                "ms",
            ),
            table_row(
                "… `stats_message` alone: median of the repeats",
                of(key, "render", statistics.median),
                "ms",
            ),
        ]
    rows += views.rows(runs, args.repeats)
    rows.append(
        table_row(
            "peak RSS of the process doing the work (`VmHWM`)",
            [max(r["rss"].values()) for r in runs],
            "MiB",
            RSS_TARGET_MB / 1.048576,
            f"≤ {RSS_TARGET_MB} MB",
        )
    )
    sizes = "; ".join(
        f"{key}: {s['teams']} teams, {s['opened']:,} cases opened, {s['resolved']:,} resolved, {s['acknowledged']:,} "
        f"first acknowledged, {s['responses']:,} survey responses, {s['open']:,} unresolved now; message "
        f"{s['blocks']} blocks, {s['bytes']:,} bytes of JSON"
        for key, s in ((key, first[key]) for key, _, _, _ in SCENARIOS)
    )
    out = [
        f"Database from `bench/seed.py` ({size_mib:,.0f} MiB), the one bench/jobs.py builds: {counts['feedback']:,} "
        f"feedback rows from `bench/datagen.py` (20 teams, 2 years), {counts['cases']:,} cases ({args.open:,} open, "
        f"{args.acknowledged:,} acknowledged), {counts['case_events']:,} timeline events. `now` = {now:%Y-%m-%d %H:%M} "
        f"UTC, the minute after the newest response; each period ends at `now` (until = now, as `/feedback stats` "
        f"passes it). The one team is `{first['team']}`. Each run is a fresh copy of the database and a fresh process "
        f"holding only the config, the read sessions, `bot.reports.stats.Stats` and `bot.reports.customer.Customers`; "
        f"it runs the scenarios in the order of the table, each {args.repeats} times (`for_teams`, then `stats_message` "
        f"on its result; `Stats.breakdown`, then `breakdown_message`; `for_teams` and `Stats.categories`, then "
        f"`stats_message` with the agreement). The first call of `stats all` compiles the stats statements, the "
        f"first `by=segment` the breakdown's; the other first calls reuse them. `customer ID` is asked by a leader "
        f"(every team in scope) for {args.customers} distinct customers, each the customer of a random response of "
        f"the last 365 days (frequent respondents more often), after one other customer whose call compiles the "
        f"statements. Medians of {len(runs)} runs.",
        "",
        "| measure | median | runs | target | |",
        "|---|---|---|---|---|",
        *rows,
        "",
        f"What was counted (run 1) — {sizes}; {views.counted(first)}. Peak RSS by phase (run 1): "
        + ", ".join(f"after {k} {v:.0f} MiB" for k, v in first["rss"].items())
        + ".",
    ]
    if gen is not None:
        out.append(f"Generating the database took {gen:.0f} s (cached in /tmp for later runs).")
    return "\n".join(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=3)
    database_args(p)
    p.add_argument(
        "--repeats", type=int, default=6, help="calls per scenario per run, the first one included"
    )
    p.add_argument("--team", help="the team of the one-team scenario (default: the config's first)")
    p.add_argument("--customers", type=int, default=200, help="customers looked up per run")
    p.add_argument("--child", nargs=3, metavar=("DB", "CONFIG", "NOW"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.repeats < 2:
        p.error("--repeats must be at least 2: the first call is reported apart from the others")
    if args.child:
        db, config_path, now = args.child
        print(json.dumps(child(db, config_path, datetime.fromisoformat(now), args)))
        return

    cached, gen, size, counts, now = prepared_db(args)
    work = Path(tempfile.mkdtemp(prefix="loopbot-analytics-"))
    try:
        config_path = jobs_config(work, now)
        runs = []
        for n in range(1, args.runs + 1):
            started = time.perf_counter()
            runs.append(one_run(n, cached, work, config_path, now, args))
            print(
                summary(runs[-1], n) + f"\n  ({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
            )
        print(
            f"\n### `/feedback stats` — {time.strftime('%Y-%m-%d')}, {platform.node()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}\n"
        )
        print(markdown(runs, args, now, counts, size, gen))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
