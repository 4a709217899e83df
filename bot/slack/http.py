"""Slack's HTTP mode on the one FastAPI server: POST /slack/events, dispatched off the event loop."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from slack_bolt import App, BoltRequest, BoltResponse
from starlette.concurrency import run_in_threadpool


def slack_router(app: App) -> APIRouter:
    router = APIRouter()

    @router.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        body = await request.body()
        query, headers = dict(request.query_params), dict(request.headers)

        def dispatch() -> BoltResponse:
            # Parsing the body (BoltRequest) and App.dispatch, which waits for the listener's ack(), both
            # run off the event loop: in it they would stall every other request, ingestion too (DESIGN rule 13).
            return app.dispatch(
                BoltRequest(body=body.decode("utf-8"), query=query, headers=headers)
            )

        bolt_response = await run_in_threadpool(dispatch)
        return Response(
            status_code=bolt_response.status,
            content=bolt_response.body,
            headers=bolt_response.first_headers_without_set_cookie(),
        )

    return router
