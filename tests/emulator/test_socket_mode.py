"""Socket Mode with the real slack_sdk client and a real Bolt SocketModeHandler: hello, envelopes, acks, refresh."""

from __future__ import annotations

import json

import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.response import SocketModeResponse
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.emulator import actions, button, close_client, feedback_app, running, section, web


@pytest.fixture
def sdk_client(emu):
    """The builtin SocketModeClient (what Bolt's SocketModeHandler runs), acking slash commands with a payload."""
    client = SocketModeClient(app_token=emu.app_token, web_client=web(emu))
    client.received = []

    def on_request(sm: SocketModeClient, request) -> None:
        sm.received.append(request)
        if request.type == "slash_commands":
            sm.send_socket_mode_response(
                SocketModeResponse(
                    envelope_id=request.envelope_id,
                    payload={"text": f"echo {request.payload['text']}"},
                )
            )

    client.socket_mode_request_listeners.append(on_request)
    client.message_listeners.append(lambda sm, message, raw: sm.received.append(message))
    client.connect()
    assert emu.wait_socket(10)
    yield client
    close_client(emu, client)


def test_the_client_connects_and_gets_hello(emu, sdk_client):
    assert emu.socket_connected and emu.socket_connections == 1
    assert len(emu.calls_to("apps.connections.open")) == 1
    emu.wait_for(
        lambda: any(isinstance(m, dict) and m.get("type") == "hello" for m in sdk_client.received),
        timeout=5,
    )
    hello = next(m for m in sdk_client.received if isinstance(m, dict) and m.get("type") == "hello")
    assert hello["connection_info"]["app_id"] == "A0LOOPBOT" and hello["num_connections"] == 1


def test_a_slash_command_envelope_is_acked_with_a_payload(emu, sdk_client):
    delivery = emu.slash_command("list open", "U0AGENT1", "C0DELIVERY")
    assert delivery.transport == "socket" and delivery.status == 200
    assert delivery.response == {"text": "echo list open"}
    [request] = [r for r in sdk_client.received if not isinstance(r, dict)]
    assert request.type == "slash_commands" and request.accepts_response_payload is True
    assert (
        request.payload["command"] == "/feedback" and request.payload["channel_id"] == "C0DELIVERY"
    )
    # What the app answered is what the person sees, only to them.
    assert [e["text"] for e in emu.ephemerals("C0DELIVERY", "U0AGENT1")] == ["echo list open"]


def test_the_client_reconnects_after_disconnect(emu, sdk_client):
    assert emu.socket_disconnect("refresh_requested") == 1
    assert emu.wait_socket(15, connections=2)
    assert len(emu.calls_to("apps.connections.open")) == 2
    assert emu.slash_command("after refresh", "U0AGENT1", "C0DELIVERY").response == {
        "text": "echo after refresh"
    }


def test_no_ack_within_the_deadline_is_reported():
    with running(ack_timeout=0.5) as emu:
        client = SocketModeClient(app_token=emu.app_token, web_client=web(emu))
        client.connect()
        try:
            assert emu.wait_socket(10)
            delivery = emu.slash_command("help", "U0AGENT1", "C0DELIVERY")
        finally:
            close_client(emu, client)
        assert (delivery.status, delivery.ok, delivery.response) == ("no ack", False, None)
        assert emu.ephemerals() == []


def test_a_socket_url_is_good_for_one_connection(emu):
    url = web(emu, token=emu.app_token).apps_connections_open(app_token=emu.app_token)["url"]
    with connect(url) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "hello"
    with pytest.raises(InvalidStatus):
        connect(url)
    with pytest.raises(InvalidStatus):
        connect(url.split("?")[0] + "?ticket=forged")


def test_bolt_socket_mode_handler_runs_commands_actions_and_views(emu):
    seen: list[dict] = []
    handler = SocketModeHandler(feedback_app(emu, seen), app_token=emu.app_token)
    handler.connect()
    try:
        assert emu.wait_socket(10)
        assert emu.slash_command("nonsense", "U0AGENT1", "C0DELIVERY").response == {
            "text": "usage: /feedback nonsense"
        }

        ts = web(emu).chat_postMessage(
            channel="C0DELIVERY",
            text="FB-1",
            blocks=[section("FB-1"), actions(button("case_ack", "Ack", "1"))],
        )["ts"]
        assert emu.click("C0DELIVERY", ts, "case_ack", "U0AGENT1").ok
        emu.wait_for(lambda: emu.message("C0DELIVERY", ts)["text"] == "FB-1 acknowledged")
        assert {"listener": "action", "value": "1", "user": "U0AGENT1"} in seen

        assert emu.slash_command("resolve", "U0SUPER1", "C0DELIVERY").ok
        [modal] = emu.wait_for(lambda: emu.open_views("U0SUPER1"))
        refused = emu.submit_view(modal["id"], "U0SUPER1", {"cause": {"cause": "people"}})
        assert refused.response == {
            "response_action": "errors",
            "errors": {"note": "Say what was done"},
        }
        assert emu.open_views("U0SUPER1"), "errors keep the modal open"
        done = emu.submit_view(
            modal["id"], "U0SUPER1", {"cause": {"cause": "people"}, "note": {"note": "called back"}}
        )
        assert done.ok and done.response is None and emu.open_views("U0SUPER1") == []
    finally:
        close_client(emu, handler.client)
    last = [s for s in seen if s["listener"] == "view"][-1]
    assert last["values"]["cause"]["cause"]["selected_option"]["value"] == "people"
    assert last["metadata"] == '{"case": 1}'
