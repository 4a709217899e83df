"""A scheduled fire is claimed once: the first insert wins, every other replica's is a no-op."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.delivery import claims
from storage.models import Claim

FIRE = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_first_claim_wins_and_the_rest_are_refused(sessions) -> None:  # noqa: ANN001
    with sessions.begin() as s:
        assert claims.claim(s, job="huddle", scope="delivery", fire_at=FIRE, now=FIRE, by="a")
    with sessions.begin() as s:
        assert not claims.claim(s, job="huddle", scope="delivery", fire_at=FIRE, now=FIRE, by="b")
        # Another team, another time, another job: each its own fire.
        assert claims.claim(s, job="huddle", scope="support", fire_at=FIRE, now=FIRE, by="b")
        assert claims.claim(
            s, job="huddle", scope="delivery", fire_at=FIRE + timedelta(days=1), now=FIRE, by="b"
        )
        assert claims.claim(s, job="weekly", scope="delivery", fire_at=FIRE, now=FIRE, by="b")
    with sessions.begin() as s:
        row = s.get(Claim, ("huddle", "delivery", FIRE))
        assert row is not None and row.claimed_by == "a"
        assert claims.claimed(s, job="huddle", scope="delivery", fire_at=FIRE)
        assert not claims.claimed(
            s, job="huddle", scope="delivery", fire_at=FIRE + timedelta(days=2)
        )


def test_a_claim_rolled_back_with_its_work_leaves_the_fire_free(sessions) -> None:  # noqa: ANN001
    class Crash(Exception):
        pass

    try:
        with sessions.begin() as s:
            assert claims.claim(s, job="huddle", scope="delivery", fire_at=FIRE, now=FIRE, by="a")
            raise Crash
    except Crash:
        pass
    with sessions.begin() as s:
        assert claims.claim(s, job="huddle", scope="delivery", fire_at=FIRE, now=FIRE, by="b")


def test_concurrent_claims_have_one_winner(sessions) -> None:  # noqa: ANN001
    wins: list[str] = []
    start = threading.Barrier(8)

    def replica(name: str) -> None:
        start.wait()
        with sessions.begin() as s:
            if claims.claim(s, job="huddle", scope="delivery", fire_at=FIRE, now=FIRE, by=name):
                wins.append(name)

    threads = [threading.Thread(target=replica, args=(f"r{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    with sessions.begin() as s:
        assert s.scalar(select(func.count()).select_from(Claim)) == 1


def test_prune_forgets_only_old_fires(sessions) -> None:  # noqa: ANN001
    with sessions.begin() as s:
        for days in (40, 31, 29, 1):
            claims.claim(
                s,
                job="huddle",
                scope="delivery",
                fire_at=FIRE - timedelta(days=days),
                now=FIRE,
                by="a",
            )
    with sessions.begin() as s:
        assert claims.prune(s, FIRE - timedelta(days=30)) == 2
    with sessions.begin() as s:
        left = sorted((FIRE - c).days for c in s.scalars(select(Claim.fire_at)))
    assert left == [1, 29]
