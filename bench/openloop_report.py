"""The latency benchmark's figures: percentiles, each target's PASS/FAIL, a run's summary and the Markdown
section for bench/RESULTS.md."""

from __future__ import annotations

import argparse
import math
import os
import platform
import sqlite3
import statistics
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from bench.openloop import Phase
from bench.slack_load import KINDS, MIX, Job

P99_MS = 100  # every answer, per kind and overall
UPDATE_P99_MS = 1_000  # click → updated case message
DEADLINE_MS = 3_000  # no request over Slack's 3 s
NAMES = {
    "ack": "Acknowledge click",
    "assign": "Assign-to-me click",
    "list": "`/feedback list`",
    "show": "`/feedback show FB-n`",
    "resolve": "Resolve… click (`views.open`)",
    "submit": "resolve modal `view_submission`",
}
QUANTILES = (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))


@dataclass
class Closed:
    bot_rate: float = 0.0
    floor_rate: float = 0.0
    bot: list[Job] = field(default_factory=list)
    floor: list[Job] = field(default_factory=list)


@dataclass
class Run:
    main: Phase
    steps: list[Phase] = field(default_factory=list)  # headroom steps, in the order run
    capped: bool = False  # the steps reached the rate the database's open cases allow
    closed: Closed = field(default_factory=Closed)

    @property
    def headroom(self) -> float:
        return max((p.rate for p in [self.main, *self.steps] if latency_ok(p)), default=0.0)


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile of seconds, in milliseconds (inf when a value never came)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return 1000 * ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def latency_ok(p: Phase) -> bool:
    """Both latency targets (every kind's and the overall answer p99, click → update p99), with every
    request answered successfully: a fast error is no answer."""
    return p.failed == 0 and all(ok for name, _, ok in targets(p)[: len(KINDS) + 2])


def targets(p: Phase) -> list[tuple[str, str, bool]]:
    rows = []
    for kind in KINDS:
        v = pct(p.answers.get(kind, []), 99)
        rows.append((f"{NAMES[kind]}: answer p99 ≤ {P99_MS} ms", f"{v:,.1f} ms", not v > P99_MS))
    v = pct(p.overall, 99)
    rows.append((f"every Slack answer: p99 ≤ {P99_MS} ms", f"{v:,.1f} ms", v <= P99_MS))
    v = pct(p.clicks, 99)
    rows.append(
        (
            f"click → updated case message: p99 ≤ {UPDATE_P99_MS / 1000:.0f} s",
            f"{v:,.0f} ms",
            v <= UPDATE_P99_MS,
        )
    )
    rows.append(
        (
            "every request answered successfully (HTTP 200, no error shown)",
            f"{p.failed} failed",
            p.failed == 0,
        )
    )
    worst = max(pct(p.overall, 100), pct(p.ingest, 100))
    rows.append(
        (
            "no request over 3 s (Slack and ingestion)",
            f"{p.over_deadline} over, slowest {worst:,.0f} ms",
            p.over_deadline == 0 and worst <= DEADLINE_MS,
        )
    )
    c = p.counts
    rows.append(
        (
            "nothing lost or changed twice",
            f"{c.get('events', 0)} events for {c.get('succeeded', 0)} successful changes, "
            f"{c.get('stored', 0):,} of {c.get('items', 0):,} responses stored; "
            f"lost {p.lost}, twice {p.doubled}",
            p.lost == 0
            and p.doubled == 0
            and c.get("events") == c.get("succeeded")
            and c.get("stored") == c.get("items"),
        )
    )
    return rows


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def phase_line(p: Phase) -> str:
    missed = [name.split(":")[0] for name, _, ok in targets(p)[: len(KINDS) + 2] if not ok]
    missed += [f"{p.failed} failed"] if p.failed else []
    return (
        f"  {p.rate:5.0f} req/s for {p.seconds:.0f} s: answers p99 {pct(p.overall, 99):7.1f} ms, "
        f"click → update p99 {pct(p.clicks, 99):7.0f} ms, ingestion p99 {pct(p.ingest, 99):6.1f} ms, "
        f"sends late by p99 {pct(p.lag, 99):5.1f} ms ({p.threads} sender threads), "
        f"{len(p.problems)} problems: latency targets {verdict(latency_ok(p))}"
        + (f" ({', '.join(missed)})" if missed else "")
    )


def _rows(p: Phase) -> list[tuple[str, list[float]]]:
    rows = [(f"{NAMES[k]}: answer", p.answers.get(k, [])) for k in KINDS]
    rows.append(("every Slack answer", p.overall))
    rows += [
        ("Acknowledge click → case message updated", p.updates.get("ack", [])),
        ("Assign-to-me click → case message updated", p.updates.get("assign", [])),
        ("resolve submission → case message updated", p.updates.get("submit", [])),
        ("`POST /api/feedback` of 10 responses: answer", p.ingest),
        ("how late requests left against the schedule", p.lag),
    ]
    return rows


def summary(run: Run, n: int, seconds: float) -> str:
    lines = [f"run {n} ({seconds:.0f} s), the realistic load ({run.main.rate:.0f} req/s):"]
    for label, data in _rows(run.main):
        cells = "  ".join(f"{q} {pct(data, x):8.1f}" for q, x in QUANTILES)
        lines.append(f"  {label[:45]:45} n={len(data):5}  {cells} ms")
    lines += [f"  {verdict(ok)}  {name}: {value}" for name, value, ok in targets(run.main)]
    lines.append(
        f"  headroom: {_headroom(run)} req/s; closed loop {run.closed.bot_rate:,.0f} req/s, "
        f"floor {run.closed.floor_rate:,.0f} req/s; peak RSS {run.main.rss:.0f} MiB"
    )
    problems = _problems(run)
    if problems:
        lines.append(f"  PROBLEMS ({len(problems)}): " + "; ".join(problems[:8]))
    return "\n".join(lines)


def _headroom(run: Run) -> str:
    return (
        f"{'≥ ' if run.capped else ''}{run.headroom:,.0f}"
        if run.headroom
        else f"< {min(p.rate for p in [run.main, *run.steps]):,.0f}"
    )


def _problems(run: Run) -> list[str]:
    """What went wrong, each named with the load it happened in (a headroom step past the machine's
    capacity may well lose its case updates within the settle time)."""
    found = [f"{p.rate:.0f} req/s: {x}" for p in [run.main, *run.steps] for x in p.problems]
    for name, jobs in (("Loopbot", run.closed.bot), ("floor", run.closed.floor)):
        bad = [j for j in jobs if j.delivery is None or not j.delivery.ok]
        found += [f"closed loop, {name}: {len(bad)} requests failed"] if bad else []
    return found


def _cpu() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def _versions() -> str:
    libs = ("slack_bolt", "fastapi", "uvicorn", "SQLAlchemy", "psycopg")
    found = []
    for lib in libs:
        try:
            found.append(f"{lib} {metadata.version(lib)}")
        except metadata.PackageNotFoundError:
            pass
    return " · ".join(found)


def markdown(
    runs: list[Run], args: argparse.Namespace, database: str | None, gen: float | None, took: float
) -> str:
    def med(values: list[float]) -> float:
        return statistics.median(values)

    def fmt(values: list[float], digits: int = 1) -> str:
        return " · ".join(f"{v:,.{digits}f}" for v in values)

    db = database or f"SQLite {sqlite3.sqlite_version} (WAL)"
    mix = ", ".join(f"{n} {NAMES[k]}" for k, n in MIX.items())
    main = runs[0].main
    out = [
        f"### Slack latency at a realistic load — {time.strftime('%Y-%m-%d')}, {platform.node()}, "
        f"{_cpu()}, {os.cpu_count()} cores, Python {platform.python_version()}, {db}"
        + (f" — product measured: `{args.product}`" if getattr(args, "product", None) else ""),
        "",
        f"{_versions()}. Database from `bench/seed.py`: 1,000,000 feedback rows, 50,000 cases (5,000 "
        "open, 3,000 acknowledged); each load gets a fresh copy of it and a fresh `loopbot run`.",
        "",
        f"Load, open loop (sent on a fixed schedule, whatever the answers' pace): {main.rate:.0f} Slack "
        f"requests/s for {main.seconds:.0f} s after a 3 s warm-up, per 30 requests {mix}, 1 Resolve… "
        "click (its listener calls `views.open`) and 15 slots later the `view_submission` of the modal "
        "it opened; every click on a different unresolved case, by its team's supervisor. Beside it "
        "`POST /api/feedback` with a bearer token: 10 POSTs of 10 responses a second (100/s), submitted "
        f"in the last hour, so negative ones open cases. Medians of {len(runs)} run(s), ms.",
        "",
        "An answer is the signed request's round trip (HTTP 200 within 3 s, no error shown). Click → "
        "update runs from the click leaving until the emulator recorded the bot's `chat.update` of that "
        "case's message. Nothing lost or changed twice, after the load (warm-up included): each "
        "successful change has exactly one matching event in the database, no other event of those "
        "kinds appeared, each changed case's message was updated once per new event, and every "
        "ingested response is stored once.",
        "",
        "| measure | n | p50 | p90 | p99 | max |",
        "|---|---|---|---|---|---|",
    ]
    per_run = [_rows(r.main) for r in runs]
    for i, (label, data) in enumerate(per_run[0]):
        cells = [f"{med([pct(rows[i][1], x) for rows in per_run]):,.1f}" for _, x in QUANTILES]
        out.append(f"| {label} | {len(data):,} | " + " | ".join(cells) + " |")
    out += [
        "",
        "| target | " + " | ".join(f"run {n}" for n in range(1, len(runs) + 1)) + " | all runs |",
    ]
    out.append("|---|" + "---|" * (len(runs) + 1))
    checked = [targets(r.main) for r in runs]
    for i, (name, _, _) in enumerate(checked[0]):
        cells = [f"{rows[i][1]} {verdict(rows[i][2])}" for rows in checked]
        passed = sum(rows[i][2] for rows in checked)
        result = "PASS" if passed == len(runs) else f"FAIL ({len(runs) - passed} of {len(runs)})"
        out.append(f"| {name} | " + " | ".join(cells) + f" | {result} |")
    heads = [r.headroom for r in runs]
    out += [
        "",
        "| reported, no target | median | runs |",
        "|---|---|---|",
        f"| headroom: highest open-loop rate meeting both latency targets (steps of {args.step:.0f} req/s, "
        f"{args.step_seconds:.0f} s each, ingestion at 100/s) | {med(heads):,.0f} req/s | "
        + " · ".join(_headroom(r) for r in runs)
        + " |",
        f"| closed loop, {args.clients} clients back to back ({args.clients * args.requests:,} requests: "
        "clicks, lists, shows), `loopbot run` | "
        f"{med([r.closed.bot_rate for r in runs]):,.0f} req/s | {fmt([r.closed.bot_rate for r in runs], 0)} |",
        "| the same against the floor (bare bolt app that only acks, same HTTP stack) | "
        f"{med([r.closed.floor_rate for r in runs]):,.0f} req/s | {fmt([r.closed.floor_rate for r in runs], 0)} |",
        f"| peak RSS of `loopbot run` under the realistic load | {max(r.main.rss for r in runs):.0f} MiB (max) "
        f"| {fmt([r.main.rss for r in runs], 0)} |",
        "",
        "Headroom steps per run (req/s: answer p99 / click → update p99, ms): "
        + "; ".join(
            f"run {n}: "
            + ", ".join(
                f"{p.rate:.0f}: {pct(p.overall, 99):,.0f} / {pct(p.clicks, 99):,.0f} {verdict(latency_ok(p))}"
                for p in [r.main, *r.steps]
            )
            for n, r in enumerate(runs, 1)
        )
        + ".",
    ]
    problems = [f"run {n}, {x}" for n, r in enumerate(runs, 1) for x in _problems(r)]
    out += ["", f"Problems (failed or refused requests, lost or doubled changes): {len(problems)}."]
    out += [f"- {x}" for x in dict.fromkeys(problems[:10])]
    command = " ".join(["bench/latency.py", *sys.argv[1:]])
    out += [
        "",
        f"Run with `.venv/bin/python {command}`: {took / 60:.0f} min for {len(runs)} run(s).",
    ]
    if gen is not None:
        out[-1] += f" Generating the database took {gen:.0f} s (cached in /tmp for later runs)."
    return "\n".join(out)
