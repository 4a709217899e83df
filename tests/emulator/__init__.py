"""Shared pieces for the emulator's tests: a workspace, a running emulator, a WebClient on it, a Bolt receiver."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from slack_emulator import SlackEmulator

CHANNELS = {"C0DELIVERY": "delivery", "C0SUPPORT": "support", "C0PRIVATE": "private"}
USERS: dict[str, str | dict] = {
    "U0AGENT1": "agent one",
    "U0SUPER1": {"real_name": "super one", "tz": "America/New_York"},
}


@contextmanager
def running(**kwargs: Any) -> Iterator[SlackEmulator]:
    options: dict[str, Any] = {
        "channels": CHANNELS,
        "users": USERS,
        "not_in_channel": {"C0PRIVATE"},
        **kwargs,
    }
    with SlackEmulator(**options) as emu:
        yield emu
        # A bug in the emulator must fail the test that hit it, not hide behind an ok:false.
        assert not emu.internal_errors, emu.internal_errors


def slack_error(call: Any) -> dict:
    """The body of the error Slack answered a WebClient call with."""
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value.response.data


def web(emu: SlackEmulator, token: str | None = None, **kwargs: Any) -> WebClient:
    return WebClient(token=token or emu.bot_token, base_url=emu.api_url, **kwargs)


def section(text: str, **extra: Any) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(action_id: str, text: str = "Go", value: str | None = None) -> dict:
    element = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text},
    }
    if value is not None:
        element["value"] = value
    return element


def actions(*elements: dict, block_id: str = "case_actions") -> dict:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


def close_client(emu: SlackEmulator, client: Any) -> None:
    """Close a builtin SocketModeClient quickly: its reader sits in a 3 s recv until the server hangs up."""
    client.auto_reconnect_enabled = False
    emu.socket_drop()
    client.close()


def bolt_asgi(app: App) -> Starlette:
    """Bolt over HTTP the way DESIGN.md asks: read the body, dispatch in the thread pool."""

    async def events(request: Request) -> Response:
        body = (await request.body()).decode("utf-8")
        answer = await run_in_threadpool(
            app.dispatch, BoltRequest(body=body, headers=dict(request.headers))
        )
        headers = {k: v[0] for k, v in answer.headers.items() if v}
        return Response(answer.body, status_code=answer.status, headers=headers)

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"])])


RESOLVE_VIEW = {
    "type": "modal",
    "callback_id": "resolve",
    "private_metadata": '{"case": 1}',
    "title": {"type": "plain_text", "text": "Resolve FB-1"},
    "submit": {"type": "plain_text", "text": "Resolve"},
    "blocks": [
        {
            "type": "input",
            "block_id": "cause",
            "label": {"type": "plain_text", "text": "Cause"},
            "element": {
                "type": "static_select",
                "action_id": "cause",
                "options": [
                    {"text": {"type": "plain_text", "text": "Process"}, "value": "process"},
                    {"text": {"type": "plain_text", "text": "People"}, "value": "people"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "note",
            "optional": True,
            "label": {"type": "plain_text", "text": "What was done"},
            "element": {"type": "plain_text_input", "action_id": "note"},
        },
        actions(button("resolve_help", "Help")),
    ],
}


def plain(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def field(block_id: str, element: dict, **extra: Any) -> dict:
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(block_id.title()),
        "element": {"action_id": block_id, **element},
        **extra,
    }


OUTCOME = {
    "type": "static_select",
    "placeholder": plain("Pick an outcome"),
    "options": [
        {"text": plain("Fixed"), "value": "fixed"},
        {"text": plain("No action needed"), "value": "no_action"},
    ],
}


def resolve_view(*, rationale: bool = False, note_block: str = "note") -> dict:
    """The resolve modal the bot is about to send: a dispatching outcome, several inputs, suggestions."""
    blocks = [
        section("*FB-1* · The parcel was late again"),
        field("outcome", OUTCOME, dispatch_action=True),
        field("action", {"type": "plain_text_input", "multiline": True}),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "Try: _rebook_, _refund_"}]},
        field("owner", {"type": "users_select", "initial_user": "U0AGENT1"}, optional=True),
        field("due", {"type": "datepicker", "placeholder": plain("When")}),
        field(note_block, {"type": "plain_text_input"}, optional=True),
    ]
    if rationale:
        blocks.insert(2, field("rationale", {"type": "plain_text_input"}))
    return {
        "type": "modal",
        "callback_id": "resolve",
        "title": plain("Resolve FB-1"),
        "submit": plain("Resolve"),
        "blocks": blocks,
    }


def feedback_app(emu: SlackEmulator, seen: list[dict]) -> App:
    """A minimal real Bolt app: if the emulator's payloads were not what Bolt expects, no listener would run."""
    app = App(token=emu.bot_token, client=web(emu), signing_secret=emu.signing_secret)

    @app.command("/feedback")
    def feedback(ack, command, client, respond):
        seen.append({"listener": "command", **command})
        if command["text"] == "resolve":
            ack()
            client.views_open(trigger_id=command["trigger_id"], view=RESOLVE_VIEW)
        elif command["text"] == "later":
            ack()
            respond(text="the slow answer")
        else:
            ack(text=f"usage: /feedback {command['text']}")

    @app.action("case_ack")
    def acknowledge(ack, body, action, client):
        ack()
        seen.append({"listener": "action", "value": action["value"], "user": body["user"]["id"]})
        client.chat_update(
            channel=body["channel"]["id"],
            ts=body["message"]["ts"],
            text="FB-1 acknowledged",
            blocks=[section(f"Acknowledged by <@{body['user']['id']}>")],
        )

    @app.action("resolve_help")
    def resolve_help(ack, body):
        ack()
        seen.append({"listener": "view_action", "view": body["view"]["id"]})

    @app.view("resolve")
    def resolve(ack, view, body):
        values = view["state"]["values"]
        seen.append(
            {
                "listener": "view",
                "values": values,
                "metadata": view["private_metadata"],
                "user": body["user"]["id"],
            }
        )
        if not values["note"]["note"]["value"]:
            ack(response_action="errors", errors={"note": "Say what was done"})
        else:
            ack()

    @app.event("app_home_opened")
    def home(event, client):
        seen.append({"listener": "home", "user": event["user"]})
        client.views_publish(
            user_id=event["user"],
            view={
                "type": "home",
                "blocks": [
                    section("Your open cases: 0"),
                    actions(button("home_refresh", "Refresh", "1")),
                ],
            },
        )

    @app.action("home_refresh")
    def refresh(ack, body):
        ack()
        seen.append(
            {"listener": "home_action", "user": body["user"]["id"], "view": body["view"]["type"]}
        )

    return app


def resolve_app(emu: SlackEmulator, seen: list[dict]) -> App:
    """A real Bolt app for resolve_view: a pick of the outcome updates the modal (a rationale input for
    no_action), a click on case_ack and the submission are kept in `seen`."""
    app = App(client=web(emu), signing_secret=emu.signing_secret)

    @app.action("outcome")
    def outcome(ack, body, action, client):
        ack()
        picked = action["selected_option"]["value"]
        seen.append({"listener": "outcome", "picked": picked})
        view = resolve_view(rationale=picked == "no_action")
        client.views_update(view_id=body["view"]["id"], hash=body["view"]["hash"], view=view)

    @app.action("case_ack")
    def case_ack(ack, body):
        ack()
        seen.append({"listener": "click", "channel": body["channel"]["id"]})

    @app.view("resolve")
    def resolve(ack, view):
        ack()
        seen.append({"listener": "view", "values": view["state"]["values"]})

    return app
