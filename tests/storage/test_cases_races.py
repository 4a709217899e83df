"""Case changes at the same moment: the version in the UPDATE decides, the loser is told who won, nothing doubles."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from bot.cases.lifecycle import Cases
from bot.cases.model import parse_ref
from bot.errors import AlreadyDone, InvalidTransition
from storage.db import make_read_sessions
from storage.models import Case, CaseEvent, OutboxMessage
from tests.storage.test_cases import AGENT, OTHER_AGENT, SUPER, open_case


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
    assert losers[0].by == winners[0] and f"by {winners[0]} at " in losers[0].message
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
            assert isinstance(outcome, InvalidTransition) and outcome.user == other, outcome
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
