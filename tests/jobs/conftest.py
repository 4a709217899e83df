"""A JobContext on the test database with a clock the test sets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.alerts.action_escalations import ActionEscalations
from bot.alerts.escalations import Escalations
from bot.alerts.thresholds import Thresholds
from bot.cases.verification import Verifier
from bot.delivery.retention import Retention
from jobs.context import JobContext


class Clock:
    def __init__(self, at: datetime):
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 9, 11, 30, tzinfo=UTC))


@pytest.fixture
def ctx(sessions, config, cases, clock) -> JobContext:  # noqa: ANN001
    notified: list[int] = []
    context = JobContext(
        sessions=sessions,
        reads=sessions,
        config=config,
        thresholds=Thresholds(sessions, config, cases),
        escalations=Escalations(sessions, config, cases),
        retention=Retention(sessions, config),
        verifier=Verifier(sessions, config),
        action_escalations=ActionEscalations(sessions, config),
        notify=lambda: notified.append(1),
        clock=clock,
        replica="test",
    )
    context.notified = notified  # type: ignore[attr-defined]
    return context
