"""The demo's SPEC §9 story: support's slow CSAT slide signals by SPC rule 4 whenever a sandbox starts, and
billing's silence is in force, both on the real seed."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.alerts import spc
from bot.alerts.silences import Silences
from bot.alerts.spc_reads import JUDGED_DAYS
from bot.alerts.thresholds import Thresholds, rule_key
from bot.reports.digest import Digests
from bot.slack.blocks.describe import breach_text
from config.loader import parse_config
from config.teams import LoopbotConfig, Threshold
from sandbox.demo.config import BILLING_SILENCE, DEMO_CONFIG, DEMO_ZONES
from sandbox.demo.feedback import history
from sandbox.demo.seed import seed
from sandbox.demo.signals import SLIDE_TEAM, Quota
from storage.models import Case, OutboxMessage

NOW = datetime(2026, 3, 18, 14, 37, 12, 345678, tzinfo=UTC)  # as tests/storage/test_demo.py
RULE_4 = spc.Signal(4, "below")


@pytest.fixture
def config() -> LoopbotConfig:
    return parse_config(DEMO_CONFIG, "demo")


def _rules(config: LoopbotConfig) -> tuple[Threshold, Threshold]:
    """The slide team's SPC rule on CSAT and its fixed CSAT line."""
    team = config.teams[SLIDE_TEAM]
    (spc_rule,) = [r for r in team.thresholds if r.is_spc]
    (fixed,) = [r for r in team.thresholds if r.metric == "csat" and not r.is_spc]
    return spc_rule, fixed


# -- the generator (no database) -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "now",
    [
        NOW,
        datetime(
            2026, 3, 16, 0, 20, tzinfo=UTC
        ),  # Monday just after midnight: Sunday, a thin day, is last
        datetime(2026, 3, 21, 23, 50, tzinfo=UTC),  # Saturday night: today is nearly a point itself
        datetime(
            2026, 3, 30, 8, 0, tzinfo=UTC
        ),  # the day after the clocks went forward (a 23-hour day)
        datetime(2026, 7, 3, 17, 5, tzinfo=UTC),  # a Friday in summer time
        datetime(2025, 12, 28, 11, 0, tzinfo=UTC),  # a Sunday in winter
    ],
)
def test_the_slide_signals_by_rule_4_alone_whenever_a_sandbox_starts(config, now):  # noqa: ANN001
    """A sandbox seeds up to the real now: the slide must read as rule 4 (not first as rules 1-3) at any
    hour and weekday, with the generator's own noise, while the fixed CSAT line stays uncrossed."""
    spc_rule, fixed = _rules(config)
    team = config.teams[SLIDE_TEAM]
    days: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    week = [0, 0]
    for item in history(random.Random(7), teams=DEMO_ZONES, now=now, days=60):
        if item["team"] != SLIDE_TEAM or item["metric"] != "csat":
            continue
        submitted = datetime.fromisoformat(item["submitted_at"])
        tally = days[submitted.astimezone(team.tz).date()]
        tally[0] += 1
        tally[1] += item["score"] >= 4
        if now - submitted <= fixed.window:
            week[0] += 1
            week[1] += item["score"] >= 4
    last = now.astimezone(team.tz).date() - timedelta(days=1)  # the last completed local day
    first = last - timedelta(days=JUDGED_DAYS + spc_rule.baseline.days - 1)
    counts = [spc.Counts(*days[first + timedelta(days=i)]) for i in range((last - first).days + 1)]
    points = spc.judge(
        "p",
        first,
        counts,
        baseline_days=spc_rule.baseline.days,
        judge_from=len(counts) - JUDGED_DAYS,
        min_responses=spc_rule.min_responses,
    )
    assert spc.latest(points).day == last
    assert spc.active(points, "below") == (RULE_4,), [(p.day, p.z, p.holding) for p in points]
    assert all(
        p.z < 0 for p in points[-8:]
    )  # the run: every day of it judged, none on the centre line
    assert not any(p.holding for p in points[:-8])  # quiet before the slide's eighth day
    assert 100 * week[1] / week[0] > fixed.value  # the fixed line (a sudden drop) has not fired


def test_quota_rounds_each_days_expected_count_of_satisfied_responses():
    quota, rng = Quota(), random.Random(3)
    mixes = {date(2026, 3, d): [rng.uniform(1, 9) for _ in range(5)] for d in (1, 2, 3, 4, 5)}
    drawn: dict[date, list[int]] = defaultdict(list)
    expected: dict[date, float] = defaultdict(float)
    # Days interleave at their edges, as the items of an hour straddling midnight do.
    order = [d for d in mixes for _ in range(rng.randrange(20, 70))]
    order = sorted(order, key=lambda d: d.toordinal() + rng.uniform(-0.1, 1.1))
    for day in order:
        weights = mixes[day]
        drawn[day].append(quota.draw(rng, day, weights))
        expected[day] += sum(weights[3:]) / sum(weights)
    for day, scores in drawn.items():
        assert set(scores) <= {1, 2, 3, 4, 5}
        assert abs(sum(s >= 4 for s in scores) - expected[day]) <= 0.5 + 1e-9, day
        assert len(set(scores)) > 2  # the score inside each class is still drawn


# -- the seeded sandbox (database) ----------------------------------------------------------------------------


def test_the_sandbox_opens_on_the_slides_rule_4_case_and_billings_silence(
    sessions, config, cases, ingestor
):  # noqa: ANN001
    summary = seed(sessions, config, cases, ingestor, now=NOW, days=60, mark_posted=True)
    spc_rule, _ = _rules(config)
    team = config.teams[SLIDE_TEAM]
    key = rule_key(team, spc_rule)
    with sessions() as s:
        breaches = s.scalars(select(Case).where(Case.kind == "threshold")).all()
        pending = set(s.scalars(select(OutboxMessage.key).where(OutboxMessage.state == "pending")))
    assert summary.thresholds == len(breaches)
    # The seed evaluated every rule at `now`: the slide's one case, and no other SPC case anywhere.
    (case,) = [c for c in breaches if c.team == SLIDE_TEAM]
    assert [c for c in breaches if "spc" in c.summary] == [case]
    assert (case.state, case.rule_key, case.active_rule, case.opened_at) == ("open", key, key, NOW)
    assert (case.summary["spc"], case.summary["side"], case.summary["signals"]) == (4, "below", [4])
    assert case.summary["day"] == str(NOW.astimezone(team.tz).date() - timedelta(days=1))
    assert case.summary["value"] < case.summary["centre"] and case.summary["baseline"] == "6w"
    assert breach_text(case.summary).startswith(
        "CSAT: 8 days in a row below the centre line, special cause — "
    )
    assert f"case:{case.id}:open" in pending  # posted to #customer-support when the sandbox starts
    # The sandbox's first minute job finds the episode already open: nothing new, nothing recovered.
    report = Thresholds(sessions, config, cases).evaluate(NOW + timedelta(minutes=1))
    assert not report.failed and not report.recovered
    assert not [c for c in report.opened if c.team == SLIDE_TEAM]
    # Billing's silence is in force, announced in its channel, in `/feedback silences` and the digest.
    hush = BILLING_SILENCE
    (active,) = Silences(sessions, config).list(now=NOW)
    assert (active.team, active.pattern, active.reason, active.created_by) == (
        hush.team,
        hush.rule,
        hush.reason,
        hush.actor,
    )
    assert active.starts_at == NOW - timedelta(hours=hush.hours_ago)
    assert active.ends_at == active.starts_at + timedelta(days=2) and active.ended_at is None
    assert active.rules == ("complaints:billing_error above 5 over 4h",)
    assert f"silence:{active.id}:start" in pending
    digests = Digests(sessions, config)
    assert [s.ref for s in digests.for_team(hush.team, NOW).silences] == [active.ref]
    slide_digest = digests.for_team(SLIDE_TEAM, NOW)
    assert [sig.ref for sig in slide_digest.signals] == [case.ref]
    assert not slide_digest.silences
