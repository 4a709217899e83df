"""What bench/outage_slack.py and bench/soak.py share: the Markdown heading, the bot's log and outbox read
after a run, `loopbot run`'s memory sampled from /proc while it runs, and percentiles."""

from __future__ import annotations

import math
import os
import platform
import re
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.ingest import tree_rss_mib
from bench.openloop_report import _cpu, _versions

# The text format of bot.logs: "2026-12-06 10:00:00,123 ERROR loopbot.outbox: ..."
_LEVEL = re.compile(r"^\S+ \S+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) (\S+): ")
# Outbox states that mean a post is still to go out, or never will.
UNFINISHED = ("pending", "sending", "parked", "failed")


def heading(title: str, database: str = "") -> list[str]:
    """The section's heading and versions line, as the other bench/ scripts write theirs."""
    db = database or f"SQLite {sqlite3.sqlite_version} (WAL)"
    return [
        f"### {title} — {time.strftime('%Y-%m-%d')}, {platform.node()}, {_cpu()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, {db}",
        "",
        f"{_versions()}.",
        "",
    ]


def verdict(ok: bool | None) -> str:
    return "" if ok is None else "met" if ok else "**BROKEN**"


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile of seconds, in milliseconds (nan for no values)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return 1000 * ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass
class LogLines:
    """The bot's log by level: ERROR lines (with the loggers that wrote them) and tracebacks."""

    errors: list[str] = field(default_factory=list)
    warnings: int = 0
    tracebacks: int = 0

    def by_logger(self, n: int = 3) -> str:
        found = Counter(m.group(2) for line in self.errors if (m := _LEVEL.match(line)) is not None)
        return ", ".join(f"{name} {k}" for name, k in found.most_common(n))

    def distinct(self, n: int = 3) -> list[str]:
        """The first `n` kinds of ERROR line (numbers aside), without their time, each with its count."""
        kinds: dict[str, list[str]] = {}
        for line in self.errors:
            text = line.split(" ", 2)[2]
            kinds.setdefault(re.sub(r"[0-9]+", "#", text), []).append(text)
        return [f"{v[0][:240]} (×{len(v)})" for v in list(kinds.values())[:n]]


def read_log(path: Path, since: float = 0.0) -> LogLines:
    """The log's lines from `since` (a time.time(); its lines carry local wall times) onwards."""
    out = LogLines()
    start = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since)) if since else ""
    for line in path.read_text(errors="replace").splitlines():
        m = _LEVEL.match(line)
        if m is None:
            out.tracebacks += line.startswith("Traceback (most recent call last)")
            continue
        if line[:19] < start:
            continue
        if m.group(1) in ("ERROR", "CRITICAL"):
            out.errors.append(line)
        elif m.group(1) == "WARNING":
            out.warnings += 1
    return out


def outbox_states(db: Path) -> dict[str, int]:
    """Posts per state in a SQLite database's outbox, read beside the running bot (WAL: no lock taken)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return dict(conn.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())


class RssSampler:
    """`loopbot run`'s resident memory (its children's too) every `every` s on a thread of its own, as
    (seconds since start(), MiB); the first sample is taken at once."""

    def __init__(self, pid: int, every: float):
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss", daemon=True)
        self.started = 0.0

    def start(self) -> RssSampler:
        self.started = time.monotonic()
        self._thread.start()
        return self

    def _run(self) -> None:
        while True:
            mib = tree_rss_mib(self.pid)
            if mib:  # 0 once the process is gone
                self.samples.append((time.monotonic() - self.started, mib))
            if self._stop.wait(self.every):
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def at(self, seconds: float) -> tuple[float, float]:
        """The sample nearest to `seconds` after start: (its time, MiB)."""
        return min(self.samples, key=lambda s: abs(s[0] - seconds))
