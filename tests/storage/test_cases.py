"""Case lifecycle on a real database: transitions, permissions, timeline, races."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.cases.model import parse_ref
from bot.clock import utcnow
from bot.errors import AlreadyDone, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from storage.models import OutboxMessage
from tests.factories import item

SUPER, AGENT, OTHER_AGENT, LEADER, STRANGER = (
    "U0SUPER1",
    "U0AGENT1",
    "U0AGENT2",
    "U0LEADER1",
    "U0STRANGER",
)


def open_case(ingestor, team: str = "delivery", **kw) -> str:  # noqa: ANN001
    now = utcnow()
    valid, errors = ingestor.validate([item(team=team, score=1, **kw)], now)
    assert not errors
    result = ingestor.store(valid, default_source="api", origin="api", now=now)
    assert len(result.cases) == 1
    return result.cases[0]


def test_negative_feedback_opens_a_case_with_event_and_outbox_post(ingestor, cases, sessions):
    ref = open_case(ingestor, comment="Parcel came late")
    detail = cases.get(ref)
    assert (
        detail.case.state == "open"
        and detail.case.kind == "feedback"
        and detail.case.team == "delivery"
    )
    assert detail.case.severity == "high"  # csat 1 is the worst score
    assert detail.case.summary["category"] == "late_delivery"
    assert detail.comment == "Parcel came late"
    assert [(e.kind, e.actor, e.source) for e in detail.events] == [("opened", "loopbot", "api")]
    with sessions() as s:
        post = s.scalars(select(OutboxMessage)).one()
    assert (post.key, post.kind, post.channel, post.payload) == (
        f"case:{detail.case.id}:open",
        "case.open",
        "C0DELIVERY",
        {"case_id": detail.case.id},
    )


def test_acknowledge_writes_one_event_and_second_ack_says_who(ingestor, cases):
    ref = open_case(ingestor)
    change = cases.acknowledge(ref, actor=AGENT, source="button")
    assert change.case.state == "acknowledged" and change.case.version == 2
    assert (change.event.kind, change.event.actor, change.event.source) == (
        "acknowledged",
        AGENT,
        "button",
    )
    with pytest.raises(
        AlreadyDone,
        match=rf"{ref} was already acknowledged by {AGENT} at \d{{4}}-\d\d-\d\dT\d\d:\d\d-0[45]:00",
    ) as exc:
        cases.acknowledge(ref, actor=SUPER, source="command")
    assert exc.value.by == AGENT
    assert [e.kind for e in cases.get(ref).events] == ["opened", "acknowledged"]


def test_permissions_follow_the_table(ingestor, cases):
    ref = open_case(ingestor)
    with pytest.raises(
        PermissionDenied,
        match=r"Only members of Delivery Ops, its supervisors \(U0SUPER1\) or leaders",
    ):
        cases.acknowledge(ref, actor=STRANGER, source="button")
    with pytest.raises(PermissionDenied, match="supervisors of Delivery Ops"):
        cases.resolve(
            ref,
            outcome="fixed",
            root_cause="late_delivery",
            action="Refunded",
            actor=AGENT,
            source="modal",
        )
    with pytest.raises(PermissionDenied, match="assign it to yourself with `me`"):
        cases.assign(ref, OTHER_AGENT, actor=AGENT, source="command")
    cases.assign(ref, STRANGER, actor=STRANGER, source="button")  # anyone may take a case
    cases.note(
        ref, "called the customer", actor=STRANGER, source="command"
    )  # anyone may add a note
    assert cases.get(ref).case.state == "open"  # nothing above changed the state
    cases.resolve(
        ref, outcome="fixed", root_cause="other", action="Re-sent", actor=LEADER, source="command"
    )


def test_team_without_member_list_lets_anyone_acknowledge(ingestor, cases):
    ref = open_case(ingestor, team="support")
    assert cases.acknowledge(ref, actor=STRANGER, source="button").case.state == "acknowledged"


def test_resolve_validates_outcome_cause_action_and_rationale(ingestor, cases):
    ref = open_case(ingestor)
    kw = dict(actor=SUPER, source="modal")
    with pytest.raises(
        InvalidInput, match="Outcome 'solved' is not one of fixed, workaround, no_action, duplicate"
    ) as e1:
        cases.resolve(ref, outcome="solved", root_cause="other", action="x", **kw)
    assert e1.value.field == "outcome"
    with pytest.raises(
        InvalidInput,
        match="Root cause 'weather' is not one of late_delivery, rude_staff, app_error, other",
    ) as e2:
        cases.resolve(ref, outcome="fixed", root_cause="weather", action="x", **kw)
    assert e2.value.field == "root_cause"
    with pytest.raises(InvalidInput, match="Say what was done") as e3:
        cases.resolve(ref, outcome="fixed", root_cause="other", action="   ", **kw)
    assert e3.value.field == "action"
    with pytest.raises(InvalidInput, match="no_action needs a rationale") as e4:
        cases.resolve(ref, outcome="no_action", root_cause="other", action="Nothing", **kw)
    assert e4.value.field == "rationale"
    assert (
        cases.get(ref).case.state == "open" and len(cases.get(ref).events) == 1
    )  # nothing half-written
    change = cases.resolve(
        ref,
        outcome="no_action",
        root_cause="other",
        action="Nothing",
        rationale="Customer error",
        **kw,
    )
    assert change.event.details == {
        "outcome": "no_action",
        "root_cause": "other",
        "domain": "other",
        "action": "Nothing",
        "rationale": "Customer error",
    }


def test_illegal_transitions_say_state_and_who(ingestor, cases):
    ref = open_case(ingestor)
    cases.resolve(
        ref,
        outcome="fixed",
        root_cause="late_delivery",
        action="Refunded",
        actor=SUPER,
        source="modal",
    )
    with pytest.raises(
        InvalidTransition,
        match=rf"{ref} is resolved \(by {SUPER} at .+\), so you cannot acknowledge it; reopen it first",
    ):
        cases.acknowledge(ref, actor=AGENT, source="button")
    with pytest.raises(AlreadyDone, match=rf"{ref} was already resolved by {SUPER}"):
        cases.resolve(
            ref, outcome="fixed", root_cause="other", action="again", actor=LEADER, source="command"
        )
    with pytest.raises(InvalidTransition, match="so you cannot assign it"):
        cases.assign(ref, AGENT, actor=AGENT, source="button")
    other = open_case(ingestor)
    with pytest.raises(
        InvalidTransition,
        match=rf"{other} is open \(by loopbot at .+\), so you cannot reopen it; only resolved cases",
    ):
        cases.reopen(other, "because", actor=SUPER, source="command")


def test_reopen_needs_reason_and_last_resolution_counts(ingestor, cases):
    ref = open_case(ingestor)
    t0 = cases.get(ref).case.opened_at
    cases.resolve(
        ref,
        outcome="fixed",
        root_cause="other",
        action="a",
        actor=SUPER,
        source="modal",
        now=t0 + timedelta(hours=1),
    )
    with pytest.raises(InvalidInput, match="Say why the case is reopened"):
        cases.reopen(ref, "  ", actor=SUPER, source="command")
    cases.reopen(
        ref, "customer wrote again", actor=SUPER, source="command", now=t0 + timedelta(hours=2)
    )
    reopened = cases.get(ref)
    assert reopened.case.state == "open" and reopened.timings.resolved_at is None
    assert reopened.timings.acknowledged_at == t0 + timedelta(
        hours=1
    )  # resolving from open counted as the ack
    cases.resolve(
        ref,
        outcome="fixed",
        root_cause="other",
        action="b",
        actor=SUPER,
        source="modal",
        now=t0 + timedelta(hours=5),
    )
    final = cases.get(ref)
    assert final.timings.ttr == timedelta(hours=5) and final.timings.tta == timedelta(hours=1)
    assert [e.kind for e in final.events] == ["opened", "resolved", "reopened", "resolved"]


def test_sla_deadlines_and_overdue_come_from_team_sla(ingestor, cases):
    ref = open_case(ingestor)  # delivery: ack 15m, resolve 1d
    d = cases.get(ref)
    t0 = d.case.opened_at
    assert d.timings.ack_due == t0 + timedelta(
        minutes=15
    ) and d.timings.resolve_due == t0 + timedelta(days=1)
    assert not d.timings.overdue(t0 + timedelta(minutes=14)) and d.timings.overdue(
        t0 + timedelta(minutes=16)
    )
    cases.acknowledge(ref, actor=AGENT, source="button", now=t0 + timedelta(minutes=20))
    d = cases.get(ref)
    assert d.timings.ack_met is False and d.timings.tta == timedelta(minutes=20)
    assert not d.timings.overdue(t0 + timedelta(hours=23)) and d.timings.overdue(
        t0 + timedelta(hours=25)
    )


def test_assign_records_previous_and_refuses_same_assignee(ingestor, cases):
    ref = open_case(ingestor)
    cases.assign(ref, AGENT, actor=AGENT, source="button")
    change = cases.assign(ref, OTHER_AGENT, actor=SUPER, source="command")
    assert change.case.assignee == OTHER_AGENT and change.event.details == {
        "assignee": OTHER_AGENT,
        "previous": AGENT,
    }
    with pytest.raises(AlreadyDone, match=f"already assigned to {OTHER_AGENT}"):
        cases.assign(ref, OTHER_AGENT, actor=SUPER, source="command")


def test_unknown_case_and_bad_refs(cases):
    with pytest.raises(NotFound, match="There is no case FB-999"):
        cases.acknowledge("FB-999", actor=AGENT, source="command")
    assert [parse_ref(t) for t in ("FB-12", "fb-12", "#12", "12", " FB-12 ")] == [12] * 5
    for bad in ("FB12x", "", "twelve", "FB-", "-3"):
        with pytest.raises(InvalidInput, match="write it like FB-12"):
            parse_ref(bad)


def test_note_requires_text(ingestor, cases):
    ref = open_case(ingestor)
    with pytest.raises(InvalidInput, match="Write the note"):
        cases.note(ref, "", actor=AGENT, source="command")
    assert cases.note(ref, "left a voicemail", actor=AGENT, source="command").event.details == {
        "text": "left a voicemail"
    }


def test_the_same_note_repeated_moments_later_is_stored_once(ingestor, cases):
    ref = open_case(ingestor)
    t0 = utcnow()
    cases.note(ref, "called back", actor=AGENT, source="command", now=t0)
    with pytest.raises(AlreadyDone, match="That note is already on"):
        cases.note(ref, "called back", actor=AGENT, source="command", now=t0 + timedelta(seconds=3))
    # Someone else saying the same, or the same person saying it again later, is a new note.
    cases.note(
        ref, "called back", actor=OTHER_AGENT, source="command", now=t0 + timedelta(seconds=4)
    )
    cases.note(ref, "called back", actor=AGENT, source="command", now=t0 + timedelta(minutes=6))
    assert [e.kind for e in cases.get(ref).events].count("note") == 3


def test_a_one_line_no_action_resolution_keeps_its_text_as_the_rationale(ingestor, cases):
    ref = open_case(ingestor)
    change = cases.resolve_in_one_line(
        ref,
        outcome="no_action",
        root_cause="other",
        text="Customer asked us not to",
        actor=SUPER,
        source="command",
    )
    assert change.event.details["rationale"] == "Customer asked us not to"
    fixed = open_case(ingestor)
    change = cases.resolve_in_one_line(
        fixed, outcome="fixed", root_cause="other", text="Refunded", actor=SUPER, source="command"
    )
    assert "rationale" not in change.event.details and change.event.details["action"] == "Refunded"
