"""The Web API through the real slack_sdk WebClient: auth, JSON and form bodies, messages, threads, Block Kit checks."""

from __future__ import annotations

import json

import httpx
import pytest
from slack_sdk.errors import SlackApiError

from tests.emulator import actions, button, section, slack_error, web


def test_auth_test_answers_as_the_bot(emu):
    answer = web(emu).auth_test()
    assert answer["ok"] is True
    assert (answer["team_id"], answer["user_id"], answer["bot_id"]) == (
        "T0LOOPBOT",
        "U0LOOPBOT",
        "B0LOOPBOT",
    )
    assert answer["url"].startswith("https://")


def test_tokens_are_checked_like_slack(emu):
    assert slack_error(lambda: web(emu, token="xoxb-wrong").auth_test())["error"] == "invalid_auth"
    assert (
        slack_error(
            lambda: web(emu, token=emu.app_token).chat_postMessage(channel="C0DELIVERY", text="x")
        )["error"]
        == "not_allowed_token_type"
    )
    assert (
        slack_error(lambda: web(emu).apps_connections_open(app_token=emu.bot_token))["error"]
        == "not_allowed_token_type"
    )
    answer = httpx.post(emu.api_url + "auth.test")
    assert (answer.status_code, answer.json()) == (200, {"ok": False, "error": "not_authed"})


def test_unknown_method(emu):
    assert (
        slack_error(lambda: web(emu).api_call("chat.postMesage", json={"channel": "C0DELIVERY"}))[
            "error"
        ]
        == "unknown_method"
    )


def test_json_and_form_bodies_are_both_understood(emu):
    blocks = [section("*FB-1*")]
    as_json = web(emu).chat_postMessage(channel="C0DELIVERY", text="one", blocks=blocks)
    # A form body carries blocks as a JSON string and may carry the token as a field.
    as_form = httpx.post(
        emu.api_url + "chat.postMessage",
        data={
            "token": emu.bot_token,
            "channel": "C0DELIVERY",
            "text": "two",
            "blocks": json.dumps(blocks),
        },
    ).json()
    assert as_json["ok"] and as_form["ok"]
    posted = emu.messages("C0DELIVERY")
    assert [m["text"] for m in posted] == ["one", "two"]
    assert posted[1]["blocks"][0]["text"]["text"] == "*FB-1*"
    json_call, form_call = emu.calls_to("chat.postMessage")
    assert (
        json_call.content_type == "application/json"
        and form_call.content_type == "application/x-www-form-urlencoded"
    )
    assert (
        form_call.args["blocks"] == json_call.args["blocks"][:1] and "token" not in form_call.args
    )


def test_a_malformed_blocks_string_is_refused(emu):
    answer = httpx.post(
        emu.api_url + "chat.postMessage",
        headers={"Authorization": f"Bearer {emu.bot_token}"},
        data={"channel": "C0DELIVERY", "blocks": "[{not json"},
    ).json()
    assert answer == {"ok": False, "error": "invalid_blocks_format"}


def test_post_message_returns_increasing_unique_ts_and_the_message(emu):
    client = web(emu)
    answers = [client.chat_postMessage(channel="#delivery", text=f"m{i}") for i in range(5)]
    stamps = [a["ts"] for a in answers]
    assert stamps == sorted(stamps) and len(set(stamps)) == 5
    assert all(len(ts.split(".")[1]) == 6 for ts in stamps)
    assert answers[0]["channel"] == "C0DELIVERY" and answers[0]["message"]["text"] == "m0"
    assert answers[0]["message"]["bot_id"] == "B0LOOPBOT"


def test_channel_errors(emu):
    client = web(emu)
    assert (
        slack_error(lambda: client.chat_postMessage(channel="C0NOWHERE", text="x"))["error"]
        == "channel_not_found"
    )
    assert (
        slack_error(lambda: client.chat_postMessage(channel="C0PRIVATE", text="x"))["error"]
        == "not_in_channel"
    )
    assert (
        slack_error(lambda: client.api_call("chat.postMessage", json={"channel": "C0DELIVERY"}))[
            "error"
        ]
        == "no_text"
    )
    assert emu.messages("C0DELIVERY") == []


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        ([{"type": "divider"}] * 51, "blocks: must have at most 50 blocks (got 51)"),
        ([{"type": "fancy"}], "blocks[0].type: unknown block type 'fancy'"),
        (
            [{"type": "section", "txet": {"type": "mrkdwn", "text": "x"}}],
            "blocks[0].txet: unknown field for a section block",
        ),
        (
            [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
            "blocks[0].text.text: must be at most 150 characters",
        ),
    ],
)
def test_invalid_blocks_are_refused_with_the_reasons(emu, blocks, expected):
    refused = slack_error(
        lambda: web(emu).chat_postMessage(channel="C0DELIVERY", text="x", blocks=blocks)
    )
    assert refused["error"] == "invalid_blocks"
    assert expected in refused["errors"]
    assert f"[ERROR] {expected}" in refused["response_metadata"]["messages"]
    assert emu.messages("C0DELIVERY") == []
    assert emu.calls_to("chat.postMessage")[0].error == "invalid_blocks"


def test_update_replaces_in_place_and_keeps_ts(emu):
    client = web(emu)
    posted = client.chat_postMessage(
        channel="C0DELIVERY", text="FB-1 open", blocks=[section("open"), actions(button("ack"))]
    )
    updated = client.chat_update(
        channel="C0DELIVERY", ts=posted["ts"], text="FB-1 acknowledged", blocks=[section("acked")]
    )
    assert updated["ts"] == posted["ts"]
    [only] = emu.messages("C0DELIVERY")
    assert only["ts"] == posted["ts"] and only["text"] == "FB-1 acknowledged"
    assert [b["type"] for b in only["blocks"]] == ["section"] and "edited" in only
    # Fields left out of chat.update keep their value, as in Slack.
    client.chat_update(channel="C0DELIVERY", ts=posted["ts"], text="FB-1 acked by agent one")
    assert emu.message("C0DELIVERY", posted["ts"])["blocks"][0]["text"]["text"] == "acked"
    assert (
        slack_error(lambda: client.chat_update(channel="C0DELIVERY", ts="1.000001", text="x"))[
            "error"
        ]
        == "message_not_found"
    )
    bad = slack_error(
        lambda: client.chat_update(
            channel="C0DELIVERY", ts=posted["ts"], text="x", blocks=[{"type": "nope"}]
        )
    )
    assert bad["error"] == "invalid_blocks"


def test_threads_record_replies_and_count_them_on_the_parent(emu):
    client = web(emu)
    parent = client.chat_postMessage(channel="C0DELIVERY", text="FB-1")["ts"]
    first = client.chat_postMessage(channel="C0DELIVERY", text="acknowledged", thread_ts=parent)
    # A reply to a reply lands in the same thread.
    client.chat_postMessage(channel="C0DELIVERY", text="resolved", thread_ts=first["ts"])
    assert [m["text"] for m in emu.replies("C0DELIVERY", parent)] == ["acknowledged", "resolved"]
    assert all(m["thread_ts"] == parent for m in emu.replies("C0DELIVERY", parent))
    top = emu.message("C0DELIVERY", parent)
    assert (top["reply_count"], top["latest_reply"]) == (
        2,
        emu.replies("C0DELIVERY", parent)[-1]["ts"],
    )
    assert [m["ts"] for m in emu.messages("C0DELIVERY")] == [parent]
    assert (
        slack_error(
            lambda: client.chat_postMessage(channel="C0DELIVERY", text="x", thread_ts="9.000009")
        )["error"]
        == "thread_not_found"
    )


def test_ephemerals_are_kept_per_channel_and_user(emu):
    client = web(emu)
    answer = client.chat_postEphemeral(channel="C0DELIVERY", user="U0AGENT1", text="only you")
    client.chat_postEphemeral(channel="C0SUPPORT", user="U0SUPER1", text="someone else")
    assert answer["message_ts"]
    [mine] = emu.ephemerals(channel="C0DELIVERY", user="U0AGENT1")
    assert mine["text"] == "only you" and mine["ts"] == answer["message_ts"]
    assert len(emu.ephemerals()) == 2 and emu.messages("C0DELIVERY") == []
    assert (
        slack_error(
            lambda: client.chat_postEphemeral(channel="C0DELIVERY", user="U0NOBODY", text="x")
        )["error"]
        == "user_not_found"
    )


def test_permalinks_point_at_the_message(emu):
    client = web(emu)
    ts = client.chat_postMessage(channel="C0DELIVERY", text="FB-1")["ts"]
    link = client.chat_getPermalink(channel="C0DELIVERY", message_ts=ts)["permalink"]
    assert link.endswith(f"/archives/C0DELIVERY/p{ts.replace('.', '')}")
    assert (
        slack_error(lambda: client.chat_getPermalink(channel="C0DELIVERY", message_ts="1.000002"))[
            "error"
        ]
        == "message_not_found"
    )


def test_users_and_conversations_come_from_the_configuration(emu):
    client = web(emu)
    agent = client.users_info(user="U0AGENT1")["user"]
    assert (agent["real_name"], agent["name"], agent["is_bot"], agent["tz"]) == (
        "agent one",
        "agent.one",
        False,
        "UTC",
    )
    assert client.users_info(user="U0SUPER1")["user"]["tz"] == "America/New_York"
    assert slack_error(lambda: client.users_info(user="U0GHOST"))["error"] == "user_not_found"
    channel = client.conversations_info(channel="C0DELIVERY")["channel"]
    assert (channel["name"], channel["is_member"]) == ("delivery", True)
    assert client.conversations_info(channel="C0PRIVATE")["channel"]["is_member"] is False
    assert (
        slack_error(lambda: client.conversations_info(channel="C0GONE"))["error"]
        == "channel_not_found"
    )


def test_every_call_is_recorded_with_decoded_arguments(emu):
    client = web(emu)
    client.chat_postMessage(
        channel="C0DELIVERY",
        text="x",
        metadata={"event_type": "case_opened", "event_payload": {"id": 1}},
    )
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C0NOWHERE", text="x")
    ok, failed = emu.calls_to("chat.postMessage")
    assert ok.ok and ok.args["metadata"]["event_payload"] == {"id": 1} and ok.status == 200
    assert (failed.ok, failed.error) == (False, "channel_not_found")
    assert emu.messages("C0DELIVERY")[0]["metadata"]["event_type"] == "case_opened"
    assert [c.method for c in emu.calls] == ["chat.postMessage", "chat.postMessage"]
