"""Renders one chart of each kind from the demo data into a folder: `python -m sandbox.demo.charts docs/charts`."""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bot.cases.lifecycle import Cases
from bot.charts.describe import describe
from bot.charts.render import render
from bot.charts.request import ChartRequest
from bot.charts.service import Charts
from bot.feedback.ingest import Ingestor
from config.loader import parse_config
from sandbox.demo.config import DEMO_CONFIG
from sandbox.demo.seed import seed
from storage import migrate
from storage.db import make_engine, make_read_sessions, make_sessions

# A fixed moment, so the pictures in the README change only when the charts or the demo data do.
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
# (file name, kind, team or None for all, days): what the README shows.
SHOWN = [
    ("csat", "csat", "delivery", 60),
    ("nps", "nps", None, 60),
    ("ces", "ces", "support", 60),
    ("volume", "volume", None, 60),
    ("ttr", "ttr", None, 60),
    ("pareto", "pareto", None, 60),
    ("sla", "sla", None, 56),
]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("out", type=Path)
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    config = parse_config(DEMO_CONFIG, "sandbox/demo/config.py")
    with tempfile.TemporaryDirectory() as work:
        engine = make_engine(f"sqlite:///{Path(work) / 'demo.db'}")
        migrate.upgrade(engine)
        sessions = make_sessions(engine)
        cases = Cases(sessions, config)
        summary = seed(sessions, config, cases, Ingestor(sessions, config), now=NOW, days=60)
        print(f"seeded {summary.feedback:,} responses and {summary.cases:,} cases", file=sys.stderr)
        charts = Charts(sessions, make_read_sessions(engine), config)
        for name, kind, team, days in SHOWN:
            req = ChartRequest(
                kind=kind,
                teams=(team,) if team else tuple(config.teams),
                all_teams=team is None,
                days=days,
                period=f"{days // 7}w" if days % 7 == 0 else f"{days}d",
                until=NOW,
            )
            data = charts.build(req)
            if data is None:
                raise SystemExit(f"the demo data has nothing for the {kind} chart")
            path = args.out / f"{name}.png"
            path.write_bytes(render(data))
            print(f"{path}: {describe(data)}", file=sys.stderr)
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
