"""Re-sent responses on a real database (SPEC §10): duplicates, updates, their cases and their races."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from bot.clock import utcnow
from bot.feedback.ingest import IngestResult
from storage.models import Case, CaseEvent, Feedback, OutboxMessage
from tests.factories import item


def send(ingestor, *items: dict, origin: str = "api") -> IngestResult:  # noqa: ANN001
    now = utcnow()
    valid, errors = ingestor.validate(list(items), now)
    assert not errors
    return ingestor.store(valid, default_source="api", origin=origin, now=now)


def counts(result: IngestResult) -> tuple[int, int, int, int]:
    return result.accepted, result.duplicates, result.updated, len(result.cases)


def row(sessions, external_id: str) -> Feedback:  # noqa: ANN001
    with sessions() as s:
        return s.scalars(select(Feedback).where(Feedback.external_id == external_id)).one()


def updates_of(sessions) -> list[CaseEvent]:  # noqa: ANN001
    with sessions() as s:
        return list(
            s.scalars(
                select(CaseEvent).where(CaseEvent.kind == "response_updated").order_by(CaseEvent.id)
            )
        )


def total(sessions, model) -> int:  # noqa: ANN001
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_an_identical_resend_is_a_duplicate_whatever_the_order_of_tags_or_an_empty_field(
    ingestor, sessions
):
    first = item(id="d1", score=1, comment="Late again", tags=["vip", "repeat"], customer="c-1")
    assert counts(send(ingestor, first)) == (1, 0, 0, 1)
    same = {**first, "tags": ["repeat", "vip"], "segment": "", "attributes": {}}
    assert counts(send(ingestor, first, same)) == (0, 2, 0, 0)
    assert updates_of(sessions) == [] and total(sessions, Case) == 1


def test_a_late_comment_is_masked_categorised_and_its_case_follows_with_one_timeline_event(
    ingestor, sessions, cases
):
    base = item(id="u1", score=2)
    [ref] = send(ingestor, base).cases
    late = {**base, "comment": "Parcel was late, call me on +44 20 7946 0958", "segment": "VIP"}
    assert counts(send(ingestor, late, origin="webhook")) == (0, 0, 1, 0)

    stored = row(sessions, "u1")
    assert (stored.comment, stored.category, stored.segment) == (
        "Parcel was late, call me on [phone]",
        "late_delivery",
        "VIP",
    )
    detail = cases.get(ref)
    assert detail.comment == "Parcel was late, call me on [phone]"  # what the case message quotes
    assert (detail.case.summary["category"], detail.case.summary["segment"]) == (
        "late_delivery",
        "VIP",
    )
    assert detail.case.state == "open" and detail.case.version == 1  # no race lost by a person
    [event] = [e for e in detail.events if e.kind == "response_updated"]
    assert (event.actor, event.source) == ("loopbot", "webhook")
    assert event.details == {
        "changes": {
            "comment": "added",
            "category": {"from": None, "to": "late_delivery"},
            "segment": {"from": None, "to": "VIP"},
        }
    }
    with sessions() as s:
        post = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "case.event")).one()
        case_row = s.get(Case, detail.case.id)
    assert (post.key, post.channel, post.payload) == (
        f"case:{detail.case.id}:event:{event.id}",
        "C0DELIVERY",
        {"case_id": detail.case.id, "event_id": event.id},
    )
    # The category recurrence counts follows the response; the segment the deadlines follow does not.
    assert (case_row.category, case_row.segment) == ("late_delivery", None)


def test_a_score_change_updates_score_and_severity_but_never_the_cases_state(
    ingestor, sessions, cases
):
    base = item(id="s1", score=2, customer="c-7")
    [ref] = send(ingestor, base).cases
    assert cases.get(ref).case.severity == "medium"
    send(ingestor, {**base, "score": 1})
    assert (cases.get(ref).case.summary["score"], cases.get(ref).case.severity) == (1, "high")
    # No longer negative: the case stays open, a person decides.
    result = send(ingestor, {**base, "score": 5, "customer": "c-8"})
    detail = cases.get(ref)
    assert counts(result) == (0, 0, 1, 0)
    assert (detail.case.state, detail.case.summary["score"], detail.case.severity) == (
        "open",
        5,
        "medium",
    )
    assert detail.case.summary["customer"] == "c-8"
    assert [e.details["changes"] for e in updates_of(sessions)] == [
        {"score": {"from": 2, "to": 1}},
        {"score": {"from": 1, "to": 5}, "customer": "changed"},
    ]


def test_a_response_that_turns_negative_within_24_hours_opens_its_case_then(
    ingestor, sessions, cases
):
    recent = item(id="n1", metric="nps", score=9)
    old = item(id="n2", score=4, submitted_at=(utcnow() - timedelta(hours=25)).isoformat())
    assert counts(send(ingestor, recent, old)) == (2, 0, 0, 0)
    result = send(ingestor, {**recent, "score": 3, "comment": "Rude"}, {**old, "score": 1})
    assert counts(result) == (0, 0, 2, 1)
    detail = cases.get(result.cases[0])
    assert detail.case.feedback_id == row(sessions, "n1").id
    assert (detail.case.summary["score"], detail.case.summary["category"]) == (3, "rude_staff")
    assert [e.kind for e in detail.events] == ["opened"]  # opened as it is now, no update line
    assert row(sessions, "n2").score == 1 and total(sessions, Case) == 1
    assert result.cases_by_team == {"delivery": 1} and result.updated_by_team == {"delivery": 2}


def test_team_metric_and_submission_time_stay_as_first_stored(ingestor, sessions):
    base = item(id="t1", score=4, comment="fine")
    send(ingestor, base)
    moved = {
        **base,
        "team": "support",
        "metric": "nps",
        "score": 10,
        "submitted_at": (utcnow() - timedelta(hours=3)).isoformat(),
    }
    assert counts(send(ingestor, moved)) == (0, 1, 0, 0)  # nothing SPEC §10 compares changed
    result = send(ingestor, {**moved, "comment": "fine, thanks"})
    assert counts(result) == (0, 0, 1, 0)
    stored = row(sessions, "t1")
    assert (stored.team, stored.metric, stored.score, stored.comment) == (
        "delivery",
        "csat",
        4,  # a score on another metric's scale cannot replace this one
        "fine, thanks",
    )
    assert stored.submitted_at.isoformat() == base["submitted_at"]


def test_repeats_inside_a_batch_apply_in_order_and_each_item_is_counted(ingestor, sessions):
    v1 = item(id="b1", score=4)
    v2 = {**v1, "comment": "Driver was rude"}
    result = send(ingestor, v1, v1, v2, item(id="b2"))
    assert counts(result) == (2, 1, 1, 0)  # b1 new, the same again, then changed; b2 new
    assert row(sessions, "b1").comment == "Driver was rude"
    assert row(sessions, "b1").category == "rude_staff"
    # Back and forth against the stored version: each change counts; the net one is written.
    result = send(ingestor, v1, v2, {**v2, "score": 3})
    assert counts(result) == (0, 0, 3, 0)
    assert (row(sessions, "b1").comment, row(sessions, "b1").score) == ("Driver was rude", 3)


def test_tags_attributes_and_customer_are_named_in_the_timeline_not_quoted(ingestor, sessions):
    base = item(id="a1", score=1, tags=["x"], customer="jane@example.com")
    send(ingestor, base)
    changed = {**base, "tags": ["y"], "attributes": {"delay_days": 3}, "customer": None}
    assert counts(send(ingestor, changed)) == (0, 0, 1, 0)
    [event] = updates_of(sessions)
    assert event.details == {
        "changes": {"customer": "removed", "tags": "changed", "attributes": "added"}
    }
    stored = row(sessions, "a1")
    assert (stored.tags, stored.attributes, stored.customer) == (["y"], {"delay_days": 3}, None)


def test_after_ingest_hears_of_updated_teams_and_the_days_they_touch(ingestor):
    heard: list[IngestResult] = []
    ingestor.on_stored = heard.append
    old = (utcnow() - timedelta(days=40)).replace(microsecond=0)
    base = item(id="h1", team="support", score=4, submitted_at=old.isoformat())
    send(ingestor, base)
    send(ingestor, base)  # a duplicate changes nothing: nobody is told
    send(ingestor, {**base, "score": 2})
    assert len(heard) == 2
    assert heard[1].accepted_by_team == {} and heard[1].updated_by_team == {"support": 1}
    assert heard[1].oldest_by_team == {"support": old}


def test_two_identical_updates_at_once_make_one_update(ingestor, sessions, cases):
    base = item(id="r1", score=1)
    [ref] = send(ingestor, base).cases
    late = {**base, "comment": "Never arrived"}
    start = threading.Barrier(4)
    results: list[IngestResult] = []

    def resend() -> None:
        start.wait()
        results.append(send(ingestor, late))

    threads = [threading.Thread(target=resend) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted((r.updated, r.duplicates) for r in results) == [(0, 1), (0, 1), (0, 1), (1, 0)]
    assert len(updates_of(sessions)) == 1
    assert [e.kind for e in cases.get(ref).events] == ["opened", "response_updated"]


def test_an_older_version_sent_after_a_newer_one_wins_last_write_wins(ingestor, sessions):
    v1 = item(id="o1", score=3)
    v2 = {**v1, "comment": "Box crushed"}
    send(ingestor, v1)
    send(ingestor, v2)
    assert counts(send(ingestor, v1)) == (0, 0, 1, 0)
    assert row(sessions, "o1").comment is None
