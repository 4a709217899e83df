"""The huddle digest message: numbers with their change and threshold, backlog, verbatims, quiet period, limits."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.reports.digest import Digest, Limit, MetricDigest, Verbatim
from bot.slack.blocks.digest import VERBATIM_LIMIT, digest_message, metric_line
from bot.slack.ids import ActionId
from config.loader import parse_config
from slack_emulator.blockkit import message_errors
from tests.conftest import CONFIG
from tests.unit.test_blocks_kit import ATTACK, assert_message, buttons, delivery, no_foreign_markup

# Monday 2 March 2026, 07:30 EST → Tuesday 07:30 EST
S = datetime(2026, 3, 2, 12, 30, tzinfo=UTC)
U = S + timedelta(days=1)
H = timedelta(hours=1)


def digest(**kw: object) -> Digest:
    values: dict[str, object] = dict(
        team="delivery",
        since=S,
        until=U,
        responses=17,
        csat=MetricDigest("csat", 60.0, 5, 50.0, 2, (Limit("below", 80, 24 * H),)),
        nps=MetricDigest("nps", 100 / 7, 7, 0.0, 2),
        ces=MetricDigest("ces", 5.4, 5, None, 0, (Limit("above", 4.5, 7 * 24 * H),)),
        open=5,
        unacknowledged=3,
        overdue=2,
        oldest_open_age=timedelta(days=3, hours=2),
        resolved=4,
        median_ttr=timedelta(hours=5, minutes=30),
        top_categories=(("late_delivery", 3), ("app_error", 2), ("billing", 1)),
        lowest=(
            Verbatim("ces", 7, "crash again <@U1>", S + 15 * H),
            Verbatim("csat", 1, "Parcel never arrived <!channel>", S + 3 * H),
            Verbatim("ces", 6, "app crashed & froze", S + 12 * H),
        ),
        praise=Verbatim("nps", 10, "Love it & more", S + 5 * H),
    )
    values.update(kw)
    return Digest(**values)  # type: ignore[arg-type]


def section_texts(msg: dict) -> list[str]:
    return [b["text"]["text"] for b in msg["blocks"] if b["type"] == "section"]


def test_full_digest() -> None:
    msg = digest_message(digest(), delivery(), now=U)
    assert_message(msg)
    no_foreign_markup(msg)
    assert message_errors(msg["blocks"], msg["text"]) == []
    assert msg["text"] == (
        "Huddle digest for Delivery Ops: 17 responses · CSAT 60 % · NPS 14 · CES 5.4 · "
        "5 open cases (2 overdue)"
    )
    assert section_texts(msg) == [
        ":sunrise: *Huddle digest · Delivery Ops*",
        # 60 is below the 80 alert and 5.4 above 4.5: both flagged
        "*CSAT* 60 % (n=5) · ▲ 10 vs 50 % · alert below 80 over 1d :warning:\n"
        "*NPS* 14 (n=7) · ▲ 14 vs 0\n"
        "*CES* 5.4 (n=5) · no responses the period before · alert above 4.5 over 7d :warning:",
        "*Cases:* 5 open · 3 unacknowledged · :warning: *2 overdue* · oldest 3d 2h\n*Resolved:* 4 · median TTR 5h 30m",
        "*Top complaints:* late_delivery (3) · app_error (2) · billing (1)",
        "*Lowest scores*",
        "*CES 7/7* · Mon 2 Mar 22:30 EST\n>crash again &lt;@U1&gt;",
        "*CSAT 1/5* · Mon 2 Mar 10:30 EST\n>Parcel never arrived &lt;!channel&gt;",
        "*CES 6/7* · Mon 2 Mar 19:30 EST\n>app crashed &amp; froze",
        ":star: *Praise*\n*NPS 10/10* · Mon 2 Mar 12:30 EST\n>Love it &amp; more",
    ]
    period = msg["blocks"][1]
    assert period == {
        "type": "context",
        "elements": [
            {"type": "mrkdwn", "text": "Mon 2 Mar 07:30 EST → Tue 3 Mar 07:30 EST · 17 responses"}
        ],
    }
    assert buttons(msg) == [("List open cases", ActionId.LIST_OPEN, None, "delivery")]
    assert msg["blocks"][-1]["type"] == "actions"


def test_changes_down_unchanged_negative_and_missing() -> None:
    down = MetricDigest("csat", 72.45, 40, 80.0, 30, (Limit("below", 70, 24 * H),))
    assert (
        metric_line(down) == "*CSAT* 72.5 % (n=40) · ▼ 7.5 vs 80 % · alert below 70 over 1d"
    )  # not breached
    same = MetricDigest("nps", -20.2, 10, -19.9, 12)
    assert metric_line(same) == "*NPS* -20 (n=10) · = vs -20"  # the shown numbers are equal
    worse = MetricDigest("nps", -40.0, 10, -10.0, 12)
    assert metric_line(worse) == "*NPS* -40 (n=10) · ▼ 30 vs -10"
    gone = MetricDigest("ces", None, 0, 3.25, 8, (Limit("above", 4.5, 24 * H),))
    assert metric_line(gone) == "*CES* no responses (before: 3.2, n=8) · alert above 4.5 over 1d"
    nothing = MetricDigest("csat", None, 0, None, 0)
    assert metric_line(nothing) == "*CSAT* no responses"
    two = MetricDigest(
        "csat", 79.0, 3, None, 0, (Limit("below", 80, 24 * H), Limit("below", 70, 7 * 24 * H))
    )
    assert metric_line(two) == (
        "*CSAT* 79 % (n=3) · no responses the period before · alert below 80 over 1d · "
        "alert below 70 over 7d :warning:"
    )


def test_quiet_period_is_short_but_shows_the_backlog() -> None:
    none = MetricDigest("csat", None, 0, None, 0)
    quiet = digest(
        responses=0,
        csat=none,
        nps=replace(none, metric="nps"),
        ces=replace(none, metric="ces"),
        top_categories=(),
        lowest=(),
        praise=None,
        open=2,
        unacknowledged=1,
        overdue=1,
        oldest_open_age=timedelta(days=2),
        resolved=0,
        median_ttr=None,
    )
    msg = digest_message(quiet, delivery(), now=U)
    assert_message(msg)
    assert message_errors(msg["blocks"], msg["text"]) == []
    assert (
        msg["text"]
        == "Huddle digest for Delivery Ops: quiet period, no feedback · 2 open cases (1 overdue)"
    )
    assert section_texts(msg) == [
        ":sunrise: *Huddle digest · Delivery Ops*",
        ":zzz: *Quiet period* — no feedback since the last huddle.",
        "*Cases:* 2 open · 1 unacknowledged · :warning: *1 overdue* · oldest 2d\n*Resolved:* none since the last huddle",
    ]
    assert len(msg["blocks"]) == 5 and buttons(msg) == [
        ("List open cases", ActionId.LIST_OPEN, None, "delivery")
    ]
    empty = digest_message(
        replace(quiet, open=0, unacknowledged=0, overdue=0, oldest_open_age=None), delivery(), now=U
    )
    assert (
        section_texts(empty)[2]
        == "*Cases:* none open :tada:\n*Resolved:* none since the last huddle"
    )
    assert empty["text"].endswith("0 open cases (0 overdue)")


def test_nothing_overdue_and_resolutions_without_ttr_shown_plainly() -> None:
    msg = digest_message(
        digest(overdue=0, lowest=(), praise=None, top_categories=()), delivery(), now=U
    )
    texts = section_texts(msg)
    assert (
        texts[2]
        == "*Cases:* 5 open · 3 unacknowledged · 0 overdue · oldest 3d 2h\n*Resolved:* 4 · median TTR 5h 30m"
    )
    assert not any(t.startswith(("*Top complaints", "*Lowest", ":star:")) for t in texts)


def test_verbatims_are_escaped_and_truncated() -> None:
    long = ATTACK + " " + "&" * 2_000 + "\n" * 50 + "tail"
    msg = digest_message(
        digest(lowest=(Verbatim("csat", 1, long, S),), praise=Verbatim("nps", 9, "x" * 1_000, S)),
        delivery(),
        now=U,
    )
    assert_message(msg)
    no_foreign_markup(msg)
    assert message_errors(msg["blocks"], msg["text"]) == []
    worst = section_texts(msg)[5]
    head, quoted = worst.split("\n", 1)
    assert head == "*CSAT 1/5* · Mon 2 Mar 07:30 EST"
    assert quoted.startswith(
        ">&lt;!channel&gt; &lt;@U123&gt; &lt;https://evil.example|click&gt; &amp; jane@…"
    )
    assert quoted.endswith("…") and "tail" not in quoted
    # at most VERBATIM_LIMIT characters of what the customer wrote
    raw = quoted.removeprefix(">").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert len(raw) <= VERBATIM_LIMIT
    praise = section_texts(msg)[6]
    assert praise.endswith(">" + "x" * (VERBATIM_LIMIT - 1) + "…")


def test_long_everything_stays_within_slacks_limits() -> None:
    raw = copy.deepcopy(CONFIG)
    raw["teams"]["delivery"]["name"] = "R&D <!here> " + "n" * 1_000
    team = parse_config(raw, "x").teams["delivery"]
    flood = "\n".join(["<!channel> & <>"] * 2_000)
    msg = digest_message(
        digest(
            top_categories=(("<b>" + "c" * 500, 10**9), ("&" * 300, 2), ("x", 1)),
            lowest=tuple(Verbatim(m, 1, flood, S) for m in ("csat", "nps", "ces")),
            praise=Verbatim("csat", 5, flood, S),
            open=10**6,
            responses=10**7,
        ),
        team,
        now=U,
    )
    assert_message(msg)
    no_foreign_markup(msg)
    assert message_errors(msg["blocks"], msg["text"]) == []
    assert len(msg["blocks"]) <= 50
    assert len(msg["text"]) < 400
    assert section_texts(msg)[0].startswith(":sunrise: *Huddle digest · R&amp;D &lt;!here&gt; nnn")
