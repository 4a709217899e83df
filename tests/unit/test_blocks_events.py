"""Thread lines and message marks for the job-made events: escalated (each level) and recovered."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.slack.blocks.case import case_message, event_line
from tests.unit.test_blocks_kit import (
    ATTACK,
    T0,
    assert_message,
    delivery,
    detail,
    event,
    feedback_case,
    no_foreign_markup,
    threshold_case,
)


def escalation(level: str, minutes: float, sla: str = "15m", due: float = 15, **extra: object):  # noqa: ANN201
    return event(
        "escalated",
        "loopbot",
        minutes,
        5,
        level=level,
        sla=sla,
        deadline=(T0 + timedelta(minutes=due)).isoformat(),
        **extra,
    )


@pytest.mark.parametrize(
    ("ev", "line"),
    [
        (
            escalation("ack", 16),
            ":rotating_light: Escalated at Mon 2 Dec 09:27 EST: not acknowledged within its 15m SLA "
            "(due Mon 2 Dec 09:26 EST) — <@U0SUPER1>",
        ),
        (
            escalation("resolve", 1441, sla="1d", due=1440),
            ":rotating_light: Escalated at Tue 3 Dec 09:12 EST: not resolved within its 1d SLA (due Tue 3 Dec 09:11 EST) — <@U0SUPER1>",
        ),
        (
            escalation("ack_leaders", 31, due=30, channel="C0LEADERS"),
            ":rotating_light: Escalated to leaders in <#C0LEADERS> at Mon 2 Dec 09:42 EST: not acknowledged within twice its 15m SLA "
            "(due Mon 2 Dec 09:41 EST) — <@U0SUPER1>",
        ),
        (
            escalation("resolve_leaders", 2881, sla="1d", due=2880, channel="C0LEADERS"),
            ":rotating_light: Escalated to leaders in <#C0LEADERS> at Wed 4 Dec 09:12 EST: not resolved within twice its 1d SLA "
            "(due Wed 4 Dec 09:11 EST) — <@U0SUPER1>",
        ),
        (
            escalation("ack_leaders", 31, due=30, channel=None),
            ":rotating_light: Escalated at Mon 2 Dec 09:42 EST: not acknowledged within twice its 15m SLA "
            "(due Mon 2 Dec 09:41 EST) (no leaders' channel is configured) — <@U0SUPER1>",
        ),
    ],
)
def test_escalation_lines_per_level_mention_the_supervisors(ev, line: str) -> None:  # noqa: ANN001
    assert event_line(ev, feedback_case(), delivery()) == line


def test_escalation_line_with_odd_details_stays_inert() -> None:
    odd = event(
        "escalated",
        "loopbot",
        16,
        level="ack",
        sla="<!channel>",
        deadline="soon",
        channel="<!here>",
    )
    line = event_line(odd, feedback_case(), delivery())
    assert (
        line
        == ":rotating_light: Escalated at Mon 2 Dec 09:27 EST: not acknowledged within its &lt;!channel&gt; SLA — <@U0SUPER1>"
    )
    leaders = event("escalated", "loopbot", 31, level="ack_leaders", sla="15m", channel="<!here>")
    assert "<!here>" not in event_line(leaders, feedback_case(), delivery())
    no_foreign_markup({"text": event_line(leaders, feedback_case(), delivery())})


def test_several_supervisors_are_all_mentioned() -> None:
    team = delivery().model_copy(update={"supervisors": ["U0SUPER1", "U0SUPER2"]})
    assert event_line(escalation("ack", 16), feedback_case(), team).endswith(
        " — <@U0SUPER1> <@U0SUPER2>"
    )


@pytest.mark.parametrize(
    ("summary", "details", "line"),
    [
        (
            {},
            {"value": 84.21, "n": 40, "threshold": 80},
            ":chart_with_upwards_trend: Recovered at Mon 2 Dec 10:11 EST: CSAT 84.2, no longer below 80 over the last 24h (n=40)",
        ),
        (
            {
                "metric": "complaints",
                "category": "late_delivery",
                "comparison": "above",
                "threshold": 5,
                "window": "1h",
            },
            {"value": 2, "n": 31, "threshold": 5},
            ":chart_with_upwards_trend: Recovered at Mon 2 Dec 10:11 EST: Complaints (late_delivery) 2, no longer above 5 "
            "over the last 1h (n=31)",
        ),
        (
            {"category": ATTACK, "metric": "complaints"},
            {"value": 1, "n": 10, "threshold": "<b>"},
            ":chart_with_upwards_trend: Recovered at Mon 2 Dec 10:11 EST: Complaints (&lt;!channel&gt; &lt;@U123&gt; "
            "&lt;https://evil.example|click&gt; &amp; jane@…) 1, no longer below &lt;b&gt; over the last 24h (n=10)",
        ),
    ],
)
def test_recovery_line_says_the_value_against_the_rule(
    summary: dict, details: dict, line: str
) -> None:
    ev = event("recovered", "loopbot", 60, 6, **details)
    assert event_line(ev, threshold_case(summary=summary), delivery()) == line
    no_foreign_markup({"text": line})


def test_threshold_case_message_says_when_it_recovered_from_its_event() -> None:
    events = [
        event("opened", "loopbot", 0),
        event("recovered", "loopbot", 60, 2, value=90, n=40, threshold=80),
    ]
    msg = case_message(
        detail(threshold_case(), events, comment=None), delivery(), now=T0 + timedelta(hours=2)
    )
    assert_message(msg)
    assert msg["blocks"][1]["elements"][0]["text"] == (
        "Opened Mon 2 Dec 09:11 EST · :chart_with_upwards_trend: Recovered at Mon 2 Dec 10:11 EST"
    )
    still = case_message(
        detail(threshold_case(), events[:1], comment=None), delivery(), now=T0 + timedelta(hours=2)
    )
    assert "Recovered" not in still["blocks"][1]["elements"][0]["text"]


@pytest.mark.parametrize(
    ("levels", "mark"),
    [
        ([], ""),
        (["ack"], " · :rotating_light: escalated"),
        (["ack", "ack_leaders"], " · :rotating_light: escalated to leaders"),
    ],
)
def test_case_message_marks_escalations(levels: list[str], mark: str) -> None:
    events = [event("opened", "loopbot", 0), *(escalation(level, 40) for level in levels)]
    msg = case_message(detail(feedback_case(), events), delivery(), now=T0 + timedelta(minutes=40))
    assert_message(msg)
    no_foreign_markup(msg)
    assert msg["blocks"][3]["elements"][0]["text"] == (
        ":stopwatch: Ack by Mon 2 Dec 09:26 EST :warning: *overdue* · Resolve by Tue 3 Dec 09:11 EST"
        + mark
    )


def test_job_event_lines_with_huge_details_fit_a_section() -> None:
    huge = "&<" * 2000
    for ev in (
        event("escalated", "loopbot", 1, level="ack", sla=huge, deadline=huge, channel=huge),
        event("recovered", "loopbot", 1, value=huge, n=10**30, threshold=huge),
    ):
        line = event_line(
            ev,
            threshold_case(summary={"category": huge, "metric": "complaints", "window": huge}),
            delivery(),
        )
        assert len(line) <= 3000
        no_foreign_markup({"text": line})
