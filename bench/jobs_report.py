"""The jobs benchmark's figures: one line per run and the markdown section for bench/RESULTS.md."""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable
from datetime import datetime

DIGEST_TARGET_MS = 300
CYCLE_TARGET_S = 2.0
RSS_TARGET_MB = 400
# The five rules of SPEC §3's example on every team, their values set near what datagen's score mix gives
# over these windows (CSAT ≈ 77, NPS ≈ 20, CES ≈ 2.6; with 250k cases ≈ 17 cases and ≈ 3 late-delivery
# complaints per team and day), so that about a third of the rules are breached and the first cycle opens cases.
RULES = [
    {"metric": "csat", "below": 75, "window": "24h", "min_responses": 20},
    {"metric": "nps", "below": 19, "window": "7d", "min_responses": 30},
    {"metric": "ces", "above": 2.75, "window": "24h", "min_responses": 20},
    {"metric": "cases", "above": 18, "window": "24h"},
    {"metric": "complaints", "category": "late_delivery", "above": 4, "window": "24h"},
]
# Issue 18: every team also carries four SPC rules, the complaints one on a category of its own (the teams
# take BENCH_CONFIG's categories in turn), each judged against the 8 weeks before each day.
SPC_RULES = [
    {"metric": m, "rule": "spc", "baseline": "8w", "min_responses": 20}
    for m in ("csat", "nps", "ces")
]


def team_rules(i: int, categories: list[str]) -> list[dict]:
    """The rules of the i-th team: RULES, then the SPC ones."""
    complaints = {"metric": "complaints", "rule": "spc", "baseline": "8w", "min_responses": 20}
    return [*RULES, *SPC_RULES, {**complaints, "category": categories[i % len(categories)]}]


def ms(values: list[float]) -> str:
    return f"median {1000 * statistics.median(values):.1f}, max {1000 * max(values):.1f} ms"


def summary(r: dict, n: int) -> str:
    both = [a + b for a, b in zip(r["digest_compose"], r["digest_render"])]
    return "\n".join(
        [
            f"run {n}: peak RSS {max(r['rss'].values()):.0f} MiB ({', '.join(f'{k} {v:.0f}' for k, v in r['rss'].items())})",
            f"  digest compose {ms(r['digest_compose'])}; render {ms(r['digest_render'])}; both {ms(both)}",
            f"  weekly compose {ms(r['weekly_compose'])}; render {ms(r['weekly_render'])}",
            f"  thresholds: first cycle {r['cycle_first']:.3f} s ({r['cycle_first_opened']} cases opened, "
            f"{r['cycle_first_spc']} by SPC; {r['cycle_rules']} rules); steady {ms(r['cycle_steady'])} "
            f"({r['cycle_steady_changed']} opened/recovered, {r['cycle_midnights']} past a midnight); "
            f"judging SPC again {ms(r['cycle_judging'])}; SPC reads alone {ms(r['spc_reads'])} "
            f"({r['spc_readable']} of {r['spc_rules']} readable, {r['spc_signals']} signalling)"
            + (f"; FAILED {r['cycle_failed']}" if r["cycle_failed"] else ""),
            f"  escalations: first run {r['escalation_first']:.1f} s ({r['escalation_first_done']:,} escalated); "
            f"steady {ms(r['escalation_steady'])} ({r['escalation_steady_done']} escalated)",
        ]
    )


def table_row(
    label: str, per_run: list[float], unit: str, target: float | None = None, target_text: str = ""
) -> str:
    """One line of a figures table: the median, each run's value, the target and whether it was met."""
    m = statistics.median(per_run)
    digits = {"MiB": 0, "ms": 1}.get(unit, 3)
    verdict = "" if target is None else "met" if m <= target else "MISSED"
    return (
        f"| {label} | {m:,.{digits}f} {unit} | {' · '.join(f'{v:,.{digits}f}' for v in per_run)} | "
        f"{target_text} | {verdict} |"
    )


def cycle_rows(runs: list[dict], teams: int) -> list[str]:
    """The threshold cycle: steady minutes (SPC readings kept), the first cycle and the minutes after a local
    midnight (each judging every SPC rule), and the SPC reads alone."""
    first, target = runs[0], (CYCLE_TARGET_S, f"≤ {CYCLE_TARGET_S:g} s")
    rules = f"{len(RULES)} fixed + {first['spc_rules'] // teams} SPC rules"

    def of(key: str, agg: Callable[[list[float]], float]) -> list[float]:
        return [agg(r[key]) for r in runs]

    return [
        table_row(
            f"threshold cycle, {teams} teams × {rules}, steady: max",
            of("cycle_steady", max),
            "s",
            *target,
        ),
        table_row(
            "threshold cycle, steady: median", of("cycle_steady", statistics.median), "s", *target
        ),
        table_row(
            f"threshold cycle, first: judges the SPC rules and opens {first['cycle_first_opened']} cases "
            f"({first['cycle_first_spc']} by SPC)",
            [r["cycle_first"] for r in runs],
            "s",
            *target,
        ),
        table_row(
            "threshold cycle after a local midnight (SPC rules judged again, their cases open): max",
            of("cycle_judging", max),
            "s",
            *target,
        ),
        table_row("… median", of("cycle_judging", statistics.median), "s", *target),
        table_row(
            f"… the SPC rules' reads and judging alone, {teams} teams: median",
            [1000 * statistics.median(r["spc_reads"]) for r in runs],
            "ms",
        ),
    ]


def markdown(
    runs: list[dict],
    args: argparse.Namespace,
    now: datetime,
    counts: dict[str, int],
    size_mib: float,
    gen: float | None,
) -> str:

    def per_team(key: str, agg: Callable[[list[float]], float]) -> list[float]:
        return [1000 * agg(r[key]) for r in runs]

    both = [[a + b for a, b in zip(r["digest_compose"], r["digest_render"])] for r in runs]
    first = runs[0]
    teams = len(first["digest_compose"])
    out = [
        f"Database from `bench/seed.py` ({size_mib:,.0f} MiB): {counts['feedback']:,} feedback rows from `bench/datagen.py` "
        f"({teams} teams, 2 years), {counts['cases']:,} cases ({args.open:,} open, {args.acknowledged:,} acknowledged, "
        f"none escalated yet), {counts['case_events']:,} timeline events, {counts['outbox']:,} delivered outbox posts. "
        f"`now` = {now:%Y-%m-%d %H:%M} UTC, the minute after the newest response. Every team has the five rules of "
        f"`RULES` and the four of `team_rules` in bench/jobs_report.py (SPC on CSAT, NPS, CES and one category's "
        f"complaints, baseline 8 weeks, 20 responses a day at least) and a daily huddle at `now`, so each digest covers the {first['digest_period_h']:.0f} h "
        f"before it (last team: {first['digest_responses']} responses, {first['digest_open']:,} unresolved cases). "
        f"Each run is a fresh copy of the database and a fresh process holding only the core and the jobs; "
        f"medians of {len(runs)} runs; per run, the median and the max over the {teams} teams "
        f"(digest) or over the repeats ({args.weekly} weekly, {args.cycles} steady cycles, {args.cycles} cycles "
        f"after a midnight, {args.escalations} steady escalation runs). SPC rules are judged once per completed "
        f"local day per process (bot.alerts.spc_rules.SpcJudge): the first cycle and the first after each local "
        f"midnight judge them, here each of the latter with the judged days forgotten a minute apart.",
        "",
        "| measure | median | runs | target | |",
        "|---|---|---|---|---|",
        table_row(
            "huddle digest, compose + render, one team: max of the teams",
            [max(b) * 1000 for b in both],
            "ms",
            DIGEST_TARGET_MS,
            f"≤ {DIGEST_TARGET_MS} ms",
        ),
        table_row(
            "huddle digest, compose + render, one team: median of the teams",
            [statistics.median(b) * 1000 for b in both],
            "ms",
            DIGEST_TARGET_MS,
            f"≤ {DIGEST_TARGET_MS} ms",
        ),
        table_row(
            "… `Digests.for_team` alone: max of the teams", per_team("digest_compose", max), "ms"
        ),
        table_row(
            "… `Digests.for_team` alone: median of the teams",
            per_team("digest_compose", statistics.median),
            "ms",
        ),
        table_row(
            "… `digest_message` alone: max of the teams", per_team("digest_render", max), "ms"
        ),
        table_row(
            "… `digest_message` alone: median of the teams",
            per_team("digest_render", statistics.median),
            "ms",
        ),
        *cycle_rows(runs, teams),
        table_row(
            "escalation run, steady: median of the repeats",
            [1000 * statistics.median(r["escalation_steady"]) for r in runs],
            "ms",
        ),
        table_row(
            f"escalation run, first: catch-up of a backlog never escalated ({first['escalation_first_done']:,} "
            "escalations)",
            [r["escalation_first"] for r in runs],
            "s",
        ),
        table_row(
            "weekly summary, `Weekly.compose` (median of repeats)",
            per_team("weekly_compose", statistics.median),
            "ms",
        ),
        table_row(
            "weekly summary, `weekly_message` (median of repeats)",
            per_team("weekly_render", statistics.median),
            "ms",
        ),
        table_row(
            "peak RSS of the process doing the work (`VmHWM`)",
            [max(r["rss"].values()) for r in runs],
            "MiB",
            RSS_TARGET_MB / 1.048576,
            f"≤ {RSS_TARGET_MB} MB",
        ),
    ]
    failed = {k: v for r in runs for k, v in r["cycle_failed"].items()}
    out += [
        "",
        f"Threshold evaluation failures: {failed or 'none'}. SPC rules with a judged day among the last 7 (run 1): "
        f"{first['spc_readable']} of {first['spc_rules']}, {first['spc_signals']} signalling. Steady cycles opened "
        f"or recovered {' · '.join(str(r['cycle_steady_changed']) for r in runs)} cases, and "
        f"{' · '.join(str(r['cycle_midnights']) for r in runs)} of them passed a local midnight; steady escalation runs escalated "
        f"{' · '.join(str(r['escalation_steady_done']) for r in runs)}. Peak RSS by phase (run 1): "
        + ", ".join(f"after {k} {v:.0f} MiB" for k, v in first["rss"].items())
        + ".",
    ]
    if gen is not None:
        out.append(f"Generating the database took {gen:.0f} s (cached in /tmp for later runs).")
    return "\n".join(out)
