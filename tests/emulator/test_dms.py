"""Direct messages: chat.postMessage to a user id lands in the bot's DM with that person, a D… channel."""

from __future__ import annotations

from tests.emulator import actions, button, slack_error, web


def test_a_post_to_a_user_id_goes_to_the_dm_and_answers_with_its_d_id(emu):
    client = web(emu)
    answer = client.chat_postMessage(channel="U0AGENT1", text="FB-7 is yours")
    dm = answer["channel"]
    assert dm.startswith("D") and dm != "U0AGENT1"
    assert answer["message"]["text"] == "FB-7 is yours" and answer["message"]["bot_id"]
    assert [m["text"] for m in emu.messages(dm)] == ["FB-7 is yours"]
    assert emu.messages("C0DELIVERY") == [] and emu.messages("C0SUPPORT") == []
    # The same person's DM every time; another person has their own.
    assert client.chat_postMessage(channel="U0AGENT1", text="again")["channel"] == dm
    other = client.chat_postMessage(channel="U0SUPER1", text="for the supervisor")["channel"]
    assert other.startswith("D") and other != dm
    assert [m["text"] for m in emu.messages(dm)] == ["FB-7 is yours", "again"]
    info = client.conversations_info(channel=dm)["channel"]
    assert (info["is_im"], info["is_channel"], info["user"]) == (True, False, "U0AGENT1")
    assert (
        slack_error(lambda: client.chat_postMessage(channel="U0GHOST", text="x"))["error"]
        == "channel_not_found"
    )


def test_threads_and_updates_in_a_dm_work_like_in_a_channel(emu):
    client = web(emu)
    parent = client.chat_postMessage(channel="U0AGENT1", text="FB-7 is yours")
    dm, ts = parent["channel"], parent["ts"]
    client.chat_postMessage(channel=dm, text="by D id", thread_ts=ts)
    # Replying with the user id again reaches the same thread.
    client.chat_postMessage(channel="U0AGENT1", text="by user id", thread_ts=ts)
    assert [m["text"] for m in emu.replies(dm, ts)] == ["by D id", "by user id"]
    assert emu.message(dm, ts)["reply_count"] == 2
    assert [m["ts"] for m in emu.messages(dm)] == [ts]
    client.chat_update(channel=dm, ts=ts, text="FB-7 is yours (due Friday)")
    assert emu.message(dm, ts)["text"] == "FB-7 is yours (due Friday)"
    link = client.chat_getPermalink(channel=dm, message_ts=ts)["permalink"]
    assert f"/archives/{dm}/p" in link


def test_a_click_in_a_dm_names_the_dm_as_the_channel(emu, received):
    answer = web(emu).chat_postMessage(
        channel="U0AGENT1", text="FB-7", blocks=[actions(button("case_ack", "Ack", "7"))]
    )
    dm, ts = answer["channel"], answer["ts"]
    assert emu.click(dm, ts, "case_ack", "U0AGENT1").ok
    [payload] = received
    assert payload["channel"] == {"id": dm, "name": "directmessage"}
    assert payload["container"]["channel_id"] == dm and payload["message"]["ts"] == ts
