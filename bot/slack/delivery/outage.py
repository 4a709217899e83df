"""A delivery worker's rounds failing while the database is away: logged once, spaced out, logged when over."""

from __future__ import annotations

import logging
import time

from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

log = logging.getLogger("loopbot.outbox")
# The database unreachable, refusing connections, or its pool exhausted: a state, not a bug, told in a line.
AWAY = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)


class Outage:
    """A worker's rounds failing (the database away): one line when they start failing, one when they
    succeed again, and rounds spaced out in between, 1 s doubling to 30 s by default."""

    def __init__(self, name: str, first_s: float, longest_s: float):
        self.name, self.first_s, self.longest_s = name, first_s, longest_s
        self.wait_s: float | None = None  # None while rounds succeed
        self.began = 0.0

    def failed(self, exc: Exception) -> float:
        """Log the first failure of a run of them; the seconds to wait before the next round."""
        if self.wait_s is None:
            self.began = time.monotonic()
            if isinstance(exc, AWAY):
                # The driver's first line says it all (refused, no such file); SQLAlchemy's own text adds
                # the statement and its parameters, which may be customer text.
                cause = exc.orig if isinstance(exc, DBAPIError) else exc
                reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
                log.error(
                    "%s: outbox delivery stopped, database unavailable: %s", self.name, reason
                )
            else:  # not the database: a bug, whose traceback is worth its lines once
                log.exception("%s: outbox delivery stopped by an error", self.name)
            self.wait_s = self.first_s
        else:
            self.wait_s = min(self.longest_s, self.wait_s * 2)
        return self.wait_s

    def ended(self) -> None:
        if self.wait_s is not None:
            log.warning(
                "%s: outbox delivery resumed after %.0fs",
                self.name,
                time.monotonic() - self.began,
            )
            self.wait_s = None
