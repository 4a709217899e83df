"""`stats … by=FIELD` on a real database: every group's figures against hand arithmetic, in one statement."""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from bot.errors import InvalidInput, NotFound
from bot.reports.breakdowns import MIN_RESPONSES, Group, breakdown, top
from bot.reports.stats import Stats
from config.loader import parse_config
from storage.models import Case, Feedback
from tests.conftest import CONFIG
from tests.storage.test_digest import statements

U = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
P = U - timedelta(days=30)
H, DAY, US = timedelta(hours=1), timedelta(days=1), timedelta(microseconds=1)
_ids = itertools.count(1)


@pytest.fixture
def config():  # noqa: ANN201
    """Support calls a csat of 3 negative too: each response is judged by its own team's limits."""
    raw = copy.deepcopy(CONFIG)
    raw["teams"]["support"]["open_case_when"] = {"csat_at_most": 3}
    return parse_config(raw, "tests/storage/test_breakdowns.py")


def respond(sessions, metric: str, score: int, at: datetime, team: str = "delivery", **fields):  # noqa: ANN001, ANN003, ANN201
    """One response; `fields` are segment, touchpoint, category, channel. Returns its id."""
    with sessions.begin() as s:
        return s.execute(
            insert(Feedback).returning(Feedback.id),
            {
                "source": "test",
                "external_id": f"b-{next(_ids)}",
                "team": team,
                "metric": metric,
                "score": score,
                "submitted_at": at,
                "received_at": at,
                **fields,
            },
        ).scalar_one()


def case_for(sessions, feedback_id: int | None, at: datetime, team: str = "delivery") -> None:  # noqa: ANN001
    with sessions.begin() as s:
        s.add(
            Case(
                kind="feedback" if feedback_id else "threshold",
                team=team,
                state="open",
                version=1,
                severity="high",
                opened_at=at,
                feedback_id=feedback_id,
                summary={},
            )
        )


def scenario(sessions) -> None:  # noqa: ANN001
    t = P + 2 * DAY
    # vip (delivery): csat 10 × 5, 2, 1 → 10 of 12 satisfied; nps 10, 9, 3 (n 3: no rate); negative: 2, 1, 3
    for _ in range(10):
        respond(sessions, "csat", 5, t, segment="vip", touchpoint="post-delivery", channel="email")
    two = respond(sessions, "csat", 2, t, segment="vip", touchpoint="post-delivery", channel="sms")
    one = respond(sessions, "csat", 1, P, segment="vip", category="late_delivery")  # at `since`
    for score in (10, 9, 3):
        respond(sessions, "nps", score, t, segment="vip", channel="email")
    case_for(sessions, two, t + H)
    case_for(sessions, one, P + H)
    # basic (support, csat 3 negative): csat 4 × 4, 3 × 3, 1 × 3 → 4 of 10; ces 2 × 5, 6 × 5 → mean 4
    for score, k in ((4, 4), (3, 3), (1, 3)):
        for _ in range(k):
            respond(sessions, "csat", score, t, team="support", segment="basic")
    for score in (2, 6):
        for _ in range(5):
            respond(sessions, "ces", score, t, team="support", segment="basic", channel="email")
    # A response of the day before, its case opened in the period: the case counts, the response does not.
    early = respond(sessions, "csat", 1, P - H, team="support", segment="basic")
    case_for(sessions, early, P + 2 * H, team="support")
    # And one the other way round: case before the period, response at its edge — neither counts.
    gone = respond(sessions, "csat", 1, P - 2 * H, segment="vip")
    case_for(sessions, gone, P - H)
    # No segment (delivery): ces 7 and 1 → n 2, no rate; negative: the 7.
    respond(sessions, "ces", 7, U - US)
    respond(sessions, "ces", 1, U - DAY)
    respond(sessions, "csat", 1, U, segment="vip")  # at `until`: not counted
    case_for(sessions, None, t)  # a threshold case belongs to no group


def test_groups_by_segment(sessions, config, engine) -> None:  # noqa: ANN001
    scenario(sessions)
    stats = Stats(sessions, config)
    with statements(engine) as seen:
        b = stats.breakdown(["delivery", "support"], "segment", P, U)
    assert len([sql for sql, _ in seen if sql.lstrip().upper().startswith("SELECT")]) == 1
    assert (b.by, b.teams, b.since, b.until, b.min_responses) == (
        "segment",
        ("delivery", "support"),
        P,
        U,
        MIN_RESPONSES,
    )
    basic, vip, none = b.groups
    assert basic == Group(
        "basic", responses=20, csat_n=10, satisfied=4, ces_n=10, ces_sum=2 * 5 + 6 * 5,
        negative=3 + 3 + 5, cases=1,
    )  # fmt: skip
    assert (basic.csat, basic.nps, basic.ces) == (pytest.approx(40.0), None, pytest.approx(4.0))
    assert vip == Group(
        "vip", responses=15, csat_n=12, satisfied=10, nps_n=3, promoters=2, detractors=1,
        negative=3, cases=2,
    )  # fmt: skip
    # NPS over 3 responses: below the minimum, so its n and no rate
    assert (vip.csat, vip.nps, vip.ces) == (pytest.approx(100 * 10 / 12), None, None)
    assert none == Group(None, responses=2, ces_n=2, ces_sum=8, negative=1)
    assert none.ces is None and not none.is_other
    t = b.total
    assert (t.responses, t.csat_n, t.satisfied, t.negative, t.cases) == (37, 22, 14, 15, 3)
    assert (t.csat, t.ces, t.nps) == (pytest.approx(100 * 14 / 22), pytest.approx(48 / 12), None)
    # Both teams are all teams: the query ranged the period by time; through the team index it agrees.
    with sessions.begin() as s:
        assert breakdown(s, list(config.teams.values()), "segment", P, U, wide=False) == b


def test_other_fields_and_one_team(sessions, config) -> None:  # noqa: ANN001
    scenario(sessions)
    stats = Stats(sessions, config)
    b = stats.breakdown(["delivery"], "channel", P, U)
    assert [(g.value, g.responses, g.negative, g.cases) for g in b.groups] == [
        ("email", 13, 1, 0),  # csat 5 × 10; nps 10, 9 and 3 (negative)
        (None, 3, 2, 1),  # csat 1 at `since` with its case, ces 7 (negative) and 1
        ("sms", 1, 1, 1),  # csat 2 and its case
    ]
    assert b.groups[0].csat == 100.0 and b.groups[0].nps is None  # nps n 3
    c = stats.breakdown(["delivery", "support"], "category", P, U)
    assert [(g.value, g.responses, g.negative, g.cases) for g in c.groups] == [
        (None, 36, 14, 2),
        ("late_delivery", 1, 1, 1),
    ]


def test_unknown_field_team_and_an_empty_scope(sessions, config) -> None:  # noqa: ANN001
    stats = Stats(sessions, config)
    with pytest.raises(InvalidInput, match="by=colour"):
        stats.breakdown(["delivery"], "colour", P, U)
    with pytest.raises(NotFound):
        stats.breakdown(["nope"], "segment", P, U)
    with pytest.raises(ValueError):
        stats.breakdown(["delivery"], "segment", U, U)
    empty = stats.breakdown([], "segment", P, U)
    assert (empty.groups, empty.total) == ((), Group(None))
    quiet = stats.breakdown(["delivery"], "touchpoint", P, U)
    assert (quiet.groups, quiet.total.responses) == ((), 0)


def test_at_most_eight_groups_and_the_rest_as_other(sessions, config) -> None:  # noqa: ANN001
    # Ten touchpoints with 1 … 10 csat responses (score 5), touchpoint tp-i holding i + 1 of them.
    for i in range(10):
        for _ in range(i + 1):
            respond(sessions, "csat", 5, P + DAY, touchpoint=f"tp-{i}")
    b = Stats(sessions, config).breakdown(["delivery"], "touchpoint", P, U)
    assert [g.value for g in b.groups[:8]] == [f"tp-{i}" for i in range(9, 1, -1)]
    other = b.groups[8]
    assert (other.is_other, other.folded, other.responses, other.csat_n) == (True, 2, 3, 3)
    assert other.csat is None  # 3 responses: under the minimum like any group
    assert b.groups[0].csat == 100.0 and b.total.responses == 55


def test_top_orders_by_responses_then_name_with_none_last() -> None:
    groups = [Group("b", responses=5), Group(None, responses=5), Group("a", responses=5)]
    assert [g.value for g in top(groups)] == ["a", "b", None]
    assert top(groups, limit=3) == tuple(top(groups))
    two = top(groups, limit=2)
    assert [g.value for g in two[:2]] == ["a", "b"] and two[2] == Group(None, responses=5, folded=1)
