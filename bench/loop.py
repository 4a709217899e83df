"""The improvement loop's figures for bench/jobs.py (issue 17): verifying 200 due actions in one job run, the
recurrence lookup's share of opening cases in 1,000-item ingestion batches, and building the resolve modal."""

from __future__ import annotations

import random
import statistics
import time
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from bench.datagen import feedback, respondent

ACTIONS = 200
BATCHES = 50
BATCH = 1_000
MODALS = 500


def measure(ctx: Any, cases: Any, config: Any, now: datetime) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out.update(_verification(ctx, cases, config, now))
    out.update(_recurrence(cases, config, now))
    out.update(_modal(cases, config, now))
    return out


def _verification(ctx: Any, cases: Any, config: Any, now: datetime) -> dict[str, Any]:
    """200 actions done with live dates 15-21 days back: every after window has closed at `now`."""
    actions, teams = cases.actions, list(config.teams.values())
    causes = list(config.categories)
    planned_at = now - timedelta(days=40)
    for i in range(ACTIONS):
        team = teams[i % len(teams)]
        a = actions.plan(
            team.key,
            cause=causes[i % len(causes)],
            due=(planned_at + timedelta(days=5)).date().isoformat(),
            owner=team.supervisors[0],
            text=f"Corrective action {i % 7}",
            actor=team.supervisors[0],
            source="bench",
            now=planned_at,
        ).action
        live = (now - timedelta(days=15 + i % 7)).astimezone(team.tz).date().isoformat()
        actions.done(
            a.ref, live=live, text="live", actor=team.supervisors[0], source="bench", now=now
        )
    started = time.perf_counter()
    done = ctx.verifier.run(now)
    took = time.perf_counter() - started
    results: dict[str, int] = {}
    for _, result in done:
        results[result] = results.get(result, 0) + 1
    return {"verify_s": took, "verify_done": len(done), "verify_results": results}


def _recurrence(cases: Any, config: Any, now: datetime) -> dict[str, Any]:
    """1,000-item batches submitted in the last hour (negative ones open cases), customers from the seeded
    pool: each batch's time in bot.cases.repeats.note_repeats, measured around the product's own call."""
    from bot.cases import opening
    from bot.feedback.ingest import Ingestor

    spent: list[float] = []
    per_case: list[float] = []
    real = opening.note_repeats

    def timed(s: Any, config: Any, new: Any, now: Any) -> None:
        started = time.perf_counter()
        real(s, config, new, now)
        spent.append(time.perf_counter() - started)
        per_case.append(spent[-1] / max(len(new), 1))

    ingestor = Ingestor(cases.sessions, config)
    rng = random.Random(17)
    batch_s, opened = [], 0
    opening.note_repeats = timed
    try:
        for k in range(BATCHES):
            items = list(feedback(BATCH, seed=1000 + k, days=1, end=now - timedelta(minutes=1)))
            for it in items:
                it["id"] = f"loop-{k}-{it['id']}"
                # Customers, segments, touchpoints and channels as bench/seed.py stored them.
                it.update(respondent(rng, it["metric"], it["score"]))
                it["submitted_at"] = (now - timedelta(minutes=rng.randrange(1, 60))).isoformat()
            valid, errors = ingestor.validate(items, now)
            assert not errors, errors[:3]
            started = time.perf_counter()
            result = ingestor.store(valid, default_source="bench", origin="api", now=now)
            batch_s.append(time.perf_counter() - started)
            opened += len(result.cases)
    finally:
        opening.note_repeats = real
    return {
        "repeats_s": spent,
        "repeats_case_s": per_case,
        "repeats_batch_s": batch_s,
        "repeats_opened": opened,
    }


def _modal(cases: Any, config: Any, now: datetime) -> dict[str, Any]:
    """What a Resolve… click does before views.open: the permission check, the case, the cause's verified
    fixes and open actions, and the modal rendered (bot.slack.resolve_form.resolve_view)."""
    from sqlalchemy import select

    from bot.cases.permissions import Action
    from bot.slack.ids import CaseMeta
    from bot.slack.resolve_form import resolve_view
    from storage.models import Case

    svc = SimpleNamespace(config=config, cases=cases)
    with cases.reads.begin() as s:
        open_ids = list(
            s.scalars(select(Case.id).where(Case.state == "open").order_by(Case.id).limit(MODALS))
        )
    took = []
    for case_id in open_ids:
        started = time.perf_counter()
        detail = cases.get_for(case_id, config.leaders[0], Action.RESOLVE)
        view = resolve_view(svc, detail.case, CaseMeta(case_id=case_id))  # type: ignore[arg-type]
        took.append(time.perf_counter() - started)
        assert view["blocks"]
    return {"modal_s": took}


# -- figures ---------------------------------------------------------------------------------------------

VERIFY_TARGET_S = 2.0
REPEATS_TARGET_MS = 5.0
MODAL_TARGET_MS = 300.0


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def loop_summary(r: dict[str, Any]) -> str:
    per_case = 1000 * sum(r["repeats_s"]) / max(r["repeats_opened"], 1)
    return (
        f"  loop: verify {ACTIONS} actions {r['verify_s']:.3f} s ({r['verify_results']}); "
        f"note_repeats p99 {1000 * p99(r['repeats_s']):.2f} ms per batch, median "
        f"{1000 * statistics.median(r['repeats_s']):.2f} ({per_case:.3f} ms per case, "
        f"{r['repeats_opened']} cases); resolve modal p99 {1000 * p99(r['modal_s']):.1f} ms"
    )


def loop_markdown(runs: list[dict[str, Any]]) -> str:
    from bench.jobs_report import table_row

    loops = [r["loop"] for r in runs]
    first = loops[0]
    batches = [1000 * statistics.median(r["repeats_batch_s"]) for r in loops]
    rows = [
        "| measure | median | runs | target | |",
        "|---|---|---|---|---|",
        table_row(
            f"verification job run, {ACTIONS} due actions (20 teams × 4 causes)",
            [r["verify_s"] for r in loops],
            "s",
            VERIFY_TARGET_S,
            f"≤ {VERIFY_TARGET_S:g} s",
        ),
        table_row(
            f"recurrence lookup added to opening a case, in {BATCH:,}-item batches: p99 of {BATCHES}"
            " batches (the batch's `note_repeats` time / its cases)",
            [1000 * p99(r["repeats_case_s"]) for r in loops],
            "ms",
            REPEATS_TARGET_MS,
            f"≤ {REPEATS_TARGET_MS:g} ms",
        ),
        table_row(
            "… the whole lookup of one batch (all its cases at once): p99",
            [1000 * p99(r["repeats_s"]) for r in loops],
            "ms",
        ),
        table_row(
            "… … median",
            [1000 * statistics.median(r["repeats_s"]) for r in loops],
            "ms",
        ),
        table_row("… the whole batch's `Ingestor.store`: median", batches, "ms"),
        table_row(
            f"resolve modal built (permission, case, fixes, open actions, render): p99 of {MODALS}",
            [1000 * p99(r["modal_s"]) for r in loops],
            "ms",
            MODAL_TARGET_MS,
            f"≤ {MODAL_TARGET_MS:g} ms",
        ),
        table_row("… median", [1000 * statistics.median(r["modal_s"]) for r in loops], "ms"),
    ]
    return "\n".join(
        [
            *rows,
            "",
            f"Verification results (run 1): {first['verify_results']}. Batches opened "
            f"{' · '.join(str(r['repeats_opened']) for r in loops)} cases in all ({BATCHES} × {BATCH:,} "
            "items submitted within the last hour, customers from the seeded pool of 100,000).",
        ]
    )
