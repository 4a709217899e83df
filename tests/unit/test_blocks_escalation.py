"""The leaders' channel post of an escalated case: pure, escaped, valid for Slack."""

from __future__ import annotations

import copy
from datetime import timedelta

from bot.slack.blocks.escalation import leaders_message
from tests.unit.test_blocks_kit import (
    ATTACK,
    T0,
    assert_message,
    delivery,
    feedback_case,
    no_foreign_markup,
    texts,
    threshold_case,
)

ACK_LEADERS = {
    "level": "ack_leaders",
    "sla": "15m",
    "deadline": (T0 + timedelta(minutes=30)).isoformat(),
    "channel": "C0LEADERS",
}
RESOLVE_LEADERS = {
    "level": "resolve_leaders",
    "sla": "1d",
    "deadline": (T0 + timedelta(days=2)).isoformat(),
    "channel": "C0LEADERS",
}


def test_feedback_case_post_in_full() -> None:
    msg = leaders_message(
        feedback_case(),
        delivery(),
        ACK_LEADERS,
        leaders=["U0LEADER1"],
        now=T0 + timedelta(minutes=31),
    )
    assert_message(msg)
    assert msg == {
        "text": "Escalation: FB-12 (Delivery Ops) not acknowledged within twice its 15m SLA (due Mon 2 Dec 09:41 EST) — CSAT 1/5 "
        "· late_delivery",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": ":rotating_light: *Escalation:* :red_circle: *FB-12* · Delivery Ops\n*CSAT 1/5 · late_delivery*",
                },
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "Not acknowledged within twice its 15m SLA (due Mon 2 Dec 09:41 EST) · open 31m "
                        "(since Mon 2 Dec 09:11 EST) · status: open",
                    }
                ],
            },
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "<@U0LEADER1>: please follow up with Delivery Ops.",
                },
            },
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": "`/feedback show FB-12` for its timeline"}],
            },
        ],
    }


def test_threshold_case_post_shows_the_breach_and_the_resolve_sla() -> None:
    case = threshold_case(state="acknowledged", assignee="U0AGENT1")
    msg = leaders_message(
        case,
        delivery(),
        RESOLVE_LEADERS,
        leaders=["U0LEADER1", "U0SUPER2"],
        now=T0 + timedelta(days=2, hours=1),
        command="/cx",
    )
    assert_message(msg)
    assert msg["blocks"][0]["text"]["text"].endswith(
        "\n*CSAT 72.4 below 80 over the last 24h (n=31)*"
    )
    assert msg["blocks"][1]["elements"][0]["text"] == (
        "Not resolved within twice its 1d SLA (due Wed 4 Dec 09:11 EST) · open 2d 1h (since Mon 2 Dec 09:11 EST) · "
        "status: acknowledged · assigned to <@U0AGENT1>"
    )
    assert msg["blocks"][2]["text"]["text"].startswith("<@U0LEADER1> <@U0SUPER2>: ")
    assert msg["blocks"][3]["elements"][0]["text"] == "`/cx show FB-14` for its timeline"


def test_without_leaders_nobody_is_mentioned() -> None:
    msg = leaders_message(
        feedback_case(), delivery(), ACK_LEADERS, leaders=[], now=T0 + timedelta(minutes=31)
    )
    assert_message(msg)
    assert len(msg["blocks"]) == 3 and not any("<@" in t for t in texts(msg))


def test_customer_and_config_text_is_escaped() -> None:
    team = delivery().model_copy(update={"name": "Ops <!channel> & co"})
    case = feedback_case(summary={"category": ATTACK}, assignee="<!here>")
    details = {**ACK_LEADERS, "sla": "<@U999>"}
    msg = leaders_message(
        case,
        team,
        details,
        leaders=["U0LEADER1"],
        now=T0 + timedelta(minutes=31),
        command="/x <!everyone>",
    )
    assert_message(msg)
    no_foreign_markup(msg)
    assert "Ops &lt;!channel&gt; &amp; co" in msg["blocks"][0]["text"]["text"]


def test_renderer_is_pure() -> None:
    case, details = feedback_case(), copy.deepcopy(ACK_LEADERS)
    before = (copy.deepcopy(case.summary), copy.deepcopy(details))
    first = leaders_message(
        case, delivery(), details, leaders=["U0LEADER1"], now=T0 + timedelta(minutes=31)
    )
    again = leaders_message(
        case, delivery(), details, leaders=["U0LEADER1"], now=T0 + timedelta(minutes=31)
    )
    assert first == again and (case.summary, details) == before
