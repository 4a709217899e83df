"""The `customer ID` answer: repeats, responses and cases by equality, escaping, capped within Slack's limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.reports.customer import CustomerCase, CustomerView, Response, TeamRepeats
from bot.slack.blocks.customer import customer_message
from tests.unit.test_blocks_kit import ATTACK, assert_message, no_foreign_markup, teams

N = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def view(**kw: object) -> CustomerView:  # the figures of tests/storage/test_customer_view.py
    values: dict[str, object] = dict(
        customer="C-77",
        since=N - 365 * DAY,
        until=N,
        teams=(TeamRepeats("delivery", 2, 1, 3), TeamRepeats("support", 1, 1, 2)),
        responses=(
            Response(1, "delivery", "csat", 1, True, "Late again, mail me at [email]",
                     "post-delivery", N - DAY),
            Response(3, "support", "ces", 6, True, None, None, N - 2 * DAY),
            Response(2, "delivery", "nps", 9, False, None, None, N - 10 * DAY),
        ),
        cases=(
            CustomerCase(11, "delivery", "feedback", "resolved", N - DAY, "late_delivery", "fixed"),
            CustomerCase(14, "support", "feedback", "resolved", N - 2 * DAY, None, "duplicate"),
            CustomerCase(13, "delivery", "feedback", "open", N - 3 * DAY, None, None),
            CustomerCase(12, "delivery", "feedback", "resolved", N - 20 * DAY, "late_delivery",
                         "fixed"),
        ),
        shared_causes=(("late_delivery", 2),),
        scope=("delivery", "support"),
        all_teams=True,
    )  # fmt: skip
    values.update(kw)
    return CustomerView(**values)  # type: ignore[arg-type]


def test_repeats_responses_and_cases() -> None:
    msg = customer_message(view(), teams())
    assert_message(msg)
    no_foreign_markup(msg)
    assert msg["text"] == "Customer C-77: 3 responses (2 negative) and 5 cases in the last 365 days"
    assert [b["type"] for b in msg["blocks"]] == [
        "header", "context", "section", "divider", "section", "divider", "section", "context",
        "context",
    ]  # fmt: skip
    texts = [
        b.get("text", {}).get("text") or b.get("elements", [{}])[0].get("text")
        for b in msg["blocks"]
    ]
    assert texts[1] == "Customer `C-77` · last 365 days · all teams"
    assert texts[2] == "\n".join(
        [
            "*3 responses* (2 negative) · *5 cases*",
            "• Delivery Ops: 2 responses (1 negative) · 3 cases",
            "• Support: 1 response (1 negative) · 2 cases",
            "Cases sharing a cause: `late_delivery` ×2",
        ]
    )
    # Dates in each team's zone: 12:00 UTC is 08:00 in New York (delivery), the same day
    assert texts[4] == "\n".join(
        [
            "*Responses* (newest first)",
            "• 30 Mar 2026 · CSAT *1* (negative) · Delivery Ops · post-delivery: “Late again, mail me at [email]”",
            "• 29 Mar 2026 · CES *6* (negative) · Support",
            "• 21 Mar 2026 · NPS *9* · Delivery Ops",
        ]
    )
    assert texts[6] == "\n".join(
        [
            "*Cases* (newest first)",
            "• *FB-11* · resolved · cause `late_delivery` · opened 30 Mar 2026 · Delivery Ops",
            "• *FB-14* · resolved (duplicate) · opened 29 Mar 2026 · Support",
            "• *FB-13* · open · opened 28 Mar 2026 · Delivery Ops",
            "• *FB-12* · resolved · cause `late_delivery` · opened 11 Mar 2026 · Delivery Ops",
        ]
    )
    assert texts[7] == "…and 1 more case"  # 5 cases, 4 fetched
    assert "masked" in texts[8]


def test_one_team_no_responses_and_early_morning_dates() -> None:
    one = view(
        teams=(TeamRepeats("delivery", 0, 0, 1),),
        responses=(),
        cases=(
            CustomerCase(
                13, "delivery", "threshold", "acknowledged", N.replace(hour=3), None, None
            ),
        ),
        shared_causes=(),
        scope=("delivery",),
        all_teams=False,
    )
    msg = customer_message(one, teams())
    assert_message(msg)
    texts = [b["text"]["text"] for b in msg["blocks"] if b["type"] == "section"]
    assert texts[0] == "*0 responses* (0 negative) · *1 case*"  # one team: no per-team lines
    assert texts[1] == "*Responses*: none in these teams."
    assert texts[2].endswith(
        "• *FB-13* · acknowledged · opened 30 Mar 2026 · Delivery Ops"
    )  # 23:00 EDT
    assert msg["blocks"][1]["elements"][0]["text"].endswith("· Delivery Ops")


def test_customer_text_is_escaped() -> None:
    hostile = view(
        customer=f"{ATTACK} `x`",
        responses=(Response(1, "delivery", "csat", 1, True, ATTACK * 3, ATTACK, N),),
    )
    msg = customer_message(hostile, teams())
    assert_message(msg)
    no_foreign_markup(msg)
    assert "&lt;!channel&gt;" in msg["blocks"][1]["elements"][0]["text"]
    assert (
        msg["blocks"][1]["elements"][0]["text"].count("`") == 2
    )  # the id cannot end its inline code
    assert "<!channel>" not in msg["text"]


def test_many_rows_stay_within_slack_limits() -> None:
    long = "x" * 4_000
    responses = tuple(
        Response(i, "delivery", "csat", 1, True, long, "t" * 300, N - i * DAY) for i in range(25)
    )
    cases = tuple(
        CustomerCase(i, "support", "feedback", "resolved", N - i * DAY, "c" * 300, "fixed")
        for i in range(25)
    )
    many_teams = tuple(TeamRepeats(f"team-{i}", 12, 4, 2) for i in range(40))
    big = view(
        teams=many_teams, responses=responses, cases=cases,
        shared_causes=tuple((f"cause-{i}", 2) for i in range(40)),
    )  # fmt: skip
    msg = customer_message(big, teams())
    assert_message(msg)
    sections = [b["text"]["text"] for b in msg["blocks"] if b["type"] == "section"]
    assert all(len(t) <= 3_000 for t in sections)
    assert "…and 25 more teams" in sections[0]
    lines = [line for t in sections[1:] for line in t.split("\n")]
    responses = sum(line.startswith("• ") and " · CSAT *1*" in line for line in lines)
    cases = sum(line.startswith("• *") for line in lines)
    more = [b["elements"][0]["text"] for b in msg["blocks"] if b["type"] == "context"][1:-1]
    # 480 and 80 counted; the message's ~13k total, shared by the two lists, decides how many show.
    assert more == [f"…and {480 - responses} more responses", f"…and {80 - cases} more cases"]
    assert responses > 0 and cases == 25
    assert len(msg["blocks"]) <= 50


def test_the_fallback_names_the_totals() -> None:
    msg = customer_message(replace(view(), customer="C-1 & co"), teams())
    assert msg["text"].startswith("Customer C-1 &amp; co: 3 responses")
