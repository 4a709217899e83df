"""The one fitting pass: mrkdwn cut whole, lists that stop at a budget and count the rest, long texts
giving way, and Slack's per-element limits as a net."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.slack.blocks.fit import Listing, _shares, fit, fit_message, fit_view
from bot.slack.blocks.limits import MESSAGE_CHARS, clamp, shrink, size
from bot.slack.blocks.text import cut, escape
from tests.unit.limits_check import TEXTS, assert_message, assert_view, note_count

FEW = settings(max_examples=50, deadline=None)


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


@FEW
@given(TEXTS, st.integers(1, 3_000))
def test_cut_stays_within_the_limit_and_leaves_no_half_markup(raw: str, limit: int) -> None:
    text = escape(raw) + " <@U0AGENT1> <!date^1^{date}|today> ```code```"
    out = cut(text, limit)
    assert len(out) <= limit
    if len(text) <= limit:
        assert out == text
        return
    assert out.endswith("…") or out.endswith("```")
    assert re.search(r"&[a-z]{0,3}…", out) is None  # no "&am…"
    assert out.count("<") == out.count(">")  # every mention or date whole, or gone
    assert out.count("```") % 2 == 0  # a code block it opened is closed


@FEW
@given(
    st.integers(0, 400),
    st.lists(TEXTS, min_size=1, max_size=5),
    st.integers(0, 500),
    st.integers(2, 50),
    st.integers(500, 20_000),
    st.booleans(),
    st.booleans(),
)
def test_a_listing_counts_what_it_leaves_out(
    count: int, raw: list[str], extra: int, blocks: int, chars: int, latest: bool, inline: bool
) -> None:
    lines = [f"• {i} {escape(raw[i % len(raw)])}" for i in range(count)]
    total = len(lines) + extra
    listing = Listing(
        lines, lambda n: f"…and {n} more" if n else "", total=total, latest=latest, inline=inline
    )
    out = fit([section("*Head*"), listing, context("legend")], max_blocks=blocks, max_chars=chars)
    assert len(out) <= blocks and size(out) <= chars
    texts = [e["text"] for b in out for e in ([b["text"]] if "text" in b else b["elements"])]
    shown = [int(m) for t in texts for m in re.findall(r"^• (\d+) ", t, re.M)]
    notes = [n for t in texts for n in [note_count(t, "more")] if n is not None]
    assert len(shown) + sum(notes) == total
    if shown:  # the first lines, or the latest ones for a timeline
        expected = range(len(lines) - len(shown), len(lines)) if latest else range(len(shown))
        assert shown == list(expected)


def test_lists_share_the_room_fairly_and_long_texts_give_way() -> None:
    assert _shares(100, [10, 500, 500]) == [10, 45, 45]
    assert _shares(0, [10, 20]) == [0, 0]
    verbatim = section("&amp;" * 3_000)
    button = {
        "type": "actions",
        "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "Ack"}, "action_id": "a"}
        ],
    }
    long_lines = Listing([f"• {i} " + "x" * 500 for i in range(200)], reserve=4_000)
    out = fit([section("*FB-1*"), verbatim, verbatim, verbatim, verbatim, long_lines, button])
    assert size(out) <= MESSAGE_CHARS
    assert out[0] == section("*FB-1*") and out[-1] == button  # short blocks stay whole
    assert all("&am…" not in b.get("text", {}).get("text", "") for b in out)
    listed = sum(b["text"]["text"].count("• ") for b in out if b["type"] == "section")
    assert listed >= 4_000 // 600  # the reserve keeps room for the list
    assert note_count(out[-2]["elements"][0]["text"], "more") == 200 - listed


def test_the_net_cuts_every_element_to_slacks_limit() -> None:
    option = {"text": {"type": "plain_text", "text": "o" * 200}, "value": "v"}
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "h" * 500}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "s" * 5_000},
            "fields": [{"type": "mrkdwn", "text": "f" * 3_000}] * 12,
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "c" * 3_000}] * 12},
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "b" * 100},
                    "action_id": "b",
                },
                {
                    "type": "static_select",
                    "action_id": "s",
                    "options": [option],
                    "initial_option": option,
                },
            ],
        },
    ]
    header, sec, ctx, actions = (clamp(b) for b in blocks)
    assert len(header["text"]["text"]) == 150
    assert len(sec["text"]["text"]) == 3_000 and len(sec["fields"]) == 10
    assert {len(f["text"]) for f in sec["fields"]} == {2_000}
    assert len(ctx["elements"]) == 10 and {len(e["text"]) for e in ctx["elements"]} == {2_000}
    button, select = actions["elements"]
    assert len(button["text"]["text"]) == 75
    assert len(select["options"][0]["text"]["text"]) == 75
    assert select["initial_option"] == select["options"][0]
    assert_view({"type": "home", "blocks": [header, sec, ctx, actions]})


def test_shrink_cuts_the_longest_texts_to_one_length() -> None:
    blocks = [section("short"), section("a" * 2_900), section("b" * 2_000)]
    out = shrink(blocks, 3_000)
    assert out[0] == blocks[0]
    long_a, long_b = (len(b["text"]["text"]) for b in out[1:])
    assert long_a == long_b < 2_000 and size(out) <= 3_000


def test_messages_and_views_from_anything() -> None:
    msg = fit_message("x" * 50_000, [Listing([f"• {i}" for i in range(5_000)])])
    assert_message(msg)
    view = fit_view(
        {"type": "modal", "title": {"type": "plain_text", "text": "A title far too long"}},
        [section("x")] * 150,
    )
    assert len(view["blocks"]) == 100 and len(view["title"]["text"]) <= 24
    assert_view(view | {"title": view["title"]})
