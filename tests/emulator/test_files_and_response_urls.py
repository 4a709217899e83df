"""File uploads through files_upload_v2, and response_urls: five uses in thirty minutes, replace, delete, in_channel."""

from __future__ import annotations

import httpx
import pytest
from slack_sdk.errors import SlackApiError

from tests.emulator import actions, button, section, web

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def test_files_upload_v2_shares_the_file_in_the_channel(emu):
    answer = web(emu).files_upload_v2(
        channel="C0DELIVERY",
        content=PNG,
        filename="csat.png",
        title="CSAT, 30 days",
        initial_comment="Chart for delivery",
    )
    file_id = answer["file"]["id"]
    assert [c.method for c in emu.calls] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]
    stored = emu.file(file_id)
    assert stored["content"] == PNG and stored["title"] == "CSAT, 30 days" and stored["completed"]
    [message] = emu.messages("C0DELIVERY")
    assert message["text"] == "Chart for delivery"
    assert [(f["id"], f["name"], f["mimetype"], f["size"]) for f in message["files"]] == [
        (file_id, "csat.png", "image/png", len(PNG))
    ]
    download = httpx.get(
        message["files"][0]["url_private"], headers={"Authorization": f"Bearer {emu.bot_token}"}
    )
    assert download.content == PNG


def test_files_can_go_into_a_thread(emu):
    client = web(emu)
    parent = client.chat_postMessage(channel="C0DELIVERY", text="FB-3")["ts"]
    client.files_upload_v2(
        channel="C0DELIVERY", content=b"a,b\n1,2\n", filename="cases.csv", thread_ts=parent
    )
    [reply] = emu.replies("C0DELIVERY", parent)
    assert reply["files"][0]["name"] == "cases.csv"
    assert emu.file(reply["files"][0]["id"])["content"] == b"a,b\n1,2\n"


def test_completing_an_upload_that_never_happened_fails(emu):
    client = web(emu)
    file_id = client.files_getUploadURLExternal(filename="x.png", length=3)["file_id"]
    with pytest.raises(SlackApiError) as caught:
        client.files_completeUploadExternal(
            files=[{"id": file_id, "title": "x"}], channel_id="C0DELIVERY"
        )
    assert caught.value.response["error"] == "file_not_found"
    assert emu.messages("C0DELIVERY") == []


def test_a_response_url_takes_five_posts_then_refuses(emu):
    url = emu.new_response_url("C0DELIVERY", "U0AGENT1")
    answers = [httpx.post(url, json={"text": f"answer {i}"}) for i in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [404]
    assert answers[-1].json()["error"] == "used_url"
    assert [e["text"] for e in emu.ephemerals("C0DELIVERY", "U0AGENT1")] == [
        f"answer {i}" for i in range(5)
    ]
    assert [c.status for c in emu.calls_to("response_url")] == [200] * 5 + [404]


def test_a_response_url_expires_after_thirty_minutes(emu):
    url = emu.new_response_url("C0DELIVERY", "U0AGENT1")
    emu.workspace.age_response_url(url.rsplit("/", 1)[1], 30 * 60 + 1)
    answer = httpx.post(url, json={"text": "too late"})
    assert (answer.status_code, answer.json()["error"]) == (404, "expired_url")
    assert emu.ephemerals() == []


def test_in_channel_responses_post_to_the_channel(emu):
    url = emu.new_response_url("C0DELIVERY", "U0AGENT1")
    assert (
        httpx.post(url, json={"text": "FB-1 resolved", "response_type": "in_channel"}).status_code
        == 200
    )
    assert [m["text"] for m in emu.messages("C0DELIVERY")] == ["FB-1 resolved"]
    assert emu.ephemerals() == []


def test_replace_and_delete_original_act_on_the_clicked_message(emu):
    ts = web(emu).chat_postMessage(
        channel="C0DELIVERY", text="FB-1", blocks=[section("open"), actions(button("ack"))]
    )["ts"]
    url = emu.new_response_url("C0DELIVERY", "U0AGENT1", ts)
    httpx.post(
        url, json={"replace_original": True, "text": "FB-1 acked", "blocks": [section("acked")]}
    )
    replaced = emu.message("C0DELIVERY", ts)
    assert replaced["text"] == "FB-1 acked" and [b["type"] for b in replaced["blocks"]] == [
        "section"
    ]
    httpx.post(url, json={"delete_original": True})
    assert emu.messages("C0DELIVERY") == []


def test_response_url_bodies_are_validated(emu):
    url = emu.new_response_url("C0DELIVERY", "U0AGENT1")
    bad = httpx.post(url, json={"text": "x", "blocks": [{"type": "section", "txet": {}}]})
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_blocks")
    assert httpx.post(url, json={}).json()["error"] == "no_text"
    assert emu.ephemerals() == []
