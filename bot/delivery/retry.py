"""`loopbot outbox retry`: the parked posts made due now, for the running bot to try, and what became of them."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.clock import utcnow
from bot.delivery.deliveries import Deliveries
from bot.delivery.parking import Parked


@dataclass
class Retried:
    before: list[Parked] = field(default_factory=list)  # what was parked
    after: list[Parked] = field(default_factory=list)  # what is parked still
    untried: list[Parked] = field(default_factory=list)  # ... of which not tried again yet

    @property
    def sent(self) -> list[Parked]:
        """What waited and waits no more: its fix was made, and its posts went out (or are going)."""
        left = {p.scope for p in self.after}
        return [p for p in self.before if p.scope not in left]


def retry_now(
    deliveries: Deliveries,
    *,
    wait_s: float,
    clock: Callable[[], datetime] = utcnow,
    poll_s: float = 0.25,
) -> Retried:
    """Make every parked post due now and watch for up to `wait_s` while the running bot's workers try
    each scope's oldest: one that gets through takes the rest of its scope along, in order. The CLI
    only writes the database: the bot that holds the Slack token does the posting, as it always does."""
    before = deliveries.parked()
    if not before:
        return Retried()
    at = clock()
    deliveries.wake_parked(at)
    deadline = time.monotonic() + wait_s
    while True:
        after = deliveries.parked()
        # Tried and parked again, a scope's next retry is later than now; untried, it is not.
        untried = [p for p in after if p.next_retry <= at]
        if not untried or time.monotonic() >= deadline:
            return Retried(before, after, untried)
        time.sleep(poll_s)
