"""Quality and learning on a real database: reopen rates and the keyword categories against the causes chosen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.cases.lifecycle import Cases
from bot.reports.quality import CategoryAgreement, CategoryFit, Pair, Reopens
from bot.reports.stats import Stats
from bot.reports.weekly import Weekly
from storage.models import Case, CaseEvent

U = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
P = U - timedelta(days=30)
H, DAY = timedelta(hours=1), timedelta(days=1)
LEADER = "U0LEADER1"


def opened(sessions, at: datetime, category: str | None, team="delivery", kind="feedback") -> int:  # noqa: ANN001
    with sessions.begin() as s:
        case = Case(
            kind=kind, team=team, state="open", version=1, severity="medium", opened_at=at,
            category=category, summary={},
        )  # fmt: skip
        s.add(case)
        s.flush()
        s.add(CaseEvent(case_id=case.id, kind="opened", actor="loopbot", source="api", at=at))
        return case.id


class Timeline:
    def __init__(self, sessions, config) -> None:  # noqa: ANN001
        self.cases = Cases(sessions, config)

    def resolve(self, case_id: int, at: datetime, cause: str, outcome: str = "fixed") -> None:
        self.cases.resolve(
            case_id, outcome=outcome, root_cause=cause, action="Called back", actor=LEADER,
            source="modal", now=at,
        )  # fmt: skip

    def reopen(self, case_id: int, at: datetime) -> None:
        self.cases.reopen(case_id, "not fixed", actor=LEADER, source="command", now=at)


def scenario(sessions, config) -> None:  # noqa: ANN001
    t = Timeline(sessions, config)
    c1 = opened(sessions, P + H, "late_delivery")
    t.resolve(c1, P + 2 * H, "late_delivery")  # agrees
    c2 = opened(sessions, P + H, "late_delivery")
    t.resolve(c2, P + 2 * H, "late_delivery")
    t.reopen(c2, P + 3 * H)
    t.resolve(c2, P + 4 * H, "rude_staff")  # reopened; its last cause disagrees
    c3 = opened(sessions, P + H, "app_error")
    t.resolve(c3, P + 2 * H, "app_error")
    t.reopen(c3, P + 3 * H)  # reopened and still open: not standing resolved
    c4 = opened(sessions, P - 3 * DAY, "app_error")
    t.resolve(c4, P - 2 * DAY, "other")
    t.reopen(c4, P - DAY)  # reopened before the period, resolved in it: not first time right
    t.resolve(c4, P + H, "app_error")  # agrees
    c5 = opened(sessions, P + H, "rude_staff")
    t.resolve(c5, P + 2 * H, "other", outcome="duplicate")  # left out of both
    c6 = opened(sessions, P + H, "late_delivery")
    t.resolve(c6, U - H, "app_error")
    t.reopen(c6, U + H)  # after the period: neither reopened nor unresolved yet
    c7 = opened(sessions, P - 3 * DAY, "late_delivery")
    t.resolve(c7, P - DAY, "rude_staff")  # before the period: nowhere
    c8 = opened(sessions, P + H, None)
    t.resolve(c8, P + 2 * H, "late_delivery")  # no keyword matched: uncategorised
    c9 = opened(sessions, P + H, "late_delivery")
    t.resolve(c9, P + 2 * H, "other")  # disagrees
    c10 = opened(sessions, P + H, None, kind="threshold")
    t.resolve(c10, P + 2 * H, "app_error")  # a reopen-rate case, but no keyword category
    s1 = opened(sessions, P + H, "rude_staff", team="support")
    t.resolve(s1, P + 2 * H, "rude_staff")
    t.reopen(s1, P + 3 * H)
    t.resolve(s1, P + 4 * H, "rude_staff")  # agrees, after a reopen
    s2 = opened(sessions, P + H, "late_delivery", team="support")
    t.resolve(s2, P + 2 * H, "app_error")  # disagrees


def test_reopens_in_every_stats_answer(sessions, config) -> None:  # noqa: ANN001
    scenario(sessions, config)
    delivery, support = Stats(sessions, config).for_teams(["delivery", "support"], P, U, U)
    # Resolved in [P, U): c1, c2, c3, c4, c6, c8, c9, c10 (not c5: duplicate; not c7: before); reopened before
    # U: c2, c3, c4 (not c6: after U)
    assert delivery.reopens == Reopens(resolved=8, reopened=3)
    assert (delivery.reopens.rate, delivery.reopens.without_reopen) == (37.5, 62.5)
    assert support.reopens == Reopens(resolved=2, reopened=1)
    [quiet] = Stats(sessions, config).for_teams(["delivery"], P - 60 * DAY, P - 50 * DAY, U)
    assert quiet.reopens == Reopens() and quiet.reopens.rate is None


def test_categories_against_the_causes_chosen(sessions, config) -> None:  # noqa: ANN001
    scenario(sessions, config)
    got = Stats(sessions, config).categories(["delivery", "support"], P, U)
    # Standing resolved feedback cases with a category: c1 ✓, c2 ✗, c4 ✓, c6 ✗, c9 ✗, s1 ✓, s2 ✗
    assert got == CategoryAgreement(
        resolved=7,
        agreed=3,
        by_category=(
            CategoryFit("late_delivery", 5, 1),  # c1, c2, c6, c9, s2
            CategoryFit("app_error", 1, 1),
            CategoryFit("rude_staff", 1, 1),
        ),
        disagreements=(
            Pair("late_delivery", "app_error", 2),  # c6, s2
            Pair("late_delivery", "other", 1),
            Pair("late_delivery", "rude_staff", 1),
        ),
        uncategorised=1,  # c8
    )
    assert got.percent == 100 * 3 / 7 and got.by_category[0].percent == 20.0
    only_support = Stats(sessions, config).categories(["support"], P, U)
    assert (only_support.resolved, only_support.agreed, only_support.disagreements) == (
        2,
        1,
        (Pair("late_delivery", "app_error", 1),),
    )
    assert Stats(sessions, config).categories([], P, U) == CategoryAgreement()


def test_at_most_five_disagreements_most_frequent_first(sessions, config) -> None:  # noqa: ANN001
    t = Timeline(sessions, config)
    pairs = [
        ("rude_staff", "app_error"),
        ("rude_staff", "app_error"),
        ("app_error", "late_delivery"),
        ("app_error", "other"),
        ("late_delivery", "app_error"),
        ("late_delivery", "other"),
        ("rude_staff", "late_delivery"),
        ("rude_staff", "other"),
    ]
    for category, cause in pairs:
        t.resolve(opened(sessions, P + H, category, team="support"), P + 2 * H, cause)
    got = Stats(sessions, config).categories(["support"], P, U)
    assert (got.resolved, got.agreed, got.percent) == (8, 0, 0.0)
    assert got.disagreements == (
        Pair("rude_staff", "app_error", 2),
        Pair("app_error", "late_delivery", 1),
        Pair("app_error", "other", 1),
        Pair("late_delivery", "app_error", 1),
        Pair("late_delivery", "other", 1),
    )


def test_the_weekly_summary_carries_both(sessions, config) -> None:  # noqa: ANN001
    scenario(sessions, config)
    # The week before U: c6 (resolved U - 1h) only — P + 1h … P + 4h fall in the first week of the month.
    w = Weekly(sessions, config).compose(U)
    delivery, support = w.teams
    assert (delivery.reopens, support.reopens) == (Reopens(1, 0), Reopens())
    assert w.agreement == CategoryAgreement(
        resolved=1,
        agreed=0,
        by_category=(CategoryFit("late_delivery", 1, 0),),
        disagreements=(Pair("late_delivery", "app_error", 1),),
    )
    month = Weekly(sessions, config).compose(P + 7 * DAY)
    assert month.teams[0].reopens == Reopens(7, 3)  # all of delivery's but c6
    assert (month.agreement.resolved, month.agreement.agreed) == (6, 3)
