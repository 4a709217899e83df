"""The one home of score semantics (bot.scores): Python and SQL say the same of every score."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import scores
from config.teams import OpenCaseWhen
from storage.models import Feedback
from tests.factories import item


@pytest.mark.parametrize(
    ("metric", "score", "negative"),
    [
        ("csat", 1, True),
        ("csat", 2, True),
        ("csat", 3, False),
        ("csat", 5, False),
        ("nps", 0, True),
        ("nps", 6, True),
        ("nps", 7, False),
        ("nps", 10, False),
        ("ces", 7, True),
        ("ces", 5, True),
        ("ces", 4, False),
        ("ces", 1, False),
    ],
)
def test_is_negative_at_the_default_boundaries(metric: str, score: int, negative: bool) -> None:
    assert scores.is_negative(OpenCaseWhen(), metric, score) is negative


def test_is_negative_follows_configured_boundaries_and_refuses_unknown_metrics() -> None:
    strict = OpenCaseWhen(csat_at_most=3, nps_at_most=8, ces_at_least=3)
    assert [scores.is_negative(strict, "csat", s) for s in (3, 4)] == [True, False]
    assert [scores.is_negative(strict, "nps", s) for s in (8, 9)] == [True, False]
    assert [scores.is_negative(strict, "ces", s) for s in (2, 3)] == [False, True]
    with pytest.raises(ValueError, match="'cases' is not a survey metric"):
        scores.is_negative(strict, "cases", 1)


@pytest.mark.parametrize(
    ("metric", "score", "expected"),
    [
        ("csat", 1, "high"),
        ("csat", 2, "medium"),
        ("nps", 2, "high"),
        ("nps", 3, "medium"),
        ("ces", 7, "high"),
        ("ces", 6, "medium"),
    ],
)
def test_the_worst_score_of_each_scale_is_high_severity(
    metric: str, score: int, expected: str
) -> None:
    assert scores.severity(metric, score) == expected


def test_sql_and_python_agree_on_every_score_of_every_scale(ingestor, sessions) -> None:  # noqa: ANN001
    strict = OpenCaseWhen(csat_at_most=3, nps_at_most=8, ces_at_least=3)
    every = [
        (m, s) for m in scores.METRICS for s in range(scores.SCALES[m][0], scores.SCALES[m][1] + 1)
    ]
    now = datetime.now(UTC)
    old = (now - timedelta(days=3)).isoformat()  # history: no cases opened
    valid, errors = ingestor.validate(
        [item(id=f"{m}-{v}", metric=m, score=v, submitted_at=old) for m, v in every], now
    )
    assert not errors
    ingestor.store(valid, default_source="api", origin="api", now=now)
    with sessions() as s:
        for metric in scores.METRICS:

            def scores_where(condition, metric=metric):  # noqa: ANN001, ANN202
                return set(
                    s.scalars(select(Feedback.score).where(Feedback.metric == metric, condition))
                )

            expected = {v for m, v in every if m == metric and scores.is_negative(strict, m, v)}
            assert scores_where(scores.negative(strict, metric)) == expected
            assert scores_where(scores.negative_any(strict)) == expected
            praised = {
                v
                for m, v in every
                if m == metric and (v <= 3 if m == "ces" else v >= scores.PRAISE[m])
            }
            assert scores_where(scores.praised(metric)) == praised
        counts = s.execute(
            select(
                scores.count_satisfied(), scores.count_promoters(), scores.count_detractors()
            ).where(Feedback.metric == "nps")
        ).one()
    # Over NPS 0-10: 9 and 10 are promoters, 0-6 detractors; scores 4-10 count as "satisfied" (4+).
    assert tuple(counts) == (7, 2, 7)
