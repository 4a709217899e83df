"""Silences on a real database: started, listed, ended early and by time, each announced once in the team's
channel; every mistake refused with nothing written; escalations of existing cases go on regardless."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.alerts.escalations import Escalations
from bot.alerts.silences import Silences
from bot.cases.lifecycle import Cases
from bot.errors import AlreadyDone, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from config.loader import parse_config
from config.teams import LoopbotConfig
from storage.db import make_read_sessions
from storage.models import OutboxMessage, Silence
from tests.conftest import CONFIG
from tests.storage.test_cases_races import _at_once
from tests.storage.test_escalations import open_case

T0 = datetime(2026, 12, 5, 14, 0, tzinfo=UTC)  # Saturday 09:00 EST for the delivery team
SEC, MIN, HOUR, DAY = (
    timedelta(seconds=1),
    timedelta(minutes=1),
    timedelta(hours=1),
    timedelta(days=1),
)
SUPER, SUPER2, AGENT, LEADER = "U0SUPER1", "U0SUPER2", "U0AGENT1", "U0LEADER1"
RULES = [
    {"metric": "csat", "below": 80, "window": "24h", "min_responses": 5},
    {"metric": "csat", "below": 70, "window": "7d"},
    {"metric": "cases", "above": 10, "window": "1h"},
    {"metric": "complaints", "category": "late_delivery", "above": 5, "window": "1h"},
]


def rules_config() -> LoopbotConfig:
    raw = copy.deepcopy(CONFIG)
    raw["teams"]["delivery"]["thresholds"] = RULES
    return parse_config(raw, "tests/storage/test_silences.py")


@pytest.fixture
def cfg() -> LoopbotConfig:
    return rules_config()


@pytest.fixture
def silences(engine, sessions, cfg) -> Silences:  # noqa: ANN001
    return Silences(sessions, cfg, reads=make_read_sessions(engine))


def posts(sessions) -> list[tuple[str, str, str | None, dict]]:  # noqa: ANN001
    with sessions() as s:
        rows = s.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.key.like("silence:%"))
            .order_by(OutboxMessage.id)
        )
        return [(m.key, m.kind, m.channel, m.payload) for m in rows]


def count(sessions) -> int:  # noqa: ANN001
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(Silence)) or 0


def start(silences: Silences, rule: str = "csat", duration: str = "4h", **kw):  # noqa: ANN003, ANN201
    args = {"team": "delivery", "reason": "courier strike", "actor": SUPER, "now": T0, **kw}
    return silences.start(
        args["team"], rule, duration, args["reason"], args["actor"], "command", args["now"]
    )


def test_a_supervisor_silences_the_matching_rules_and_the_channel_is_told_once(
    sessions, silences
) -> None:  # noqa: ANN001
    rec = start(silences, "CSAT", reason="courier strike, mail jane@example.com")
    assert (rec.ref, rec.team, rec.pattern, rec.created_by) == ("S-1", "delivery", "csat", SUPER)
    assert (rec.starts_at, rec.ends_at, rec.ended_at) == (T0, T0 + 4 * HOUR, None)
    assert rec.rules == ("csat below 80 over 1d", "csat below 70 over 1w")
    assert "jane@example.com" not in rec.reason and rec.reason.startswith("courier strike, mail ")
    assert rec.active(T0) and not rec.active(T0 + 4 * HOUR)
    assert posts(sessions) == [
        ("silence:1:start", "silence.start", "C0DELIVERY", {"silence_id": 1})
    ]


def test_leaders_silence_any_team_and_other_supervisors_none(sessions, silences) -> None:  # noqa: ANN001
    assert start(silences, "all", actor=LEADER).rules == (
        "csat below 80 over 1d",
        "csat below 70 over 1w",
        "cases above 10 over 1h",
        "complaints:late_delivery above 5 over 1h",
    )
    with pytest.raises(PermissionDenied) as refused:
        start(silences, "cases", actor=SUPER2)
    assert refused.value.message == (
        "Only supervisors of Delivery Ops (U0SUPER1) or leaders can silence its alerts."
    )
    assert count(sessions) == 1


@pytest.mark.parametrize(
    ("args", "error", "words"),
    [
        ({"actor": AGENT}, PermissionDenied, "Only supervisors of Delivery Ops"),
        (
            {"team": "billing"},
            NotFound,
            "There is no team `billing`. Teams: `delivery`, `support`.",
        ),
        (
            {"rule": "nps"},
            InvalidInput,
            "No rule of Delivery Ops matches `nps`. Its rules: `csat`, `cases`, "
            "`complaints:late_delivery`, or `all`.",
        ),
        ({"rule": "spc:csat"}, InvalidInput, "No rule of Delivery Ops matches `spc:csat`."),
        ({"rule": "complaints:rude_staff"}, InvalidInput, "Its rules: `csat`, `cases`"),
        ({"rule": "csat:late_delivery"}, InvalidInput, "`csat:late_delivery` is not a rule"),
        ({"rule": "latency"}, InvalidInput, "is not a rule: write `all`, a metric"),
        ({"team": "support", "actor": SUPER2, "rule": "all"}, InvalidInput, "has no threshold"),
        ({"duration": "8d"}, InvalidInput, "A silence lasts at most 7d; `8d` is longer."),
        ({"duration": "2w"}, InvalidInput, "at most 7d; `2w` is longer"),
        ({"duration": "0m"}, InvalidInput, "`0m` is not a duration: write 90m, 4h or 2d"),
        ({"duration": "-1h"}, InvalidInput, "`-1h` is not a duration"),
        ({"duration": "soon"}, InvalidInput, "`soon` is not a duration"),
        ({"duration": timedelta(0)}, InvalidInput, "needs a duration after now"),
        ({"reason": "  "}, InvalidInput, "Say why after the duration"),
        ({"reason": "x" * 501}, InvalidInput, "keep it under 500"),
    ],
)
def test_every_mistake_is_refused_and_nothing_is_written(sessions, silences, args, error, words):  # noqa: ANN001
    args = dict(args)  # the same dict serves each database's run of this case: popped from a copy
    rule, duration = args.pop("rule", "csat"), args.pop("duration", "4h")
    with pytest.raises(error) as refused:
        start(silences, rule, duration, **args)
    assert words in refused.value.message
    assert count(sessions) == 0 and posts(sessions) == []


def test_seven_days_is_the_longest_silence(silences) -> None:  # noqa: ANN001
    assert start(silences, duration="7d").ends_at == T0 + 7 * DAY
    assert start(silences, "cases", duration="90m").ends_at == T0 + 90 * MIN


def test_the_same_rules_twice_start_one_silence_and_the_second_is_told_whose(sessions, silences):  # noqa: ANN001
    first = start(silences, "csat")
    with pytest.raises(AlreadyDone) as twice:
        start(silences, "csat", actor=LEADER, now=T0 + MIN)
    assert twice.value.user == SUPER and twice.value.at == T0 + 4 * HOUR
    assert twice.value.message.startswith(
        "S-1 already silences `csat` of Delivery Ops until 2026-12-05T13:00-05:00, started by U0SUPER1"
    )
    assert start(silences, "all", now=T0 + MIN).ref == "S-2"  # other rules: a silence of its own
    assert [k for k, *_ in posts(sessions)] == ["silence:1:start", "silence:2:start"]
    # Once the first has run out, the same rules can be silenced again; the first's end is told first.
    again = start(silences, "csat", now=first.ends_at)
    assert again.ref == "S-3"
    assert [k for k, *_ in posts(sessions)][2:] == ["silence:1:end", "silence:3:start"]


def test_two_people_silencing_the_same_rules_at_once_start_one(sessions, silences) -> None:  # noqa: ANN001
    outcomes = _at_once(
        [lambda: start(silences, actor=SUPER), lambda: start(silences, actor=LEADER)]
    )
    started = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, AlreadyDone)]
    assert len(started) == 1 and len(refused) == 1
    assert refused[0].user == started[0].created_by
    assert count(sessions) == 1 and len(posts(sessions)) == 1


def test_unsilence_ends_it_early_once_and_tells_the_channel(sessions, silences) -> None:  # noqa: ANN001
    start(silences)
    with pytest.raises(PermissionDenied):
        silences.end("S-1", AGENT, "command", T0 + HOUR)
    ended = silences.end("s-1", LEADER, "command", T0 + HOUR)
    assert (ended.ended_at, ended.ended_by, ended.ended_source) == (T0 + HOUR, LEADER, "command")
    assert not ended.expired and ended.version == 2
    with pytest.raises(AlreadyDone) as twice:
        silences.end(1, SUPER, "command", T0 + HOUR + MIN)
    assert twice.value.user == LEADER and "S-1 was already ended by U0LEADER1 at " in str(
        twice.value
    )
    assert silences.expire(T0 + 5 * HOUR) == []  # ended already: time ends it no more
    assert [k for k, *_ in posts(sessions)] == ["silence:1:start", "silence:1:end"]


@pytest.mark.parametrize(
    ("ref", "error", "words"),
    [
        ("S-9", NotFound, "There is no silence S-9; `silences` lists the active ones."),
        ("FB-1", InvalidInput, "`FB-1` is not a silence id; write it like S-3"),
    ],
)
def test_unsilence_of_an_unknown_silence_is_refused(silences, ref, error, words) -> None:  # noqa: ANN001
    start(silences)
    with pytest.raises(error, match=words.replace("(", r"\(")):
        silences.end(ref, SUPER, "command", T0)


def test_time_ends_a_silence_once_at_its_end_and_after_a_restart(sessions, silences) -> None:  # noqa: ANN001
    start(silences, duration="4h")
    start(silences, "cases", duration="1h")
    assert silences.expire(T0 + HOUR - SEC) == []
    [cases_silence] = silences.expire(T0 + HOUR)
    assert cases_silence.ref == "S-2" and cases_silence.expired
    assert (cases_silence.ended_at, cases_silence.ended_by) == (T0 + HOUR, "loopbot")
    # Down for a day: the first run back ends the other one, as of its own end.
    [late] = silences.expire(T0 + DAY)
    assert (late.ref, late.ended_at) == ("S-1", T0 + 4 * HOUR)
    assert silences.expire(T0 + DAY) == []
    assert [k for k, *_ in posts(sessions)] == [
        "silence:1:start",
        "silence:2:start",
        "silence:2:end",
        "silence:1:end",
    ]
    with pytest.raises(InvalidTransition, match="S-1 already ended at "):
        silences.end("S-1", SUPER, "command", T0 + DAY)


def test_a_silence_past_its_end_cannot_be_ended_early_even_before_the_job_runs(silences) -> None:  # noqa: ANN001
    start(silences, duration="1h")
    with pytest.raises(InvalidTransition, match="S-1 already ended at 2026-12-05T10:00-05:00"):
        silences.end("S-1", SUPER, "command", T0 + HOUR)


def test_expiry_and_unsilence_at_once_end_it_once(sessions, engine, cfg) -> None:  # noqa: ANN001
    # Two replicas' jobs and a person, released together a moment before the end.
    replicas = [Silences(sessions, cfg, reads=make_read_sessions(engine)) for _ in range(2)]
    start(replicas[0], duration="1h")
    outcomes = _at_once(
        [
            lambda: replicas[0].expire(T0 + HOUR),
            lambda: replicas[1].expire(T0 + HOUR),
            lambda: replicas[1].end("S-1", SUPER, "command", T0 + HOUR - SEC),
        ]
    )
    ended = [o for o in outcomes[:2] if o] + [
        o for o in outcomes[2:] if not isinstance(o, Exception)
    ]
    assert len(ended) == 1
    assert [k for k, *_ in posts(sessions)] == ["silence:1:start", "silence:1:end"]


def test_silences_lists_the_active_ones_soonest_end_first(silences) -> None:  # noqa: ANN001
    start(silences, "csat", duration="2d")
    start(silences, "cases", duration="1h")
    start(silences, "all", duration="3h")
    silences.end("S-3", SUPER, "command", T0 + MIN)
    assert [s.ref for s in silences.list("delivery", T0 + 2 * MIN)] == ["S-2", "S-1"]
    assert [s.ref for s in silences.list(None, T0 + 2 * HOUR)] == ["S-1"]
    assert silences.list(["support"], T0) == []
    assert [s.ref for s in silences.list(["support", "delivery"], T0)] == ["S-2", "S-1"]
    with pytest.raises(NotFound, match="There is no team `nope`"):
        silences.list("nope", T0)


def test_a_silence_never_stops_the_escalation_of_an_existing_case(sessions, engine, cfg) -> None:  # noqa: ANN001
    cases = Cases(sessions, cfg, reads=make_read_sessions(engine))
    case_id = open_case(sessions, cases, at=T0)
    Silences(sessions, cfg).start("delivery", "all", "2d", "outage", LEADER, "command", T0 + MIN)
    escalations = Escalations(sessions, cfg, cases)
    # delivery: ack SLA 15m; twice that goes to the leaders' channel.
    assert escalations.run(T0 + 15 * MIN + SEC) == [(case_id, "ack")]
    assert escalations.run(T0 + 30 * MIN + SEC) == [(case_id, "ack_leaders")]
