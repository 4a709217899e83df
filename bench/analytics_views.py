"""bench/analytics.py's issue-18 scenarios: `stats all 30d by=…`, `stats all 30d categories` and `customer ID`."""

from __future__ import annotations

import json
import math
import random
import statistics
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from bench.jobs import clocked
from bench.jobs_report import ms, table_row

BREAKDOWN_TARGET_MS = 500
CUSTOMER_TARGET_MS = 100
# by=segment first: its first call compiles the breakdown statement, as a bot's first `by=` does.
BY = ("segment", "touchpoint", "channel")
DAYS = 30


def p99(values: list[float]) -> float:
    """Nearest rank, as bot.reports.stats.percentile: the ⌈0.99 n⌉-th smallest (of 200, the 198th)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(0.99 * len(ordered)), 1) - 1]


# -- the child -------------------------------------------------------------------------------------------


def measure(stats: Any, reads: Any, config: Any, now: datetime, args: Any) -> dict[str, Any]:
    """Each scenario after bench/analytics.py's own, in the child process (its RSS keys: by_*, categories,
    customer)."""
    from bench.jobs import peak_rss_mib

    out: dict[str, Any] = {"rss": {}}
    for by in BY:
        out[f"by_{by}"] = _breakdown(stats, config, now, by, args.repeats)
        out["rss"][f"by_{by}"] = peak_rss_mib()
    out["categories"] = _categories(stats, config, now, args.repeats)
    out["rss"]["categories"] = peak_rss_mib()
    out["customer"] = _customers(reads, config, now, args.customers)
    out["rss"]["customer"] = peak_rss_mib()
    return out


def _breakdown(stats: Any, config: Any, now: datetime, by: str, repeats: int) -> dict[str, Any]:
    from bot.slack.blocks.breakdown import breakdown_message

    keys, since = list(config.teams), now - timedelta(days=DAYS)
    compose, render = [], []
    for _ in range(repeats):
        found, t_compose = clocked(partial(stats.breakdown, keys, by, since, now))
        message, t_render = clocked(
            partial(
                breakdown_message, found, config.teams, period_label=f"last {DAYS}d", all_teams=True
            )
        )
        compose.append(t_compose)
        render.append(t_render)
    return {
        "compose": compose,
        "render": render,
        "responses": found.total.responses,
        "cases": found.total.cases,
        # What the answer showed (run 1 is reported): value, responses, CSAT, folded values.
        "groups": [
            [g.value, g.responses, None if g.csat is None else round(g.csat, 1), g.folded]
            for g in found.groups
        ],
        "blocks": len(message["blocks"]),
        "bytes": len(json.dumps(message)),
    }


def _categories(stats: Any, config: Any, now: datetime, repeats: int) -> dict[str, Any]:
    """`stats all 30d categories`: the stats of every team and the categories' agreement, in one answer."""
    from bot.slack.blocks.stats import stats_message

    keys, since = list(config.teams), now - timedelta(days=DAYS)
    compose, agree, render = [], [], []
    for _ in range(repeats):
        teams, t_teams = clocked(partial(stats.for_teams, keys, since, now, now))
        agreement, t_agree = clocked(partial(stats.categories, keys, since, now))
        message, t_render = clocked(
            partial(
                stats_message,
                teams,
                config.teams,
                period_label=f"last {DAYS}d",
                all_teams=True,
                agreement=agreement,
            )
        )
        compose.append(t_teams + t_agree)
        agree.append(t_agree)
        render.append(t_render)
    return {
        "compose": compose,
        "agreement": agree,
        "render": render,
        "resolved": agreement.resolved,
        "agreed": agreement.agreed,
        "disagreements": len(agreement.disagreements),
        "blocks": len(message["blocks"]),
    }


def pick_customers(reads: Any, now: datetime, n: int, seed: int = 18) -> list[str]:
    """n distinct customers of responses of the last 365 days, each the customer of a random one of them:
    the customers a supervisor meets on case messages, the frequent respondents more often."""
    from sqlalchemy import func, select

    from bot.reports.customer import WINDOW
    from storage.models import Feedback

    rng, found = random.Random(seed), {}  # a dict keeps the order drawn, without repeats
    with reads.begin() as s:
        last = s.scalar(select(func.max(Feedback.id)))
        first = s.scalar(select(func.min(Feedback.id)).where(Feedback.submitted_at >= now - WINDOW))
        for _ in range(50 * n):  # bounded: a database with fewer customers gives fewer
            customer = s.scalar(
                select(Feedback.customer).where(Feedback.id == rng.randint(first, last))
            )
            if customer:
                found[customer] = None
                if len(found) == n:
                    break
    return list(found)


def _customers(reads: Any, config: Any, now: datetime, n: int) -> dict[str, Any]:
    """`customer ID` asked by a leader (every team in scope): one customer first, reported apart (its call
    compiles the statements), then n others."""
    from bot.reports.customer import Customers
    from bot.slack.blocks.customer import customer_message

    customers = Customers(reads, config)
    leader = config.leaders[0]
    picked = pick_customers(reads, now, n + 1)
    views, renders, responses, cases, first = [], [], [], [], 0.0
    for i, customer in enumerate(picked):
        view, t_view = clocked(partial(customers.view, customer, leader, now))
        _, t_render = clocked(partial(customer_message, view, config.teams))
        if i == 0:
            first = t_view + t_render
            continue
        views.append(t_view)
        renders.append(t_render)
        responses.append(view.total_responses)
        cases.append(view.total_cases)
    return {
        "first": first,
        "view": views,
        "render": renders,
        "responses": responses,
        "cases": cases,
    }


# -- the figures -----------------------------------------------------------------------------------------


def _both(s: dict, key: str = "compose") -> list[float]:
    return [a + b for a, b in zip(s[key], s["render"])]


def summary(r: dict) -> list[str]:
    lines = []
    for key in [f"by_{by}" for by in BY] + ["categories"]:
        both = _both(r[key])
        lines.append(f"  {key}: first {1000 * both[0]:.1f} ms; then both {ms(both[1:])}")
    c = r["customer"]
    both = _both(c, "view")
    lines.append(
        f"  customer: first {1000 * c['first']:.1f} ms; {len(both)} customers p99 "
        f"{1000 * p99(both):.1f} ms, {ms(both)}"
    )
    return lines


def rows(runs: list[dict], repeats: int) -> list[str]:
    rest = repeats - 1

    def of(key: str, agg: Any, part: str = "both", first: bool = False) -> list[float]:
        values = [_both(r[key]) if part == "both" else r[key][part] for r in runs]
        return [1000 * (v[0] if first else agg(v[1:])) for v in values]

    out = []
    for key, what, target in [
        *((f"by_{by}", f"`stats all {DAYS}d by={by}`", by == "segment") for by in BY),
        ("categories", f"`stats all {DAYS}d categories`", False),
    ]:
        t = (BREAKDOWN_TARGET_MS, f"≤ {BREAKDOWN_TARGET_MS} ms") if target else (None, "")
        out += [
            table_row(f"{what}: first call", of(key, None, first=True), "ms", *t),
            table_row(
                f"{what}: median of the {rest} repeats after it",
                of(key, statistics.median),
                "ms",
                *t,
            ),
            table_row(f"{what}: max of those repeats", of(key, max), "ms", *t),
        ]
        if key == "categories":
            out.append(
                table_row(
                    "… `Stats.categories` alone: median",
                    of(key, statistics.median, "agreement"),
                    "ms",
                )
            )
    customers = [r["customer"] for r in runs]
    n = len(customers[0]["view"])
    target = (CUSTOMER_TARGET_MS, f"≤ {CUSTOMER_TARGET_MS} ms")
    out += [
        table_row(
            f"`customer ID` by a leader, `Customers.view` + `customer_message`: p99 of {n} customers",
            [1000 * p99(_both(c, "view")) for c in customers],
            "ms",
            *target,
        ),
        table_row(
            "… median", [1000 * statistics.median(_both(c, "view")) for c in customers], "ms"
        ),
        table_row("… max", [1000 * max(_both(c, "view")) for c in customers], "ms"),
        table_row(
            "… the first call, another customer (compiles)",
            [1000 * c["first"] for c in customers],
            "ms",
        ),
    ]
    return out


def counted(first: dict) -> str:
    """What the new scenarios saw (run 1)."""
    parts = []
    for by in BY:
        s = first[f"by_{by}"]
        groups = ", ".join(
            f"{'other (' + str(folded) + ' values)' if folded else value or '(none)'} {n:,}"
            + ("" if csat is None else f" CSAT {csat:g}")
            for value, n, csat, folded in s["groups"]
        )
        parts.append(f"by={by}: {s['responses']:,} responses, {s['cases']:,} cases — {groups}")
    c = first["categories"]
    parts.append(
        f"categories: {c['agreed']:,} of {c['resolved']:,} resolved cases with a category agreed, "
        f"{c['disagreements']} disagreements listed, {c['blocks']} blocks"
    )
    v = first["customer"]
    parts.append(
        f"customers: responses in 365 days median {statistics.median(v['responses']):g}, max "
        f"{max(v['responses'])}; cases median {statistics.median(v['cases']):g}, max {max(v['cases'])}"
    )
    return "; ".join(parts)
