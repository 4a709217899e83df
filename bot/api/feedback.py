"""POST /api/feedback (SPEC §4): authenticate, bound, parse, validate everything, then store all or nothing."""

from __future__ import annotations

import hmac
import logging

import pydantic_core
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.api.body import IngestionThreads, TooLarge, read_body, stored_answer
from bot.api.docs import REQUEST_BODY, RESPONSES
from bot.clock import utcnow
from bot.feedback.ingest import Ingestor
from bot.feedback.schema import MAX_BATCH
from bot.prometheus import Prometheus
from config.settings import Settings
from storage.timeouts import UNAVAILABLE

log = logging.getLogger(__name__)


def router(
    settings: Settings, ingestor: Ingestor, threads: IngestionThreads, prometheus: Prometheus
) -> APIRouter:
    api = APIRouter()
    token = settings.ingest_token.get_secret_value().encode() if settings.ingest_token else None
    limit = settings.max_body_bytes

    def refuse(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        prometheus.feedback_rejected.labels(str(status)).inc()
        return JSONResponse({"error": message}, status, headers=headers)

    def item_errors(status: int, errors: list[dict]) -> JSONResponse:
        prometheus.feedback_rejected.labels(str(status)).inc()
        return JSONResponse({"errors": errors}, status)

    @api.post(
        "/api/feedback",
        openapi_extra=REQUEST_BODY,
        responses=RESPONSES,
        summary="Submit survey responses",
    )
    async def post_feedback(request: Request) -> JSONResponse:
        if token is None:
            return refuse(
                503, "The ingestion API is disabled: set LOOPBOT_INGEST_TOKEN and restart Loopbot."
            )
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        # compare_digest: the time taken must not tell an attacker how much of the token was right.
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token):
            return refuse(
                401,
                "Missing or wrong bearer token (Authorization: Bearer $LOOPBOT_INGEST_TOKEN).",
                {"WWW-Authenticate": "Bearer"},
            )
        try:
            body = await read_body(request, limit)
        except TooLarge:
            return refuse(
                413,
                f"The body is larger than {limit} bytes; send at most {MAX_BATCH} items per request.",
            )
        try:
            parsed = pydantic_core.from_json(body)
        except ValueError as exc:
            return item_errors(
                400,
                [{"index": None, "field": "body", "message": f"is not valid UTF-8 JSON: {exc}"}],
            )
        if isinstance(parsed, dict):
            parsed = [parsed]
        elif not isinstance(parsed, list):
            return item_errors(
                422,
                [
                    {
                        "index": None,
                        "field": "body",
                        "message": "must be a feedback object or an array of them",
                    }
                ],
            )
        if len(parsed) > MAX_BATCH:
            return refuse(413, f"{len(parsed)} items in one request; send at most {MAX_BATCH}.")
        if not parsed:
            return item_errors(
                422,
                [
                    {
                        "index": None,
                        "field": "body",
                        "message": "is an empty array; send at least one item",
                    }
                ],
            )

        now = utcnow()
        valid, errors = await threads.run(ingestor.validate, parsed, now)
        if errors:
            return item_errors(422, [e.as_dict() for e in errors])
        try:
            result = await threads.run(
                ingestor.store, valid, default_source="api", origin="api", now=now
            )
        except UNAVAILABLE as exc:
            log.error(
                "ingestion refused, database unavailable: %s",
                exc.orig if hasattr(exc, "orig") else exc,
            )
            return refuse(
                503,
                "The database is unavailable; nothing was stored. Retry later.",
                {"Retry-After": "10"},
            )

        return JSONResponse(stored_answer(result, prometheus))

    return api
