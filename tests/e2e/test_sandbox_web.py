"""The sandbox web page's API end to end: a real emulator, `loopbot run` over Socket Mode, the demo config."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.slack.ids import ActionId
from sandbox.demo.config import AGENT, DEMO_CONFIG, DISPLAY_NAMES, LEADER, PERSONAS, SUPERVISOR
from sandbox.web import REQUIRED, sandbox_router
from slack_emulator import SlackEmulator
from slack_emulator.server import ThreadedServer
from tests.e2e.harness import Bot, database_url, running_bot
from tests.emulator import actions, bolt_asgi, button, resolve_app, resolve_view, web
from tests.factories import item

CH = "C0DELIVERY"
# The demo config's team channels and the leaders' channel, named as a workspace would name them.
CHANNELS = {
    team["channel"]: team["name"].lower().replace(" ", "-")
    for team in DEMO_CONFIG["teams"].values()
}
CHANNELS[DEMO_CONFIG["leaders_channel"]] = "leaders"


class Page:
    """What the browser does: GET the state, POST the actions."""

    def __init__(self, client: TestClient, emu: SlackEmulator):
        self.client, self.emu = client, emu

    def state(self, user: str, channel: str = CH, thread: str | None = None) -> dict[str, Any]:
        params = {"user": user, "channel": channel} | ({"thread": thread} if thread else {})
        resp = self.client.get("/sandbox/api/state", params=params)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def until(
        self,
        user: str,
        found: Callable[[dict], Any],
        *,
        channel: str = CH,
        thread: str | None = None,
        what: str = "",
    ) -> Any:
        return self.emu.wait_for(
            lambda: found(self.state(user, channel, thread)),
            timeout=30,
            message=f"the page never showed {what}: {self.emu.summary()}",
        )

    def post(self, path: str, **body: Any) -> dict[str, Any]:
        resp = self.client.post(f"/sandbox/api/{path}", json=body)
        assert resp.status_code == 200, resp.text
        return resp.json()


def buttons(message: dict) -> list[str]:
    return [
        e["action_id"]
        for b in message.get("blocks", [])
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def shown(message: dict) -> str:
    return json.dumps(message.get("blocks", [])) + (message.get("text") or "")


def with_text(text: str) -> Callable[[dict], dict | None]:
    return lambda state: next((m for m in state["messages"] if text in shown(m)), None)


@pytest.fixture
def sandbox(tmp_path) -> Iterator[tuple[Bot, Page]]:  # noqa: ANN001
    with (
        SlackEmulator(channels=CHANNELS, users=DISPLAY_NAMES) as emu,
        database_url("sqlite", tmp_path) as url,
        running_bot(tmp_path, url, socket_mode=True, emu=emu, config_data=DEMO_CONFIG) as bot,
    ):
        app = FastAPI()
        app.include_router(
            sandbox_router(emu, personas=PERSONAS, channels=CHANNELS, display_names=DISPLAY_NAMES)
        )
        with TestClient(app) as client:
            yield bot, Page(client, emu)
        assert [(d.kind, d.status) for d in emu.deliveries if not d.ok] == []
        assert [p for d in emu.deliveries for p in d.problems] == []
        assert emu.internal_errors == []


def test_the_page_and_its_scripts_are_served(sandbox: tuple[Bot, Page]) -> None:
    _, page = sandbox
    resp = page.client.get("/sandbox")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    assert "/sandbox/static/app.js" in resp.text and 'id="user-switcher"' in resp.text
    assert f'data-default-user="{AGENT.user_id}"' in resp.text and "{{" not in resp.text
    for name in ("app.js", "blocks.js", "modal.js", "messages.js", "mrkdwn.js", "style.css"):
        assert page.client.get(f"/sandbox/static/{name}").status_code == 200, name
    assert page.client.get("/sandbox/static/web.py").status_code == 404
    state = page.state(AGENT.user_id)
    assert [p["label"] for p in state["personas"]] == [
        "Alex Rivera — frontline agent",
        "Sam Okafor — supervisor",
        "Lee Chen — leader",
    ]
    assert [(c["name"], c["kind"]) for c in state["channels"]] == [
        ("delivery-ops", "channel"),
        ("customer-support", "channel"),
        ("billing", "channel"),
        ("leaders", "channel"),
        ("App Home", "home"),
        ("Loopbot", "dm"),
    ]
    assert state["display_names"]["U0SUPER1"] == "Sam Okafor" and state["modal"] is None


def test_a_case_is_acknowledged_listed_resolved_in_the_modal_and_charted(
    sandbox: tuple[Bot, Page],
) -> None:
    bot, page = sandbox
    [ref] = bot.ingest(item(score=1, comment="The parcel was late again"))["cases"]
    case = page.until(AGENT.user_id, with_text(ref), what="the case message")
    assert ActionId.ACK in buttons(case) and not case.get("reply_count")
    ts = case["ts"]

    # Acknowledge: the message changes in place, and the thread gets a line.
    assert page.post(
        "click", user=AGENT.user_id, channel=CH, ts=ts, action_id=ActionId.ACK, value=None
    )["ok"]
    acked = page.until(
        AGENT.user_id,
        lambda s: next(
            (
                m
                for m in s["messages"]
                if m["ts"] == ts
                and "Acknowledged by <@U0AGENT1>" in shown(m)
                and m.get("reply_count", 0) >= 1
            ),
            None,
        ),
        what="the acknowledged case",
    )
    assert ActionId.ACK not in buttons(acked)
    thread = page.state(AGENT.user_id, thread=ts)["thread"]
    assert thread["parent"]["ts"] == ts and "Acknowledged by" in thread["replies"][0]["text"]

    # A command's answer is an ephemeral: the agent sees it, the leader does not.
    answer = page.post("command", user=AGENT.user_id, channel=CH, text="/feedback list")
    assert answer["ok"] and answer["status"] == 200
    listed = page.until(
        AGENT.user_id,
        lambda s: [m for m in s["messages"] if m.get("ephemeral")],
        what="an ephemeral",
    )
    assert ref in shown(listed[0])
    assert not [m for m in page.state(LEADER.user_id)["messages"] if m.get("ephemeral")]
    refused = page.client.post(
        "/sandbox/api/command", json={"user": AGENT.user_id, "channel": CH, "text": "hello"}
    )
    assert refused.status_code == 400 and "/feedback" in refused.json()["error"]

    # Resolve in the modal: an empty required field, then the app's own check, then it goes through.
    sup = SUPERVISOR.user_id
    assert page.post("click", user=sup, channel=CH, ts=ts, action_id=ActionId.RESOLVE)["ok"]
    modal = page.until(sup, lambda s: s["modal"], what="the resolve modal")
    inputs = {b["block_id"]: b["element"]["type"] for b in modal["blocks"] if b["type"] == "input"}
    assert list(inputs)[:4] == ["outcome", "root_cause", "action", "rationale"]
    assert (inputs["owner"], inputs["due"]) == ("users_select", "datepicker")
    assert page.state(AGENT.user_id)["modal"] is None
    # Picking a cause tells Loopbot at once; it updates the modal, and what was typed stays.
    pick = {"block_id": "root_cause", "action_id": "root_cause", "value": "rude_staff"}
    typed = {"action": {"action": "Called back"}}
    assert page.post("view_select", user=sup, view_id=modal["id"], values=typed, **pick)["ok"]
    page.until(
        sup,
        lambda s: s["modal"]["hash"] != modal["hash"] and "Called back" in json.dumps(s["modal"]),
        what="the modal updated for the picked cause",
    )
    empty = page.post(
        "submit",
        user=sup,
        view_id=modal["id"],
        values={
            "outcome": {"outcome": "fixed"},
            "root_cause": {"root_cause": "late_delivery"},
            "action": {"action": ""},
        },
    )
    assert not empty["ok"] and empty["errors"] == {"action": REQUIRED}
    assert page.state(sup)["modal"]["errors"] == {"action": REQUIRED}

    no_action = {
        "outcome": {"outcome": "no_action"},
        "root_cause": {"root_cause": "late_delivery"},
        "action": {"action": "Explained the delay"},
    }
    refused_by_app = page.post("submit", user=sup, view_id=modal["id"], values=no_action)
    assert not refused_by_app["ok"] and list(refused_by_app["errors"]) == ["rationale"]
    still = page.state(sup)["modal"]
    assert still["id"] == modal["id"] and list(still["errors"]) == ["rationale"]
    # What was typed stays in the view, so the page shows it again under the error.
    assert still["state"]["values"]["action"]["action"]["value"] == "Explained the delay"

    done = page.post(
        "submit",
        user=sup,
        view_id=modal["id"],
        values={**no_action, "rationale": {"rationale": "Courier strike, nothing to fix"}},
    )
    assert done["ok"] and page.state(sup)["modal"] is None
    resolved = page.until(
        sup,
        lambda s: next(
            (
                m
                for m in s["messages"]
                if m["ts"] == ts and "Courier strike, nothing to fix" in shown(m)
            ),
            None,
        ),
        what="the resolved case",
    )
    assert buttons(resolved) == [ActionId.REOPEN]

    # A leader's chart arrives as an uploaded PNG the page can show.
    assert page.post(
        "command", user=LEADER.user_id, channel=CH, text="/feedback chart csat delivery"
    )["ok"]
    upload = page.until(
        LEADER.user_id,
        lambda s: next((m for m in s["messages"] if m.get("files")), None),
        what="the chart upload",
    )
    [shared] = upload["files"]
    png = page.client.get(f"/sandbox/files/{shared['id']}")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_app_home_is_published_and_its_buttons_work(sandbox: tuple[Bot, Page]) -> None:
    bot, page = sandbox
    [ref] = bot.ingest(item(score=1, comment="Courier was rude"))["cases"]
    ts = page.until(AGENT.user_id, with_text(ref), what="the case message")["ts"]
    assert page.post("click", user=AGENT.user_id, channel=CH, ts=ts, action_id=ActionId.ASSIGN_ME)[
        "ok"
    ]
    page.until(AGENT.user_id, with_text("Assigned to"), what="the assignment")
    assert page.post("home", user=AGENT.user_id)["ok"]
    home = page.until(
        AGENT.user_id,
        lambda s: s["home"] and ref in json.dumps(s["home"]["blocks"]) and s["home"],
        channel="home",
        what="App Home with the assigned case",
    )
    assert page.state(AGENT.user_id, channel="home")["messages"] == []
    show = next(
        e
        for b in home["blocks"]
        for e in [b.get("accessory") or {}]
        if e.get("action_id") == ActionId.SHOW
    )
    assert (
        page.post("home_click", user=AGENT.user_id, action_id=ActionId.SHOW, value=show["value"])[
            "status"
        ]
        == 200
    )


def test_mistakes_are_404s_with_a_message_not_500s(sandbox: tuple[Bot, Page]) -> None:
    _, page = sandbox
    client, agent = page.client, AGENT.user_id
    cases = [
        client.get("/sandbox/api/state", params={"user": "U0NOBODY", "channel": CH}),
        client.get("/sandbox/api/state", params={"user": agent, "channel": "C0NOPE"}),
        client.post("/sandbox/api/submit", json={"user": agent, "view_id": "VNOPE", "values": {}}),
        client.post("/sandbox/api/close", json={"user": agent, "view_id": "VNOPE"}),
        client.post(
            "/sandbox/api/view_click", json={"user": agent, "view_id": "VNOPE", "action_id": "x"}
        ),
        client.post(
            "/sandbox/api/click",
            json={"user": agent, "channel": CH, "ts": "1.000001", "action_id": "x"},
        ),
        client.post("/sandbox/api/home_click", json={"user": LEADER.user_id, "action_id": "x"}),
        client.post(
            "/sandbox/api/command",
            json={"user": "U0NOBODY", "channel": CH, "text": "/feedback help"},
        ),
        client.get("/sandbox/files/FNOPE"),
    ]
    assert [r.status_code for r in cases] == [404] * len(cases), [r.text for r in cases]
    assert all(r.json()["error"] for r in cases)
    assert client.post("/sandbox/api/click", json={"user": agent}).status_code == 422


@pytest.fixture
def app_page() -> Iterator[tuple[list[dict], Page]]:
    """The page before a small Bolt app over HTTP (tests.emulator.resolve_app), not Loopbot."""
    seen: list[dict] = []
    with SlackEmulator(channels=CHANNELS, users=DISPLAY_NAMES) as emu:
        app = FastAPI()
        app.include_router(
            sandbox_router(emu, personas=PERSONAS, channels=CHANNELS, display_names=DISPLAY_NAMES)
        )
        with ThreadedServer(bolt_asgi(resolve_app(emu, seen))) as bolt, TestClient(app) as client:
            emu.deliver_http(bolt.url + "slack/events")
            yield seen, Page(client, emu)
        assert [(d.kind, d.status) for d in emu.deliveries if not d.ok] == []
        assert emu.internal_errors == []


def test_a_modal_with_pickers_a_dispatching_select_and_several_inputs(
    app_page: tuple[list[dict], Page],
) -> None:
    seen, page = app_page
    sup = SUPERVISOR.user_id
    view = resolve_view()
    view["blocks"][4].pop("optional")  # the owner picker is required here
    web(page.emu).views_open(trigger_id=page.emu.new_trigger_id(sup), view=view)
    modal = page.state(sup)["modal"]
    kinds = {b["block_id"]: b.get("element", {}).get("type", b["type"]) for b in modal["blocks"]}
    assert " ".join(kinds.values()) == (
        "section static_select plain_text_input context users_select datepicker plain_text_input"
    )
    people = page.state(sup)["users"]
    assert {"id": sup, "name": "Sam Okafor"} in people and len(people) == len(DISPLAY_NAMES)
    assert page.emu.identity.bot_user_id not in {u["id"] for u in people}

    # Empty pickers are refused by the page itself, like the Slack client: the app hears nothing.
    values = {"outcome": {"outcome": "fixed"}, "action": {"action": "Rebooked"}}
    empty = {**values, "owner": {"owner": None}, "due": {"due": ""}}
    refused = page.post("submit", user=sup, view_id=modal["id"], values=empty)
    assert not refused["ok"] and refused["errors"] == {"owner": REQUIRED, "due": REQUIRED}
    assert page.state(sup)["modal"]["errors"] == {"owner": REQUIRED, "due": REQUIRED}
    ghost = {**values, "owner": {"owner": "U0GHOST"}, "due": {"due": "2025-03-01"}}
    refused = page.post("submit", user=sup, view_id=modal["id"], values=ghost)
    assert list(refused["errors"]) == ["owner"] and "not a user" in refused["errors"]["owner"]

    # A pick in the dispatching select: the app updates the modal, what was typed stays.
    typed = {"action": {"action": "Explained the delay"}, "owner": {"owner": AGENT.user_id}}
    pick = {"block_id": "outcome", "action_id": "outcome", "value": "no_action", "values": typed}
    assert page.post("view_select", user=sup, view_id=modal["id"], **pick)["ok"]
    updated = page.until(
        sup,
        lambda s: any(b["block_id"] == "rationale" for b in s["modal"]["blocks"]) and s["modal"],
        what="the modal updated with a rationale input",
    )
    assert updated["id"] == modal["id"] and updated["errors"] == {}
    kept = updated["state"]["values"]
    assert kept["action"]["action"]["value"] == "Explained the delay"
    assert kept["owner"]["owner"]["selected_user"] == AGENT.user_id
    assert seen == [{"listener": "outcome", "picked": "no_action"}]

    rest = {"rationale": {"rationale": "Courier strike"}, "due": {"due": "2025-03-01"}}
    done = page.post("submit", user=sup, view_id=modal["id"], values={**rest, "note": {"note": ""}})
    assert done["ok"] and page.state(sup)["modal"] is None
    submitted = seen[-1]["values"]
    assert submitted["owner"]["owner"] == {"type": "users_select", "selected_user": AGENT.user_id}
    assert submitted["due"]["due"] == {"type": "datepicker", "selected_date": "2025-03-01"}
    assert submitted["outcome"]["outcome"]["selected_option"]["value"] == "no_action"
    assert submitted["action"]["action"]["value"] == "Explained the delay"
    assert submitted["note"]["note"] == {"type": "plain_text_input", "value": None}


def test_a_dm_from_loopbot_shows_under_the_persona_dm_entry(
    app_page: tuple[list[dict], Page],
) -> None:
    seen, page = app_page
    agent = AGENT.user_id
    sent = web(page.emu).chat_postMessage(
        channel=agent, text="FB-7 is yours", blocks=[actions(button("case_ack", "Ack"))]
    )
    web(page.emu).chat_postMessage(channel=agent, text="Due Friday", thread_ts=sent["ts"])
    state = page.state(agent, channel="dm")
    [dm] = [c for c in state["channels"] if c["kind"] == "dm"]
    latest = page.emu.replies(agent, sent["ts"])[0]["ts"]
    assert (dm["id"], dm["name"], dm["latest"]) == ("dm", "Loopbot", latest)
    assert [m["text"] for m in state["messages"]] == ["FB-7 is yours"]
    thread = page.state(agent, channel="dm", thread=sent["ts"])["thread"]
    assert [m["text"] for m in thread["replies"]] == ["Due Friday"]
    # The same entry, for another persona, is their own (empty) DM; someone else's D id is a 404.
    assert page.state(SUPERVISOR.user_id, channel="dm")["messages"] == []
    other = page.client.get(
        "/sandbox/api/state", params={"user": SUPERVISOR.user_id, "channel": sent["channel"]}
    )
    assert other.status_code == 404
    assert page.state(agent, channel=sent["channel"])["messages"][0]["ts"] == sent["ts"]
    clicked = page.post("click", user=agent, channel="dm", ts=sent["ts"], action_id="case_ack")
    assert clicked["ok"] and seen == [{"listener": "click", "channel": sent["channel"]}]
