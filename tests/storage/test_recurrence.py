"""Recurrence on a real database: a customer's repeat cases and a category's count noted when a case opens, and
the systemic case of a cause resolved again and again with no action, opened once and closed by a plan."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from bot.cases import opening
from bot.cases.model import NewFeedbackCase
from storage.models import Case, CaseEvent, Feedback, OutboxMessage

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SUPER = "U0SUPER1"
_ids = itertools.count(1)


def open_cases(
    sessions, config, specs: list[tuple[str | None, str | None]], at: datetime
) -> list[Case]:  # noqa: ANN001, E501
    """One case per (customer, category), opened together as one ingestion batch would."""
    with sessions.begin() as s:
        new = []
        for customer, category in specs:
            fid = s.execute(
                insert(Feedback).returning(Feedback.id),
                {
                    "source": "test",
                    "external_id": f"r-{next(_ids)}",
                    "team": "delivery",
                    "metric": "csat",
                    "score": 1,
                    "submitted_at": at,
                    "received_at": at,
                    "customer": customer,
                    "category": category,
                },  # fmt: skip
            ).scalar_one()
            new.append(NewFeedbackCase(fid, "delivery", "csat", 1, category, None, customer, at))
        return opening.open_feedback_cases(s, config, new, "api", at)


def test_the_third_case_of_a_customer_names_the_two_before_it(sessions, config):  # noqa: ANN001
    (old,) = open_cases(sessions, config, [("C-1", "late_delivery")], T0 - 45 * DAY)  # outside 30d
    (first,) = open_cases(sessions, config, [("C-1", "late_delivery")], T0 - 10 * DAY)
    assert "customer" not in first.summary.get("repeat", {})
    second, other, third = open_cases(
        sessions, config, [("C-1", None), ("C-2", "late_delivery"), ("C-1", "rude_staff")], T0
    )
    assert second.summary["repeat"] == {
        "customer": [f"FB-{first.id}"], "customer_count": 2, "window": "30d",
    }  # fmt: skip
    assert third.summary["repeat"]["customer"] == [f"FB-{first.id}", f"FB-{second.id}"]
    assert third.summary["repeat"]["customer_count"] == 3
    # The category count starts showing at its 3rd case in the window: `first` and `other` make 2.
    assert "category_count" not in other.summary.get("repeat", {})
    (later,) = open_cases(sessions, config, [(None, "late_delivery")], T0 + DAY)
    assert later.summary["repeat"] == {"category_count": 3, "window": "30d"}
    with sessions() as s:
        stored = s.get(Case, third.id)
        assert stored.summary["repeat"]["customer_count"] == 3 and stored.customer == "C-1"
        assert s.get(Case, old.id).summary.get("repeat") is None


def resolve_n(
    sessions, config, cases, n: int, cause: str, at: datetime, outcome="fixed"
) -> list[int]:  # noqa: ANN001
    made = open_cases(sessions, config, [(None, cause)] * n, at)
    for c in made:
        cases.resolve(
            c.id, outcome=outcome, root_cause=cause, action="Refunded", actor=SUPER,
            source="command", now=at,
        )  # fmt: skip
    return [c.id for c in made]


def systemic(sessions) -> list[Case]:  # noqa: ANN001
    with sessions() as s:
        return list(s.scalars(select(Case).where(Case.kind == "systemic").order_by(Case.id)))


def test_five_resolutions_of_a_cause_open_one_systemic_case_until_an_action_is_planned(
    sessions,
    config,
    cases,  # noqa: ANN001
):
    resolve_n(sessions, config, cases, 2, "late_delivery", T0, outcome="duplicate")  # not counted
    resolve_n(sessions, config, cases, 4, "late_delivery", T0)
    assert systemic(sessions) == []
    ids = resolve_n(sessions, config, cases, 1, "late_delivery", T0 + DAY)
    (case,) = systemic(sessions)
    assert case.summary["count"] == 5 and case.summary["cause"] == "late_delivery"
    assert case.state == "open" and case.active_rule == "systemic:delivery:late_delivery"
    assert f"FB-{ids[0]}" in case.summary["cases"]
    resolve_n(sessions, config, cases, 2, "late_delivery", T0 + 2 * DAY)
    assert len(systemic(sessions)) == 1  # once per cause
    with sessions() as s:
        post = s.scalar(select(OutboxMessage).where(OutboxMessage.key == f"case:{case.id}:open"))
        assert post.channel == "C0LEADERS"
    planned = cases.actions.plan(
        "delivery", cause="late_delivery", due="2026-03-30", owner=SUPER, text="Cap routes",
        actor=SUPER, source="command", now=T0 + 3 * DAY,
    )  # fmt: skip
    (closed,) = systemic(sessions)
    assert closed.state == "resolved" and closed.active_rule is None
    assert closed.action_id == planned.action.id
    with sessions() as s:
        resolved = s.scalar(
            select(CaseEvent).where(CaseEvent.case_id == closed.id, CaseEvent.kind == "resolved")
        )
        assert resolved.details["corrective"] == planned.action.ref and resolved.actor == SUPER
    # With the action open, more resolutions of the cause open nothing.
    resolve_n(sessions, config, cases, 5, "late_delivery", T0 + 4 * DAY)
    assert len(systemic(sessions)) == 1


def test_other_causes_and_old_resolutions_never_turn_systemic(sessions, config, cases):  # noqa: ANN001
    resolve_n(sessions, config, cases, 6, "other", T0)
    resolve_n(sessions, config, cases, 4, "rude_staff", T0 - 40 * DAY)
    resolve_n(sessions, config, cases, 4, "rude_staff", T0)
    assert systemic(sessions) == []
