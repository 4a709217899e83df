"""What the feedback API and the webhooks share: the body under the size limit, the thread that
stores, and the answer."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from fastapi import Request

from bot.feedback.ingest import Ingestor, IngestResult
from bot.prometheus import Prometheus

T = TypeVar("T")


class TooLarge(Exception):
    pass


class IngestionThreads:
    """Where ingestion requests do their work, off the event loop. SQLite writes one transaction at a
    time, so one thread takes the requests in turn: eight threads would only contend for the GIL and
    the write lock (bench/webhooks.py: fewer context switches, more requests per second). PostgreSQL
    writes concurrently, so there a few threads overlap their round trips."""

    def __init__(self, ingestor: Ingestor) -> None:
        dialect = ingestor.sessions.kw["bind"].dialect.name
        self._pool = ThreadPoolExecutor(
            1 if dialect == "sqlite" else 4, thread_name_prefix="ingest"
        )

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        # In the request's context: its bound on database waits (storage.timeouts) goes along.
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, partial(context.run, fn, *args, **kwargs)
        )


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
