"""Case lists, App Home and headline metrics on a real database: filters, order, overdue per team SLA, numbers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from bot.cases.model import parse_ref
from bot.reports.queries import Headline, headlines, home_data, list_cases
from tests.factories import item

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
MIN, DAY = timedelta(minutes=1), timedelta(days=1)
AGENT, OTHER_AGENT, LEADER = "U0AGENT1", "U0AGENT2", "U0LEADER1"


@pytest.fixture
def slas(config):  # noqa: ANN001, ANN201
    return {key: team.sla for key, team in config.teams.items()}


def open_case(ingestor, at: datetime, team: str = "delivery") -> int:  # noqa: ANN001
    """One negative response ingested at `at`: the case opens then."""
    valid, errors = ingestor.validate(
        [item(team=team, score=1, submitted_at=(at - MIN).isoformat())], at
    )
    assert not errors
    refs = ingestor.store(valid, default_source="api", origin="api", now=at).cases
    assert len(refs) == 1
    return parse_ref(refs[0])


def ingest(ingestor, now: datetime, *scores: tuple[str, str, int, datetime]) -> None:  # noqa: ANN001
    """(team, metric, score, submitted_at) responses, stored at `now`."""
    raw = [item(team=t, metric=m, score=v, submitted_at=at.isoformat()) for t, m, v, at in scores]
    valid, errors = ingestor.validate(raw, now)
    assert not errors
    ingestor.store(valid, default_source="api", origin="api", now=now)


@contextmanager
def statements(engine) -> Iterator[list[str]]:  # noqa: ANN001
    seen: list[str] = []

    def record(conn, cursor, sql, params, context, executemany):  # noqa: ANN001, ANN202
        seen.append(sql)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def ids(case_list) -> list[int]:  # noqa: ANN001
    return [r.id for r in case_list.rows]


def test_open_and_all_filters_order_limit_and_total(ingestor, cases, sessions, slas):
    c1 = open_case(ingestor, T0)
    c2 = open_case(ingestor, T0 + 1 * MIN, team="support")
    c3 = open_case(ingestor, T0 + 2 * MIN)
    c4 = open_case(ingestor, T0 + 3 * MIN)
    cases.acknowledge(c3, actor=AGENT, source="button", now=T0 + 5 * MIN)
    cases.resolve(
        c4,
        outcome="fixed",
        root_cause="other",
        action="Refunded",
        actor=LEADER,
        source="modal",
        now=T0 + 6 * MIN,
    )
    now = T0 + 10 * MIN
    with sessions() as s:
        open_ = list_cases(s, teams=slas, filter="open", user=None, now=now)
        first_two = list_cases(s, teams=slas, filter="open", user=None, now=now, limit=2)
        delivery = list_cases(
            s, teams={"delivery": slas["delivery"]}, filter="open", user=None, now=now
        )
        everything = list_cases(s, teams=slas, filter="all", user=None, now=now)
        nothing = list_cases(s, teams={}, filter="all", user=None, now=now)
    assert (ids(open_), open_.total) == (
        [c1, c2, c3],
        3,
    )  # oldest first; the resolved one is left out
    assert (ids(first_two), first_two.total) == ([c1, c2], 3)  # total counts past the limit
    assert (ids(delivery), delivery.total) == ([c1, c3], 2)
    assert (ids(everything), everything.total) == ([c4, c3, c2, c1], 4)  # newest first
    assert (nothing.rows, nothing.total) == ([], 0)
    by_id = {r.id: r for r in everything.rows}
    assert [by_id[c].state for c in (c1, c2, c3, c4)] == [
        "open",
        "open",
        "acknowledged",
        "resolved",
    ]
    assert by_id[c1].acknowledged_at is None and by_id[c3].acknowledged_at == T0 + 5 * MIN
    assert (
        by_id[c4].acknowledged_at == T0 + 6 * MIN
    )  # resolving from open counts as the acknowledgement
    assert (
        by_id[c1].ref == f"FB-{c1}"
        and by_id[c1].kind == "feedback"
        and by_id[c1].team == "delivery"
    )
    assert (
        by_id[c1].severity == "high"
        and by_id[c1].summary["metric"] == "csat"
        and by_id[c1].summary["score"] == 1
    )
    assert by_id[c1].opened_at == T0 and by_id[c1].opened_at.tzinfo is not None


def test_deadlines_come_from_each_team_sla(ingestor, sessions, slas):
    d = open_case(ingestor, T0)
    s_ = open_case(ingestor, T0 + 1 * MIN, team="support")
    with sessions() as s:
        rows = {r.id: r for r in list_cases(s, teams=slas, filter="open", user=None, now=T0).rows}
    # delivery: ack 15m, resolve 1d; support has the defaults: ack 30m, resolve 2d
    assert (rows[d].ack_due, rows[d].resolve_due) == (T0 + 15 * MIN, T0 + DAY)
    assert (rows[s_].ack_due, rows[s_].resolve_due) == (T0 + 31 * MIN, T0 + 1 * MIN + 2 * DAY)


def test_overdue_per_team_sla_and_state(ingestor, cases, sessions, slas):
    d_open = open_case(ingestor, T0)
    s_open = open_case(ingestor, T0, team="support")
    d_acked = open_case(ingestor, T0)
    s_acked = open_case(ingestor, T0, team="support")
    d_resolved = open_case(ingestor, T0)
    d_reopened = open_case(ingestor, T0)
    for ref in (d_acked, s_acked):
        cases.acknowledge(ref, actor=LEADER, source="button", now=T0 + 5 * MIN)
    for ref in (d_resolved, d_reopened):
        cases.resolve(
            ref,
            outcome="fixed",
            root_cause="other",
            action="Re-sent",
            actor=LEADER,
            source="modal",
            now=T0 + 5 * MIN,
        )
    cases.reopen(
        d_reopened, "customer wrote again", actor=LEADER, source="command", now=T0 + 10 * MIN
    )

    expected = {
        T0 + 15 * MIN: [],  # a deadline reached is not yet past
        T0 + 16 * MIN: [
            d_open
        ],  # delivery's 15m ack deadline; the reopened case was acknowledged (by its resolution)
        T0 + 31 * MIN: [d_open, s_open],  # support's 30m ack deadline
        T0 + DAY + MIN: [
            d_open,
            s_open,
            d_acked,
            d_reopened,
        ],  # delivery's 1d resolve deadline, whatever the state
        T0 + 2 * DAY + MIN: [
            d_open,
            s_open,
            d_acked,
            s_acked,
            d_reopened,
        ],  # support's 2d; resolved never is
    }
    for now, want in expected.items():
        with sessions() as s:
            got = list_cases(s, teams=slas, filter="overdue", user=None, now=now)
            everything = list_cases(s, teams=slas, filter="all", user=None, now=now)
        assert (ids(got), got.total) == (want, len(want)), now - T0
        # SQL and CaseRow.overdue (what the renderers show) agree on every case
        assert sorted(r.id for r in everything.rows if r.overdue(now)) == sorted(want), now - T0
    assert d_resolved not in expected[T0 + 2 * DAY + MIN]
    with sessions() as s:
        only_support = list_cases(
            s, teams={"support": slas["support"]}, filter="overdue", user=None, now=T0 + DAY + MIN
        )
    assert (ids(only_support), only_support.total) == ([s_open], 1)


def test_mine_is_the_users_unresolved_cases(ingestor, cases, sessions, slas):
    c1 = open_case(ingestor, T0)
    c2 = open_case(ingestor, T0 + 1 * MIN, team="support")
    c3 = open_case(ingestor, T0 + 2 * MIN)
    c4 = open_case(ingestor, T0 + 3 * MIN)
    c5 = open_case(ingestor, T0 + 4 * MIN)
    for ref in (c2, c1, c3):  # assigned out of order: the list still goes oldest first
        cases.assign(ref, AGENT, actor=AGENT, source="button", now=T0 + 5 * MIN)
    cases.assign(c4, OTHER_AGENT, actor=OTHER_AGENT, source="button", now=T0 + 5 * MIN)
    cases.acknowledge(c1, actor=AGENT, source="button", now=T0 + 6 * MIN)
    cases.resolve(
        c3,
        outcome="fixed",
        root_cause="other",
        action="Called",
        actor=LEADER,
        source="modal",
        now=T0 + 7 * MIN,
    )
    with sessions() as s:
        mine = list_cases(s, teams=slas, filter="mine", user=AGENT, now=T0 + 8 * MIN)
        theirs = list_cases(s, teams=slas, filter="mine", user=OTHER_AGENT, now=T0 + 8 * MIN)
        nobody = list_cases(s, teams=slas, filter="mine", user="U0NOBODY", now=T0 + 8 * MIN)
        with pytest.raises(ValueError, match="needs a user"):
            list_cases(s, teams=slas, filter="mine", user=None, now=T0)
    assert (ids(mine), mine.total) == ([c1, c2], 2)  # c3 is resolved
    assert [r.assignee for r in mine.rows] == [AGENT, AGENT]
    assert (ids(theirs), ids(nobody), nobody.total) == ([c4], [], 0)
    assert c5 not in ids(mine) + ids(theirs)


def test_list_is_one_query_whatever_the_number_of_cases(ingestor, cases, sessions, slas, engine):
    refs = [
        open_case(ingestor, T0 + i * MIN, team=("delivery", "support")[i % 2]) for i in range(12)
    ]
    for ref in refs[::3]:
        cases.acknowledge(ref, actor=LEADER, source="button", now=T0 + 20 * MIN)
    with sessions() as s, statements(engine) as seen:
        got = list_cases(s, teams=slas, filter="overdue", user=None, now=T0 + 45 * MIN, limit=5)
    # 8 of the 12 were never acknowledged; the last one opened at 11m, so support's 30m ack SLA has passed at 45m
    assert (len(got.rows), got.total) == (5, 8)
    assert (
        len([q for q in seen if q.lstrip().upper().startswith("SELECT")]) == 1
    )  # the page, each row with the count


def test_headlines_computed_per_team_and_metric(ingestor, sessions, engine):
    since, until = T0, T0 + 7 * DAY
    now = until + timedelta(hours=1)
    ingest(
        ingestor,
        now,
        ("delivery", "csat", 5, since),  # the window includes its start…
        ("delivery", "csat", 4, T0 + DAY),
        ("delivery", "csat", 2, T0 + 2 * DAY),
        ("delivery", "csat", 1, until),  # …and excludes its end
        ("delivery", "csat", 1, since - timedelta(microseconds=1)),
        ("delivery", "nps", 10, T0 + DAY),
        ("delivery", "nps", 9, T0 + DAY),
        ("delivery", "nps", 3, T0 + DAY),
        ("delivery", "nps", 7, T0 + DAY),
        ("delivery", "ces", 2, T0 + 3 * DAY),
        ("delivery", "ces", 6, T0 + 3 * DAY),
        ("support", "csat", 3, T0 + DAY),
        ("support", "nps", 0, T0 + DAY),
        ("support", "nps", 6, T0 + DAY),
        ("support", "ces", 7, T0 - DAY),
    )  # outside the window: support has no CES
    with sessions() as s, statements(engine) as seen:
        got = headlines(s, teams=["support", "delivery", "ghost"], since=since, until=until)
    assert (
        len([q for q in seen if q.lstrip().upper().startswith("SELECT")]) == 1
    )  # one GROUP BY pass
    assert [h.team for h in got] == ["support", "delivery", "ghost"]  # the order asked for
    support, delivery, ghost = got
    # delivery: csat 5, 4, 2 → 2 of 3 satisfied; nps 10, 9, 3, 7 → 2/4 promoters − 1/4 detractors; ces (2 + 6) / 2
    assert (
        delivery.csat == pytest.approx(100 * 2 / 3)
        and round(delivery.csat, 2) == 66.67
        and delivery.csat_n == 3
    )
    assert delivery.nps == pytest.approx(50 - 25) and delivery.nps_n == 4
    assert delivery.ces == pytest.approx(4.0) and delivery.ces_n == 2
    # support: csat 3 is not satisfied; nps 0 and 6 are both detractors
    assert (support.csat, support.csat_n, support.nps, support.nps_n) == (0.0, 1, -100.0, 2)
    assert (support.ces, support.ces_n) == (None, 0)
    assert ghost == Headline("ghost")
    assert ghost.csat is None and ghost.nps is None and ghost.ces is None and ghost.csat_n == 0


def test_headlines_of_no_teams_is_empty(sessions):
    with sessions() as s:
        assert headlines(s, teams=[], since=T0, until=T0 + DAY) == []


def test_home_data_lists_the_users_cases_the_teams_cases_and_last_weeks_headlines(
    ingestor, cases, sessions, slas
):
    now = T0 + 8 * DAY
    ingest(
        ingestor,
        now,
        ("delivery", "csat", 5, now - 2 * DAY),
        ("delivery", "csat", 3, now - 3 * DAY),
        ("delivery", "csat", 1, now - 8 * DAY),
    )  # older than the 7-day window
    d1 = open_case(ingestor, now - 3 * MIN)
    d2 = open_case(ingestor, now - 2 * MIN)
    s1 = open_case(ingestor, now - 1 * MIN, team="support")
    cases.assign(d2, AGENT, actor=AGENT, source="button", now=now)
    cases.assign(s1, AGENT, actor=AGENT, source="button", now=now)
    delivery_only = {"delivery": slas["delivery"]}
    with sessions() as s:
        home = home_data(s, user=AGENT, teams=delivery_only, now=now, all_teams=slas)
        narrow = home_data(s, user=AGENT, teams=delivery_only, now=now)
        short = home_data(s, user=AGENT, teams=delivery_only, now=now, limit=1, all_teams=slas)
    assert home.user == AGENT
    assert [r.id for r in home.assigned] == [d2, s1]  # the support case too: it is assigned to them
    assert [r.id for r in home.team_open] == [d1, d2]  # the user's teams only
    assert [r.id for r in narrow.assigned] == [d2]  # without all_teams, only the given teams' cases
    assert ([r.id for r in short.assigned], [r.id for r in short.team_open]) == ([d2], [d1])
    # delivery's last 7 days: csat 5 and 3 (and the csat 1 of each negative case opened above, 1-3 min ago)
    (headline,) = home.headlines
    assert headline.team == "delivery" and headline.csat_n == 4
    assert headline.csat == pytest.approx(100 * 1 / 4)
