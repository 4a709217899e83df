"""Verification on a real database: whole-week windows around `live`, verified / not verified / inconclusive
from seeded responses, the segment mix standardised, a threshold rule's metric checked too, once each."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update

from bot.cases.verification import Verifier
from storage.models import ActionEvent, CorrectiveAction, Feedback

LIVE = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)  # midnight in New York (delivery's zone)
CLOSES = datetime(2026, 3, 15, 4, 0, tzinfo=UTC)  # two weeks of local days later (EDT from 8 March)
SUPER, OWNER = "U0SUPER1", "U0OWNER1"
_ids = itertools.count(1)


def seed(
    sessions,
    *,
    start: datetime,
    n: int,
    late: int,
    segment: str | None = None,
    metric="csat",
    score=5,
):  # noqa: ANN001, E501
    """`n` responses spread over the 14 days from `start`, the first `late` of them complaints of late delivery."""
    rows = []
    for i in range(n):
        # Within 13.9 days: the after window ends an hour early, at the first midnight of daylight time.
        at = start + timedelta(days=13.9) * (i + 0.5) / n
        rows.append(
            {
                "source": "test",
                "external_id": f"v-{next(_ids)}",
                "team": "delivery",
                "metric": metric,
                "score": score,
                "category": "late_delivery" if i < late else None,
                "segment": segment,
                "submitted_at": at,
                "received_at": at,
            }
        )
    with sessions.begin() as s:
        s.execute(insert(Feedback), rows)


def done_action(cases, metric: str | None = None) -> int:  # noqa: ANN001
    actions = cases.actions
    a = actions.plan(
        "delivery", cause="late_delivery", due="2026-02-20", owner=OWNER, text="Cap routes",
        actor=SUPER, source="command", now=datetime(2026, 2, 10, tzinfo=UTC),
    ).action  # fmt: skip
    if metric:
        with cases.sessions.begin() as s:
            s.execute(
                update(CorrectiveAction).where(CorrectiveAction.id == a.id).values(metric=metric)
            )
    actions.done(a.ref, live="2026-03-01", text="Live", actor=OWNER, source="command", now=LIVE)
    return a.id


def verification(sessions, action_id: int) -> tuple[str, dict]:  # noqa: ANN001
    with sessions() as s:
        row = s.get(CorrectiveAction, action_id)
        return row.state, row.verification


def test_a_real_improvement_is_verified_once_when_the_after_window_closes(sessions, config, cases):  # noqa: ANN001
    action_id = done_action(cases)
    seed(sessions, start=LIVE - timedelta(days=14), n=400, late=32)  # 8.0 %
    seed(sessions, start=LIVE, n=400, late=12)  # 3.0 %
    seed(sessions, start=LIVE - timedelta(days=30), n=300, late=300)  # outside both windows
    job = Verifier(sessions, config)
    assert job.run(CLOSES - timedelta(minutes=1)) == []
    assert job.run(CLOSES + timedelta(seconds=30)) == [(f"CA-{action_id}", "verified")]
    state, result = verification(sessions, action_id)
    assert state == "verified"
    (check,) = result["checks"]
    assert (check["measure"], check["n_before"], check["n_after"]) == (
        "late_delivery complaints",
        400,
        400,
    )
    assert (check["before"], check["after"]) == (0.08, 0.03)
    # Pooled z by hand: p = 44/800, se = sqrt(p(1-p)(2/400)), z = 0.05 / se = 3.1016, p = 0.000962.
    assert check["p"] == pytest.approx(0.000962, abs=1e-6)
    assert result["before"] == ["2026-02-15", "2026-03-01"] and result["after"] == [
        "2026-03-01",
        "2026-03-15",
    ]
    assert Verifier(sessions, config).run(CLOSES + timedelta(minutes=5)) == []  # once
    with sessions() as s:
        kinds = list(s.scalars(select(ActionEvent.kind).where(ActionEvent.action_id == action_id)))
    assert kinds == ["planned", "done", "verification"]


def test_no_change_is_not_verified_and_too_few_responses_are_inconclusive(sessions, config, cases):  # noqa: ANN001
    unchanged = done_action(cases)
    seed(sessions, start=LIVE - timedelta(days=14), n=300, late=24)
    seed(sessions, start=LIVE, n=300, late=24)
    assert Verifier(sessions, config).run(CLOSES) == [(f"CA-{unchanged}", "not_verified")]
    state, result = verification(sessions, unchanged)
    assert state == "not_verified" and result["checks"][0]["p"] == pytest.approx(0.5)


def test_a_window_under_min_responses_is_inconclusive(sessions, config, cases):  # noqa: ANN001
    action_id = done_action(cases)
    seed(sessions, start=LIVE - timedelta(days=14), n=200, late=40)
    seed(sessions, start=LIVE, n=29, late=0)  # verify_min_responses defaults to 30
    assert Verifier(sessions, config).run(CLOSES) == [(f"CA-{action_id}", "inconclusive")]
    _, result = verification(sessions, action_id)
    assert result["checks"][0]["p"] is None and result["min_n"] == 30


def test_the_after_window_is_standardised_to_the_before_windows_segment_mix(
    sessions, config, cases
):  # noqa: ANN001
    action_id = done_action(cases)
    before = LIVE - timedelta(days=14)
    seed(sessions, start=before, n=200, late=40, segment="vip")  # 20 %
    seed(sessions, start=before, n=200, late=4, segment="standard")  # 2 %
    seed(sessions, start=LIVE, n=40, late=8, segment="vip")  # still 20 %
    seed(sessions, start=LIVE, n=360, late=7, segment="standard")  # still ~2 %
    # Unstandardised, the after rate would be 15/400 = 3.75 % against 11 %: a fake improvement.
    assert Verifier(sessions, config).run(CLOSES) == [(f"CA-{action_id}", "not_verified")]
    _, result = verification(sessions, action_id)
    check = result["checks"][0]
    assert check["before"] == pytest.approx(0.11)
    assert check["after"] == pytest.approx(0.5 * 0.2 + 0.5 * 7 / 360, abs=1e-6)


def test_an_action_born_from_a_threshold_case_is_verified_on_its_metric_too(
    sessions, config, cases
):  # noqa: ANN001
    action_id = done_action(cases, metric="csat")
    seed(sessions, start=LIVE - timedelta(days=14), n=200, late=10, score=2)
    seed(sessions, start=LIVE - timedelta(days=14), n=200, late=10, score=5)
    seed(sessions, start=LIVE, n=100, late=2, score=2)
    seed(sessions, start=LIVE, n=300, late=2, score=5)
    assert Verifier(sessions, config).run(CLOSES) == [(f"CA-{action_id}", "verified")]
    _, result = verification(sessions, action_id)
    complaints, csat = result["checks"]
    assert complaints["before"] == 0.05 and complaints["after"] == 0.01
    assert (csat["measure"], csat["before"], csat["after"]) == ("CSAT", 0.5, 0.75)
    assert csat["result"] == "verified"
