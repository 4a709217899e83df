"""The one HTTP server: ingestion API, health, Prometheus metrics, and Slack's HTTP mode when enabled."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.api import feedback, webhooks
from bot.api.body import IngestionThreads
from bot.delivery.deliveries import Deliveries
from bot.delivery.parking import Parked
from bot.feedback.ingest import Ingestor
from bot.prometheus import Prometheus
from config.settings import Settings
from storage.db import ping
from storage.timeouts import UNAVAILABLE, request_scope


def create_api(
    settings: Settings,
    engine: Engine,
    ingestor: Ingestor,
    prometheus: Prometheus,
    routers: Sequence[APIRouter] = (),
    slack_state: Callable[[], str | None] | None = None,
    deliveries: Deliveries | None = None,
) -> FastAPI:
    app = FastAPI(
        title="Loopbot",
        version="1",
        description="Survey responses in; cases, SLAs and digests out in Slack.",
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(RequestScope)
    threads = IngestionThreads(ingestor)
    app.include_router(feedback.router(settings, ingestor, threads, prometheus))
    app.include_router(webhooks.router(settings, ingestor, threads, prometheus))
    for extra in routers:  # Slack's HTTP mode: POST /slack/events
        app.include_router(extra)

    @app.get(
        "/healthz",
        summary="Liveness, database reachability, Socket Mode's connection, and posts Slack refused",
    )
    async def healthz() -> JSONResponse:
        # Socket Mode: `connected`, `connecting` or why not; read from memory, so said even when the
        # database is down.
        state = slack_state() if slack_state is not None else None
        slack = {"slack": state} if state is not None else {}
        try:
            await run_in_threadpool(ping, engine)
            # Posts Slack refused for good lately, and posts waiting on a fix (bot.delivery.parking).
            failed, parked = await run_in_threadpool(_outbox_health, deliveries)
        except (DBAPIError, PoolTimeout):
            return JSONResponse({"status": "unavailable", "database": "unreachable", **slack}, 503)
        if failed or parked:
            # Still 200: the process is alive and serving, so a container must not be restarted for it; the
            # body says what a person has to fix (a channel the bot is not in, a deleted channel, …).
            body: dict = {"status": "degraded", "database": "ok", **slack}
            if failed:
                body["failed_posts_24h"] = sum(n for _, _, n in failed)
                body["failures"] = [{"channel": c, "error": e, "posts": n} for c, e, n in failed]
            if parked:
                body["parked_posts"] = sum(p.posts for p in parked)
                body["parked"] = [p.as_json() for p in parked]
            return JSONResponse(body)
        # Not connected to Slack is degraded, not down: ingestion and /healthz serve, the posts wait in the
        # outbox, and a restart would not connect any sooner than the background retries.
        status = "ok" if state in (None, "connected") else "degraded"
        return JSONResponse({"status": status, "database": "ok", **slack})

    @app.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        # In the thread pool: the outbox gauges read the database, which must never stall the event loop
        # (and with it every other request) while the database is slow or frozen. They leave themselves
        # out when it does not answer (the rest is still worth scraping); 503 if anything else needed it.
        try:
            body = await run_in_threadpool(generate_latest, prometheus.registry)
        except UNAVAILABLE:
            return Response("database unavailable\n", 503, headers={"Retry-After": "10"})
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return app


def _outbox_health(
    deliveries: Deliveries | None,
) -> tuple[list[tuple[str | None, str, int]], list[Parked]]:
    if deliveries is None:
        return [], []
    return deliveries.recently_failed(), deliveries.parked()


class RequestScope:
    """Every HTTP request's database work waits a bounded time (storage.timeouts): a frozen database
    gets a 503 within 2 s, not a request hanging as long as the database does."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with request_scope():
            await self.app(scope, receive, send)
