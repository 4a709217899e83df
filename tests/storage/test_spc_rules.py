"""SPC rules on a real database: daily counts by local day (across DST), a slow slide opening one case by
rule 4 and recovering, a spike by rule 1, short days breaking the run, and judging once per completed day."""

from __future__ import annotations

import copy
import itertools
import math
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select

from bot.alerts.spc import Counts
from bot.alerts.spc_reads import daily_counts, last_complete_day
from bot.alerts.thresholds import Thresholds
from bot.cases.lifecycle import Cases
from bot.charts.localtime import local_midnight
from bot.slack.blocks.case import case_message, event_line
from config.loader import parse_config
from config.teams import LoopbotConfig
from slack_emulator.blockkit import message_errors
from storage.models import Case, CaseEvent, Feedback
from tests.conftest import CONFIG

HOUR, MIN = timedelta(hours=1), timedelta(minutes=1)
SLIDE = date(2026, 3, 5)  # eight days to 12 March, across the switch to daylight time on 8 March
BASELINE = [SLIDE - timedelta(days=d) for d in range(56, 0, -1)]
KEY = "delivery:spc:csat:8w"
CSAT_SPC = {"metric": "csat", "rule": "spc", "min_responses": 10}
_ids = itertools.count(1)


def make_config(rules: list[dict]) -> LoopbotConfig:
    raw = copy.deepcopy(CONFIG)
    raw["teams"]["delivery"]["thresholds"] = rules
    return parse_config(raw, "tests/storage/test_spc_rules.py")


def local(day: date, hour: float, config: LoopbotConfig) -> datetime:
    return local_midnight(day, config.teams["delivery"].tz) + timedelta(hours=hour)


def add(sessions, *rows: tuple, team: str = "delivery") -> None:  # noqa: ANN001
    """(metric, score, submitted_at[, category]) responses."""
    with sessions.begin() as s:
        s.execute(
            insert(Feedback),
            [
                {
                    "source": "test",
                    "external_id": f"s-{next(_ids)}",
                    "team": team,
                    "metric": r[0],
                    "score": r[1],
                    "submitted_at": r[2],
                    "received_at": r[2],
                    "category": r[3] if len(r) > 3 else None,
                }
                for r in rows
            ],
        )


def csat_days(sessions, config, days: list[date], satisfied: int, n: int = 20) -> None:  # noqa: ANN001
    """`satisfied` of `n` CSAT responses (5s, the rest 2s) at local noon of each day."""
    add(
        sessions,
        *[
            ("csat", 5 if i < satisfied else 2, local(d, 12, config))
            for d in days
            for i in range(n)
        ],
    )


def slide(start: date, days: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(days)]


def cases_of(sessions) -> list[Case]:  # noqa: ANN001
    with sessions() as s:
        return list(s.scalars(select(Case).where(Case.kind == "threshold").order_by(Case.id)))


def test_daily_counts_by_local_day_across_dst_with_complaints_per_response(sessions):
    config = make_config(
        [
            {**CSAT_SPC, "baseline": "2w"},
            {"metric": "nps", "rule": "spc", "baseline": "2w"},
            {"metric": "ces", "rule": "spc", "baseline": "2w"},
            {"metric": "complaints", "rule": "spc", "category": "late_delivery", "baseline": "2w"},
        ]
    )
    team = config.teams["delivery"]
    utc = lambda *a: datetime(2026, 3, *a, tzinfo=UTC)  # noqa: E731
    add(
        sessions,
        (
            "csat",
            5,
            utc(8, 4, 30),
            "late_delivery",
        ),  # 23:30 EST on the 7th: satisfied, no complaint
        ("nps", 3, utc(8, 4, 30), "late_delivery"),  # the 7th: a detractor, a complaint
        ("csat", 1, utc(8, 5, 30), "late_delivery"),  # 00:30 EST on the 8th: a complaint
        ("ces", 6, utc(8, 5, 30), "rude_staff"),  # negative, but of another category
        ("ces", 2, utc(9, 3, 30)),  # 23:30 EDT on the 8th
        ("csat", 4, utc(9, 3, 30)),
        ("nps", 10, utc(9, 4, 30)),  # 00:30 EDT on the 9th
        ("nps", 0, utc(9, 4, 30), "late_delivery"),
        ("csat", 1, utc(10, 4, 30), "late_delivery"),  # the 10th: today, not a point yet
    )
    add(sessions, ("csat", 1, utc(9, 12), "late_delivery"), team="support")
    now = utc(10, 12)
    assert last_complete_day(team, now) == date(2026, 3, 9)
    with sessions() as s:
        daily = daily_counts(s, team, team.thresholds, date(2026, 3, 9))
    assert (daily.first, daily.last) == (
        date(2026, 2, 10),
        date(2026, 3, 9),
    )  # 14 judged + 14 baseline
    tail = {key: values[-3:] for key, values in daily.counts.items()}
    assert tail == {
        "csat": [Counts(1, 1), Counts(2, 1), Counts(0)],
        "nps": [Counts(1, 0, 1), Counts(0), Counts(2, 1, 1)],
        "ces": [Counts(0), Counts(2, 8, 40), Counts(0)],
        "complaints:late_delivery": [Counts(2, 1), Counts(4, 1), Counts(2, 1)],
    }
    assert all(c == Counts(0) for values in daily.counts.values() for c in values[:-3])


def test_a_slow_slide_opens_one_case_by_rule_4_and_recovers(sessions):
    config = make_config([CSAT_SPC, {"metric": "csat", "below": 50, "window": "24h"}])
    team = config.teams["delivery"]
    thresholds = Thresholds(sessions, config, Cases(sessions, config))
    csat_days(sessions, config, BASELINE, 16)  # 80 % for eight weeks
    csat_days(sessions, config, slide(SLIDE, 7), 15)  # then 75 %: below the centre line, not far

    seven = thresholds.evaluate(local(SLIDE + timedelta(days=7), 0.02, config))
    assert seven.opened == [] and seven.failed == {} and seven.rules == 2  # 7 days in a row

    csat_days(sessions, config, [SLIDE + timedelta(days=7)], 15)
    opened_at = local(SLIDE + timedelta(days=8), 0.02, config)
    (case,) = thresholds.evaluate(opened_at).opened
    # 12 March's baseline: 49 days at 16/20 and the 7 slide days at 15/20.
    centre = 100 * (49 * 16 + 7 * 15) / (56 * 20)
    sigma = 100 * math.sqrt(centre / 100 * (1 - centre / 100) / 20)
    assert centre == 79.375 and case.severity == "medium"
    assert case.summary == {
        "metric": "csat",
        "category": None,
        "rule": KEY,
        "spc": 4,
        "side": "below",
        "signals": [4],
        "baseline": "8w",
        "day": "2026-03-12",
        "value": 75,
        "centre": 79.38,
        "lower": round(centre - 3 * sigma, 2),
        "upper": 100,  # 106.5, shown inside the scale
        "n": 20,
    }
    assert (case.rule_key, case.active_rule) == (KEY, KEY)
    detail = Cases(sessions, config).get(case.id)
    message = case_message(detail, team, now=opened_at)
    assert message_errors(message["blocks"], message["text"]) == []
    assert (
        "*Threshold breach:* CSAT: 8 days in a row below the centre line, special cause — 75 % on "
        f"Thu 12 Mar (n=20, centre 79.4 %, 3σ limits {round(centre - 3 * sigma, 1)}–"
        "100 %, 8w baseline)"
    ) in message["blocks"][0]["text"]["text"]

    # Later the same day and the next day of the slide: the episode already has its case.
    assert thresholds.evaluate(opened_at + 6 * HOUR).opened == []
    csat_days(sessions, config, [SLIDE + timedelta(days=8)], 15)
    assert thresholds.evaluate(local(SLIDE + timedelta(days=9), 0.02, config)).opened == []

    # A day above the centre line ends the run: the case says so, once.
    csat_days(sessions, config, [SLIDE + timedelta(days=9)], 17)
    back = local(SLIDE + timedelta(days=10), 0.02, config)
    assert [c.id for c in thresholds.evaluate(back).recovered] == [case.id]
    assert thresholds.evaluate(back + MIN).recovered == []
    (case,) = cases_of(sessions)
    assert case.active_rule is None and case.state == "open"
    with sessions() as s:
        recovered = s.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id.desc())
        ).first()
    assert recovered.kind == "recovered"
    assert recovered.details["day"] == "2026-03-14" and recovered.details["value"] == 85
    assert event_line(recovered, case, team).startswith(
        ":chart_with_upwards_trend: Recovered at Sun 15 Mar 00:01 EDT: CSAT 85 % on Sat 14 Mar "
        "(n=20, centre 79"
    )
    assert event_line(recovered, case, team).endswith(
        "): no longer a special cause below the centre line"
    )


def test_a_day_under_min_responses_breaks_the_run(sessions):
    config = make_config([CSAT_SPC])
    thresholds = Thresholds(sessions, config, Cases(sessions, config))
    csat_days(sessions, config, BASELINE, 16)
    days = slide(SLIDE, 9)
    csat_days(sessions, config, days[:4] + days[5:], 15)
    csat_days(sessions, config, [days[4]], 0, n=9)  # 0 % of 9: far below, but not judged
    report = thresholds.evaluate(local(days[-1] + timedelta(days=1), 1, config))
    assert report.opened == [] and report.failed == {}


def test_a_spike_opens_a_high_severity_case_by_rule_1(sessions):
    config = make_config([CSAT_SPC])
    thresholds = Thresholds(sessions, config, Cases(sessions, config))
    csat_days(sessions, config, BASELINE, 16)
    csat_days(sessions, config, [SLIDE], 5)  # 25 %: six sigmas below
    (case,) = thresholds.evaluate(local(SLIDE + timedelta(days=1), 9, config)).opened
    assert (case.severity, case.summary["spc"], case.summary["side"]) == ("high", 1, "below")
    assert case.summary["value"] == 25 and case.summary["signals"] == [1]


def test_a_rise_of_complaints_per_response_signals_above(sessions):
    rule = {"metric": "complaints", "rule": "spc", "category": "late_delivery", "min_responses": 10}
    config = make_config([rule])
    thresholds = Thresholds(sessions, config, Cases(sessions, config))
    # 20 responses a day, 2 of them late-delivery complaints (10 %); then a day with 12 (60 %).
    for day, complaints in [*((d, 2) for d in BASELINE), (SLIDE, 12)]:
        add(
            sessions,
            *[("csat", 1, local(day, 10, config), "late_delivery")] * complaints,
            *[("nps", 9, local(day, 10, config))] * (20 - complaints),
        )
    (case,) = thresholds.evaluate(local(SLIDE + timedelta(days=1), 9, config)).opened
    assert case.rule_key == "delivery:spc:complaints:8w:late_delivery"
    assert (case.summary["spc"], case.summary["side"], case.summary["value"]) == (1, "above", 60)
    assert case.summary["centre"] == 10


def test_rules_are_judged_once_per_completed_day(sessions):
    config = make_config([CSAT_SPC])
    cases = Cases(sessions, config)
    thresholds = Thresholds(sessions, config, cases)
    csat_days(sessions, config, BASELINE[:-1], 16)
    csat_days(sessions, config, slide(SLIDE, 7), 15)
    morning = local(SLIDE + timedelta(days=7), 1, config)
    assert thresholds.evaluate(morning).opened == []  # 4 March has no response: 7 in a row
    # Today's responses change no judged day: the judgement is kept (nothing is read again).
    thresholds.spc.touched("delivery", local(SLIDE + timedelta(days=7), 0.5, config))
    assert thresholds.spc._judged["delivery"][0] == SLIDE + timedelta(days=6)
    # A late import fills 4 March at 75 %: stored without ingestion's notice, the judgement stands until
    # the next day; ingestion says the team got responses of a judged day, and it is judged again at once.
    csat_days(sessions, config, [BASELINE[-1]], 15)
    assert thresholds.evaluate(morning + 6 * HOUR).opened == []
    thresholds.spc.touched("delivery", local(BASELINE[-1], 12, config))
    assert len(thresholds.evaluate(morning + 6 * HOUR).opened) == 1
