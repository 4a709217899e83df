"""The audit log on a real database (SPEC §11): who counts as another team, exports recorded in the chart
request's own unit of work, reading back oldest first from a date, a page at a time. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from bot.cases.model import CaseRecord
from bot.charts.request import ChartRequest
from bot.charts.service import Charts
from bot.privacy.audit import CUSTOMER_LOOKUP, EXPORT, Audit, parse_since
from storage.models import AuditLog

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def case_of(team: str, case_id: int = 7) -> CaseRecord:
    return CaseRecord(case_id, "feedback", team, "open", 1, "high", T0)


def test_a_show_is_recorded_only_for_a_team_the_person_is_not_in(sessions, config):
    audit = Audit(sessions, config)
    shown = {
        (user, team): audit.case_shown(user, case_of(team), now=T0)
        for user in ("U0AGENT1", "U0SUPER1", "U0SUPER2", "U0LEADER1", "U0STRANGER")
        for team in ("delivery", "support")
    }
    # delivery lists its members; support lists none, so anyone works its cases (bot.cases.permissions).
    assert {key for key, recorded in shown.items() if recorded} == {
        ("U0SUPER2", "delivery"),
        ("U0LEADER1", "delivery"),
        ("U0STRANGER", "delivery"),
    }
    lines = [e.line() for e in audit.entries()]
    assert lines[0] == "2026-12-01 09:00:00Z  U0SUPER2  show_other_team  FB-7 of delivery"
    assert len(lines) == 3


def test_a_chart_is_recorded_as_an_export_once_per_request(sessions, config):
    charts = Charts(sessions, sessions, config)
    req = ChartRequest("csat", ("delivery", "support"), False, 30, "30d", T0, "U0SUPER1", "segment")
    charts.request(req, channel="C0DELIVERY", key="chart:trigger-1")
    charts.request(req, channel="C0DELIVERY", key="chart:trigger-1")  # Slack retried the command
    weekly = ChartRequest("volume", ("delivery",), True, 7, "7d", T0)  # asked by no one
    charts.request(weekly, channel="C0LEADERS")
    [entry] = Audit(sessions, config).entries()
    assert (entry.actor, entry.kind, entry.at) == ("U0SUPER1", EXPORT, T0)
    assert entry.detail == "chart csat by segment of delivery, support, last 30d"


def test_entries_come_oldest_first_from_a_date_across_pages(sessions, config):
    # 2,500 entries over three instants (many share one): the pages must neither skip nor repeat.
    with sessions.begin() as s:
        s.execute(
            insert(AuditLog),
            [
                {
                    "at": T0 + timedelta(days=n % 3),
                    "actor": f"U{n:05d}",
                    "kind": CUSTOMER_LOOKUP,
                    "detail": "",
                    "customer": f"C-{n}",
                }
                for n in range(2_500)
            ],
        )
    audit = Audit(sessions, config)
    every = list(audit.entries())
    assert len(every) == 2_500 and len({e.actor for e in every}) == 2_500
    assert [e.at for e in every] == sorted(e.at for e in every)
    later = list(audit.entries(parse_since("2026-12-02")))
    assert len(later) == 1_666 and min(e.at for e in later) == T0 + timedelta(days=1)
    assert list(audit.entries(parse_since("2026-12-04"))) == []
    assert every[0].line() == "2026-12-01 09:00:00Z  U00000  customer_lookup  customer C-0"


def test_a_lookup_names_its_customer_as_asked(sessions, config):
    audit = Audit(sessions, config)
    audit.customer_lookup("U0AGENT1", " C-1042 ", now=T0)
    audit.customer_lookup("U0AGENT1", "   ", now=T0)  # names no one: asks for nothing
    lines = [e.line() for e in audit.entries()]
    assert lines == ["2026-12-01 09:00:00Z  U0AGENT1  customer_lookup  customer C-1042"]


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("2026-12-02", datetime(2026, 12, 2, tzinfo=UTC)),
        ("2026-12-02T10:30", datetime(2026, 12, 2, 10, 30, tzinfo=UTC)),
        ("2026-12-02T10:30:00+02:00", datetime(2026, 12, 2, 8, 30, tzinfo=UTC)),
        ("2026-12-02T10:30:00Z", datetime(2026, 12, 2, 10, 30, tzinfo=UTC)),
    ],
)
def test_since_reads_a_day_or_an_instant(text, at):
    assert parse_since(text) == at


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "", "0001-01-01T00:00:00+05:00"])
def test_since_refuses_what_is_not_a_date(text):
    with pytest.raises(ValueError, match="is not a date: write YYYY-MM-DD or an ISO 8601 time"):
        parse_since(text)
