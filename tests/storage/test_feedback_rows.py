"""The bulk insert: what goes in comes back identical, duplicates are skipped and not reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from storage.feedback import insert_new
from storage.models import Feedback


def row(external_id: str, **kw) -> dict:  # noqa: ANN003
    base = {
        "source": "api",
        "external_id": external_id,
        "team": "delivery",
        "metric": "csat",
        "score": 3,
        "comment": None,
        "category": None,
        "submitted_at": datetime(
            2026, 3, 8, 6, 59, 59, 123456, tzinfo=ZoneInfo("America/New_York")
        ),
        "received_at": datetime(2026, 11, 22, 8, 0, tzinfo=UTC),
        "touchpoint": None,
        "customer": None,
        "segment": None,
        "channel": None,
        "tags": None,
        "attributes": None,
    }
    return {**base, **kw}


def test_round_trip_of_every_column_type(sessions):
    rich = row(
        "r1",
        comment="ünïcode ✓ 'quotes' ; --",
        category="late_delivery",
        tags=["vip", "repeat"],
        attributes={"delay_days": 3, "ratio": 0.5, "late": True, "carrier": "DHL", "none": None},
        submitted_at=datetime(2026, 11, 1, 1, 30, tzinfo=timezone(timedelta(hours=-4))),
        customer="c-9",
    )
    with sessions.begin() as s:
        inserted = insert_new(s, [rich, row("r2")])
    assert [(src, ext) for _, src, ext in inserted] == [("api", "r1"), ("api", "r2")]
    with sessions() as s:
        got = s.scalars(select(Feedback).order_by(Feedback.id)).all()
    first, second = got
    assert (
        first.submitted_at == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)
        and first.submitted_at.tzinfo == UTC
    )
    assert second.submitted_at == datetime(
        2026, 3, 8, 10, 59, 59, 123456, tzinfo=UTC
    )  # already EDT, UTC-4
    assert (first.comment, first.category, first.tags, first.customer) == (
        rich["comment"],
        "late_delivery",
        ["vip", "repeat"],
        "c-9",
    )
    assert first.attributes == rich["attributes"]
    assert second.tags is None and second.attributes is None  # SQL NULL, not the JSON text "null"
    assert [f.id for f in got] == [i for i, _, _ in inserted]


def test_duplicates_are_skipped_and_only_new_rows_returned(sessions):
    with sessions.begin() as s:
        insert_new(s, [row("a"), row("b")])
    with sessions.begin() as s:
        inserted = insert_new(s, [row("b", score=1), row("c"), row("a", source="other"), row("a")])
    assert sorted((src, ext) for _, src, ext in inserted) == [("api", "c"), ("other", "a")]
    with sessions() as s:
        stored = s.execute(
            select(Feedback.source, Feedback.external_id, Feedback.score).order_by(Feedback.id)
        ).all()
    assert [tuple(r) for r in stored] == [
        ("api", "a", 3),
        ("api", "b", 3),
        ("api", "c", 3),
        ("other", "a", 3),
    ]
