"""Thread lines and message marks of job-made events, the resolution record of SPEC §8, repeats, playbooks and systemic cases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.slack.blocks.case import case_message, event_line
from bot.slack.blocks.describe import case_what, ordinal, window_text
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


# -- the resolution record (SPEC §8), repeats, playbooks and systemic causes -----------------------------

RECORD = {
    "outcome": "fixed",
    "root_cause": "late_delivery",
    "domain": "process",
    "action": "Refunded the fee",
    "rationale": "Courier was <late> again",
    "whys": ["Courier left late", "Rota starts at 10:00 & nobody checks"],
    "corrective": "CA-4",
}


def test_resolved_line_shows_domain_rationale_whys_and_corrective_action() -> None:
    ev = event("resolved", "U0SUPER1", 80, 3, **RECORD)
    assert event_line(ev, feedback_case(), delivery()) == (
        ":white_check_mark: Resolved by <@U0SUPER1> at Mon 2 Dec 10:31 EST — outcome fixed, "
        "root cause late_delivery (process): Refunded the fee — rationale: Courier was &lt;late&gt; "
        "again (TTR 1h 20m)\n"
        "Why 1: Courier left late\n"
        "Why 2: Rota starts at 10:00 &amp; nobody checks\n"
        "Corrective action: CA-4"
    )
    attached = event("resolved", "U0SUPER1", 80, 3, outcome="workaround", corrective="CA-9")
    assert event_line(attached, feedback_case(), delivery()).endswith(
        "root cause — (TTR 1h 20m)\nCorrective action: CA-9"
    )


def test_resolved_message_shows_the_whole_record() -> None:
    events = [event("opened", "loopbot", 0), event("resolved", "U0SUPER1", 80, 3, **RECORD)]
    msg = case_message(
        detail(feedback_case(state="resolved"), events), delivery(), now=T0 + timedelta(days=1)
    )
    assert_message(msg)
    no_foreign_markup(msg)
    assert [b["text"]["text"] for b in msg["blocks"][4:8]] == [
        "*Status:* :white_check_mark: Resolved by <@U0SUPER1> at Mon 2 Dec 10:31 EST · TTR 1h 20m "
        "(TTA 1h 20m)\n*Outcome:* Fixed · *Root cause:* late_delivery (process)\n"
        "*Corrective action:* CA-4",
        "*Action taken:* Refunded the fee",
        "*Rationale:* Courier was &lt;late&gt; again",
        "*Why 1:* Courier left late\n*Why 2:* Rota starts at 10:00 &amp; nobody checks",
    ]


def test_longest_resolution_record_fits_a_section() -> None:
    long = "&<" * 1500
    record = {**RECORD, "action": long, "rationale": long, "whys": [long[:300]] * 5}
    record |= {"domain": "d" * 64, "root_cause": "x" * 64}
    line = event_line(event("resolved", "U0SUPER1", 1, **record), feedback_case(), delivery())
    assert len(line) <= 3000
    events = [event("resolved", "U0SUPER1", 1, **record)]
    msg = case_message(detail(feedback_case(state="resolved"), events), delivery(), now=T0)
    assert_message(msg)
    no_foreign_markup(msg)


@pytest.mark.parametrize(
    ("n", "shown"),
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (13, "13th")]
    + [(21, "21st"), (22, "22nd"), (23, "23rd"), (101, "101st"), (111, "111th"), (112, "112th")],
)
def test_ordinals(n: int, shown: str) -> None:
    assert ordinal(n) == shown


@pytest.mark.parametrize(
    ("window", "shown"),
    [("30d", "30 days"), ("1w", "7 days"), ("4w", "28 days"), ("720h", "30 days"), ("1d", "1 day")]
    + [("36h", "1d 12h"), ("90m", "1h 30m"), ("soon", "soon"), ("<b>", "&lt;b&gt;")],
)
def test_windows_in_days(window: str, shown: str) -> None:
    assert window_text(window) == shown


@pytest.mark.parametrize(
    ("repeat", "line"),
    [
        (
            {"customer": ["FB-10", "FB-11"], "customer_count": 3, "category_count": 7},
            "Repeat: 3rd case for this customer in 30 days (FB-10, FB-11) · "
            "7th late delivery case for the team in 30 days",
        ),
        (
            {"customer": ["FB-10"], "customer_count": 2},
            "Repeat: 2nd case for this customer in 30 days (FB-10)",
        ),
        ({"category_count": 21}, "Repeat: 21st late delivery case for the team in 30 days"),
    ],
)
def test_repeat_line_follows_the_sla_line(repeat: dict, line: str) -> None:
    case = feedback_case(summary={"repeat": {**repeat, "window": "30d"}})
    msg = case_message(detail(case), delivery(), now=T0)
    assert_message(msg)
    assert msg["blocks"][3]["elements"][0]["text"].startswith(":stopwatch: Ack by")
    assert msg["blocks"][4]["elements"][0]["text"] == line


def test_empty_repeat_adds_nothing() -> None:
    plain = case_message(detail(feedback_case()), delivery(), now=T0)
    odd = feedback_case(summary={"repeat": {"window": "30d", "customer_count": 1}})
    assert case_message(detail(odd), delivery(), now=T0) == plain


def test_playbook_line_is_escaped_and_fits() -> None:
    steps = ["Refund the delivery fee", "Call the <courier>", "  "]
    msg = case_message(detail(feedback_case()), delivery(), now=T0, playbook=steps)
    assert_message(msg)
    assert msg["blocks"][4] == {
        "type": "context",
        "elements": [
            {
                "type": "mrkdwn",
                "text": "Playbook: Refund the delivery fee · Call the &lt;courier&gt;",
            }
        ],
    }
    huge = case_message(detail(feedback_case()), delivery(), now=T0, playbook=["&<" * 500] * 10)
    assert_message(huge)
    no_foreign_markup(huge)
    assert (
        len(case_message(detail(feedback_case()), delivery(), now=T0, playbook=[])["blocks"]) == 6
    )


SYSTEMIC = {
    "cause": "late_delivery",
    "count": 6,
    "window": "30d",
    "cases": ["FB-1", "FB-2", "FB-3", "FB-4", "FB-5"],
    "owner": "U0SUPER2",
    "team_name": "Delivery Ops",
}


def test_systemic_case_names_the_cause_its_cases_and_how_to_plan() -> None:
    case = feedback_case(id=30, kind="systemic", summary=SYSTEMIC, feedback_id=None)
    msg = case_message(detail(case, comment=None), delivery(), now=T0, command="/fb")
    assert_message(msg)
    no_foreign_markup(msg)
    texts_ = [b["text"]["text"] if "text" in b else b["elements"][0]["text"] for b in msg["blocks"]]
    assert texts_[0] == (
        ":red_circle: *FB-30* · High severity · Delivery Ops\n:repeat: Systemic: late_delivery "
        "resolved 6 times in 30 days with no corrective action — FB-1, FB-2, FB-3, FB-4, FB-5, …"
    )
    assert texts_[1] == "Opened Mon 2 Dec 09:11 EST · Cause owner: <@U0SUPER2>"
    assert texts_[2].startswith(":stopwatch: Ack by")
    assert texts_[3] == (
        "Plan one: `/fb plan delivery cause=late_delivery due=YYYY-MM-DD @owner what changes`"
    )
    assert msg["text"] == (
        "FB-30 · high · Systemic cause late_delivery: 6 resolutions in 30 days · Delivery Ops · open"
    )


def test_systemic_case_without_owner_or_cases() -> None:
    summary = {**SYSTEMIC, "owner": None, "cases": [], "count": 5, "cause": "<!here>"}
    case = feedback_case(id=30, kind="systemic", summary=summary, feedback_id=None)
    msg = case_message(detail(case, comment=None), delivery(), now=T0)
    assert_message(msg)
    no_foreign_markup(msg)
    assert msg["blocks"][0]["text"]["text"].endswith(
        ":repeat: Systemic: &lt;!here&gt; resolved 5 times in 30 days with no corrective action"
    )
    assert msg["blocks"][1]["elements"][0]["text"] == "Opened Mon 2 Dec 09:11 EST"
    assert case_what("systemic", {}) == "Systemic cause —: resolutions in —"
