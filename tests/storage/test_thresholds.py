"""Threshold rules on a real database: readings against hand-computed values, breach → one case → recovery, races."""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from bot.alerts.thresholds import Reading, Thresholds, read, rule_key
from bot.cases.lifecycle import Cases
from bot.slack.blocks.case import case_message, event_line
from config.loader import parse_config
from config.teams import LoopbotConfig, Threshold
from slack_emulator.blockkit import message_errors
from storage.models import Case, CaseEvent, Feedback, OutboxMessage
from tests.conftest import CONFIG

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
HOUR, MIN = timedelta(hours=1), timedelta(minutes=1)
_ids = itertools.count(1)


def make_config(
    delivery: list[dict] | None = None, support: list[dict] | None = None, **support_extra
) -> LoopbotConfig:  # noqa: ANN003
    raw = copy.deepcopy(CONFIG)
    raw["teams"]["delivery"]["thresholds"] = delivery or []
    raw["teams"]["support"]["thresholds"] = support or []
    raw["teams"]["support"].update(support_extra)
    return parse_config(raw, "tests/storage/test_thresholds.py")


def rule(metric: str, **kw) -> Threshold:  # noqa: ANN003
    return Threshold.model_validate({"metric": metric, "window": "24h", "min_responses": 1, **kw})


def add(sessions, *rows: tuple, team: str = "delivery") -> None:  # noqa: ANN001
    """(metric, score, submitted_at[, category]) responses of `team`."""
    with sessions.begin() as s:
        s.execute(
            insert(Feedback),
            [
                {
                    "source": "test",
                    "external_id": f"f-{next(_ids)}",
                    "team": team,
                    "metric": r[0],
                    "score": r[1],
                    "submitted_at": r[2],
                    "received_at": r[2],
                    "category": r[3] if len(r) > 3 else None,
                }
                for r in rows
            ],
        )


def add_case(sessions, at: datetime, team: str = "delivery", kind: str = "feedback") -> None:  # noqa: ANN001
    with sessions.begin() as s:
        s.add(
            Case(
                kind=kind,
                team=team,
                state="open",
                version=1,
                severity="medium",
                opened_at=at,
                summary={},
            )
        )


def reading(
    sessions, config: LoopbotConfig, r: Threshold, now: datetime = T0, team: str = "delivery"
) -> Reading:  # noqa: ANN001
    with sessions() as s:
        return read(s, config.teams[team], r, now)


def threshold_cases(sessions) -> list[Case]:  # noqa: ANN001
    with sessions() as s:
        return list(s.scalars(select(Case).where(Case.kind == "threshold").order_by(Case.id)))


def posts(sessions) -> list[tuple[str, str, str | None, dict]]:  # noqa: ANN001
    with sessions() as s:
        return [
            (m.key, m.kind, m.channel, m.payload)
            for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        ]


def events(sessions, case_id: int) -> list[CaseEvent]:  # noqa: ANN001
    with sessions() as s:
        return list(
            s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))
        )


# -- readings ----------------------------------------------------------------------------------------------


def test_survey_metric_readings_match_hand_computed_values(sessions, config):
    inside = T0 - 2 * HOUR
    add(
        sessions,
        *[("csat", v, inside) for v in (5, 4, 3, 2, 1, 5)],  # 3 of 6 satisfied: 50
        *[("nps", v, inside) for v in (10, 9, 7, 6, 0)],  # 2 promoters, 2 detractors of 5: 0
        *[("ces", v, inside) for v in (2, 5, 7)],  # mean 14 / 3
        ("csat", 1, T0 - 25 * HOUR),
        ("nps", 0, T0 + MIN),
    )  # outside the window
    add(
        sessions, ("csat", 1, inside), ("nps", 0, inside), ("ces", 7, inside), team="support"
    )  # another team
    assert reading(sessions, config, rule("csat", below=80)) == Reading(50.0, 6, True, True)
    assert reading(sessions, config, rule("csat", below=50)) == Reading(
        50.0, 6, True, False
    )  # not *below* 50
    assert reading(sessions, config, rule("nps", below=0)) == Reading(0.0, 5, True, False)
    assert reading(sessions, config, rule("nps", below=0.5)) == Reading(0.0, 5, True, True)
    ces = reading(sessions, config, rule("ces", above=4.5))
    assert ces.value == pytest.approx(14 / 3) and (ces.n, ces.readable, ces.breached) == (
        3,
        True,
        True,
    )
    assert reading(sessions, config, rule("ces", above=5)).breached is False


def test_cases_reading_counts_the_teams_feedback_cases_opened_in_the_window(sessions, config):
    for minutes in (1, 20, 59, 60):
        add_case(
            sessions, T0 - minutes * MIN
        )  # 60 minutes ago is the window's first instant: counted
    add_case(sessions, T0 - 61 * MIN)  # before the window
    add_case(sessions, T0)  # the window ends before now
    add_case(sessions, T0 - 5 * MIN, team="support")
    add_case(sessions, T0 - 5 * MIN, kind="threshold")  # a breach must not feed a cases rule
    add(
        sessions,
        *[("csat", 5, T0 - 10 * MIN)] * 3,
        ("nps", 9, T0 - 30 * MIN),
        ("ces", 1, T0 - 2 * HOUR),
    )
    r = rule("cases", above=3, window="1h")
    assert reading(sessions, config, r) == Reading(
        4, 4, True, True
    )  # n: the team's responses in the window
    assert reading(sessions, config, rule("cases", above=4, window="1h")).breached is False


def test_complaints_reading_counts_negative_responses_of_the_category_by_the_teams_limits(sessions):
    config = make_config(open_case_when={"csat_at_most": 3, "nps_at_most": 4, "ces_at_least": 6})
    at = T0 - 30 * MIN
    rows = [
        ("csat", 2, at, "late_delivery"),
        ("csat", 3, at, "late_delivery"),
        ("nps", 6, at, "late_delivery"),
        ("ces", 5, at, "late_delivery"),
        ("ces", 4, at, "late_delivery"),
        ("csat", 5, at, "late_delivery"),
        ("csat", 1, at, "rude_staff"),
        ("csat", 1, at, None),
        ("csat", 1, T0 - 2 * HOUR, "late_delivery"),
    ]
    for team in ("delivery", "support"):
        add(sessions, *rows, team=team)
    r = rule("complaints", category="late_delivery", above=2, window="1h")
    # delivery keeps the defaults (csat <= 2, nps <= 6, ces >= 5): csat 2, nps 6, ces 5 are complaints.
    assert reading(sessions, config, r) == Reading(3, 8, True, True)
    # support: csat <= 3, nps <= 4, ces >= 6: only the csat 2 and csat 3.
    assert reading(sessions, config, r, team="support") == Reading(2, 8, True, False)


def test_a_rule_under_min_responses_is_not_readable_and_never_breached(sessions, config):
    add(sessions, *[("csat", 1, T0 - HOUR)] * 6)
    assert reading(sessions, config, rule("csat", below=80, min_responses=7)) == Reading(
        0.0, 6, False, False
    )
    assert reading(sessions, config, rule("csat", below=80, min_responses=6)) == Reading(
        0.0, 6, True, True
    )
    assert reading(sessions, config, rule("cases", above=0, min_responses=7)) == Reading(
        0, 6, False, False
    )
    assert reading(sessions, config, rule("csat", below=80), now=T0 - 2 * HOUR) == Reading(
        None, 0, False, False
    )


def test_window_is_from_now_minus_window_inclusive_to_now_exclusive(sessions, config):
    add(
        sessions,
        ("csat", 1, T0 - HOUR),
        ("csat", 1, T0 - HOUR - timedelta(microseconds=1)),
        ("csat", 1, T0),
    )
    assert reading(sessions, config, rule("csat", below=80, window="1h")).n == 1


def test_rule_keys_are_stable_and_distinct(config):
    team = config.teams["delivery"]
    # The window in its shortest spelling: 24h and 1d in the YAML are the same rule.
    assert rule_key(team, rule("csat", below=80)) == "delivery:csat:below:80:1d"
    assert rule_key(team, rule("csat", below=80, window="1d")) == rule_key(
        team, rule("csat", below=80, window="24h")
    )
    assert rule_key(team, rule("ces", above=4.5, window="30m")) == "delivery:ces:above:4.5:30m"
    assert (
        rule_key(team, rule("complaints", above=5, window="1h", category="late_delivery"))
        == "delivery:complaints:above:5:1h:late_delivery"
    )
    assert rule_key(team, rule("csat", below=80, min_responses=30)) == rule_key(
        team, rule("csat", below=80)
    )


# -- breach, recovery, next breach ------------------------------------------------------------------------

CSAT_1H = {"metric": "csat", "below": 80, "window": "1h", "min_responses": 5}
KEY = "delivery:csat:below:80:1h"


def test_breach_opens_one_case_stays_quiet_then_recovers_and_the_next_breach_opens_another(
    sessions,
):
    config = make_config([CSAT_1H])
    thresholds = Thresholds(sessions, config, Cases(sessions, config))
    add(sessions, *[("csat", 1, T0 - 10 * MIN)] * 4)
    assert thresholds.evaluate(T0).opened == []  # 4 responses: under min_responses
    add(sessions, ("csat", 4, T0 - 5 * MIN))

    report = thresholds.evaluate(T0)
    (case,) = threshold_cases(sessions)
    assert [c.id for c in report.opened] == [case.id] and report.failed == {} and report.rules == 1
    assert (case.kind, case.team, case.state, case.rule_key, case.active_rule) == (
        "threshold",
        "delivery",
        "open",
        KEY,
        KEY,
    )
    assert case.severity == "high"  # 20 is 60 points below 80
    assert case.summary == {
        "metric": "csat",
        "category": None,
        "comparison": "below",
        "threshold": 80,
        "value": 20,
        "window": "1h",
        "n": 5,
        "rule": KEY,
    }
    assert [(e.kind, e.actor, e.source, e.at) for e in events(sessions, case.id)] == [
        ("opened", "loopbot", "job", T0)
    ]
    assert posts(sessions) == [
        (f"case:{case.id}:open", "case.open", "C0DELIVERY", {"case_id": case.id})
    ]

    # Still breached a minute later: nothing new.
    again = thresholds.evaluate(T0 + MIN)
    assert again.opened == [] and again.recovered == []
    assert len(threshold_cases(sessions)) == 1 and len(posts(sessions)) == 1

    # Nobody answered for two hours: the rule cannot be read, which is not a recovery.
    assert thresholds.evaluate(T0 + 2 * HOUR).recovered == []
    assert threshold_cases(sessions)[0].active_rule == KEY

    # 20 good answers over the last hour: CSAT 20 / 20 = 100.
    add(sessions, *[("csat", 5, T0 + 2 * HOUR - i * MIN) for i in range(1, 21)])
    recovery = thresholds.evaluate(T0 + 2 * HOUR)
    assert [c.id for c in recovery.recovered] == [case.id]
    (case,) = threshold_cases(sessions)
    assert (
        case.active_rule is None and case.state == "open"
    )  # recovery frees the rule; a person still resolves
    recovered = events(sessions, case.id)[-1]
    assert (recovered.kind, recovered.actor, recovered.source, recovered.details) == (
        "recovered",
        "loopbot",
        "job",
        {"value": 100, "n": 20, "threshold": 80},
    )
    assert posts(sessions)[-1] == (
        f"case:{case.id}:event:{recovered.id}",
        "case.event",
        "C0DELIVERY",
        {"case_id": case.id, "event_id": recovered.id},
    )
    team = config.teams["delivery"]
    assert event_line(recovered, case, team) == (
        ":chart_with_upwards_trend: Recovered at Mon 2 Mar 09:00 EST: CSAT 100, no longer below 80 over the last 1h (n=20)"
    )
    detail = Cases(sessions, config).get(case.id)
    message = case_message(detail, team, now=T0 + 2 * HOUR)
    assert message_errors(message["blocks"], message["text"]) == []
    assert (
        ":chart_with_upwards_trend: Recovered at Mon 2 Mar 09:00 EST"
        in message["blocks"][1]["elements"][0]["text"]
    )
    assert thresholds.evaluate(T0 + 2 * HOUR + MIN).recovered == []
    assert len(posts(sessions)) == 2

    # A new breach later is a new case.
    add(sessions, *[("csat", 2, T0 + 4 * HOUR - i * MIN) for i in range(1, 6)])
    assert len(thresholds.evaluate(T0 + 4 * HOUR).opened) == 1
    first, second = threshold_cases(sessions)
    assert first.id == case.id and first.active_rule is None and second.active_rule == KEY
    assert posts(sessions)[-1] == (
        f"case:{second.id}:open",
        "case.open",
        "C0DELIVERY",
        {"case_id": second.id},
    )


def test_a_threshold_case_does_not_feed_a_cases_rule(sessions):
    config = make_config([{"metric": "cases", "above": 0, "window": "1h", "min_responses": 1}])
    thresholds = Thresholds(sessions, config, Cases(sessions, config))
    add(sessions, ("csat", 1, T0 - MIN))
    add_case(sessions, T0 - MIN)
    assert len(thresholds.evaluate(T0).opened) == 1
    # The breach's own case is a case of the team opened in the window; it must not count, or it never recovers.
    add(sessions, ("csat", 5, T0 + 2 * HOUR - MIN))
    assert len(thresholds.evaluate(T0 + 2 * HOUR).recovered) == 1


def test_severity_grows_with_the_distance_past_the_threshold(sessions):
    config = make_config(
        [
            {"metric": "csat", "below": 80, "window": "1h", "min_responses": 1},
            {
                "metric": "complaints",
                "category": "late_delivery",
                "above": 3,
                "window": "1h",
                "min_responses": 1,
            },
        ]
    )
    add(
        sessions, *[("csat", 5, T0 - MIN)] * 3, *[("csat", 1, T0 - MIN, "late_delivery")] * 4
    )  # CSAT 42.9, 4 complaints
    Thresholds(sessions, config, Cases(sessions, config)).evaluate(T0)
    by_metric = {c.summary["metric"]: c for c in threshold_cases(sessions)}
    assert by_metric["csat"].severity == "high" and by_metric["complaints"].severity == "medium"
    assert by_metric["complaints"].summary["category"] == "late_delivery"
    assert by_metric["complaints"].rule_key == "delivery:complaints:above:3:1h:late_delivery"
