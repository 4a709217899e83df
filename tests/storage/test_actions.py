"""Corrective actions on a real database: planned from a resolution or a command, attached, done, dropped and
reopened once each, with every mistake refused and nothing changed; overdue actions escalated once per level."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.alerts.action_escalations import ActionEscalations
from bot.cases.action_model import NewAction
from bot.cases.actions import CorrectiveActions
from bot.errors import AlreadyDone, InvalidInput, NotFound, PermissionDenied
from storage.models import ActionEvent, Case, CorrectiveAction, OutboxMessage
from tests.storage.test_escalations import open_case

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SUPER, AGENT, LEADER, OWNER = "U0SUPER1", "U0AGENT1", "U0LEADER1", "U0OWNER1"


@pytest.fixture
def actions(cases) -> CorrectiveActions:  # noqa: ANN001
    return cases.actions


def posts(sessions, prefix: str) -> list[OutboxMessage]:  # noqa: ANN001
    with sessions() as s:
        return list(
            s.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.key.like(f"{prefix}%"))
                .order_by(OutboxMessage.id)
            )
        )


def test_resolving_with_a_corrective_action_plans_it_and_links_the_case(sessions, cases, actions):  # noqa: ANN001
    ref = open_case(sessions, cases, T0)
    change = cases.resolve(
        ref,
        outcome="fixed",
        root_cause="late_delivery",
        action="Refunded the delivery fee",
        rationale="Courier was 2 days late",
        whys="Courier missed the slot\n2. The route had 40 stops\n\n",
        corrective=NewAction("Cap routes at 30 stops", OWNER, "2026-03-20"),
        actor=SUPER,
        source="modal",
        now=T0,
    )
    details = change.event.details
    assert details["domain"] == "process"
    assert details["rationale"] == "Courier was 2 days late"
    assert details["whys"] == ["Courier missed the slot", "The route had 40 stops"]
    ca = details["corrective"]
    detail = actions.get(ca)
    a = detail.action
    assert (a.state, a.cause, a.domain, a.owner, a.text) == (
        "planned",
        "late_delivery",
        "process",
        OWNER,
        "Cap routes at 30 stops",
    )
    # Midnight of the date in the team's zone (delivery: America/New_York, EDT from 8 March).
    assert a.due_at == datetime(2026, 3, 20, 4, 0, tzinfo=UTC)
    assert [c.ref for c in detail.cases] == [f"FB-{ref}"]
    assert [e.kind for e in detail.events] == ["planned"]
    assert [p.kind for p in posts(sessions, f"action:{a.id}:")] == ["action.open"]
    assert posts(sessions, f"action:{a.id}:")[0].channel == "C0DELIVERY"


@pytest.mark.parametrize(
    ("corrective", "field", "words"),
    [
        (NewAction("Cap routes", OWNER, "2026-03-01"), "due", "in the past"),
        (NewAction("Cap routes", "jane", "2026-03-20"), "owner", "not a Slack user"),
        (NewAction("Cap routes", OWNER, "next week"), "due", "not a date"),
        (NewAction("   ", OWNER, "2026-03-20"), "corrective", "what changes"),
    ],
)
def test_a_bad_corrective_action_refuses_the_whole_resolution(
    sessions,
    cases,
    corrective,
    field,
    words,  # noqa: ANN001
):
    ref = open_case(sessions, cases, T0)
    with pytest.raises(InvalidInput, match=words) as err:
        cases.resolve(
            ref,
            outcome="fixed",
            root_cause="late_delivery",
            action="Refunded",
            corrective=corrective,
            actor=SUPER,
            source="modal",
            now=T0,
        )
    assert err.value.field == field
    assert cases.get(ref).case.state == "open"
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(CorrectiveAction)) == 0


def test_a_later_case_attaches_to_the_open_action_of_its_cause(sessions, cases, actions):  # noqa: ANN001
    planned = actions.plan(
        "delivery",
        cause="late_delivery",
        due="2026-03-20",
        owner="me",
        text="Cap routes at 30 stops",
        actor=SUPER,
        source="command",
        now=T0,
    )
    assert planned.action.owner == SUPER
    first, second = open_case(sessions, cases, T0), open_case(sessions, cases, T0)
    with pytest.raises(InvalidInput, match="is about late_delivery, not rude_staff") as err:
        cases.resolve(
            first, outcome="fixed", root_cause="rude_staff", action="Apologised",
            attach=planned.action.ref, actor=SUPER, source="command", now=T0,
        )  # fmt: skip
    assert err.value.field == "attach" and cases.get(first).case.state == "open"
    change = cases.resolve(
        first, outcome="fixed", root_cause="late_delivery", action="Refunded",
        attach="ca-" + str(planned.action.id), actor=SUPER, source="command", now=T0,
    )  # fmt: skip
    assert change.event.details["corrective"] == planned.action.ref
    cases.resolve(
        second, outcome="fixed", root_cause="late_delivery", action="Refunded",
        attach=planned.action.id, actor=SUPER, source="command", now=T0,
    )  # fmt: skip
    detail = actions.get(planned.action.ref)
    assert [c.id for c in detail.cases] == [first, second]
    assert [e.kind for e in detail.events] == ["planned", "attached", "attached"]


def test_plan_refuses_mistakes_and_frontline_agents(actions):  # noqa: ANN001
    kw = {"due": "2026-03-20", "owner": OWNER, "text": "Cap routes", "source": "command", "now": T0}
    with pytest.raises(PermissionDenied, match="Only supervisors of Delivery Ops"):
        actions.plan("delivery", cause="late_delivery", actor=AGENT, **kw)
    with pytest.raises(InvalidInput, match="Cause 'weather' is not one of"):
        actions.plan("delivery", cause="weather", actor=SUPER, **kw)
    with pytest.raises(NotFound, match="There is no team `nope`"):
        actions.plan("nope", cause="late_delivery", actor=LEADER, **kw)
    with pytest.raises(InvalidInput, match="in the past"):
        actions.plan("delivery", cause="late_delivery", actor=SUPER, **{**kw, "due": "2026-03-02"})
    with pytest.raises(NotFound, match="no corrective action CA-99"):
        actions.get("CA-99")
    assert actions.listed(None, "all", T0) == []


def test_done_once_drop_and_reopen(sessions, actions):  # noqa: ANN001
    a = actions.plan(
        "delivery", cause="late_delivery", due="2026-03-20", owner=OWNER, text="Cap routes",
        actor=SUPER, source="command", now=T0,
    ).action  # fmt: skip
    with pytest.raises(PermissionDenied, match="its owner, supervisors of Delivery Ops"):
        actions.done(a.ref, live=None, text="Live", actor=AGENT, source="command", now=T0)
    with pytest.raises(InvalidInput, match="in the future"):
        actions.done(a.ref, live="2026-04-01", text="Live", actor=OWNER, source="command", now=T0)
    done = actions.done(
        a.ref, live="2026-03-01", text="Routes capped", actor=OWNER, source="command", now=T0
    )
    assert done.action.state == "done"
    assert done.action.live_at == datetime(2026, 3, 1, 5, 0, tzinfo=UTC)  # midnight EST
    with pytest.raises(AlreadyDone, match=f"{a.ref} was already done by"):
        actions.done(a.ref, live=None, text="again", actor=SUPER, source="command", now=T0)
    with pytest.raises(PermissionDenied):
        actions.drop(a.ref, "no budget", actor=OWNER, source="command", now=T0)
    dropped = actions.drop(a.ref, "no budget", actor=SUPER, source="command", now=T0)
    assert dropped.action.state == "dropped"
    with pytest.raises(AlreadyDone):
        actions.drop(a.ref, "again", actor=SUPER, source="command", now=T0)
    kinds = [p.kind for p in posts(sessions, f"action:{a.id}:")]
    assert kinds == ["action.open", "action.event", "action.event"]


def test_concurrent_done_clicks_change_the_action_once(sessions, actions):  # noqa: ANN001
    a = actions.plan(
        "delivery", cause="late_delivery", due="2026-03-20", owner=OWNER, text="Cap routes",
        actor=SUPER, source="command", now=T0,
    ).action  # fmt: skip
    results: list[object] = []
    barrier = threading.Barrier(4)

    def click(user: str) -> None:
        barrier.wait()
        try:
            results.append(
                actions.done(a.ref, live=None, text="Live", actor=user, source="button", now=T0)
            )
        except AlreadyDone as exc:
            results.append(exc)

    threads = [threading.Thread(target=click, args=(u,)) for u in (OWNER, SUPER, LEADER, OWNER)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(not isinstance(r, AlreadyDone) for r in results) == 1
    with sessions() as s:
        kinds = s.scalars(select(ActionEvent.kind).where(ActionEvent.action_id == a.id))
        assert sorted(kinds) == ["done", "planned"]


def test_overdue_actions_escalate_once_per_level(sessions, config, actions):  # noqa: ANN001
    a = actions.plan(
        "delivery", cause="late_delivery", due="2026-03-05", owner=OWNER, text="Cap routes",
        actor=SUPER, source="command", now=T0,
    ).action  # fmt: skip
    jobs = [ActionEscalations(sessions, config) for _ in range(2)]  # two replicas
    assert jobs[0].run(a.due_at - timedelta(minutes=1)) == []
    at_due = a.due_at + timedelta(minutes=1)
    assert jobs[0].run(at_due) == [(a.ref, "owner")]
    assert jobs[1].run(at_due) == [] and jobs[0].run(at_due + timedelta(hours=1)) == []
    leaders_at = a.planned_at + 2 * (a.due_at - a.planned_at) + timedelta(minutes=1)
    assert jobs[1].run(leaders_at) == [(a.ref, "leaders")]
    assert jobs[0].run(leaders_at) == []
    sent = {(p.kind, p.channel) for p in posts(sessions, f"action:{a.id}:r1:escalation")}
    assert sent == {
        ("action.event", "C0DELIVERY"),
        ("action.escalation", OWNER),
        ("action.escalation", "C0LEADERS"),
    }


def test_a_done_or_dropped_action_is_not_escalated(sessions, config, actions):  # noqa: ANN001
    a = actions.plan(
        "delivery", cause="late_delivery", due="2026-03-05", owner=OWNER, text="Cap routes",
        actor=SUPER, source="command", now=T0,
    ).action  # fmt: skip
    actions.done(a.ref, live=None, text="Live", actor=OWNER, source="command", now=T0 + DAY)
    assert ActionEscalations(sessions, config).run(a.due_at + timedelta(minutes=1)) == []
    with sessions() as s:
        assert s.scalar(select(Case.action_id).limit(1)) is None
