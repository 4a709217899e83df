"""Slack's HTTP mode on the one FastAPI server: POST /slack/events, verified on the raw bytes, then
dispatched off the event loop."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from slack_bolt import App, BoltRequest
from starlette.concurrency import run_in_threadpool

log = logging.getLogger(__name__)

MAX_AGE_S = 5 * 60  # Slack's replay window
_SECONDS = re.compile(r"[0-9]{1,12}")  # int() would also take "+1", " 1", "1_0" and other digits


def slack_router(app: App, signing_secret: str) -> APIRouter:
    """`signing_secret` is the one `app` was built with: the request is checked here, on the raw
    bytes, before bolt parses it."""
    router = APIRouter()
    secret = signing_secret.encode()

    @router.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        body = await request.body()
        query, headers = dict(request.query_params), dict(request.headers)

        def dispatch() -> Response:
            # Checking, parsing the body (BoltRequest) and App.dispatch, which waits for the listener's
            # ack(), all run off the event loop: in it they would stall every other request, ingestion
            # too (DESIGN rule 13).
            refused = unsigned(secret, body, headers, time.time())
            if refused:
                # One line and never the body: it is anyone's text, and Slack's may quote customers.
                log.warning("refused a request to /slack/events (401): %s", refused)
                return JSONResponse({"error": "invalid request"}, 401)
            # Only now is the body Slack's: bolt parses it in BoltRequest() and raises on what Slack
            # never sends (json.loads: ValueError; JSON that is not an object: AttributeError or
            # TypeError in its context builder; deep nesting: RecursionError).
            try:
                bolt_request = BoltRequest(body=body.decode("utf-8"), query=query, headers=headers)
            except (ValueError, AttributeError, TypeError, RecursionError) as exc:
                log.warning(
                    "refused a signed request to /slack/events (400): malformed body (%s)",
                    type(exc).__name__,
                )
                return JSONResponse({"error": "malformed body"}, 400)
            bolt_response = app.dispatch(bolt_request)
            return Response(
                status_code=bolt_response.status,
                content=bolt_response.body,
                headers=bolt_response.first_headers_without_set_cookie(),
            )

        return await run_in_threadpool(dispatch)

    return router


def unsigned(secret: bytes, body: bytes, headers: dict[str, str], now: float) -> str | None:
    """Why the request is not Slack's (None when it is), by Slack's scheme: `v0=` and the hex
    HMAC-SHA256 of `v0:{timestamp}:{raw body}`, the timestamp within 5 minutes of now."""
    if not secret:  # an HMAC under an empty key is one anybody can compute
        return "no signing secret configured"
    timestamp = headers.get("x-slack-request-timestamp", "")
    given = headers.get("x-slack-signature", "")
    if not timestamp or not given:
        return "unsigned"
    if not _SECONDS.fullmatch(timestamp):
        return "the timestamp is not Unix seconds"
    if abs(now - int(timestamp)) > MAX_AGE_S:
        return "the timestamp is more than 5 minutes away (a replay, or a clock off)"
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    # Bytes, not str: compare_digest refuses non-ASCII str, and the header is anyone's (Starlette
    # decodes it as Latin-1, so it encodes back as sent). Constant time: no hint of how much matched.
    if not hmac.compare_digest(expected.encode(), given.encode("latin-1")):
        return "wrong signature"
    return None
