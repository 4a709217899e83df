"""What a score means, in one place: negative, satisfied, promoter, detractor, praise and the worst score of each
scale (SPEC §2), in Python and as SQL over the feedback table, so that a case, a digest, a chart and a stat agree."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, case, func, or_

from config.teams import OpenCaseWhen
from storage.models import Feedback

METRICS = ("csat", "nps", "ces")
SCALES = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}
SATISFIED_FROM = 4  # CSAT = % of csat responses scoring 4 or 5
PROMOTER_FROM = 9  # NPS = % promoters (9-10) - % detractors (0-6)
DETRACTOR_TO = 6
# Praise is a response its metric itself calls good: CSAT satisfied, an NPS promoter, a low-effort CES.
PRAISE = {"csat": SATISFIED_FROM, "nps": PROMOTER_FROM, "ces": 3}
# The worst score of each scale makes a case `high` severity.
WORST = {"csat": 1, "nps": 2, "ces": 7}


def high_is_bad(metric: str) -> bool:
    """CES measures effort: there a high score is the bad one."""
    return metric == "ces"


# -- in Python --------------------------------------------------------------------------------------


def is_negative(when: OpenCaseWhen, metric: str, score: int) -> bool:
    """Whether one response is negative by the team's limits (`open_case_when`), so it opens a case."""
    if metric == "csat":
        return score <= when.csat_at_most
    if metric == "nps":
        return score <= when.nps_at_most
    if metric == "ces":
        return score >= when.ces_at_least
    raise ValueError(f"{metric!r} is not a survey metric (csat, nps, ces)")


def severity(metric: str, score: int) -> str:
    """The worst score on each scale is `high`; any other negative response is `medium`."""
    if metric not in WORST:
        return "medium"
    worst = score >= WORST[metric] if high_is_bad(metric) else score <= WORST[metric]
    return "high" if worst else "medium"


# -- in SQL, over Feedback.score ------------------------------------------------------------------


def negative(when: OpenCaseWhen, metric: str) -> ColumnElement[bool]:
    """is_negative for the rows of one metric."""
    score = Feedback.score
    return {
        "csat": score <= when.csat_at_most,
        "nps": score <= when.nps_at_most,
        "ces": score >= when.ces_at_least,
    }[metric]


def negative_any(when: OpenCaseWhen) -> ColumnElement[bool]:
    """is_negative for rows of every metric."""
    return or_(*(and_(Feedback.metric == m, negative(when, m)) for m in METRICS))


def praised(metric: str) -> ColumnElement[bool]:
    score = Feedback.score
    return score <= PRAISE[metric] if high_is_bad(metric) else score >= PRAISE[metric]


def count_satisfied() -> ColumnElement[int]:
    return func.sum(case((Feedback.score >= SATISFIED_FROM, 1), else_=0))


def count_promoters() -> ColumnElement[int]:
    return func.sum(case((Feedback.score >= PROMOTER_FROM, 1), else_=0))


def count_detractors() -> ColumnElement[int]:
    return func.sum(case((Feedback.score <= DETRACTOR_TO, 1), else_=0))
