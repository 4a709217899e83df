"""The outbox's delivery side on a real database: claims taken once, retries, failures, storm grouping."""

from __future__ import annotations

import threading
from datetime import timedelta

from bot.clock import utcnow
from bot.delivery.deliveries import STORM_SINGLES, STORM_WINDOW, Deliveries, Group, Single, Wait
from tests.factories import item


def open_cases(ingestor, n: int, team: str = "delivery") -> list[str]:  # noqa: ANN001
    now = utcnow()
    valid, errors = ingestor.validate([item(team=team, score=1) for _ in range(n)], now)
    assert not errors
    return ingestor.store(valid, default_source="api", origin="api", now=now).cases


def test_two_workers_claiming_at_once_never_take_the_same_post(ingestor, sessions):
    open_cases(ingestor, 30)
    now = utcnow()
    taken: list[list[int]] = [[], []]
    start = threading.Barrier(2)

    def worker(i: int) -> None:
        mine = Deliveries(sessions)
        start.wait()
        while claims := mine.claim(now, limit=3):
            taken[i].extend(c.id for c in claims)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not set(taken[0]) & set(taken[1])
    assert len(taken[0]) + len(taken[1]) == 30


def test_a_claimed_post_is_hidden_until_its_lease_runs_out_then_comes_back(ingestor, sessions):
    open_cases(ingestor, 1)
    deliveries, now = Deliveries(sessions), utcnow()
    [claim] = deliveries.claim(now)
    assert claim.attempts == 1 and claim.kind == "case.open"
    assert deliveries.claim(now + timedelta(seconds=59)) == []
    [again] = deliveries.claim(
        now + timedelta(seconds=61)
    )  # the worker died mid-post: nothing is lost
    assert again.id == claim.id and again.attempts == 2


def test_retry_failure_and_delivery_are_recorded(ingestor, sessions):
    open_cases(ingestor, 3)
    deliveries, now = Deliveries(sessions), utcnow()
    a, b, c = deliveries.claim(now)
    deliveries.retry([a], now + timedelta(seconds=30), "ratelimited")
    deliveries.failed([b], now, "channel_not_found")
    deliveries.posted([c], "C0DELIVERY", "1700000000.000100", now)
    assert deliveries.counts() == {"pending": 1, "failed": 1, "delivered": 1}
    assert deliveries.claim(now + timedelta(seconds=29)) == []
    [back] = deliveries.claim(now + timedelta(seconds=30))
    assert back.id == a.id and back.attempts == 2
    assert deliveries.message_cases("C0DELIVERY", "1700000000.000100") == [c.payload["case_id"]]
    assert deliveries.open_post_state(b.payload["case_id"]) == "failed"


def test_the_eleventh_case_within_five_minutes_starts_a_storm_and_groups_are_five_minutes_apart(
    ingestor, sessions
):
    open_cases(ingestor, STORM_SINGLES + 4)
    open_cases(
        ingestor, 2, team="support"
    )  # another channel's posts never count towards this one's storm
    deliveries, now = Deliveries(sessions), utcnow()
    claims = [c for c in deliveries.claim(now) if c.channel == "C0DELIVERY"]
    plans = [deliveries.plan(c, now) for c in claims]
    assert plans[:STORM_SINGLES] == [Single()] * STORM_SINGLES
    assert plans[STORM_SINGLES:] == [Group()] * 4
    deliveries.retry(claims[STORM_SINGLES:], now, None, count_attempt=False)
    burst = deliveries.claim_burst("C0DELIVERY", now)
    assert [c.id for c in burst] == [c.id for c in claims[STORM_SINGLES:]]
    deliveries.posted(burst, "C0DELIVERY", "1700000000.000200", now, grouped=True)
    assert len(deliveries.message_cases("C0DELIVERY", "1700000000.000200")) == 4
    # A further case of the same burst waits for the next grouped message, five minutes after this one.
    [late] = [c for c in deliveries.claim(now) if c.channel == "C0DELIVERY"] or [None]
    assert late is None
    open_cases(ingestor, 1)
    [late] = deliveries.claim(utcnow())
    assert deliveries.plan(late, utcnow()) == Wait(now + STORM_WINDOW)
