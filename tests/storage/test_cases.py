"""Case lifecycle on a real database: transitions, permissions, timeline, races."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.cases.lifecycle import Cases, parse_ref
from bot.clock import utcnow
from bot.errors import AlreadyDone, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from storage.db import make_read_sessions
from storage.models import Case, CaseEvent, OutboxMessage
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
        match=rf"{ref} was already acknowledged by <@{AGENT}> at \d{{4}}-\d\d-\d\d \d\d:\d\d E[SD]T",
    ) as exc:
        cases.acknowledge(ref, actor=SUPER, source="command")
    assert exc.value.by == AGENT
    assert [e.kind for e in cases.get(ref).events] == ["opened", "acknowledged"]


def test_permissions_follow_the_table(ingestor, cases):
    ref = open_case(ingestor)
    with pytest.raises(
        PermissionDenied,
        match=r"Only members of Delivery Ops, its supervisors \(<@U0SUPER1>\) or leaders",
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
        match=rf"{ref} is resolved \(by <@{SUPER}> at .+\), so you cannot acknowledge it; reopen it first",
    ):
        cases.acknowledge(ref, actor=AGENT, source="button")
    with pytest.raises(AlreadyDone, match=rf"{ref} was already resolved by <@{SUPER}>"):
        cases.resolve(
            ref, outcome="fixed", root_cause="other", action="again", actor=LEADER, source="command"
        )
    with pytest.raises(InvalidTransition, match="so you cannot assign it"):
        cases.assign(ref, AGENT, actor=AGENT, source="button")
    other = open_case(ingestor)
    with pytest.raises(
        InvalidTransition,
        match=rf"{other} is open \(by Loopbot at .+\), so you cannot reopen it; only resolved cases",
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
    with pytest.raises(AlreadyDone, match=f"already assigned to <@{OTHER_AGENT}>"):
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


@pytest.mark.parametrize("round_", range(5))
def test_two_acknowledges_at_once_exactly_one_wins(ingestor, cases, sessions, round_):
    ref = open_case(ingestor)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def click(user: str) -> None:
        barrier.wait()
        try:
            outcomes[user] = cases.acknowledge(ref, actor=user, source="button")
        except AlreadyDone as exc:
            outcomes[user] = exc

    threads = [threading.Thread(target=click, args=(u,)) for u in (AGENT, OTHER_AGENT)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    winners = [u for u, o in outcomes.items() if not isinstance(o, Exception)]
    losers = [o for o in outcomes.values() if isinstance(o, AlreadyDone)]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0].by == winners[0] and f"<@{winners[0]}>" in losers[0].message
    with sessions() as s:
        acks = s.scalar(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "acknowledged")
        )
        version = s.scalar(select(Case.version).where(Case.id == parse_ref(ref)))
    assert acks == 1 and version == 2


def _at_once(calls: list) -> list[object]:  # noqa: ANN001
    """Run the calls in threads released together; each one's result or exception, in order."""
    barrier, outcomes = threading.Barrier(len(calls)), [None] * len(calls)

    def run(n: int) -> None:
        barrier.wait()
        try:
            outcomes[n] = calls[n]()
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            outcomes[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return outcomes


def test_a_burst_of_changes_to_many_cases_changes_each_once_and_tells_every_observer(
    engine, sessions, config, ingestor
):  # noqa: ANN001
    seen: list[tuple[str, str, str]] = []
    burst = Cases(
        sessions,
        config,
        observer=lambda change, before: seen.append((change.case.ref, before, change.event.kind)),
        reads=make_read_sessions(engine),
    )
    refs = [open_case(ingestor, comment=f"late {i}") for i in range(12)]
    # Acknowledges of twelve cases at once, each in its own unit of work.
    outcomes = _at_once(
        [lambda r=r: burst.acknowledge(r, actor=AGENT, source="button") for r in refs]
    )
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sorted(seen) == sorted((r, "open", "acknowledged") for r in refs)
    with sessions() as s:
        events = s.execute(
            select(CaseEvent.case_id, CaseEvent.kind, CaseEvent.id).where(
                CaseEvent.kind != "opened"
            )
        ).all()
        posts = set(s.scalars(select(OutboxMessage.key).where(OutboxMessage.kind == "case.event")))
        versions = dict(s.execute(select(Case.id, Case.version)).tuples().all())
    assert len(events) == 12 and posts == {f"case:{cid}:event:{eid}" for cid, _, eid in events}
    assert versions == {parse_ref(r): 2 for r in refs}


@pytest.mark.parametrize("round_", range(3))
def test_an_assignment_racing_an_acknowledge_applies_or_says_who_changed_the_case(
    ingestor, cases, sessions, round_
):
    ref = open_case(ingestor)
    ack, assign = _at_once(
        [
            lambda: cases.acknowledge(ref, actor=AGENT, source="button"),
            lambda: cases.assign(ref, OTHER_AGENT, actor=SUPER, source="button"),
        ]
    )
    # Each applies, or it read the case before the other committed and is told who changed it, writing nothing.
    for outcome, other in ((ack, SUPER), (assign, AGENT)):
        if isinstance(outcome, Exception):
            assert isinstance(outcome, InvalidTransition) and f"<@{other}>" in outcome.message, (
                outcome
            )
    applied = [o for o in (ack, assign) if not isinstance(o, Exception)]
    assert applied
    expected = (
        1 + len(applied),
        "open" if isinstance(ack, Exception) else "acknowledged",
        None if isinstance(assign, Exception) else OTHER_AGENT,
    )
    with sessions() as s:
        case = s.get(Case, parse_ref(ref))
        assert (case.version, case.state, case.assignee) == expected


@pytest.mark.parametrize("round_", range(3))
def test_two_replicas_acknowledging_one_case_at_once_acknowledge_it_once(
    engine, sessions, config, ingestor, round_
):  # noqa: ANN001
    ref = open_case(ingestor)
    # Two processes' worth of Cases: the version in the UPDATE decides which one wins.
    replicas = [Cases(sessions, config, reads=make_read_sessions(engine)) for _ in range(2)]
    outcomes = _at_once(
        [
            lambda c=c, u=u: c.acknowledge(ref, actor=u, source="button")
            for c, u in zip(replicas, (AGENT, OTHER_AGENT), strict=True)
        ]
    )
    losers = [o for o in outcomes if isinstance(o, AlreadyDone)]
    winners = [o.event.actor for o in outcomes if not isinstance(o, Exception)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert losers[0].by == winners[0]
    with sessions() as s:
        assert (
            s.scalar(
                select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "acknowledged")
            )
            == 1
        )
