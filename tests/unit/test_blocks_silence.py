"""Silences in Slack: the start and end posts, the `silences` answer, the digest and App Home lines; pure,
escaped, valid for Slack."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.alerts.silence_model import BreachRecord, SilenceDetail, SilenceRecord
from bot.slack.blocks.silence import (
    digest_silence_lines,
    end_message,
    home_silence_blocks,
    silenced_what,
    silences_answer,
    start_message,
)
from tests.unit.test_blocks_kit import (
    ATTACK,
    T0,
    assert_message,
    delivery,
    no_foreign_markup,
    teams,
)

MIN, HOUR = timedelta(minutes=1), timedelta(hours=1)
CSAT_KEY = "delivery:csat:below:80:1d"


def silence(**kw) -> SilenceRecord:  # noqa: ANN003
    values = {
        "id": 3,
        "team": "delivery",
        "pattern": "csat",
        "reason": "courier strike",
        "created_by": "U0SUPER1",
        "source": "command",
        "created_at": T0,
        "starts_at": T0,
        "ends_at": T0 + 4 * HOUR,
        "rules": ("csat below 80 over 1d", "csat below 70 over 1w"),
    }
    return SilenceRecord(**{**values, **kw})


def breach(rule: str, start: int, end: int, recovered: bool, **kw) -> BreachRecord:  # noqa: ANN003
    values = {
        "silence_id": 3,
        "team": "delivery",
        "rule_key": CSAT_KEY,
        "rule": rule,
        "first_at": T0 + start * MIN,
        "last_at": T0 + end * MIN,
        "value": 72.4,
        "n": 31,
        "recovered_at": T0 + (end + 1) * MIN if recovered else None,
        "open": False,
    }
    return BreachRecord(**{**values, **kw})


def test_the_start_post_in_full() -> None:
    msg = start_message(silence(), delivery())
    assert_message(msg)
    assert msg == {
        "text": "S-3: CSAT alerts of Delivery Ops silenced until Mon 2 Dec 13:11 EST by <@U0SUPER1> — "
        "courier strike",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": ":no_bell: *S-3*: *CSAT alerts* of Delivery Ops silenced until Mon 2 Dec "
                    "13:11 EST by <@U0SUPER1> — courier strike",
                },
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "Rules: csat below 80 over 1d, csat below 70 over 1w · for 4h. Breaches "
                        "are still recorded but open no case; cases already open still escalate. "
                        "`/feedback unsilence S-3` ends it early.",
                    }
                ],
            },
        ],
    }


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("all", "All alerts"),
        ("cases", "Cases alerts"),
        ("complaints:late_delivery", "Complaints (late_delivery) alerts"),
        ("spc:csat", "CSAT SPC signals"),
        ("spc", "SPC signals"),
        ("spc:complaints:late_delivery", "Complaints (late_delivery) SPC signals"),
    ],
)
def test_what_is_silenced_in_words(pattern: str, words: str) -> None:
    assert silenced_what(pattern) == words


def test_the_end_post_when_ended_early_says_by_whom_and_what_was_kept_quiet() -> None:
    ended = silence(ended_at=T0 + HOUR, ended_by="U0LEADER1", ended_source="command", version=2)
    breaches = [
        breach("csat below 80 over 1d", 5, 40, recovered=True),
        breach("cases above 10 over 1h", 50, 59, recovered=False, value=14, n=200),
    ]
    msg = end_message(SilenceDetail(ended, breaches), delivery())
    assert_message(msg)
    assert (
        msg["text"] == "S-3: the silence of CSAT alerts of Delivery Ops ended early by <@U0LEADER1>"
    )
    assert [b["type"] for b in msg["blocks"]] == ["section", "context", "section", "context"]
    assert msg["blocks"][1]["elements"][0]["text"] == (
        "Silenced Mon 2 Dec 09:11 EST – Mon 2 Dec 10:11 EST (1h) by <@U0SUPER1> — courier strike"
    )
    assert msg["blocks"][2]["text"]["text"] == (
        "*2 breaches recorded while silenced:*\n"
        "• csat below 80 over 1d: 72.4, n 31 · Mon 2 Dec 09:16 EST – Mon 2 Dec 09:51 EST (recovered)\n"
        "• cases above 10 over 1h: 14, n 200 · Mon 2 Dec 10:01 EST – Mon 2 Dec 10:10 EST"
    )
    assert msg["blocks"][3]["elements"][0]["text"].startswith(
        "Still breached when the silence ended: cases above 10 over 1h. A case opens"
    )


def test_the_end_post_by_time_without_breaches() -> None:
    expired = silence(ended_at=T0 + 4 * HOUR, ended_by="loopbot", ended_source="job", version=2)
    msg = end_message(SilenceDetail(expired, []), delivery())
    assert_message(msg)
    assert msg["blocks"][0]["text"]["text"] == (
        ":bell: *S-3*: the silence of *CSAT alerts* of Delivery Ops ended"
    )
    assert "(4h)" in msg["blocks"][1]["elements"][0]["text"]
    assert msg["blocks"][2] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "No breach was recorded while silenced."}],
    }


def test_the_end_post_counts_what_it_cannot_list() -> None:
    ended = silence(ended_at=T0 + HOUR, ended_by="U0SUPER1")
    many = [breach("csat below 80 over 1d", i, i, recovered=True) for i in range(25)]
    msg = end_message(SilenceDetail(ended, many), delivery())
    assert_message(msg)
    lines = msg["blocks"][2]["text"]["text"].split("\n")
    assert lines[0] == "*25 breaches recorded while silenced:*"
    assert len(lines) == 12 and lines[-1] == "and 15 more"
    assert len(msg["blocks"]) == 3  # all recovered: nothing still breached


def test_the_silences_answer_names_teams_only_when_there_are_several() -> None:
    one = silences_answer(
        [silence(breaches=2)], title="Silences of Delivery Ops", teams=teams(), now=T0 + 30 * MIN
    )
    assert_message(one)
    assert one["text"] == "Silences of Delivery Ops: 1 active silence"
    assert one["blocks"][1]["text"]["text"] == (
        "• *S-3* · `csat` · until Mon 2 Dec 13:11 EST (3h 30m left) · by <@U0SUPER1> — courier strike"
        " · 2 breaches recorded"
    )
    assert one["blocks"][2]["elements"][0]["text"] == "`/feedback unsilence S-n` ends one early."
    both = silences_answer(
        [silence(), silence(id=4, team="support", pattern="all", created_by="U0LEADER1")],
        title="Active silences",
        teams=teams(),
        now=T0,
        command="/cx",
    )
    assert_message(both)
    lines = both["blocks"][1]["text"]["text"].split("\n")
    assert lines[0].startswith(
        "• *S-3* · Delivery Ops · `csat` · until Mon 2 Dec 13:11 EST (4h left)"
    )
    assert lines[1].startswith("• *S-4* · Support · `all` · until Mon 2 Dec 18:11 UTC")
    assert both["blocks"][2]["elements"][0]["text"] == "`/cx unsilence S-n` ends one early."


def test_an_empty_answer_says_how_to_start_one() -> None:
    msg = silences_answer([], title="Silences of Support", teams=teams(), now=T0)
    assert_message(msg)
    assert msg == {
        "text": "Silences of Support: none",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*Silences of Support*\nNothing is silenced. `/feedback silence TEAM "
                    "RULE|all DURATION REASON` starts a silence.",
                },
            }
        ],
    }


def test_a_long_answer_stays_within_slacks_limits() -> None:
    many = [silence(id=i, reason="r" * 120) for i in range(1, 1001)]
    msg = silences_answer(many, title="Active silences", teams=teams(), now=T0)
    assert_message(msg)
    shown = sum(b["text"]["text"].count("• *S-") for b in msg["blocks"][1:-1])
    assert msg["blocks"][-1]["elements"][0]["text"] == (
        f"{1000 - shown} more, not shown. `/feedback unsilence S-n` ends one early."
    )


def test_digest_and_app_home_lines() -> None:
    assert digest_silence_lines(
        [silence(breaches=1), silence(id=4, pattern="spc")], delivery()
    ) == [
        ":no_bell: *S-3* CSAT alerts silenced until Mon 2 Dec 13:11 EST by <@U0SUPER1> — courier "
        "strike (1 breach recorded)",
        ":no_bell: *S-4* SPC signals silenced until Mon 2 Dec 13:11 EST by <@U0SUPER1> — courier strike",
    ]
    assert home_silence_blocks([], teams(), now=T0) == []
    home = home_silence_blocks([silence(id=i) for i in range(12)], teams(), now=T0)
    assert_message({"text": "home", "blocks": home})
    assert home[0]["text"]["text"] == "Silenced alerts"
    assert len(home[1]["text"]["text"].split("\n")) == 10
    assert home[2]["elements"][0]["text"] == "and 2 more — `/feedback silences`"


def test_reasons_rules_and_team_names_are_escaped() -> None:
    team = delivery().model_copy(update={"name": "Ops <!channel> & co"})
    evil = silence(
        reason=ATTACK,
        rules=(ATTACK,),
        pattern="complaints:<!here>",
        created_by="<!everyone>",
        ended_at=T0 + HOUR,
        ended_by="<@U999>",
    )
    details = SilenceDetail(evil, [breach(ATTACK, 1, 2, recovered=False)])
    for msg in (
        start_message(evil, team, command="/x <!channel>"),
        end_message(details, team),
        silences_answer([evil], title=ATTACK, teams={"delivery": team}, now=T0),
        {"text": "x", "blocks": home_silence_blocks([evil], {"delivery": team}, now=T0)},
        {
            "text": "x",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": line}}
                for line in digest_silence_lines([evil], team)
            ],
        },
    ):
        assert_message(msg)
        no_foreign_markup(msg)


def test_a_reason_of_ampersands_keeps_the_post_under_slacks_limit() -> None:
    msg = start_message(replace(silence(), reason="&" * 500), delivery())
    assert_message(msg)
    assert len(msg["blocks"][0]["text"]["text"]) <= 3000
