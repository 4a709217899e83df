"""Slack's HTTP mode on the one FastAPI server: POST /slack/events, dispatched off the event loop."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response
from slack_bolt import App, BoltRequest
from starlette.concurrency import run_in_threadpool


def slack_router(app: App) -> APIRouter:
    router = APIRouter()

    @router.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        body = await request.body()
        bolt_request = BoltRequest(body=body.decode("utf-8"), query=dict(request.query_params), headers=dict(request.headers))
        # App.dispatch is synchronous and waits for the listener's ack(): in the event loop it would
        # stall every other request (ingestion too) for as long as a listener takes (DESIGN rule 13).
        bolt_response = await run_in_threadpool(app.dispatch, bolt_request)
        return Response(status_code=bolt_response.status, content=bolt_response.body,
                        headers=bolt_response.first_headers_without_set_cookie())

    return router
