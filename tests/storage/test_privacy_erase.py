"""`loopbot erase --customer ID` on a real database (SPEC §11): the customer's responses go, every copy of
their identifier and words is scrubbed wherever it was (their cases, any timeline, rendered posts, staff text,
audit lookups), their cases keep an `[erased]` marker and post the change, and the audit entry names no one.
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.cases.model import parse_ref
from bot.clock import utcnow
from bot.delivery import outbox
from bot.errors import InvalidInput
from bot.privacy.audit import CUSTOMER_LOOKUP, ERASE, Audit
from bot.privacy.erase import ERASED_EVENT, Erasure
from bot.privacy.scrub import ERASED
from bot.slack.blocks.case import case_message, event_line
from storage.models import Case, OutboxMessage, Silence
from tests.factories import item
from tests.storage.copies import copies

GONE, KEPT = "C-ERASE-17", "C-KEEP-18"
# Long, with what Slack escapes, on two lines: found as stored, as Slack shows it, and clipped.
COMMENT = "My parcel & the invoice <both> vanished from the porch\nand nobody called me back"
SUPER, AGENT = "U0SUPER1", "U0AGENT1"


def ingest(ingestor, now, **kw) -> list[str]:  # noqa: ANN001
    valid, errors = ingestor.validate([item(**kw)], now)
    assert not errors
    return ingestor.store(valid, default_source="api", origin="api", now=now).cases


@pytest.fixture
def seeded(sessions, config, ingestor, cases):  # noqa: ANN001, ANN201
    now = utcnow()
    [first] = ingest(ingestor, now, customer=GONE, score=1, comment=COMMENT)
    [second] = ingest(ingestor, now, customer=GONE, score=2, metric="csat")
    assert ingest(ingestor, now, customer=GONE, score=5) == []  # no case, still their response
    [other] = ingest(ingestor, now, customer=KEPT, score=1, comment="Late again, third time")
    cases.note(first, f"{GONE} wrote: {COMMENT}", actor=AGENT, source="command")
    cases.note(other, f"Same complaint as {GONE}, see {first}", actor=AGENT, source="command")
    shown = COMMENT.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    with sessions.begin() as s:
        outbox.enqueue(  # rendered when queued, clipped and quoted as a digest shows a verbatim
            s,
            key="legacy-digest",
            kind=outbox.POST,
            channel="C0DELIVERY",
            payload={"text": "digest", "blocks": [{"text": f"> {shown[:60]}…"}]},
            now=now,
        )
        s.add(
            Silence(
                team="delivery",
                pattern="all",
                reason=f"flood after {GONE}'s post went viral",
                created_by=SUPER,
                source="command",
                created_at=now,
                starts_at=now,
                ends_at=now + timedelta(hours=1),
            )
        )
    audit = Audit(sessions, config)
    audit.customer_lookup(SUPER, GONE)
    audit.customer_lookup(SUPER, KEPT)
    return first, second, other


def test_erase_removes_every_copy_and_leaves_the_marker(engine, sessions, config, cases, seeded):
    first, second, other = seeded
    assert {"feedback.customer", "cases.customer", "cases.summary", "case_events.details"} <= set(
        copies(engine, GONE)
    )
    assert {"silences.reason", "audit_log.customer"} <= set(copies(engine, GONE))
    assert "outbox.payload" in copies(engine, "My parcel &amp; the invoice &lt;both&gt;")

    erased = Erasure(sessions, config).erase(f"  {GONE} ", actor="cli", source="cli")

    for needle in (GONE, COMMENT, "vanished from the porch", "nobody called me back", "&lt;both"):
        assert copies(engine, needle) == [], needle
    assert (erased.responses, erased.cases, erased.events) == (3, 2, 2)
    assert (erased.posts, erased.texts, erased.lookups) == (1, 1, 1)
    # Another customer is untouched but for the mention of the erased one.
    assert {"feedback.customer", "cases.customer", "cases.summary", "audit_log.customer"} <= set(
        copies(engine, KEPT)
    )
    assert cases.get(other).events[-1].details["text"] == f"Same complaint as {ERASED}, see {first}"
    team = config.teams["delivery"]
    for ref in (first, second):
        detail = cases.get(ref)
        assert detail.case.summary["customer"] == ERASED and detail.case.feedback_id is None
        assert detail.case.summary["metric"] == "csat" and detail.comment is None
        last = detail.events[-1]
        assert (last.kind, last.actor, last.source, last.details) == (
            ERASED_EVENT,
            "cli",
            "cli",
            {},
        )
        # The case message shows the marker where the comment was; the thread line says when.
        message = str(case_message(detail, team, now=utcnow()))
        assert f"Comment {ERASED} at the customer's request" in message
        assert "Comment removed by retention" not in message
        assert event_line(last, detail.case, team).startswith(
            f":wastebasket: Customer data {ERASED}"
        )
    assert cases.get(first).events[1].details["text"] == f"{ERASED} wrote: {ERASED}"
    with sessions.begin() as s:
        assert s.scalar(select(Case.customer).where(Case.id == parse_ref(first))) is None
        posts = s.scalars(select(OutboxMessage.key).where(OutboxMessage.kind == "case.event"))
        events = {
            f"case:{parse_ref(r)}:event:{cases.get(r).events[-1].id}" for r in (first, second)
        }
        assert events <= set(posts)  # the messages are updated through the outbox
    entries = list(Audit(sessions, config).entries())
    assert [e.kind for e in entries] == [CUSTOMER_LOOKUP, CUSTOMER_LOOKUP, ERASE]
    assert entries[0].line().endswith(f"customer_lookup  customer {ERASED}")
    assert entries[1].customer == KEPT
    assert entries[2].actor == "cli" and entries[2].detail == str(erased)
    assert all(GONE not in e.line() for e in entries)


def test_erasing_again_or_an_unknown_customer_finds_nothing_but_is_recorded(
    sessions, config, seeded
):
    erasure = Erasure(sessions, config)
    erasure.erase(GONE, actor="cli", source="cli")
    again = erasure.erase(GONE, actor="cli", source="cli")
    nobody = erasure.erase("C-NOBODY", actor="cli", source="cli")
    for erased in (again, nobody):
        assert (erased.responses, erased.cases, erased.events, erased.posts) == (0, 0, 0, 0)
        assert (erased.texts, erased.lookups) == (0, 0)
    kinds = [e.kind for e in Audit(sessions, config).entries()]
    assert kinds.count(ERASE) == 3
    with pytest.raises(InvalidInput):
        erasure.erase("   ", actor="cli", source="cli")
