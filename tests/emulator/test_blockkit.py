"""Block Kit validation: Slack's limits, unknown types and misspelled keys are refused with the path named."""

from __future__ import annotations

import pytest

from slack_emulator.blockkit import message_errors, view_errors
from tests.emulator import actions, button, section


def plain(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def option(value: str) -> dict:
    return {"text": plain(value.title()), "value": value}


CASE_MESSAGE = [
    {"type": "header", "text": plain("FB-12 · Delivery Ops")},
    section("*CSAT 1* · late delivery", fields=[{"type": "mrkdwn", "text": "*Segment*\nVIP"}]),
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "Submitted 09:12"}]},
    {"type": "divider"},
    actions(
        button("case_ack", "Acknowledge", "12"),
        button("case_resolve", "Resolve…", "12"),
        {"type": "overflow", "action_id": "more", "options": [option("reopen")]},
    ),
    {
        "type": "rich_text",
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": "hi"}]}],
    },
]

RESOLVE_MODAL = {
    "type": "modal",
    "callback_id": "resolve",
    "private_metadata": '{"case": 12}',
    "title": plain("Resolve FB-12"),
    "submit": plain("Resolve"),
    "close": plain("Cancel"),
    "blocks": [
        {
            "type": "input",
            "block_id": "cause",
            "label": plain("Root cause"),
            "element": {
                "type": "static_select",
                "action_id": "cause",
                "options": [option("process"), option("people")],
                "initial_option": option("process"),
            },
        },
        {
            "type": "input",
            "block_id": "action",
            "label": plain("Action taken"),
            "optional": True,
            "element": {
                "type": "plain_text_input",
                "action_id": "action",
                "multiline": True,
                "max_length": 2000,
            },
        },
        {
            "type": "input",
            "block_id": "owner",
            "label": plain("Owner"),
            "element": {"type": "users_select", "action_id": "owner"},
        },
    ],
}


def test_a_case_message_a_modal_and_a_home_tab_are_valid():
    assert message_errors(CASE_MESSAGE, "FB-12 opened") == []
    assert view_errors(RESOLVE_MODAL) == []
    assert view_errors({"type": "home", "blocks": CASE_MESSAGE}) == []


def test_text_alone_is_a_message_and_nothing_is_not():
    assert message_errors(None, "hello") == []
    assert message_errors(None, None) == ["message: must have text or blocks"]
    assert message_errors([], "") == ["message: must have text or blocks"]


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        ([{"type": "divider"}] * 51, "blocks: must have at most 50 blocks (got 51)"),
        ([{"type": "carousel_of_doom"}], "blocks[0].type: unknown block type 'carousel_of_doom'"),
        (
            [{"type": "section", "txet": {"type": "mrkdwn", "text": "hi"}}],
            "blocks[0].txet: unknown field for a section block",
        ),
        (
            [{"type": "header", "text": plain("x" * 151)}],
            "blocks[0].text.text: must be at most 150 characters",
        ),
        (
            [{"type": "header", "text": {"type": "mrkdwn", "text": "*x*"}}],
            "blocks[0].text.type: must be plain_text",
        ),
        (
            [{"type": "divider"}, section("x" * 3001)],
            "blocks[1].text.text: must be at most 3000 characters",
        ),
        (
            [section("x", fields=[{"type": "mrkdwn", "text": "f"}] * 11)],
            "blocks[0].fields: must be an array of 1 to 10 text objects",
        ),
        (
            [section("x", fields=[{"type": "mrkdwn", "text": "f" * 2001}])],
            "blocks[0].fields[0].text: must be at most 2000 characters",
        ),
        ([{"type": "section", "text": "bare string"}], "blocks[0].text: must be a text object"),
        (
            [{"type": "section", "text": {"type": "mrkdwn", "text": "x", "emoji": True}}],
            "blocks[0].text.emoji: unknown field for a mrkdwn text object",
        ),
        (
            [actions(button("a", "x" * 76))],
            "blocks[0].elements[0].text.text: must be at most 75 characters",
        ),
        (
            [actions(button("a", "ok", "v" * 2001))],
            "blocks[0].elements[0].value: must be at most 2000 characters",
        ),
        (
            [actions(button("a" * 256))],
            "blocks[0].elements[0].action_id: must be at most 255 characters",
        ),
        (
            [actions(*[button(f"b{i}") for i in range(26)])],
            "blocks[0].elements: must have at most 25 items",
        ),
        (
            [actions(button("same"), button("same"))],
            "blocks[0].elements: duplicate action_id 'same'",
        ),
        (
            [actions({"type": "buton", "action_id": "a", "text": plain("x")})],
            "blocks[0].elements[0].type: unknown element type 'buton'",
        ),
        (
            [actions({"type": "plain_text_input", "action_id": "a"})],
            "blocks[0].elements[0].type: plain_text_input is not allowed here",
        ),
        (
            [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
            "blocks[0].elements: must have at most 10 items",
        ),
        ([section("x", block_id="b" * 256)], "blocks[0].block_id: must be at most 255 characters"),
        (
            [section("x", block_id="dup"), section("y", block_id="dup")],
            "blocks[1].block_id: duplicate block_id 'dup'",
        ),
        ([RESOLVE_MODAL["blocks"][1]], "blocks[0].type: input blocks are only allowed in modals"),
        (
            [
                actions(
                    {
                        "type": "static_select",
                        "action_id": "s",
                        "options": [option("a")],
                        "initial_option": option("b"),
                    }
                )
            ],
            "blocks[0].elements[0].initial_option: must be one of the element's options",
        ),
    ],
)
def test_message_blocks_slack_would_refuse(blocks, expected):
    errors = message_errors(blocks, "fallback")
    assert expected in errors, errors


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"title": plain("x" * 25)}, "view.title.text: must be at most 24 characters"),
        (
            {"submit": plain("Resolve this case now, please")},
            "view.submit.text: must be at most 24 characters",
        ),
        ({"close": plain("c" * 25)}, "view.close.text: must be at most 24 characters"),
        ({"title": None}, "view.title: is required"),
        ({"callback_id": "c" * 256}, "view.callback_id: must be at most 255 characters"),
        (
            {"private_metadata": "m" * 3001},
            "view.private_metadata: must be at most 3000 characters",
        ),
        ({"submit": None}, "view.submit: is required when the modal has input blocks"),
        ({"type": "dialog"}, "view.type: must be modal or home"),
        ({"calback_id": "x"}, "view.calback_id: unknown field for a modal view"),
        (
            {"blocks": [{"type": "divider"}] * 101},
            "view.blocks: must have at most 100 blocks (got 101)",
        ),
    ],
)
def test_modals_slack_would_refuse(change, expected):
    errors = view_errors({**RESOLVE_MODAL, **change})
    assert expected in errors, errors


def test_a_view_may_hold_100_blocks_where_a_message_holds_50():
    blocks = [{"type": "divider"}] * 100
    assert view_errors({"type": "home", "blocks": blocks}) == []
    assert message_errors(blocks, "x") == ["blocks: must have at most 50 blocks (got 100)"]


def test_home_tabs_take_no_inputs_or_title():
    errors = view_errors(
        {"type": "home", "title": plain("Home"), "blocks": RESOLVE_MODAL["blocks"][:1]}
    )
    assert "view.title: unknown field for a home view" in errors
    assert "view.blocks[0].type: input blocks are only allowed in modals" in errors


def test_confirm_dialogs_are_checked():
    confirm = {
        "title": plain("t" * 101),
        "text": plain("sure?"),
        "confirm": plain("Yes"),
        "deny": plain("No"),
    }
    errors = message_errors([actions({**button("a"), "confirm": confirm})], "x")
    assert errors == ["blocks[0].elements[0].confirm.title.text: must be at most 100 characters"]


def test_slack_sdk_model_checks_are_kept():
    # Time formats are one of the limits only slack_sdk's models spell out.
    errors = message_errors(
        [actions({"type": "timepicker", "action_id": "at", "initial_time": "noon"})], "x"
    )
    assert errors == ["blocks[0]: initial_time attribute must be in format 'HH:mm'"]


def test_a_datepicker_wants_a_real_date():
    # slack_sdk only checks the pattern; Slack's picker cannot show a 30 February.
    for bad in ("tomorrow", "2024-02-30", "2024-2-3"):
        errors = message_errors(
            [actions({"type": "datepicker", "action_id": "due", "initial_date": bad})], "x"
        )
        assert errors == [
            "blocks[0].elements[0].initial_date: must be a real date written YYYY-MM-DD"
        ], bad
    good = {"type": "datepicker", "action_id": "due", "initial_date": "2024-02-29"}
    assert message_errors([actions(good)], "x") == []
