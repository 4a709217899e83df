"""The one HTTP server: ingestion API, health, Prometheus metrics, and Slack's HTTP mode when enabled."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool

from bot.api import feedback, webhooks
from bot.api.body import IngestionThreads
from bot.feedback.ingest import Ingestor
from bot.prometheus import Prometheus
from config.settings import Settings
from storage.db import ping


def create_api(
    settings: Settings,
    engine: Engine,
    ingestor: Ingestor,
    prometheus: Prometheus,
    routers: Sequence[APIRouter] = (),
    failed_posts: Callable[[], list[tuple[str | None, str, int]]] | None = None,
) -> FastAPI:
    app = FastAPI(
        title="Loopbot",
        version="1",
        description="Survey responses in; cases, SLAs and digests out in Slack.",
        docs_url=None,
        redoc_url=None,
    )
    threads = IngestionThreads(ingestor)
    app.include_router(feedback.router(settings, ingestor, threads, prometheus))
    app.include_router(webhooks.router(settings, ingestor, threads, prometheus))
    for extra in routers:  # Slack's HTTP mode: POST /slack/events
        app.include_router(extra)

    @app.get("/healthz", summary="Liveness, database reachability, and posts Slack refused")
    async def healthz() -> JSONResponse:
        try:
            await run_in_threadpool(ping, engine)
            failed = await run_in_threadpool(failed_posts) if failed_posts is not None else []
        except DBAPIError:
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        if failed:
            # Still 200: the process is alive and serving, so a container must not be restarted for it; the
            # body says what a person has to fix (a channel the bot is not in, a deleted channel, …).
            return JSONResponse(
                {
                    "status": "degraded",
                    "database": "ok",
                    "failed_posts_24h": sum(n for _, _, n in failed),
                    "failures": [{"channel": c, "error": e, "posts": n} for c, e, n in failed],
                }
            )
        return JSONResponse({"status": "ok", "database": "ok"})

    @app.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(prometheus.registry), media_type=CONTENT_TYPE_LATEST)

    return app
