"""Retention purges every copy of a customer's data past retention_days (SPEC §11): after the purge, no value
of any table holds an old customer's identifier or words; cases keep their metrics, times, states and what
staff wrote (minus the quotes), and a recent customer's data is untouched. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.cases.model import parse_ref
from bot.delivery import outbox
from bot.delivery.retention import Retention
from bot.privacy.audit import PURGE, Audit
from bot.privacy.scrub import REMOVED
from storage.models import Case, CaseEvent
from tests.factories import item
from tests.storage.copies import copies

NOW = datetime(2026, 12, 8, 4, 0, tzinfo=UTC)
LONG_AGO = NOW - timedelta(days=800)  # past the 730 days of the test config
OLD_ID, NEW_ID = "Zoë-0042", "C-7781"
OLD_COMMENT = "The courier was rude to me at the café door & left"
NEW_COMMENT = "Parcel arrived late and soaked through"
SUPER, AGENT = "U0SUPER1", "U0AGENT1"


def ingest(ingestor, at: datetime, **kw) -> str:  # noqa: ANN001
    valid, errors = ingestor.validate(
        [item(score=1, submitted_at=(at - timedelta(minutes=5)).isoformat(), **kw)], at
    )
    assert not errors
    [ref] = ingestor.store(valid, default_source="api", origin="api", now=at).cases
    return ref


def test_purge_leaves_no_copy_of_an_old_customer_anywhere(
    engine, sessions, config, ingestor, cases
):
    old = ingest(
        ingestor, LONG_AGO, customer=OLD_ID, comment=OLD_COMMENT, segment="VIP", id="old-1"
    )
    cases.note(
        old,
        f"Called {OLD_ID} back. They said: {OLD_COMMENT}",
        actor=AGENT,
        source="command",
        now=LONG_AGO + timedelta(hours=1),
    )
    cases.resolve_in_one_line(
        old,
        outcome="fixed",
        root_cause="rude_staff",
        text=f"Apologised to {OLD_ID} and coached the courier",
        actor=SUPER,
        source="command",
        now=LONG_AGO + timedelta(hours=2),
    )
    with sessions.begin() as s:  # a digest rendered when queued, as older versions queued them
        outbox.enqueue(
            s,
            key="legacy-digest",
            kind=outbox.POST,
            channel="C0DELIVERY",
            payload={"text": "digest", "blocks": [{"text": f"> {OLD_COMMENT[:30]}…"}]},
            now=LONG_AGO,
        )
    audit = Audit(sessions, config)
    audit.customer_lookup(SUPER, OLD_ID, now=LONG_AGO + timedelta(hours=3))
    recent = ingest(ingestor, NOW - timedelta(days=1), customer=NEW_ID, comment=NEW_COMMENT)
    cases.note(recent, f"{NEW_ID} wants a call", actor=AGENT, source="command", now=NOW)
    audit.customer_lookup(SUPER, NEW_ID, now=NOW - timedelta(hours=1))
    # Before: the copies are there, where Loopbot made them (the scan finds what it looks for).
    assert {"feedback.customer", "cases.customer", "cases.summary", "case_events.details"} <= set(
        copies(engine, OLD_ID)
    )
    assert {"feedback.comment", "case_events.details", "outbox.payload"} <= set(
        copies(engine, OLD_COMMENT[:30])
    )

    purged = Retention(sessions, config, batch=1).purge(NOW)  # one row a batch: several rounds

    for needle in (OLD_ID, OLD_COMMENT, OLD_COMMENT[:30], "courier was rude"):
        assert copies(engine, needle) == [], needle
    assert (purged.feedback, purged.cases, purged.lookups) == (1, 1, 1)
    assert purged.events == 2 and purged.posts == 1
    # The recent customer is untouched, wherever Loopbot copied them.
    assert {"feedback.customer", "cases.customer", "cases.summary", "case_events.details"} <= set(
        copies(engine, NEW_ID)
    )
    assert "audit_log.customer" in copies(engine, NEW_ID)
    assert copies(engine, NEW_COMMENT) == ["feedback.comment"]
    # The case keeps its metrics, times, state and staff text, the quotes replaced.
    with sessions.begin() as s:
        case = s.get(Case, parse_ref(old))
        assert (case.state, case.severity, case.category, case.segment) == (
            "resolved",
            "high",
            "rude_staff",
            "vip",
        )
        assert case.customer is None and case.feedback_id is None
        assert case.summary["metric"] == "csat" and case.summary["score"] == 1
        assert case.summary["segment"] == "VIP" and "customer" not in case.summary
        events = s.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
        ).all()
    assert [e.kind for e in events] == ["opened", "note", "resolved"]
    assert events[1].details["text"] == f"Called {REMOVED} back. They said: {REMOVED}"
    assert events[2].details["action"] == f"Apologised to {REMOVED} and coached the courier"
    assert events[2].details["root_cause"] == "rude_staff"
    assert cases.get(old).timings.ttr == timedelta(hours=2)
    # The job's purge is in the audit log, counting what went and naming no one.
    [entry] = [e for e in Audit(sessions, config).entries() if e.kind == PURGE]
    assert entry.actor == "loopbot" and "1 feedback rows deleted" in entry.detail


def test_cases_whose_response_went_before_still_lose_their_customer(engine, sessions, config):
    """Retention used to delete the response only: the case kept the customer, in its column, in its
    summary (before the column existed, only there) and in notes."""
    with sessions.begin() as s:
        for n, column in enumerate((OLD_ID, None)):
            case = Case(
                kind="feedback",
                team="delivery",
                state="resolved",
                version=3,
                severity="high",
                opened_at=LONG_AGO,
                customer=column,
                summary={"metric": "csat", "score": 1, "customer": OLD_ID, "repeat": {}},
            )
            s.add(case)
            s.flush()
            s.add(
                CaseEvent(
                    case_id=case.id,
                    kind="note",
                    actor=AGENT,
                    source="command",
                    at=LONG_AGO,
                    details={"text": f"{OLD_ID} called again (#{n})"},
                )
            )
    assert copies(engine, OLD_ID)

    purged = Retention(sessions, config, batch=1).purge(NOW)

    assert copies(engine, OLD_ID) == []
    assert (purged.feedback, purged.cases, purged.events) == (0, 2, 2)
    with sessions.begin() as s:
        texts = sorted(s.scalars(select(CaseEvent.details)), key=str)
        assert texts == [{"text": f"{REMOVED} called again (#{n})"} for n in (0, 1)]
    # Nothing is left to do: a second run changes nothing and, being the job's, records nothing.
    again = Retention(sessions, config).purge(NOW)
    assert (again.feedback, again.cases, again.events, again.lookups) == (0, 0, 0, 0)
    assert [e.kind for e in Audit(sessions, config).entries()] == [PURGE]


def test_a_purge_asked_for_is_recorded_even_when_nothing_was_old(sessions, config):
    purged = Retention(sessions, config).purge(NOW, actor="cli")
    assert (purged.feedback, purged.cases, purged.events, purged.lookups) == (0, 0, 0, 0)
    [entry] = list(Audit(sessions, config).entries())
    assert (entry.actor, entry.kind) == ("cli", PURGE)
    assert entry.detail == str(purged)
