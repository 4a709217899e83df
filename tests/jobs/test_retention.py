"""Retention deletes only what is past the limit; a case keeps its timeline and loses the verbatim."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.delivery import outbox
from bot.delivery.retention import KEEP_POSTS, Retention
from storage.models import Case, CaseEvent, Feedback, OutboxMessage

NOW = datetime(2026, 12, 2, 3, 17, tzinfo=UTC)


def _feedback(s, n: int, at: datetime, comment: str | None = None) -> Feedback:  # noqa: ANN001
    row = Feedback(
        source="api",
        external_id=f"f{n}",
        team="delivery",
        metric="csat",
        score=1,
        comment=comment,
        submitted_at=at,
        received_at=at,
    )
    s.add(row)
    s.flush()
    return row


def test_purge_deletes_feedback_past_retention_only_and_cases_lose_the_verbatim(
    sessions, config
) -> None:  # noqa: ANN001
    limit = NOW - timedelta(days=config.retention_days)
    with sessions.begin() as s:
        old = [_feedback(s, i, limit - timedelta(days=1, minutes=i)) for i in range(7)]
        _feedback(s, 100, limit - timedelta(seconds=1))  # just past the limit: goes
        _feedback(s, 101, limit)  # exactly at the limit: stays
        _feedback(s, 102, limit + timedelta(days=1))
        _feedback(s, 103, NOW)
        old[0].comment = "Parcel came late, call me on [phone]"
        case = Case(
            kind="feedback",
            team="delivery",
            state="resolved",
            version=3,
            severity="high",
            opened_at=limit - timedelta(days=1),
            feedback_id=old[0].id,
            summary={"metric": "csat", "score": 1},
        )
        s.add(case)
        s.flush()
        s.add_all(
            [
                CaseEvent(
                    case_id=case.id, kind=k, actor="U1", source="button", at=limit, details={}
                )
                for k in ("opened", "acknowledged", "resolved")
            ]
        )
        case_id = case.id

    purged = Retention(sessions, config, batch=3).purge(NOW)  # a small batch: several rounds

    assert purged.feedback == 8
    with sessions.begin() as s:
        left = sorted(s.scalars(select(Feedback.external_id)))
        assert left == ["f101", "f102", "f103"]
        case = s.get(Case, case_id)
        assert case.feedback_id is None  # the verbatim went with the feedback row
        assert case.summary == {"metric": "csat", "score": 1}
        assert [
            e.kind
            for e in s.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
            )
        ] == ["opened", "acknowledged", "resolved"]


def test_purge_forgets_old_delivered_posts_but_keeps_waiting_and_recent_ones(
    sessions, config
) -> None:  # noqa: ANN001
    old = NOW - KEEP_POSTS - timedelta(hours=1)
    with sessions.begin() as s:
        for key in "abcde":
            outbox.enqueue(s, key=key, kind="post", channel="C1", now=old)
        s.execute(
            OutboxMessage.__table__.update()
            .where(OutboxMessage.key.in_(("a", "b", "c")))
            .values(delivered_at=old)
        )
        s.execute(
            OutboxMessage.__table__.update()
            .where(OutboxMessage.key == "a")
            .values(state="delivered")
        )
        s.execute(
            OutboxMessage.__table__.update().where(OutboxMessage.key == "b").values(state="failed")
        )
        s.execute(
            OutboxMessage.__table__.update().where(OutboxMessage.key == "c").values(state="grouped")
        )
        s.execute(
            OutboxMessage.__table__.update()
            .where(OutboxMessage.key == "e")
            .values(state="delivered", delivered_at=NOW)
        )

    purged = Retention(sessions, config).purge(NOW)

    assert purged.posts == 3
    with sessions.begin() as s:
        assert sorted(s.scalars(select(OutboxMessage.key))) == ["d", "e"]
        assert s.scalar(select(func.count()).select_from(Feedback)) == 0
