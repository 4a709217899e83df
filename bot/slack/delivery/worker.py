"""The outbox worker: claims its lane's due posts, hands each to its kind's handler, and turns failures into retries."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Collection, Iterable
from datetime import datetime, timedelta
from typing import ClassVar

from slack_sdk.errors import SlackApiError

from bot.clock import utcnow
from bot.delivery import parking
from bot.delivery.deliveries import Deliveries
from bot.delivery.outbox import Claimed, Lane
from bot.slack.delivery.outage import Outage

log = logging.getLogger("loopbot.outbox")

# Errors no fix in Slack changes (a bug in the message, a message gone): the post fails for good. The errors a
# person can fix (a token, a scope, a configured channel) park it instead: bot.delivery.parking.
PERMANENT = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "msg_blocks_too_long",
        "no_text",
        "message_not_found",
        "cant_update_message",
        "invalid_arguments",
        # Parked only for a channel Loopbot is configured to post to; elsewhere (a chart asked for in a
        # channel the bot is not in) the person who asked is told at once.
        *parking.CHANNEL_ERRORS,
    }
)
MAX_BACKOFF_S = 300
DONE = ("delivered", "grouped")
# A post whose call timed out is looked for in Slack this long after, before it is sent again.
UNCERTAIN_WAIT = timedelta(seconds=30)


class Permanent(Exception):
    """A failure no retry mends: the post is marked failed."""

    def __init__(self, error: str):
        super().__init__(error)
        self.error = error


class TryLater(Exception):
    """A failure of the handler's own that a later attempt may not repeat: backed off like a Slack 5xx."""


class Held(Exception):
    """The post waits on a parked one (a change to a case whose message is parked): parked beside it."""

    def __init__(self, error: str, scope: str):
        super().__init__(error)
        self.error, self.scope = error, scope


# What a handler may raise for the worker to settle; anything else (the database away) ends the round, and
# the claims come back when their lease runs out.
UNDELIVERED = (Permanent, TryLater, Held, SlackApiError, OSError)


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
        self._worker.settle(claims, exc, self)

    def hold_back(self, scope: str, parked: list[Claimed]) -> None:
        """Posts were parked in `scope`: give back this round's posts it holds back (its channel's, or all)."""
        self.take(lambda c: c in parked)
        held = self.take(
            lambda c: (
                scope == parking.EVERY_POST or scope.startswith(parking.LANE) or c.channel == scope
            )
        )
        if held:
            self.deliveries.retry(held, self.clock(), None, count_attempt=False)


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
        channels: Collection[str] | None = None,
        park_retry: tuple[timedelta, timedelta] = (parking.FIRST_RETRY, parking.LONGEST_RETRY),
        outage_s: tuple[float, float] = (1.0, 30.0),
    ):
        self.deliveries = deliveries
        self.handlers = {h.kind: h for h in handlers}
        self.lane = lane
        deliveries.lanes[name] = lane  # /healthz counts what a missing scope holds back in it
        self.name = name
        self.batch = batch
        self.clock = clock
        self.poll_s = poll_s
        self.on_failed = on_failed
        # The channels whose errors park a post (the configured ones); None: every channel's.
        self.channels = None if channels is None else frozenset(channels)
        self.park_retry = park_retry  # (first, longest) wait before a parked post is tried again
        self.outage_s = outage_s  # (first, longest) wait between rounds while the database is away
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
        outage = Outage(self.name, *self.outage_s)
        woken = False
        while not self._stop.is_set():
            try:
                # At start-up parked posts are tried at once: their fix may be why it was restarted.
                if not woken:
                    self.deliveries.wake_parked(self.clock(), self.lane)
                    woken = True
                busy = self.deliver_due() > 0
            except Exception as exc:  # the database may be down for a while: keep the thread alive
                # Spaced out, deaf to wake-ups: a round and a traceback every poll flooded the log.
                self._stop.wait(outage.failed(exc))
                continue
            outage.ended()
            if not busy:
                self._wake.wait(self.poll_s)
                self._wake.clear()

    def deliver_due(self, limit: int | None = None) -> int:
        """Deliver what is due now (up to `limit`, default the worker's batch); returns how many were handled."""
        claims = self.deliveries.claim(self.clock(), limit or self.batch, self.lane, self.name)
        batch = Batch(self, claims)
        for claim in claims:
            if not batch.holds(claim):
                continue  # went out in a grouped message, or held back by a post parked this round
            if self._stop.is_set():
                self._give_back(claim)
            else:
                self._deliver(claim, batch)
            batch.discard(claim)
        return len(claims)

    def _give_back(self, claim: Claimed) -> None:
        if claim.probe is not None:
            # Parked still, ahead of the posts behind it: tried again at the next start.
            self.deliveries.repark(claim, self.clock())
        else:
            self.deliveries.retry([claim], self.clock(), None, count_attempt=False)

    def _deliver(self, claim: Claimed, batch: Batch) -> None:
        handler = self.handlers.get(claim.kind)
        if handler is None:
            self._fail([claim], f"unknown outbox kind {claim.kind!r}")
            return
        try:
            handler.deliver(claim, batch)
        except UNDELIVERED as exc:
            self.settle([claim], exc, batch)
            return
        if claim.probe is not None and self.deliveries.post_state(claim.key) in DONE:
            n = self.deliveries.unpark(claim.probe, self.clock())
            log.warning(
                "Slack took post %s again: %s go out now (%d parked behind it)",
                claim.key,
                parking.waits(claim.probe),
                n,
            )

    # -- failures --------------------------------------------------------------------------

    def settle(self, claims: list[Claimed], exc: Exception, batch: Batch | None = None) -> None:
        """Failed for good, parked, rate-limited, uncertain, or worth another try after a backoff."""
        if isinstance(exc, Permanent):
            self._fail(claims, exc.error)
        elif isinstance(exc, Held):
            self._park(claims, exc.error, exc.scope, None, batch)
        elif isinstance(exc, SlackApiError):
            self._slack_error(claims, exc, batch)
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

    def _slack_error(self, claims: list[Claimed], exc: SlackApiError, batch: Batch | None) -> None:
        status = exc.response.status_code
        error = str(exc.response.get("error") or f"HTTP {status}")
        channel = _call_channel(exc) or claims[0].channel
        scope = parking.scope_of(error, channel, self.name) if status < 500 else None
        if scope is not None and self.channels is not None and scope == channel:
            scope = scope if channel in self.channels else None
        if status == 429:
            wait = _retry_after(exc)
            self.deliveries.retry(
                claims, self.clock() + timedelta(seconds=wait), f"ratelimited (Retry-After {wait}s)"
            )
        elif scope is not None:
            self._park(claims, error, scope, exc.response.get("needed"), batch)
        elif status < 500 and error in PERMANENT:
            self._fail(claims, error)
        else:
            self._backoff(claims, error)

    def _park(
        self,
        claims: list[Claimed],
        error: str,
        scope: str,
        needed: str | None,
        batch: Batch | None,
    ) -> None:
        first, longest = self.park_retry
        at = self.deliveries.park(
            claims, self.clock(), error, scope, needed=needed, first=first, longest=longest
        )
        wait = max(0, round((at - self.clock()).total_seconds()))
        # One line per post parked (the posts held behind it are not tried, so not logged): what to fix.
        for c in claims:
            log.warning(
                "Slack post %s parked, retried in %ds: %s",
                c.key,
                wait,
                parking.fix(error, scope, needed),
            )
        if batch is not None:
            batch.hold_back(scope, claims)

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
            # Loud: a message Slack will never take is a bug to fix in Loopbot (its kind and key say which
            # renderer; the content stays out of the log, it may quote a customer).
            log.error(
                "Slack post %s (kind %s) to channel %s failed for good: %s",
                c.key,
                c.kind,
                c.channel,
                error,
            )
            if self.on_failed is not None:
                self.on_failed(c.kind)
        self.deliveries.failed(claims, self.clock(), error)
        for c in claims:
            handler = self.handlers.get(c.kind)
            if handler is not None:
                handler.failed(c, error)


def _call_channel(exc: SlackApiError) -> str | None:
    """The channel of the call Slack refused (a case's thread may be in another channel than its post's)."""
    args = getattr(exc.response, "req_args", None) or {}
    for part in ("json", "data", "params"):
        found = args.get(part)
        if isinstance(found, dict):
            channel = found.get("channel") or found.get("channel_id")
            if isinstance(channel, str) and channel:
                return channel
    return None


def _retry_after(exc: SlackApiError) -> int:
    headers = {k.lower(): v for k, v in (exc.response.headers or {}).items()}
    value = headers.get("retry-after")
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1
