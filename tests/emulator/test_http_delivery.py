"""Slack towards the app over HTTP: signed requests a SignatureVerifier accepts, retries, and a real Bolt app."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import parse_qs

import pytest
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from slack_emulator.server import ThreadedServer
from tests.emulator import actions, bolt_asgi, button, feedback_app, running, section, web


@pytest.fixture
def receiver(emu):
    """A bare receiver that checks signatures the way every Slack app must, and answers like a quick app."""
    verifier = SignatureVerifier(emu.signing_secret)
    got: list[dict] = []

    async def events(request: Request) -> Response:
        body = (await request.body()).decode()
        valid = verifier.is_valid_request(body, dict(request.headers))
        got.append({"valid": valid, "body": body, "headers": dict(request.headers)})
        if not valid:
            return Response(status_code=401)
        if "command=" in body:
            return JSONResponse({"text": "got it", "response_type": "ephemeral"})
        return Response(status_code=200)

    with ThreadedServer(
        Starlette(routes=[Route("/slack/events", events, methods=["POST"])])
    ) as server:
        emu.deliver_http(server.url + "slack/events")
        yield got


def test_slash_commands_are_signed_form_posts_with_slacks_fields(emu, receiver):
    delivery = emu.slash_command("list open", "U0AGENT1", "C0DELIVERY")
    assert (delivery.transport, delivery.status, delivery.response) == (
        "http",
        200,
        {"text": "got it", "response_type": "ephemeral"},
    )
    [request] = receiver
    assert (
        request["valid"]
        and request["headers"]["content-type"] == "application/x-www-form-urlencoded"
    )
    fields = {k: v[0] for k, v in parse_qs(request["body"]).items()}
    assert set(fields) >= {
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    }
    assert (fields["command"], fields["text"], fields["user_name"]) == (
        "/feedback",
        "list open",
        "agent.one",
    )
    assert fields["response_url"].startswith(emu.base_url + "response/")
    assert [e["text"] for e in emu.ephemerals("C0DELIVERY", "U0AGENT1")] == ["got it"]


def test_a_wrong_secret_is_refused_by_the_verifier(emu, receiver):
    emu.deliver_http(emu.request_url, signing_secret="not-the-secret")
    assert emu.slash_command("help", "U0AGENT1", "C0DELIVERY").status == 401
    assert receiver[0]["valid"] is False


def test_clicks_are_block_actions_payloads(emu, receiver):
    ts = web(emu).chat_postMessage(
        channel="C0DELIVERY",
        text="FB-1",
        blocks=[section("FB-1"), actions(button("case_ack", "Ack", "1"))],
    )["ts"]
    assert emu.click("C0DELIVERY", ts, "case_ack", "U0AGENT1").ok
    payload = json.loads(parse_qs(receiver[0]["body"])["payload"][0])
    assert payload["type"] == "block_actions"
    assert payload["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": "C0DELIVERY",
        "is_ephemeral": False,
    }
    assert (
        payload["message"]["ts"] == ts
        and payload["message"]["blocks"][1]["elements"][0]["action_id"] == "case_ack"
    )
    [action] = payload["actions"]
    assert (action["action_id"], action["block_id"], action["value"], action["type"]) == (
        "case_ack",
        "case_actions",
        "1",
        "button",
    )
    assert payload["user"]["id"] == "U0AGENT1" and payload["trigger_id"] and payload["response_url"]
    with pytest.raises(LookupError):
        emu.click("C0DELIVERY", ts, "case_resolve", "U0AGENT1")


def test_retries_carry_slacks_retry_headers(emu, receiver):
    first = emu.slash_command("help", "U0AGENT1", "C0DELIVERY")
    emu.redeliver(first, retry_num=1, retry_reason="http_timeout")
    emu.slash_command("help", "U0AGENT1", "C0DELIVERY", retry_num=2, retry_reason="http_error")
    assert "x-slack-retry-num" not in receiver[0]["headers"]
    assert (
        receiver[1]["headers"]["x-slack-retry-num"],
        receiver[1]["headers"]["x-slack-retry-reason"],
    ) == ("1", "http_timeout")
    assert receiver[1]["body"] == receiver[0]["body"], "a retry is the same payload"
    assert receiver[2]["headers"]["x-slack-retry-num"] == "2" and all(r["valid"] for r in receiver)


def test_a_double_click_is_two_payloads_with_different_action_ts(emu, receiver):
    ts = web(emu).chat_postMessage(
        channel="C0DELIVERY", text="FB-1", blocks=[actions(button("case_ack", "Ack", "1"))]
    )["ts"]
    first = emu.click("C0DELIVERY", ts, "case_ack", "U0AGENT1")
    time.sleep(0.01)
    second = emu.redeliver(first)
    one, two = (json.loads(parse_qs(r["body"])["payload"][0]) for r in receiver)
    assert one["actions"][0]["action_ts"] != two["actions"][0]["action_ts"]
    assert one["trigger_id"] != two["trigger_id"]
    assert one["actions"][0]["value"] == two["actions"][0]["value"] and second.ok


def test_a_slow_app_times_out_like_slack():
    async def slow(request: Request) -> Response:
        await asyncio.sleep(1.5)
        return Response()

    with (
        running(ack_timeout=0.5) as emu,
        ThreadedServer(Starlette(routes=[Route("/slack/events", slow, methods=["POST"])])) as app,
    ):
        emu.deliver_http(app.url + "slack/events")
        delivery = emu.slash_command("help", "U0AGENT1", "C0DELIVERY")
        assert (delivery.status, delivery.ok) == ("timeout", False)
        assert emu.ephemerals() == []


@pytest.fixture
def bolt(emu):
    seen: list[dict] = []
    with ThreadedServer(bolt_asgi(feedback_app(emu, seen))) as server:
        emu.deliver_http(server.url + "slack/events")
        yield seen


def test_bolt_over_http_accepts_commands_and_respond(emu, bolt):
    assert emu.slash_command("nonsense", "U0AGENT1", "C0DELIVERY").response == {
        "text": "usage: /feedback nonsense"
    }
    assert emu.slash_command("later", "U0AGENT1", "C0DELIVERY").ok
    emu.wait_for(lambda: len(emu.ephemerals("C0DELIVERY", "U0AGENT1")) == 2)
    assert [e["text"] for e in emu.ephemerals("C0DELIVERY", "U0AGENT1")] == [
        "usage: /feedback nonsense",
        "the slow answer",
    ]
    assert emu.wait_calls("response_url")[0].ok


def test_bolt_over_http_handles_clicks_modals_and_the_home_tab(emu, bolt):
    ts = web(emu).chat_postMessage(
        channel="C0DELIVERY",
        text="FB-1",
        blocks=[section("FB-1"), actions(button("case_ack", "Ack", "1"))],
    )["ts"]
    assert emu.click("C0DELIVERY", ts, "case_ack", "U0AGENT1").ok
    emu.wait_for(lambda: emu.message("C0DELIVERY", ts)["text"] == "FB-1 acknowledged")

    assert emu.slash_command("resolve", "U0SUPER1", "C0DELIVERY").ok
    [modal] = emu.wait_for(lambda: emu.open_views("U0SUPER1"))
    assert emu.click_in_view(modal["id"], "resolve_help").ok
    refused = emu.submit_view(modal["id"], values={"cause": {"cause": "process"}})
    assert refused.response["response_action"] == "errors" and emu.open_views("U0SUPER1")
    with pytest.raises(ValueError):
        emu.submit_view(modal["id"], values={"cause": {"cause": "weather"}})
    assert (
        emu.submit_view(
            modal["id"], values={"cause": {"cause": "process"}, "note": {"note": "fixed"}}
        ).response
        is None
    )
    assert emu.open_views("U0SUPER1") == []

    assert emu.open_app_home("U0AGENT1").ok
    emu.wait_for(lambda: emu.home("U0AGENT1"))
    assert emu.click_in_home("U0AGENT1", "home_refresh").ok
    emu.wait_for(lambda: any(s["listener"] == "home_action" for s in bolt))
    listeners = [s["listener"] for s in bolt]
    assert listeners == ["action", "command", "view_action", "view", "view", "home", "home_action"]
    assert {"listener": "home_action", "user": "U0AGENT1", "view": "home"} in bolt
