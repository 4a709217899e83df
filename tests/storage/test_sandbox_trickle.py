"""The sandbox's live trickle through the real ingestion path: fresh responses, and now and then a burst that opens cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.feedback.ingest import Ingestor
from config.loader import parse_config
from sandbox.demo.config import DEMO_CONFIG
from sandbox.run import BURST_EVERY, BURST_SIZE, Trickle
from storage.models import Case, Feedback

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


@pytest.fixture
def demo():  # noqa: ANN201
    return parse_config(DEMO_CONFIG, "demo")


def test_each_tick_stores_a_fresh_response_and_every_fortieth_a_burst(sessions, demo) -> None:  # noqa: ANN001
    clock = iter(NOW + timedelta(seconds=5 * i) for i in range(1000))
    trickle = Trickle(Ingestor(sessions, demo), demo, clock=lambda: next(clock))
    stored = [trickle.tick() for _ in range(BURST_EVERY)]
    assert stored[:-1] == [1] * (BURST_EVERY - 1)
    assert stored[-1] == 1 + BURST_SIZE
    with sessions.begin() as s:
        assert s.scalar(select(func.count()).select_from(Feedback)) == BURST_EVERY + BURST_SIZE
        newest = s.scalar(select(func.max(Feedback.submitted_at)))
        ones = s.execute(
            select(Feedback.team, func.count())
            .where(Feedback.metric == "csat", Feedback.score == 1)
            .group_by(Feedback.team)
        ).all()
        opened = s.scalar(select(func.count()).select_from(Case))
    assert newest == NOW + timedelta(seconds=5 * (BURST_EVERY - 1))  # submitted as it is generated
    assert max(n for _, n in ones) >= BURST_SIZE  # the burst went to one team
    assert opened >= BURST_SIZE  # each 1-star response of the burst opened a case
