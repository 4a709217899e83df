"""Reading a request body under the size limit, shared by the feedback API and the webhooks."""

from __future__ import annotations

from fastapi import Request

from bot.feedback.ingest import IngestResult
from bot.prometheus import Prometheus


class TooLarge(Exception):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    """The raw bytes as sent (signatures cover them), refused past `limit` without reading on."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge
    # Chunked bodies carry no length: count as they stream in, stop at the limit.
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def stored_answer(result: IngestResult, prometheus: Prometheus) -> dict:
    """Count a stored batch in /metrics and say what happened to it (SPEC §4, §10)."""
    for team, n in result.accepted_by_team.items():
        prometheus.feedback_accepted.labels(team).inc(n)
    for team, n in result.cases_by_team.items():
        prometheus.cases_opened.labels(team, "feedback").inc(n)
    prometheus.feedback_duplicates.inc(result.duplicates)
    prometheus.feedback_updated.inc(result.updated)
    return {
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "updated": result.updated,
        "cases": result.cases,
    }
