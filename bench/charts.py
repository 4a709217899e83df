"""`/feedback chart` benchmark (issue 5): from the request to the PNG shared in the Slack emulator, on the 5M-row database."""

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
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.jobs import database_args, jobs_config, peak_rss_mib, prepared_db  # noqa: E402
from bench.jobs_report import ms  # noqa: E402

TARGET_S = 2.0
RSS_TARGET_MB = 400
# (kind, all teams?, days): the first has the target; every kind runs over all teams' 90 days, the heaviest ask.
SCENARIOS = [
    ("csat", True, 90),
    ("csat", False, 30),
    ("nps", True, 90),
    ("ces", True, 90),
    ("volume", True, 90),
    ("ttr", True, 90),
    ("pareto", True, 90),
    ("sla", True, 90),
    ("csat", True, 730),
]


def label(kind: str, all_teams: bool, days: int) -> str:
    return f"`chart {kind} {'all' if all_teams else 'TEAM'} {days}d`"


# -- the child: the chart path as `loopbot run` wires it, against a live emulator --------------------------


def child(db: str, config_path: str, now: datetime, repeats: int) -> dict[str, Any]:
    from bot.charts.request import ChartRequest
    from bot.charts.service import Charts
    from bot.charts.worker import Renderer
    from bot.delivery.deliveries import Deliveries
    from bot.slack.client import make_client
    from bot.slack.delivery.lanes import charts_worker
    from config.loader import load_config
    from config.settings import Settings
    from slack_emulator import SlackEmulator
    from storage.db import make_engine, make_read_sessions, make_sessions

    config = load_config(config_path)
    engine = make_engine(f"sqlite:///{db}")
    sessions, reads = make_sessions(engine), make_read_sessions(engine)
    channels = {t.channel: t.key for t in config.teams.values()}
    emu = SlackEmulator(channels=channels).start()
    client = make_client(
        Settings(
            slack_bot_token=emu.bot_token, slack_app_token=emu.app_token, slack_api_url=emu.api_url
        )
    )
    charts, renderer = Charts(sessions, reads, config), Renderer()
    renderer.warm().result()  # as `loopbot run` does at start
    poster = charts_worker(
        Deliveries(sessions, reads), config, client, charts=charts, renderer=renderer
    )
    team = next(iter(config.teams.values()))
    out: dict[str, Any] = {}
    for kind, all_teams, days in SCENARIOS:
        keys = tuple(config.teams) if all_teams else (team.key,)
        req = ChartRequest(
            kind=kind, teams=keys, all_teams=all_teams, days=days, period=f"{days}d", until=now
        )
        total, build, render, png = [], [], [], 0
        for _ in range(repeats):
            before = len(emu.messages(team.channel))
            started = time.perf_counter()
            charts.request(req, channel=team.channel)
            poster.deliver_due()
            shared = emu.messages(team.channel)[before:]
            total.append(time.perf_counter() - started)
            assert shared and shared[-1].get("files"), f"{kind}: no chart was shared: {shared}"
            # The same again in parts, to show where the time goes.
            t0 = time.perf_counter()
            data = charts.build(req)
            t1 = time.perf_counter()
            png = len(renderer.render(data))
            t2 = time.perf_counter()
            build.append(t1 - t0)
            render.append(t2 - t1)
        out[label(kind, all_teams, days)] = {
            "total": total,
            "build": build,
            "render": render,
            "png": png,
        }
    out["rss"] = peak_rss_mib()
    out["worker_rss"] = max(_peak_of(pid) for pid in renderer.pids())
    renderer.close()
    emu.stop()
    engine.dispose()
    return out


def _peak_of(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- the parent ---------------------------------------------------------------------------------------------


def one_run(
    n: int, cached: Path, work: Path, config_path: Path, now: datetime, repeats: int
) -> dict:
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
            str(repeats),
        ]
        proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"run {n} failed with exit status {proc.returncode}")
        return json.loads(proc.stdout)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)


def markdown(
    runs: list[dict], repeats: int, counts: dict[str, int], size_mib: float, now: datetime
) -> str:
    def med(key: str, part: str) -> float:
        return statistics.median(statistics.median(r[key][part]) for r in runs)

    rows = []
    for kind, all_teams, days in SCENARIOS:
        key = label(kind, all_teams, days)
        total = [statistics.median(r[key]["total"]) for r in runs]
        first = kind == "csat" and all_teams and days == 90
        verdict = ("met" if statistics.median(total) <= TARGET_S else "MISSED") if first else ""
        rows.append(
            f"| {key} | {1000 * statistics.median(total):,.0f} ms | "
            f"{' · '.join(f'{1000 * t:,.0f}' for t in total)} | {1000 * med(key, 'build'):,.0f} ms | "
            f"{1000 * med(key, 'render'):,.0f} ms | {runs[0][key]['png'] / 1024:,.0f} KiB | "
            f"{'≤ 2 s' if first else ''} | {verdict} |"
        )
    rss = [r["rss"] for r in runs]
    worker = [r["worker_rss"] for r in runs]
    return "\n".join(
        [
            f"The database of bench/jobs.py ({size_mib:,.0f} MiB): {counts['feedback']:,} feedback rows (20 teams, 2 years), "
            f"{counts['cases']:,} cases; `now` = {now:%Y-%m-%d %H:%M} UTC. Each run is a fresh copy of the database and a "
            f"fresh process wired as `loopbot run` wires charts (the charts' outbox worker with its warmed worker process, the "
            f"product's `WebClient` against the Slack emulator over HTTP). *Request to shared* is `Charts.request` (the "
            f"outbox row) + the charts worker's `deliver_due` (claim, SQL, render in the worker process, `files_upload_v2`: "
            f"getUploadURLExternal, the upload, completeUploadExternal) until the emulator holds the message with the "
            f"file; then the SQL (`Charts.build`) and the render alone are timed again. Medians of {repeats} requests per "
            f"run; {len(runs)} runs.",
            "",
            "| chart | request to shared, median | runs | SQL | render | PNG | target | |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
            f"| peak RSS, the bot's process (`VmHWM`) | {statistics.median(rss):,.0f} MiB | "
            f"{' · '.join(f'{v:,.0f}' for v in rss)} | | | | ≤ {RSS_TARGET_MB} MB | "
            f"{'met' if statistics.median(rss) <= RSS_TARGET_MB / 1.048576 else 'MISSED'} |",
            f"| peak RSS, the chart worker process | {statistics.median(worker):,.0f} MiB | "
            f"{' · '.join(f'{v:,.0f}' for v in worker)} | | | | ≤ {RSS_TARGET_MB} MB | "
            f"{'met' if statistics.median(worker) <= RSS_TARGET_MB / 1.048576 else 'MISSED'} |",
        ]
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--runs", type=int, default=3)
    database_args(p)
    p.add_argument("--repeats", type=int, default=3, help="requests per chart per run")
    p.add_argument("--child", nargs=3, metavar=("DB", "CONFIG", "NOW"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        db, config_path, now = args.child
        print(json.dumps(child(db, config_path, datetime.fromisoformat(now), args.repeats)))
        return
    cached, _gen, size, counts, now = prepared_db(args)
    work = Path(tempfile.mkdtemp(prefix="loopbot-charts-"))
    try:
        config_path = jobs_config(work, now)
        runs = []
        for n in range(1, args.runs + 1):
            runs.append(one_run(n, cached, work, config_path, now, args.repeats))
            r = runs[-1]
            print(
                f"run {n}: rss {r['rss']:.0f} MiB, worker {r['worker_rss']:.0f} MiB; "
                + "; ".join(f"{k} {ms(v['total'])}" for k, v in r.items() if isinstance(v, dict)),
                file=sys.stderr,
            )
        print(
            f"\n### `/feedback chart` — {time.strftime('%Y-%m-%d')}, {platform.node()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}\n"
        )
        print(markdown(runs, args.repeats, counts, size, now))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
