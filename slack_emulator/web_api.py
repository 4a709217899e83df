"""The emulator's HTTP surface: /api/<method> (JSON or form), response_urls, upload URLs, files, the socket."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import traceback
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute

from slack_emulator import chat
from slack_emulator.faults import CallRecord, Fault
from slack_emulator.methods import METHODS
from slack_emulator.state import SlackError

if TYPE_CHECKING:
    from slack_emulator.emulator import SlackEmulator

log = logging.getLogger(__name__)

# Fields Slack accepts as JSON-encoded strings in form bodies, and the error a malformed one earns.
JSON_FIELDS = {
    "blocks": "invalid_blocks_format",
    "attachments": "invalid_attachments",
    "view": "invalid_arguments",
    "metadata": "invalid_metadata_format",
    "files": "invalid_arguments",
}


def _decode(args: dict[str, Any]) -> dict[str, Any]:
    for key, error in JSON_FIELDS.items():
        value = args.get(key)
        if isinstance(value, str):
            try:
                args[key] = json.loads(value) if value.strip() else None
            except ValueError:
                raise SlackError(error) from None
    return args


async def _parse(request: Request) -> tuple[dict[str, Any], str | None, str]:
    """Arguments and token from a JSON or form body (plus the query string, which Slack also reads)."""
    raw = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    args: dict[str, Any] = dict(request.query_params)
    auth = request.headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
    if content_type == "application/json":
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            raise SlackError("invalid_json") from None
        if not isinstance(body, dict):
            raise SlackError("invalid_json")
        args.update(body)
    elif content_type in ("application/x-www-form-urlencoded", "") and raw:
        args.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    elif raw:
        raise SlackError("invalid_form_data")
    # Slack reads a token field only from forms and query strings, never from a JSON body.
    form_token = args.pop("token", None)
    if token is None and content_type != "application/json":
        token = form_token
    return args, token, content_type


def _check_token(emu: SlackEmulator, token: str | None, kind: str) -> None:
    if not token:
        raise SlackError("not_authed")
    if token not in (emu.bot_token, emu.app_token):
        raise SlackError("invalid_auth")
    if (kind == "app") != (token == emu.app_token):
        raise SlackError("not_allowed_token_type")


def _fault_response(fault: Fault) -> tuple[int, dict, dict[str, str]]:
    if fault.kind == "ratelimited":
        return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(fault.retry_after)}
    if fault.kind == "server_error":
        return fault.status, {"ok": False, "error": "internal_error"}, {}
    return 200, {"ok": False, "error": fault.error}, {}


async def _apply_faults(emu: SlackEmulator, method: str) -> tuple[int, dict, dict[str, str]] | None:
    decision = emu.faults.take(method)
    if decision.hang:
        # An async sleep: a hung call must not hold up anyone else's.
        await asyncio.sleep(decision.hang)
    return _fault_response(decision.fault) if decision.fault else None


def _record(
    emu: SlackEmulator,
    method: str,
    args: dict,
    status: int,
    body: dict,
    started: float,
    content_type: str = "",
    token: str | None = None,
) -> None:
    emu.call_log.add(
        CallRecord(
            method=method,
            args=args,
            ok=bool(body.get("ok")),
            error=body.get("error"),
            status=status,
            time=time.time(),
            duration=time.monotonic() - started,
            content_type=content_type,
            token=token,
            response=body,
        )
    )


def _internal_error(emu: SlackEmulator, where: str) -> dict:
    emu.internal_errors.append(f"{where}: {traceback.format_exc()}")
    log.exception("Slack emulator failed in %s", where)
    return {"ok": False, "error": "emulator_internal_error"}


async def api_method(request: Request) -> Response:
    emu: SlackEmulator = request.app.state.emulator
    method = request.path_params["method"]
    started = time.monotonic()
    args: dict[str, Any] = {}
    token, content_type, status, headers = None, "", 200, {}
    emu.in_flight.begin(method)
    try:
        args, token, content_type = await _parse(request)
        if method not in METHODS:
            raise SlackError("unknown_method")
        faulted = await _apply_faults(emu, method)
        if faulted:
            status, body, headers = faulted
        else:
            handler, kind = METHODS[method]
            _check_token(emu, token, kind)
            body = handler(emu, _decode(args))
    except SlackError as exc:
        body = {"ok": False, "error": exc.error, **exc.extra}
    except Exception:
        status, body = 500, _internal_error(emu, method)
    finally:
        emu.in_flight.end(method)
    _record(emu, method, args, status, body, started, content_type, token)
    return JSONResponse(body, status_code=status, headers=headers)


async def response_url(request: Request) -> Response:
    emu: SlackEmulator = request.app.state.emulator
    started = time.monotonic()
    rid = request.path_params["rid"]
    body: dict[str, Any] = {}
    try:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError:
            raise SlackError("invalid_payload") from None
        if not isinstance(body, dict):
            raise SlackError("invalid_payload")
        faulted = await _apply_faults(emu, "response_url")
        if faulted:
            status, answer, headers = faulted
            _record(emu, "response_url", {**body, "response_url_id": rid}, status, answer, started)
            return JSONResponse(answer, status_code=status, headers=headers)
        with emu.workspace.lock:
            url = emu.workspace.use_response_url(rid)
            chat.respond(emu, url, _decode(body))
        status, answer = 200, {"ok": True}
    except SlackError as exc:
        # Used-up, expired or unknown URLs are 404s; a bad body is a 400.
        status = 404 if exc.error in ("used_url", "expired_url", "invalid_url") else 400
        answer = {"ok": False, "error": exc.error, **exc.extra}
    except Exception:
        status, answer = 500, _internal_error(emu, "response_url")
    _record(emu, "response_url", {**body, "response_url_id": rid}, status, answer, started)
    return JSONResponse(answer, status_code=status)


async def upload(request: Request) -> Response:
    emu: SlackEmulator = request.app.state.emulator
    content = await request.body()
    if not emu.workspace.store_upload(request.path_params["file_id"], content):
        return PlainTextResponse("file_not_found", status_code=404)
    return PlainTextResponse(f"OK - {len(content)}")


async def download(request: Request) -> Response:
    emu: SlackEmulator = request.app.state.emulator
    auth = request.headers.get("authorization", "")
    if auth != f"Bearer {emu.bot_token}":
        return PlainTextResponse("not_authed", status_code=403)
    found = emu.workspace.file(request.path_params["file_id"])
    if not found or not found["completed"]:
        return PlainTextResponse("file_not_found", status_code=404)
    return Response(found["content"], media_type="application/octet-stream")


def build_app(emu: SlackEmulator) -> Starlette:
    app = Starlette(
        routes=[
            Route("/api/{method}", api_method, methods=["GET", "POST"]),
            Route("/response/{rid}", response_url, methods=["POST"]),
            Route("/upload/{file_id}", upload, methods=["POST"]),
            Route("/files/{file_id}/{name}", download, methods=["GET"]),
            WebSocketRoute("/socket", emu.socket.endpoint),
        ]
    )
    app.state.emulator = emu
    return app
