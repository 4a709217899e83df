"""The one source of "now" (aware UTC), so tests can pass their own instant."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
