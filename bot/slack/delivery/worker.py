"""The outbox worker: claims its lane's due posts, hands each to its kind's handler, and turns failures into retries."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import ClassVar

from slack_sdk.errors import SlackApiError

from bot.clock import utcnow
from bot.delivery.deliveries import Deliveries
from bot.delivery.outbox import Claimed, Lane

log = logging.getLogger("loopbot.outbox")

# Errors Slack will give again however often we retry: the post is marked failed, not retried.
PERMANENT = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "restricted_action",
        "message_not_found",
        "cant_update_message",
        "invalid_arguments",
    }
)
MAX_BACKOFF_S = 300
# A post whose call timed out is looked for in Slack this long after, before it is sent again.
UNCERTAIN_WAIT = timedelta(seconds=30)


class Permanent(Exception):
    """A failure no retry mends: the post is marked failed."""

    def __init__(self, error: str):
        super().__init__(error)
        self.error = error


class TryLater(Exception):
    """A failure of the handler's own that a later attempt may not repeat: backed off like a Slack 5xx."""


# What a handler may raise for the worker to settle; anything else (the database away) ends the round, and
# the claims come back when their lease runs out.
UNDELIVERED = (Permanent, TryLater, SlackApiError, OSError)


class Handler:
    """Delivers one kind of post: records the result through `batch.deliveries`, or raises one of UNDELIVERED."""

    kind: ClassVar[str]

    def deliver(self, claim: Claimed, batch: Batch) -> None:
        raise NotImplementedError

    def failed(self, claim: Claimed, error: str) -> None:
        """The post failed for good (it is marked so already): e.g. tell the person who asked for it."""


class Batch:
    """One round's claims, as a handler sees them while delivering one of them."""

    def __init__(self, worker: OutboxWorker, claims: list[Claimed]):
        self.deliveries = worker.deliveries
        self.clock = worker.clock
        self._worker = worker
        self._pending = {c.id: c for c in claims}  # not handled yet, the one in hand included

    def take(self, wanted: Callable[[Claimed], bool]) -> list[Claimed]:
        """Remove and return the claims not handled yet that `wanted` picks: a grouped message takes them along."""
        taken = [c for c in self._pending.values() if wanted(c)]
        for c in taken:
            del self._pending[c.id]
        return taken

    def holds(self, claim: Claimed) -> bool:
        return claim.id in self._pending

    def discard(self, claim: Claimed) -> None:
        self._pending.pop(claim.id, None)

    def undelivered(self, claims: list[Claimed], exc: Exception) -> None:
        """Settle the failure of a post made for other claims than the one in hand (a grouped message)."""
        self._worker.settle(claims, exc)


class OutboxWorker:
    """Delivers the due posts of one lane in order on one background thread; `wake()` after enqueuing."""

    def __init__(
        self,
        deliveries: Deliveries,
        handlers: Iterable[Handler],
        *,
        lane: Lane,
        name: str,
        batch: int = 50,
        clock: Callable[[], datetime] = utcnow,
        poll_s: float = 0.25,
        on_failed: Callable[[str], None] | None = None,
    ):
        self.deliveries = deliveries
        self.handlers = {h.kind: h for h in handlers}
        self.lane = lane
        self.name = name
        self.batch = batch
        self.clock = clock
        self.poll_s = poll_s
        self.on_failed = on_failed
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- running ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 15) -> None:
        """Finish the post in hand, then stop; what is left stays in the outbox for the next start."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.deliver_due() > 0
            except Exception:  # the database may be down for a while: keep the thread alive
                log.exception("%s: outbox delivery round failed; retrying", self.name)
                busy = False
            if not busy:
                self._wake.wait(self.poll_s)
                self._wake.clear()

    def deliver_due(self, limit: int | None = None) -> int:
        """Deliver what is due now (up to `limit`, default the worker's batch); returns how many were handled."""
        claims = self.deliveries.claim(self.clock(), limit or self.batch, self.lane)
        batch = Batch(self, claims)
        for claim in claims:
            if not batch.holds(claim):
                continue  # went out in a grouped message
            if self._stop.is_set():
                self.deliveries.retry([claim], self.clock(), None, count_attempt=False)
            else:
                self._deliver(claim, batch)
            batch.discard(claim)
        return len(claims)

    def _deliver(self, claim: Claimed, batch: Batch) -> None:
        handler = self.handlers.get(claim.kind)
        if handler is None:
            self._fail([claim], f"unknown outbox kind {claim.kind!r}")
            return
        try:
            handler.deliver(claim, batch)
        except UNDELIVERED as exc:
            self.settle([claim], exc)

    # -- failures --------------------------------------------------------------------------

    def settle(self, claims: list[Claimed], exc: Exception) -> None:
        """Failed for good, rate-limited, uncertain, or worth another try after a backoff."""
        if isinstance(exc, Permanent):
            self._fail(claims, exc.error)
        elif isinstance(exc, SlackApiError):
            self._slack_error(claims, exc)
        elif isinstance(exc, TimeoutError):
            # Slack may still carry out a call whose answer never came: look again (posting.posted_before)
            # only once it has had time to, or the retry would post a second copy beside the late first.
            log.warning(
                "Slack post %s timed out; looking for it in Slack in %ds before posting again",
                claims[0].key,
                UNCERTAIN_WAIT.seconds,
            )
            self.deliveries.retry(claims, self.clock() + UNCERTAIN_WAIT, f"timed out: {exc}")
        elif isinstance(exc, TryLater):
            self._backoff(claims, str(exc))
        else:
            self._backoff(claims, f"{type(exc).__name__}: {exc}")

    def _slack_error(self, claims: list[Claimed], exc: SlackApiError) -> None:
        status = exc.response.status_code
        error = str(exc.response.get("error") or f"HTTP {status}")
        if status == 429:
            wait = _retry_after(exc)
            self.deliveries.retry(
                claims, self.clock() + timedelta(seconds=wait), f"ratelimited (Retry-After {wait}s)"
            )
        elif status < 500 and error in PERMANENT:
            self._fail(claims, error)
        else:
            self._backoff(claims, error)

    def _backoff(self, claims: list[Claimed], error: str) -> None:
        attempts = max(c.attempts for c in claims)
        delay = min(MAX_BACKOFF_S, 2 ** min(attempts, 9)) * random.uniform(0.5, 1.0)
        log.warning(
            "Slack post %s failed (%s), attempt %d; retrying in %.0fs",
            claims[0].key,
            error,
            attempts,
            delay,
        )
        self.deliveries.retry(claims, self.clock() + timedelta(seconds=delay), error)

    def _fail(self, claims: list[Claimed], error: str) -> None:
        for c in claims:
            log.error("Slack post %s to channel %s failed for good: %s", c.key, c.channel, error)
            if self.on_failed is not None:
                self.on_failed(c.kind)
        self.deliveries.failed(claims, self.clock(), error)
        for c in claims:
            handler = self.handlers.get(c.kind)
            if handler is not None:
                handler.failed(c, error)


def _retry_after(exc: SlackApiError) -> int:
    headers = {k.lower(): v for k, v in (exc.response.headers or {}).items()}
    value = headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1
