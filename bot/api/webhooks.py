"""POST /api/webhooks/<tool> (SPEC §10): read the raw body, hand it to the tool's receiver, answer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.api.body import IngestionThreads, TooLarge, read_body, stored_answer
from bot.api.docs import WEBHOOK_RESPONSES, webhook_openapi
from bot.clock import utcnow
from bot.feedback.ingest import Ingestor
from bot.feedback.webhooks.receiver import Outcome, Receiver, receivers
from bot.prometheus import Prometheus
from config.settings import Settings
from storage.timeouts import UNAVAILABLE

log = logging.getLogger(__name__)

STATUS = {
    "disabled": 503,
    "unsigned": 401,
    "not_json": 400,
    "unconfigured": 503,
    "too_many": 413,
    "invalid": 422,
    "ignored": 200,
    "stored": 200,
}


def router(
    settings: Settings, ingestor: Ingestor, threads: IngestionThreads, prometheus: Prometheus
) -> APIRouter:
    api = APIRouter()
    for name, receiver in receivers(settings, ingestor.config.sources, ingestor).items():
        api.add_api_route(
            f"/api/webhooks/{name}",
            _endpoint(receiver, settings.max_body_bytes, threads, prometheus),
            methods=["POST"],
            name=f"webhook_{name}",
            summary=f"Receive {receiver.tool.LABEL} webhooks",
            openapi_extra=webhook_openapi(name),
            responses=WEBHOOK_RESPONSES,
        )
    return api


def _endpoint(
    receiver: Receiver, limit: int, threads: IngestionThreads, prometheus: Prometheus
) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def receive(request: Request) -> JSONResponse:
        try:
            # The signature covers the bytes as sent: read them before anything parses them.
            body = await read_body(request, limit)
        except TooLarge:
            return _refuse(prometheus, 413, f"The body is larger than {limit} bytes.")
        try:
            # One hop to the thread pool for the whole request: verify, map, validate, store.
            outcome = await threads.run(receiver.receive, body, request.headers, utcnow())
        except UNAVAILABLE as exc:
            log.error("webhook refused, database unavailable: %s", getattr(exc, "orig", exc))
            return _refuse(
                prometheus,
                503,
                "The database is unavailable; nothing was stored. Retry later.",
                {"Retry-After": "10"},
            )
        return _answer(outcome, prometheus)

    return receive


def _answer(outcome: Outcome, prometheus: Prometheus) -> JSONResponse:
    status = STATUS[outcome.kind]
    if outcome.kind == "ignored":
        return JSONResponse(
            {"accepted": 0, "duplicates": 0, "updated": 0, "cases": [], "ignored": outcome.message}
        )
    if outcome.kind != "stored" or outcome.result is None:
        if outcome.errors:
            prometheus.feedback_rejected.labels(str(status)).inc()
            return JSONResponse({"errors": outcome.errors}, status)
        return _refuse(prometheus, status, outcome.message)
    return JSONResponse(stored_answer(outcome.result, prometheus))


def _refuse(
    prometheus: Prometheus, status: int, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    prometheus.feedback_rejected.labels(str(status)).inc()
    return JSONResponse({"error": message}, status, headers=headers)
