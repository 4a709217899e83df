"""`customer ID` on a real database: responses and cases of the last 365 days in the asker's teams, repeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.reports.customer import SHOWN, Customers, TeamRepeats
from storage.models import Case
from tests.storage.test_breakdowns import respond
from tests.storage.test_digest import statements
from tests.storage.test_quality import Timeline, opened

N = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)  # now
DAY, H = timedelta(days=1), timedelta(hours=1)
LEADER, SUPER1, SUPER2, AGENT = "U0LEADER1", "U0SUPER1", "U0SUPER2", "U0AGENT1"
WHO = "C-77"


def customer_case(sessions, at: datetime, team: str = "delivery", customer: str = WHO) -> int:  # noqa: ANN001
    case_id = opened(sessions, at, "late_delivery", team=team)
    with sessions.begin() as s:
        s.execute(update(Case).where(Case.id == case_id).values(customer=customer))
    return case_id


def scenario(sessions, config) -> dict[str, int]:  # noqa: ANN001
    t = Timeline(sessions, config)
    ids = {}
    ids["late"] = respond(
        sessions, "csat", 1, N - DAY, customer=WHO, touchpoint="post-delivery",
        comment="Late again, mail me at [email]",
    )  # fmt: skip
    ids["promoter"] = respond(sessions, "nps", 9, N - 10 * DAY, customer=WHO)
    ids["effort"] = respond(sessions, "ces", 6, N - 2 * DAY, team="support", customer=WHO)
    respond(sessions, "csat", 1, N - 366 * DAY, customer=WHO)  # over a year ago
    respond(sessions, "csat", 1, N - DAY, customer="C-78")  # someone else
    respond(sessions, "csat", 1, N - DAY, customer="c-77")  # ids are matched exactly
    d1 = customer_case(sessions, N - DAY)
    t.resolve(d1, N - DAY + H, "late_delivery")
    d2 = customer_case(sessions, N - 20 * DAY)
    t.resolve(d2, N - 19 * DAY, "late_delivery")
    d3 = customer_case(sessions, N - 3 * DAY)  # open
    s1 = customer_case(sessions, N - 2 * DAY, team="support")
    t.resolve(s1, N - DAY, "late_delivery", outcome="duplicate")  # its cause is counted nowhere
    s2 = customer_case(sessions, N - 4 * DAY, team="support")
    t.resolve(s2, N - 3 * DAY, "app_error")
    t.reopen(s2, N - 2 * DAY)  # open again: no standing cause
    customer_case(sessions, N - 400 * DAY)  # over a year ago
    customer_case(sessions, N - DAY, customer="C-78")
    ids.update(d1=d1, d2=d2, d3=d3, s1=s1, s2=s2)
    return ids


def test_a_leader_sees_every_team(sessions, config, engine) -> None:  # noqa: ANN001
    ids = scenario(sessions, config)
    with statements(engine) as seen:
        v = Customers(sessions, config).view(f" {WHO} ", LEADER, N)
    # The counts (one UNION ALL), the newest responses, the newest cases: three statements.
    assert len([sql for sql, _ in seen if sql.lstrip().upper().startswith("SELECT")]) == 3
    assert (v.customer, v.since, v.until, v.all_teams) == (WHO, N - 365 * DAY, N, True)
    assert v.teams == (
        TeamRepeats("delivery", responses=2, negative=1, cases=3),
        TeamRepeats("support", responses=1, negative=1, cases=2),
    )
    assert (v.total_responses, v.total_negative, v.total_cases) == (3, 2, 5)
    assert [r.id for r in v.responses] == [ids["late"], ids["effort"], ids["promoter"]]
    late = v.responses[0]
    assert (late.team, late.metric, late.score, late.negative, late.touchpoint) == (
        "delivery",
        "csat",
        1,
        True,
        "post-delivery",
    )
    assert late.comment == "Late again, mail me at [email]" and late.submitted_at == N - DAY
    assert [(r.metric, r.negative) for r in v.responses[1:]] == [("ces", True), ("nps", False)]
    assert [(c.ref, c.team, c.state, c.cause, c.outcome) for c in v.cases] == [
        (f"FB-{ids['d1']}", "delivery", "resolved", "late_delivery", "fixed"),
        (f"FB-{ids['s1']}", "support", "resolved", None, "duplicate"),
        (f"FB-{ids['d3']}", "delivery", "open", None, None),
        (f"FB-{ids['s2']}", "support", "open", None, None),
        (f"FB-{ids['d2']}", "delivery", "resolved", "late_delivery", "fixed"),
    ]
    assert v.cases[0].opened_at == N - DAY and v.cases[0].kind == "feedback"
    assert v.shared_causes == (("late_delivery", 2),)


def test_a_supervisor_sees_only_their_teams(sessions, config) -> None:  # noqa: ANN001
    scenario(sessions, config)
    customers = Customers(sessions, config)
    v = customers.view(WHO, SUPER1, N)
    assert (v.scope, v.all_teams) == (("delivery",), False)
    assert v.teams == (TeamRepeats("delivery", responses=2, negative=1, cases=3),)
    assert {r.team for r in v.responses} == {c.team for c in v.cases} == {"delivery"}
    with pytest.raises(PermissionDenied, match="supervisors .* and leaders"):
        customers.view(WHO, AGENT, N)
    with pytest.raises(NotFound, match="No responses from customer `C-78` .* in Support"):
        customers.view("C-78", SUPER2, N)
    with pytest.raises(NotFound, match=r"customer `nobodyx` in the last 365 days\.$"):
        customers.view("nobody<x>`", LEADER, N)  # echoed without Slack's control characters
    with pytest.raises(InvalidInput):
        customers.view("  ", LEADER, N)


def test_rows_are_capped_and_the_counts_are_not(sessions, config) -> None:  # noqa: ANN001
    for i in range(SHOWN + 5):
        respond(sessions, "csat", 5 if i % 2 else 2, N - i * H, team="support", customer=WHO)
    for i in range(SHOWN + 2):
        customer_case(sessions, N - i * H, team="support")
    v = Customers(sessions, config).view(WHO, SUPER2, N)
    assert v.teams == (TeamRepeats("support", responses=SHOWN + 5, negative=15, cases=SHOWN + 2),)
    assert len(v.responses) == len(v.cases) == SHOWN
    assert v.responses[0].submitted_at == N and v.cases[-1].opened_at == N - (SHOWN - 1) * H
    assert v.shared_causes == ()  # none resolved
