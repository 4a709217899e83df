"""The case message per state, its thread lines, and the grouped alert-storm message."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.slack.blocks.case import case_message, event_line, group_message
from bot.slack.ids import ActionId, CaseMeta
from tests.unit.test_blocks_kit import (
    ATTACK,
    T0,
    assert_message,
    buttons,
    delivery,
    detail,
    event,
    feedback_case,
    no_foreign_markup,
    row,
    texts,
    threshold_case,
)

VALUE = CaseMeta(case_id=12).dump()
ACK = event("acknowledged", "U0AGENT1", 4, 2)
RESOLVED = event(
    "resolved",
    "U0SUPER1",
    80,
    3,
    outcome="fixed",
    root_cause="late_delivery",
    action="Refunded the fee",
)


def _section(msg: dict, index: int) -> str:
    return msg["blocks"][index]["text"]["text"]


def _context(msg: dict, index: int) -> str:
    return msg["blocks"][index]["elements"][0]["text"]


def test_open_case_message_in_full() -> None:
    msg = case_message(detail(feedback_case()), delivery(), now=T0 + timedelta(minutes=1))
    assert_message(msg)
    assert msg["text"] == 'FB-12 · high · CSAT 1/5 · Delivery Ops · open: "Parcel arrived late"'
    assert msg["blocks"][:5] == [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": ":red_circle: *FB-12* · High severity · Delivery Ops\n*CSAT 1/5*",
            },
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": ">Parcel arrived late"}},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "Category: *late_delivery* · Segment: *gold* · Submitted Mon 2 Dec 09:09 EST",
                }
            ],
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": ":stopwatch: Ack by Mon 2 Dec 09:26 EST · Resolve by Tue 3 Dec 09:11 EST",
                }
            ],
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*Status:* :new: Open since Mon 2 Dec 09:11 EST"},
        },
    ]
    assert msg["blocks"][5]["block_id"] == "case_actions"
    assert buttons(msg) == [
        ("Acknowledge", ActionId.ACK, "primary", VALUE),
        ("Resolve…", ActionId.RESOLVE, None, VALUE),
        ("Assign to me", ActionId.ASSIGN_ME, None, VALUE),
    ]


def test_open_case_past_its_ack_deadline_is_overdue() -> None:
    msg = case_message(detail(feedback_case()), delivery(), now=T0 + timedelta(minutes=16))
    assert (
        _context(msg, 3)
        == ":stopwatch: Ack by Mon 2 Dec 09:26 EST :warning: *overdue* · Resolve by Tue 3 Dec 09:11 EST"
    )


def test_acknowledged_case_shows_who_when_and_tta() -> None:
    case = feedback_case(state="acknowledged", assignee="U0AGENT2")
    msg = case_message(
        detail(case, [event("opened", "loopbot", 0), ACK]), delivery(), now=T0 + timedelta(days=2)
    )
    assert_message(msg)
    assert _section(msg, 4) == (
        "*Status:* :eyes: Acknowledged by <@U0AGENT1> at Mon 2 Dec 09:15 EST (TTA 4m)"
        "\n*Assigned to* <@U0AGENT2>"
    )
    # Acknowledged in time, but now past the resolve deadline.
    assert _context(msg, 3) == (
        ":stopwatch: Ack by Mon 2 Dec 09:26 EST :white_check_mark: met · "
        "Resolve by Tue 3 Dec 09:11 EST :warning: *overdue*"
    )
    assert buttons(msg) == [
        ("Resolve…", ActionId.RESOLVE, "primary", VALUE),
        ("Assign to me", ActionId.ASSIGN_ME, None, VALUE),
    ]
    assert msg["text"].endswith('· acknowledged: "Parcel arrived late"')


def test_resolved_case_shows_outcome_cause_action_and_offers_reopen() -> None:
    case = feedback_case(state="resolved")
    resolved = event(
        "resolved",
        "U0SUPER1",
        80,
        3,
        outcome="no_action",
        root_cause="other",
        action="Explained the <b>policy</b>",
        rationale="Customer & carrier agreed",
    )
    msg = case_message(
        detail(case, [event("opened", "loopbot", 0), ACK, resolved]),
        delivery(),
        now=T0 + timedelta(days=3),
    )
    assert_message(msg)
    assert _section(msg, 4) == (
        "*Status:* :white_check_mark: Resolved by <@U0SUPER1> at Mon 2 Dec 10:31 EST · TTR 1h 20m "
        "(TTA 4m)\n*Outcome:* No action · *Root cause:* other"
    )
    assert _section(msg, 5) == "*Action taken:* Explained the &lt;b&gt;policy&lt;/b&gt;"
    assert _section(msg, 6) == "*Rationale:* Customer &amp; carrier agreed"
    assert "overdue" not in _context(msg, 3)
    assert buttons(msg) == [("Reopen…", ActionId.REOPEN, None, VALUE)]


def test_resolving_straight_from_open_counts_as_acknowledged() -> None:
    case = feedback_case(state="resolved")
    msg = case_message(
        detail(case, [event("opened", "loopbot", 0), RESOLVED]),
        delivery(),
        now=T0 + timedelta(hours=2),
    )
    assert "TTR 1h 20m (TTA 1h 20m)" in _section(msg, 4)
    assert _context(msg, 3).startswith(":stopwatch: Ack by Mon 2 Dec 09:26 EST — missed")


def test_reopened_case_shows_the_reason_and_the_open_buttons() -> None:
    reopened = event("reopened", "U0SUPER1", 200, 4, reason="Customer wrote <again>")
    events = [event("opened", "loopbot", 0), ACK, RESOLVED, reopened]
    msg = case_message(
        detail(feedback_case(state="open"), events), delivery(), now=T0 + timedelta(hours=4)
    )
    assert_message(msg)
    assert _section(msg, 4) == (
        "*Status:* :arrows_counterclockwise: Reopened by <@U0SUPER1> at Mon 2 Dec 12:31 EST: "
        "Customer wrote &lt;again&gt;"
    )
    assert [b[1] for b in buttons(msg)] == [ActionId.ACK, ActionId.RESOLVE, ActionId.ASSIGN_ME]


def test_customer_text_cannot_mention_or_link() -> None:
    case = feedback_case(summary={"segment": ATTACK, "category": "<!here>"}, assignee="U0AGENT1")
    msg = case_message(detail(case, comment=ATTACK), delivery(), now=T0)
    assert (
        _section(msg, 1)
        == ">&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|click&gt; &amp; jane@…"
    )
    assert msg["text"] == (
        "FB-12 · high · CSAT 1/5 · Delivery Ops · open: "
        '"&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|click&gt; &amp; jane@…"'
    )
    no_foreign_markup(msg)
    assert "<@U0AGENT1>" in _section(msg, 4)  # our own mention of a person still works


def test_verbatim_is_truncated_to_500_characters() -> None:
    msg = case_message(detail(feedback_case(), comment="x" * 800), delivery(), now=T0)
    assert _section(msg, 1) == ">" + "x" * 499 + "…"
    worst = case_message(detail(feedback_case(), comment="&\n" * 400), delivery(), now=T0)
    assert_message(worst)
    assert _section(worst, 1).count("&amp;") == 250


@pytest.mark.parametrize(
    ("comment", "feedback_id", "shown"),
    [
        (None, 3, "_No comment._"),
        ("   ", 3, "_No comment._"),
        (None, None, "_Comment removed by retention._"),
    ],
)
def test_missing_comment(comment: str | None, feedback_id: int | None, shown: str) -> None:
    msg = case_message(
        detail(feedback_case(feedback_id=feedback_id), comment=comment), delivery(), now=T0
    )
    assert _section(msg, 1) == shown
    assert msg["text"] == "FB-12 · high · CSAT 1/5 · Delivery Ops · open"


@pytest.mark.parametrize(
    ("metric", "score", "shown"), [("nps", 3, "NPS 3/10"), ("ces", 6, "CES 6/7")]
)
def test_scales_per_metric(metric: str, score: int, shown: str) -> None:
    msg = case_message(
        detail(feedback_case(summary={"metric": metric, "score": score})), delivery(), now=T0
    )
    assert _section(msg, 0).endswith(f"\n*{shown}*")


def test_threshold_case_shows_the_breach_and_its_recovery() -> None:
    case = threshold_case(summary={"recovered_at": (T0 + timedelta(hours=1)).isoformat()})
    msg = case_message(detail(case, comment=None), delivery(), now=T0)
    assert_message(msg)
    assert _section(msg, 0) == (
        ":large_orange_circle: *FB-14* · Medium severity · Delivery Ops\n"
        "*Threshold breach:* CSAT 72.4 below 80 over the last 24h (n=31)"
    )
    assert (
        _context(msg, 1)
        == "Opened Mon 2 Dec 09:11 EST · :chart_with_upwards_trend: Recovered at Mon 2 Dec 10:11 EST"
    )
    assert (
        msg["text"]
        == "FB-14 · medium · CSAT 72.4 below 80 over the last 24h (n=31) · Delivery Ops · open"
    )
    assert not any("comment" in t.lower() for t in texts(msg))


def test_complaints_breach_names_its_category() -> None:
    case = threshold_case(
        summary={
            "metric": "complaints",
            "category": "late_delivery",
            "value": 6,
            "comparison": "above",
            "threshold": 5,
            "window": "1h",
            "n": 6,
        }
    )
    msg = case_message(detail(case, comment=None), delivery(), now=T0)
    assert (
        "*Threshold breach:* Complaints (late_delivery) 6 above 5 over the last 1h (n=6)"
        in _section(msg, 0)
    )


# -- thread lines --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ev", "line"),
    [
        (event("opened", "loopbot", 0), ":new: Opened by Loopbot at Mon 2 Dec 09:11 EST"),
        (ACK, ":eyes: Acknowledged by <@U0AGENT1> at Mon 2 Dec 09:15 EST (TTA 4m)"),
        (
            event("assigned", "U0SUPER1", 10, assignee="U0AGENT2", previous=None),
            ":bust_in_silhouette: Assigned to <@U0AGENT2> by <@U0SUPER1> at Mon 2 Dec 09:21 EST",
        ),
        (
            event("assigned", "U0AGENT1", 10, assignee="U0AGENT1", previous="U0AGENT2"),
            ":bust_in_silhouette: Assigned to <@U0AGENT1> by <@U0AGENT1> at Mon 2 Dec 09:21 EST (was <@U0AGENT2>)",
        ),
        (
            event("note", "U0AGENT2", 30, text="Called back <@U123>"),
            ":memo: Note from <@U0AGENT2> at Mon 2 Dec 09:41 EST: Called back &lt;@U123&gt;",
        ),
        (
            RESOLVED,
            ":white_check_mark: Resolved by <@U0SUPER1> at Mon 2 Dec 10:31 EST — outcome fixed, "
            "root cause late_delivery: Refunded the fee (TTR 1h 20m)",
        ),
        (
            event(
                "resolved",
                "U0SUPER1",
                60,
                outcome="no_action",
                root_cause="other",
                action="Explained",
                rationale="Policy",
            ),
            ":white_check_mark: Resolved by <@U0SUPER1> at Mon 2 Dec 10:11 EST — outcome no action, root cause other: "
            "Explained — rationale: Policy (TTR 1h)",
        ),
        (
            event("reopened", "U0SUPER1", 200, reason="Customer wrote again & again"),
            ":arrows_counterclockwise: Reopened by <@U0SUPER1> at Mon 2 Dec 12:31 EST: Customer wrote again &amp; again",
        ),
        (
            event("escalated", "loopbot", 16, level="ack"),
            ":rotating_light: Escalated at Mon 2 Dec 09:27 EST: not acknowledged within its SLA — <@U0SUPER1>",
        ),
    ],
)
def test_event_line_per_kind(ev, line: str) -> None:  # noqa: ANN001
    assert event_line(ev, feedback_case(), delivery()) == line


def test_event_lines_with_the_longest_texts_fit_a_section() -> None:
    long = "&<" * 1500  # 3,000 characters, the core's maximum, escaping to 13,500
    for ev in (
        event("note", "U0AGENT1", 1, text=long),
        event("reopened", "U0SUPER1", 1, reason=long),
        event(
            "resolved",
            "U0SUPER1",
            1,
            outcome="no_action",
            root_cause="x" * 64,
            action=long,
            rationale=long,
        ),
    ):
        line = event_line(ev, feedback_case(), delivery())
        assert len(line) <= 3000
        no_foreign_markup({"text": line})


# -- alert storms ---------------------------------------------------------------------------------------


def test_group_message_lists_each_case() -> None:
    rows = [row(100 + i, severity="medium" if i % 2 else "high") for i in range(14)]
    rows[1] = row(
        101,
        kind="threshold",
        severity="medium",
        summary={
            "metric": "csat",
            "value": 71.0,
            "comparison": "below",
            "threshold": 80,
            "window": "24h",
            "n": 25,
        },
    )
    msg = group_message(rows, delivery(), now=T0 + timedelta(minutes=20))
    assert_message(msg)
    assert _section(msg, 0) == "*:rotating_light: 14 more cases for Delivery Ops in 5 minutes*"
    lines = _section(msg, 1).split("\n")
    assert (
        lines[0]
        == "• *FB-100* :red_circle: CSAT 1/5 · late_delivery · open 20m · :warning: *overdue*"
    )
    assert (
        lines[1]
        == "• *FB-101* :large_orange_circle: CSAT 71 below 80 over the last 24h (n=25) · open 20m · :warning: *overdue*"
    )
    assert len(lines) == 14
    assert msg["blocks"][-1]["elements"] == [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": "List open cases", "emoji": True},
            "action_id": "cases_list_open",
            "value": "delivery",
            "style": "primary",
        }
    ]
    assert msg["text"].startswith("14 more cases for Delivery Ops: FB-100, FB-101, FB-102")


def test_group_message_with_60_cases_stays_within_50_blocks() -> None:
    segment_heavy = {"metric": "nps", "score": 0, "category": "late_delivery " + "&" * 200}
    msg = group_message([row(i, summary=segment_heavy) for i in range(60)], delivery(), now=T0)
    assert_message(msg)
    # Lines of ~1,000 characters: Slack's ~13k total lets some show, and the rest are counted.
    listed = sum(_section(msg, i).count("• *FB-") for i in range(1, len(msg["blocks"]) - 2))
    more = _context(msg, len(msg["blocks"]) - 2)
    assert 0 < listed < 60 and more == f"and {60 - listed} more — `/feedback list delivery`"


def test_group_message_counts_what_does_not_fit() -> None:
    msg = group_message([row(i) for i in range(150)], delivery(), now=T0)
    assert_message(msg)
    assert _context(msg, len(msg["blocks"]) - 2) == "and 50 more — `/feedback list delivery`"
