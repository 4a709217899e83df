"""The sandbox web page and its JSON API: a minimal Slack client for people, driving the Slack emulator."""

from __future__ import annotations

import hashlib
import html
import json
import mimetypes
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from sandbox.requests import (
    ClickIn,
    CommandIn,
    HomeClickIn,
    SubmitIn,
    UserIn,
    ViewClickIn,
    ViewIn,
    ViewSelectIn,
)
from slack_emulator import SlackEmulator, payloads
from slack_emulator.driver import Delivery
from slack_emulator.state import SlackError

STATIC = Path(__file__).parent / "static"
HOME = "home"  # the sidebar entry for App Home, in place of a channel id
# The sidebar entry for the person's DM with Loopbot: each persona has their own D… channel behind it.
DM = "dm"
COMMAND = "/feedback"
# What the Slack client itself says when a required input is left empty: it never reaches the app.
REQUIRED = "Please complete this required field."
ROLE_LABELS = {"frontline": "frontline agent", "supervisor": "supervisor", "leader": "leader"}
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}


class _Problem(Exception):
    """A request the page should not have made: answered with `status` and a JSON message, never a 500."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _persona(p: Any) -> dict[str, Any]:
    # Personas are sandbox.demo.config.Persona; a plain dict with the same keys works too.
    get = p.get if isinstance(p, Mapping) else lambda key, default=None: getattr(p, key, default)
    role = get("role", "")
    return {
        "id": get("user_id") or get("id"),
        "name": get("name"),
        "role": role,
        "team": get("team"),
        "label": f"{get('name')} — {ROLE_LABELS.get(role, role)}",
    }


def _answer(delivery: Delivery) -> dict[str, Any]:
    status = delivery.status
    note = "" if delivery.ok else f"Loopbot did not answer in time ({status})."
    return {
        "ok": delivery.ok and not delivery.problems,
        "status": status,
        "problems": list(delivery.problems),
        "note": note,
    }


def _not_sent(errors: dict[str, str], problems: list[str]) -> dict[str, Any]:
    """The answer when the Slack client keeps a submission to itself: nothing reached Loopbot."""
    return {"ok": False, "status": "not sent", "problems": problems, "errors": errors, "note": ""}


def _people(emu: SlackEmulator) -> list[dict[str, str]]:
    """Whom a users_select offers: the workspace's people (not its bots), by name."""
    users = emu.workspace.users.values()
    found = [
        {"id": u["id"], "name": u["real_name"]}
        for u in users
        if not u["is_bot"] and not u["deleted"]
    ]
    return sorted(found, key=lambda u: (u["name"].lower(), u["id"]))


class Sandbox:
    """What the endpoints share: the emulator, who may act, and the errors last shown under modal fields."""

    def __init__(
        self,
        emu: SlackEmulator,
        personas: Iterable[Any],
        channels: dict[str, str],
        display_names: dict[str, str],
    ):
        self.emu = emu
        self.personas = [_persona(p) for p in personas]
        self.channels = dict(channels)
        self.display_names = dict(display_names)
        self.users = {p["id"] for p in self.personas} | set(self.display_names)
        self.people = _people(emu)
        # view id -> (the view's hash when the errors came, {block_id: message}); an update clears them.
        self.errors: dict[str, tuple[str, dict[str, str]]] = {}

    # -- checks

    def user(self, user: str) -> str:
        if user not in self.users:
            raise _Problem(404, f"unknown user {user!r}")
        return user

    def conversation(self, user: str, channel: str) -> str:
        """The emulator's channel id for a sidebar entry: a channel, or DM for this person's DM with the bot."""
        dm = self.emu.workspace.dm_channel(self.user(user))
        if channel in (DM, dm):
            return dm
        if channel not in self.channels:
            raise _Problem(404, f"unknown channel {channel!r}")
        return channel

    def open_view(self, view_id: str, user: str) -> dict:
        view = self.emu.view(view_id)
        if view is None or self.emu.views.owner(view_id) != user:
            raise _Problem(404, f"no open view {view_id!r} for {user}")
        return view

    # -- state

    def state(self, user: str, channel: str, thread: str | None) -> dict[str, Any]:
        conversation = HOME if channel == HOME else self.conversation(user, channel)
        # A persona the emulator does not know (a config mistake) simply has an empty DM.
        known = self.user(user) in self.emu.workspace.users
        dm = self.emu.messages(self.emu.workspace.dm_channel(user)) if known else []
        state: dict[str, Any] = {
            "personas": self.personas,
            "display_names": self.display_names,
            "bot_user_id": self.emu.identity.bot_user_id,
            "user": user,
            "channel": channel,
            "channels": [
                {"id": cid, "name": name, "kind": "channel"} for cid, name in self.channels.items()
            ]
            + [
                {"id": HOME, "name": "App Home", "kind": "home"},
                # latest: the page marks the DM unread until the person opens it.
                {"id": DM, "name": "Loopbot", "kind": "dm", "latest": _latest(dm)},
            ],
            "users": self.people,
            "messages": [],
            "thread": None,
            "modal": self.modal(user),
            "home": None,
        }
        if channel == HOME:
            state["home"] = self.emu.home(user)
        else:
            state["messages"], state["thread"] = self.timeline(user, conversation, thread)
        body = json.dumps(state, sort_keys=True, default=str)
        state["version"] = hashlib.sha1(body.encode()).hexdigest()[:16]
        return state

    def timeline(
        self, user: str, channel: str, thread: str | None
    ) -> tuple[list[dict], dict | None]:
        ephemerals = [{**e, "ephemeral": True} for e in self.emu.ephemerals(channel, user)]
        parent = self.emu.message(channel, thread) if thread else None
        in_thread = [e for e in ephemerals if parent and e.get("thread_ts") == parent["ts"]]
        top = self.emu.messages(channel) + [e for e in ephemerals if e not in in_thread]
        opened = None
        if parent is not None:
            replies = self.emu.replies(channel, parent["ts"]) + in_thread
            opened = {"parent": parent, "replies": sorted(replies, key=lambda m: float(m["ts"]))}
        return sorted(top, key=lambda m: float(m["ts"])), opened

    def modal(self, user: str) -> dict | None:
        stack = self.emu.open_views(user)
        if not stack:
            return None
        top = stack[-1]
        shown_hash, errors = self.errors.get(top["id"], ("", {}))
        keys = (
            "id",
            "type",
            "title",
            "blocks",
            "submit",
            "close",
            "state",
            "hash",
            "previous_view_id",
        )
        return {
            **{k: top.get(k) for k in keys},
            "depth": len(stack),
            "errors": errors if shown_hash == top["hash"] else {},
        }

    # -- acting

    def submit(self, body: SubmitIn) -> dict[str, Any]:
        view = self.open_view(body.view_id, self.user(body.user))
        try:
            missing = self.missing(view, body.values)
            if missing:
                self.errors[view["id"]] = (view["hash"], missing)
                return _not_sent(missing, [])
            delivery = self.emu.submit_view(view["id"], body.user, body.values)
        except ValueError as exc:
            # The emulator refuses what the Slack client would (an unknown option, a too long text).
            errors = {_block_of(view, str(exc)): str(exc).partition(": ")[2] or str(exc)}
            self.errors[view["id"]] = (view["hash"], errors)
            return _not_sent(errors, [str(exc)])
        answer = _answer(delivery)
        response = delivery.response or {}
        errors = response.get("errors") if response.get("response_action") == "errors" else None
        if isinstance(errors, dict):
            self.errors[view["id"]] = (view["hash"], {str(k): str(v) for k, v in errors.items()})
            answer.update(ok=False, errors=errors)
        else:
            self.errors.pop(view["id"], None)
        return answer

    def missing(self, view: dict, values: dict[str, dict[str, Any]]) -> dict[str, str]:
        """Required inputs left empty, of every input type: the Slack client refuses to submit and says
        so under each. An input the page did not send counts with what the view holds for it."""
        users = self.emu.workspace.users
        state = payloads.state_values(view, values, users=users, submit=False)
        return {block_id: REQUIRED for block_id in payloads.empty_required(view, state)}

    def select(self, body: ViewSelectIn) -> dict[str, Any]:
        """A pick in a select that dispatches (dispatch_action): block_actions now, not at submit."""
        view = self.open_view(body.view_id, self.user(body.user))
        delivery = self.emu.select_in_view(
            view["id"],
            body.action_id,
            body.value,
            body.user,
            block_id=body.block_id,
            values=body.values,
        )
        return _answer(delivery)

    def close(self, body: ViewIn) -> dict[str, Any]:
        view = self.open_view(body.view_id, self.user(body.user))
        self.emu.views.close(view["id"])
        self.errors.pop(view["id"], None)
        return {"ok": True}


def _latest(messages: list[dict]) -> str:
    return max((m.get("latest_reply", m["ts"]) for m in messages), key=float, default="")


def _block_of(view: dict, error: str) -> str:
    """The input block an emulator refusal names ("block.action: why"), for the page to show it there."""
    head = error.partition(": ")[0]
    blocks = [b.get("block_id", "") for b in view.get("blocks") or [] if b.get("type") == "input"]
    return next((b for b in blocks if head == b or head.startswith(b + ".")), head)


def _guard(fn: Callable[[], Any]) -> Any:
    """The answer of fn, or a JSON 4xx for what the page asked wrongly (unknown ids, a refused value)."""
    try:
        result = fn()
    except _Problem as exc:
        return JSONResponse({"ok": False, "error": exc.message}, exc.status)
    except SlackError as exc:
        return JSONResponse({"ok": False, "error": exc.error}, 404)
    except LookupError as exc:
        return JSONResponse({"ok": False, "error": str(exc).strip("'\"")}, 404)
    except ValueError as exc:
        return JSONResponse({"ok": False, "error": str(exc)}, 400)
    return result


def _static(name: str) -> Response:
    path = STATIC / name
    if name not in {p.name for p in STATIC.iterdir()} or not path.is_file():
        return JSONResponse({"ok": False, "error": f"no file {name!r}"}, 404)
    return Response(
        path.read_bytes(),
        media_type=_TYPES.get(path.suffix, "application/octet-stream"),
        headers={"Cache-Control": "no-cache"},
    )


def sandbox_router(
    emu: SlackEmulator,
    *,
    personas: Iterable[Any],
    channels: dict[str, str],
    display_names: dict[str, str],
) -> APIRouter:
    """GET /sandbox (the page), /sandbox/static/*, /sandbox/files/ID and the JSON API under /sandbox/api."""
    box = Sandbox(emu, personas, channels, display_names)
    router = APIRouter(include_in_schema=False)

    @router.get("/sandbox")
    @router.get("/sandbox/")
    def page(request: Request) -> HTMLResponse:
        # Static paths follow wherever the router is mounted (a root_path or an include prefix).
        base = request.url.path.rstrip("/")
        fills = {
            "base": base,
            "default_user": box.personas[0]["id"] if box.personas else "",
            "default_channel": next(iter(box.channels), HOME),
        }
        page = (STATIC / "index.html").read_text(encoding="utf-8")
        for key, value in fills.items():
            page = page.replace("{{" + key + "}}", html.escape(value or "", quote=True))
        return HTMLResponse(page)

    @router.get("/sandbox/static/{name}")
    def static(name: str) -> Response:
        return _static(name)

    @router.get("/sandbox/files/{file_id}")
    def file(file_id: str) -> Response:
        found = emu.file(file_id)
        if found is None or found.get("content") is None:
            return JSONResponse({"ok": False, "error": f"no file {file_id!r}"}, 404)
        media = mimetypes.guess_type(found["name"])[0] or "application/octet-stream"
        # A file id never gets new bytes: the browser may keep it while the page re-renders the message.
        return Response(
            found["content"],
            media_type=media,
            headers={"Cache-Control": "private, max-age=86400, immutable"},
        )

    @router.get("/sandbox/api/state")
    def state(user: str, channel: str, thread: str | None = None) -> Any:
        return _guard(lambda: box.state(user, channel, thread or None))

    @router.post("/sandbox/api/command")
    def command(body: CommandIn) -> Any:
        def run() -> dict[str, Any]:
            channel = box.conversation(body.user, body.channel)
            text = body.text.strip()
            if text != COMMAND and not text.startswith(COMMAND + " "):
                raise _Problem(
                    400, f"Only {COMMAND} commands reach Loopbot here: try `{COMMAND} help`."
                )
            return _answer(emu.slash_command(text[len(COMMAND) :].strip(), body.user, channel))

        return _guard(run)

    @router.post("/sandbox/api/click")
    def click(body: ClickIn) -> Any:
        def run() -> dict[str, Any]:
            channel = box.conversation(body.user, body.channel)
            return _answer(emu.click(channel, body.ts, body.action_id, body.user, value=body.value))

        return _guard(run)

    @router.post("/sandbox/api/view_click")
    def view_click(body: ViewClickIn) -> Any:
        def run() -> dict[str, Any]:
            box.open_view(body.view_id, box.user(body.user))
            return _answer(
                emu.click_in_view(body.view_id, body.action_id, body.user, value=body.value)
            )

        return _guard(run)

    @router.post("/sandbox/api/view_select")
    def view_select(body: ViewSelectIn) -> Any:
        return _guard(lambda: box.select(body))

    @router.post("/sandbox/api/home_click")
    def home_click(body: HomeClickIn) -> Any:
        return _guard(
            lambda: _answer(
                emu.click_in_home(box.user(body.user), body.action_id, value=body.value)
            )
        )

    @router.post("/sandbox/api/submit")
    def submit(body: SubmitIn) -> Any:
        return _guard(lambda: box.submit(body))

    @router.post("/sandbox/api/close")
    def close(body: ViewIn) -> Any:
        return _guard(lambda: box.close(body))

    @router.post("/sandbox/api/home")
    def home(body: UserIn) -> Any:
        return _guard(lambda: _answer(emu.open_app_home(box.user(body.user))))

    return router
