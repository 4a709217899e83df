"""The one source of "now" (aware UTC), so tests can pass their own instant."""
from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
