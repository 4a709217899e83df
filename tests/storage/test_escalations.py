"""Escalations on a real database: each level once at the right time, acknowledged/resolved/reopened cases, leaders' posts."""

from __future__ import annotations

import copy
import itertools
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update

from bot.alerts.escalations import HORIZON, Escalations
from bot.cases import opening
from bot.cases.lifecycle import Cases
from bot.cases.model import NewFeedbackCase
from bot.delivery.retention import KEEP_POSTS, Retention
from bot.slack.blocks.case import case_message, event_line
from bot.slack.blocks.escalation import leaders_message
from config.loader import parse_config
from slack_emulator.blockkit import message_errors
from storage.models import CaseEvent, Feedback, OutboxMessage
from tests.conftest import CONFIG

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # 07:00 EST for the delivery team
SEC, MIN, DAY = timedelta(seconds=1), timedelta(minutes=1), timedelta(days=1)
SUPER, AGENT = "U0SUPER1", "U0AGENT1"
# delivery: ack 15m, resolve 1d.
ACK, ACK_LEADERS, RESOLVE, RESOLVE_LEADERS = 15 * MIN, 30 * MIN, DAY, 2 * DAY
_ids = itertools.count(1)


def open_case(sessions, cases: Cases, at: datetime = T0, team: str = "delivery") -> int:  # noqa: ANN001
    with sessions.begin() as s:
        fid = s.execute(
            insert(Feedback).returning(Feedback.id),
            {
                "source": "test",
                "external_id": f"e-{next(_ids)}",
                "team": team,
                "metric": "csat",
                "score": 1,
                "submitted_at": at,
                "received_at": at,
                "comment": "late <again>",
            },
        ).scalar_one()
        new = NewFeedbackCase(
            feedback_id=fid,
            team=team,
            metric="csat",
            score=1,
            category="late_delivery",
            segment=None,
            customer=None,
            submitted_at=at,
        )
        return opening.open_feedback_cases(s, cases.config, [new], "api", at)[0].id


def escalated(sessions, case_id: int) -> list[CaseEvent]:  # noqa: ANN001
    with sessions() as s:
        return list(
            s.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case_id, CaseEvent.kind == "escalated")
                .order_by(CaseEvent.id)
            )
        )


def outbox(sessions, like: str = "%escalation%") -> list[OutboxMessage]:  # noqa: ANN001
    with sessions() as s:
        return list(
            s.scalars(
                select(OutboxMessage).where(OutboxMessage.key.like(like)).order_by(OutboxMessage.id)
            )
        )


@pytest.fixture
def escalations(sessions, config, cases) -> Escalations:  # noqa: ANN001
    return Escalations(sessions, config, cases)


@pytest.mark.parametrize(
    ("level", "after"),
    [
        ("ack", ACK),
        ("ack_leaders", ACK_LEADERS),
        ("resolve", RESOLVE),
        ("resolve_leaders", RESOLVE_LEADERS),
    ],
)
def test_each_level_fires_once_just_after_its_deadline(sessions, cases, escalations, level, after):
    case_id = open_case(sessions, cases)
    before = [lv for lv in ("ack", "ack_leaders", "resolve", "resolve_leaders") if lv != level]
    # Every earlier level, then nothing more until the deadline has passed.
    earlier = escalations.run(T0 + after - SEC)
    assert (case_id, level) not in earlier and all(lv in before for _, lv in earlier)
    assert escalations.run(T0 + after) == []  # at the deadline it is not yet past it
    assert escalations.run(T0 + after + SEC) == [(case_id, level)]
    assert escalations.run(T0 + after + 2 * SEC) == []
    # Ten days on, every deadline is more than HORIZON old: nothing stale is escalated any more.
    assert escalations.run(T0 + 10 * DAY) == []
    assert [e.details["level"] for e in escalated(sessions, case_id)].count(level) == 1


def test_deadlines_older_than_the_horizon_are_not_escalated(sessions, cases, escalations):
    # A first start over an old backlog: its ack deadlines passed more than a day ago, its resolve one just now.
    case_id = open_case(sessions, cases)
    assert HORIZON == DAY
    assert escalations.run(T0 + ACK_LEADERS + HORIZON + SEC) == [(case_id, "resolve")]
    other = open_case(sessions, cases, at=T0 + 3 * DAY)
    assert escalations.run(T0 + 3 * DAY + ACK + HORIZON + SEC) == [
        (other, "ack_leaders"),
        (other, "resolve"),
    ]


def test_ack_escalation_posts_a_thread_line_mentioning_the_supervisors(
    sessions, config, cases, escalations
):
    case_id = open_case(sessions, cases)
    assert escalations.run(T0 + ACK + MIN) == [(case_id, "ack")]
    (event,) = escalated(sessions, case_id)
    assert (event.actor, event.source, event.at) == ("loopbot", "job", T0 + ACK + MIN)
    assert event.details == {"level": "ack", "sla": "15m", "deadline": (T0 + ACK).isoformat()}
    (post,) = outbox(sessions)
    assert (post.key, post.kind, post.channel, post.payload) == (
        f"case:{case_id}:escalation:ack",
        "case.event",
        "C0DELIVERY",
        {"case_id": case_id, "event_id": event.id},
    )
    detail = cases.get(case_id)
    team = config.teams["delivery"]
    assert event_line(event, detail.case, team) == (
        ":rotating_light: Escalated at Mon 2 Mar 07:16 EST: not acknowledged within its 15m SLA (due Mon 2 Mar 07:15 EST)"
        " — <@U0SUPER1>"
    )
    message = case_message(detail, team, now=T0 + ACK + MIN)
    assert message_errors(message["blocks"], message["text"]) == []
    assert message["blocks"][3]["elements"][0]["text"].endswith(" · :rotating_light: escalated")


def test_leader_levels_post_to_the_leaders_channel_once(sessions, config, cases, escalations):
    case_id = open_case(sessions, cases)
    assert escalations.run(T0 + ACK_LEADERS + SEC) == [(case_id, "ack"), (case_id, "ack_leaders")]
    assert escalations.run(T0 + ACK_LEADERS + 2 * SEC) == []
    thread, leaders = outbox(sessions)[1:]
    assert (thread.key, thread.kind, thread.channel) == (
        f"case:{case_id}:escalation:ack_leaders",
        "case.event",
        "C0DELIVERY",
    )
    event = escalated(sessions, case_id)[1]
    assert (leaders.key, leaders.kind, leaders.channel, leaders.payload) == (
        f"case:{case_id}:escalation:ack_leaders:leaders",
        "escalation",
        "C0LEADERS",
        {"case_id": case_id, "event_id": event.id},
    )
    assert event.details == {
        "level": "ack_leaders",
        "sla": "15m",
        "deadline": (T0 + ACK_LEADERS).isoformat(),
        "channel": "C0LEADERS",
    }
    # What the escalation handler posts, rendered from the case and the event as of the escalation.
    team = config.teams["delivery"]
    message = leaders_message(
        cases.get(case_id).case, team, event.details, leaders=config.leaders, now=event.at
    )
    assert message_errors(message["blocks"], message["text"]) == []
    shown = " ".join(
        b["text"]["text"] if "text" in b else b["elements"][0]["text"] for b in message["blocks"]
    )
    assert f"FB-{case_id}" in shown and "Delivery Ops" in shown and "<@U0LEADER1>" in shown
    assert "not acknowledged within twice its 15m SLA" in message["text"]
    assert event_line(event, cases.get(case_id).case, config.teams["delivery"]).startswith(
        ":rotating_light: Escalated to leaders in <#C0LEADERS> at Mon 2 Mar 07:30 EST: not acknowledged within twice its "
        "15m SLA (due Mon 2 Mar 07:30 EST) — <@U0SUPER1>"
    )


def test_acknowledged_cases_get_no_ack_levels(sessions, cases, escalations):
    early = open_case(sessions, cases)
    cases.acknowledge(early, actor=AGENT, source="button", now=T0 + 10 * MIN)
    assert escalations.run(T0 + timedelta(hours=12)) == []
    late = open_case(sessions, cases)
    assert escalations.run(T0 + ACK + MIN) == [(late, "ack")]
    cases.acknowledge(late, actor=AGENT, source="button", now=T0 + ACK + 2 * MIN)
    assert (
        escalations.run(T0 + ACK_LEADERS + MIN) == []
    )  # escalated at ack, then acknowledged: no ack_leaders
    assert escalations.run(T0 + RESOLVE + MIN) == [(early, "resolve"), (late, "resolve")]


def test_resolved_cases_get_nothing(sessions, cases, escalations):
    straight = open_case(sessions, cases)
    cases.resolve(
        straight,
        outcome="fixed",
        root_cause="other",
        action="Refunded",
        actor=SUPER,
        source="modal",
        now=T0 + 20 * MIN,
    )  # past the ack deadline, but resolved
    assert escalations.run(T0 + 10 * DAY) == []
    assert escalated(sessions, straight) == []


def test_a_reopened_case_keeps_its_deadlines_and_the_levels_it_had(sessions, cases, escalations):
    case_id = open_case(sessions, cases)
    assert escalations.run(T0 + RESOLVE + MIN) == [
        (case_id, "ack"),
        (case_id, "ack_leaders"),
        (case_id, "resolve"),
    ]
    cases.resolve(
        case_id,
        outcome="fixed",
        root_cause="other",
        action="a",
        actor=SUPER,
        source="modal",
        now=T0 + RESOLVE + 2 * MIN,
    )
    cases.reopen(
        case_id, "customer wrote again", actor=SUPER, source="command", now=T0 + RESOLVE + 3 * MIN
    )
    assert (
        escalations.run(T0 + RESOLVE + 4 * MIN) == []
    )  # past the resolve deadline, but it had that level
    assert escalations.run(T0 + RESOLVE_LEADERS + MIN) == [(case_id, "resolve_leaders")]

    # A case resolved before any escalation, reopened after its deadlines: resolving counted as acknowledging.
    other = open_case(sessions, cases, at=T0 + 3 * DAY)
    cases.resolve(
        other,
        outcome="fixed",
        root_cause="other",
        action="a",
        actor=SUPER,
        source="modal",
        now=T0 + 3 * DAY + MIN,
    )
    cases.reopen(other, "again", actor=SUPER, source="command", now=T0 + 5 * DAY + MIN)
    # Its resolve deadline (day 4) is more than HORIZON old by then; twice the SLA (day 5) is not.
    assert escalations.run(T0 + 5 * DAY + 2 * MIN) == [(other, "resolve_leaders")]


def test_levels_had_are_not_repeated_after_their_posts_are_purged(
    sessions, config, cases, escalations
):
    # The level's outbox key is the record of it; retention forgets delivered posts only long after a
    # deadline has left the horizon, so a purged key can never let a level be escalated again.
    assert HORIZON < KEEP_POSTS
    case_id = open_case(sessions, cases)
    assert escalations.run(T0 + ACK + MIN) == [(case_id, "ack")]
    with sessions.begin() as s:
        s.execute(update(OutboxMessage).values(state="delivered", delivered_at=T0 + ACK + MIN))
    later = T0 + ACK + MIN + KEEP_POSTS + DAY
    Retention(sessions, config).purge(later)
    assert outbox(sessions) == []  # the escalation's key is gone
    assert escalations.run(later) == []
    assert [e.details["level"] for e in escalated(sessions, case_id)] == ["ack"]


def test_without_a_leaders_channel_the_leader_level_stays_in_the_thread(sessions, cases, caplog):
    raw = copy.deepcopy(CONFIG)
    del raw["leaders_channel"]
    config = parse_config(raw, "test")
    cases = Cases(sessions, config)
    escalations = Escalations(sessions, config, cases)
    first, second = open_case(sessions, cases), open_case(sessions, cases)
    assert escalations.run(T0 + ACK_LEADERS + MIN) == [
        (first, "ack"),
        (first, "ack_leaders"),
        (second, "ack"),
        (second, "ack_leaders"),
    ]
    assert [p.kind for p in outbox(sessions)] == ["case.event"] * 4
    assert caplog.text.count("no leaders_channel is configured") == 1  # logged once
    event = escalated(sessions, first)[1]
    assert event.details["channel"] is None
    assert event_line(event, cases.get(first).case, config.teams["delivery"]) == (
        ":rotating_light: Escalated at Mon 2 Mar 07:31 EST: not acknowledged within twice its 15m SLA "
        "(due Mon 2 Mar 07:30 EST) (no leaders' channel is configured) — <@U0SUPER1>"
    )


def test_each_team_uses_its_own_sla(sessions, cases, escalations):
    delivery, support = (
        open_case(sessions, cases),
        open_case(sessions, cases, team="support"),
    )  # support: ack 30m
    assert escalations.run(T0 + 20 * MIN) == [(delivery, "ack")]
    assert escalations.run(T0 + 31 * MIN) == [(delivery, "ack_leaders"), (support, "ack")]


@pytest.mark.parametrize("round_", range(3))
def test_two_runs_at_once_escalate_each_level_once(sessions, config, cases, round_):
    ids = [open_case(sessions, cases) for _ in range(3)]
    barrier = threading.Barrier(2)
    results: list[list[tuple[int, str]]] = []

    def run() -> None:
        escalations = Escalations(sessions, config, Cases(sessions, config))
        barrier.wait()
        results.append(escalations.run(T0 + ACK_LEADERS + MIN))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    done = sorted(results[0] + results[1])
    assert done == sorted((i, lv) for i in ids for lv in ("ack", "ack_leaders"))
    for case_id in ids:
        assert len(escalated(sessions, case_id)) == 2
    assert len(outbox(sessions)) == 3 * 3  # 2 thread lines and 1 leaders' post per case


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # EXPLAIN QUERY PLAN is SQLite's
def test_candidates_are_read_from_the_unresolved_index_on_sqlite(
    sessions, engine, cases, escalations
):
    from sqlalchemy import event as sa_event

    open_case(sessions, cases)
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, sql, params, context, executemany):  # noqa: ANN001, ANN202
        if "FROM cases" in sql and "cases.opened_at <" in sql:
            seen.append((sql, params))

    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        escalations.run(T0 + ACK + MIN)
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)
    (sql, params), *_ = seen
    with engine.connect() as conn:
        plan = " ".join(
            row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
        )
    assert "ix_cases_unresolved_team_opened_at" in plan, plan
