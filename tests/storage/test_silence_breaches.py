"""What rule evaluation asks of silences on a real database: which rules are silenced at an instant, and the
breaches they kept quiet, one episode per rule until it recovers or the silence ends; counted in SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import event, text

from bot.alerts import silences as sil
from bot.alerts.silences import Silences
from bot.alerts.thresholds import rule_key
from config.teams import LoopbotConfig
from storage.db import make_read_sessions
from tests.storage.test_silences import DAY, HOUR, LEADER, MIN, SUPER, T0, rules_config, start


@pytest.fixture
def cfg() -> LoopbotConfig:
    return rules_config()  # the delivery team has four rules: csat 1d, csat 1w, cases, complaints


@pytest.fixture
def silences(engine, sessions, cfg) -> Silences:  # noqa: ANN001
    return Silences(sessions, cfg, reads=make_read_sessions(engine))


def keys(cfg, *which: int) -> set[str]:  # noqa: ANN001
    team = cfg.teams["delivery"]
    return {rule_key(team, team.thresholds[i]) for i in which}


def silenced(sessions, cfg, at) -> dict[str, int]:  # noqa: ANN001
    with sessions() as s:
        return sil.silenced_rules(s, cfg.teams["delivery"], at)


def test_each_pattern_silences_its_rules_while_it_lasts(sessions, cfg, silences) -> None:  # noqa: ANN001
    start(silences, "csat", duration="2h")  # S-1: rules 0 and 1
    start(silences, "complaints:late_delivery", duration="1h")  # S-2: rule 3
    assert silenced(sessions, cfg, T0) == {
        **dict.fromkeys(keys(cfg, 0, 1), 1),
        **dict.fromkeys(keys(cfg, 3), 2),
    }
    start(
        silences, "all", duration="3h", now=T0 + MIN
    )  # S-3: every rule; the oldest silence is named
    assert silenced(sessions, cfg, T0 + MIN) == {
        **dict.fromkeys(keys(cfg, 0, 1), 1),
        **dict.fromkeys(keys(cfg, 3), 2),
        **dict.fromkeys(keys(cfg, 2), 3),
    }
    assert set(silenced(sessions, cfg, T0 + HOUR)) == keys(cfg, 0, 1, 2, 3)
    assert silenced(sessions, cfg, T0 + 2 * HOUR)[next(iter(keys(cfg, 0)))] == 3
    silences.end("S-3", LEADER, "command", T0 + 2 * HOUR)
    # Past their ends, silences silence nothing, whether or not the job has ended them yet.
    with sessions() as s:
        assert sil.silenced_rule_keys(s, cfg.teams["delivery"], T0 + 2 * HOUR) == set()
        assert sil.silenced_rule_keys(s, cfg.teams["support"], T0) == set()


def test_a_breach_is_one_episode_updated_while_it_lasts(sessions, cfg, silences) -> None:  # noqa: ANN001
    start(silences, "csat", duration="4h")
    [key] = keys(cfg, 0)
    team = cfg.teams["delivery"]
    for minute, value, n in ((0, 72.4, 31), (1, 70.0, 33), (2, 69.5, 35)):
        with sessions.begin() as s:
            sil.record_breach(s, 1, team, key, value, n, T0 + minute * MIN)
    # An evaluation that read earlier but commits later (two at once) changes nothing.
    with sessions.begin() as s:
        sil.record_breach(s, 1, "delivery", key, 75.0, 30, T0 + MIN)
        assert sil.open_breaches(s, team) == {key}
    [episode] = silences.get("S-1").breaches
    assert (episode.first_at, episode.last_at, episode.value, episode.n) == (
        T0,
        T0 + 2 * MIN,
        69.5,
        35,
    )
    assert episode.open and episode.rule == "csat below 80 over 1d"
    with sessions.begin() as s:
        assert sil.record_recovery(s, team, [key], T0 + 10 * MIN) == 1
        assert sil.record_recovery(s, team, [key], T0 + 11 * MIN) == 0
        assert sil.open_breaches(s, team) == set()
        sil.record_breach(s, 1, team, key, 71.0, 40, T0 + HOUR)  # breached again: a new episode
    first, second = silences.get("S-1").breaches
    assert (first.recovered_at, first.open) == (T0 + 10 * MIN, False)
    assert (second.first_at, second.open) == (T0 + HOUR, True)
    assert [s.breaches for s in silences.list("delivery", T0 + HOUR)] == [2]


def test_the_end_of_a_silence_closes_its_episodes_still_breached(sessions, cfg, silences) -> None:  # noqa: ANN001
    start(silences, "all", duration="4h")
    team = cfg.teams["delivery"]
    with sessions.begin() as s:
        sil.record_breach(s, 1, team, next(iter(keys(cfg, 0))), 72.0, 31, T0 + HOUR)
    silences.end("S-1", SUPER, "command", T0 + 2 * HOUR)
    [episode] = silences.get("S-1").breaches
    assert (episode.open, episode.recovered_at) == (False, None)
    with sessions() as s:
        assert sil.open_breaches(s, team) == set()
    # A later silence of the same rule records a breach as an episode of its own.
    start(silences, "csat", now=T0 + 3 * HOUR)
    with sessions.begin() as s:
        sil.record_breach(s, 2, team, next(iter(keys(cfg, 0))), 71.0, 33, T0 + 3 * HOUR)
    assert len(silences.get("S-2").breaches) == 1


def test_breaches_are_counted_per_team_and_rule_in_a_period(sessions, cfg, silences) -> None:  # noqa: ANN001
    start(silences, "all", duration="7d")
    team = cfg.teams["delivery"]
    [csat] = keys(cfg, 0)
    [cases] = keys(cfg, 2)
    for day in range(3):
        with sessions.begin() as s:
            sil.record_breach(s, 1, team, csat, 70.0, 30, T0 + day * DAY)
            sil.record_recovery(s, team, [csat], T0 + day * DAY + HOUR)
    with sessions.begin() as s:
        sil.record_breach(s, 1, team, cases, 14, 200, T0 + 2 * DAY)
    found = silences.breaches(None, T0, T0 + 7 * DAY)
    assert [(b.team, b.rule, b.episodes) for b in found] == [
        ("delivery", "cases above 10 over 1h", 1),
        ("delivery", "csat below 80 over 1d", 3),
    ]
    assert [b.episodes for b in silences.breaches(["delivery"], T0 + DAY, T0 + 2 * DAY)] == [1]
    assert silences.breaches(["support"], T0, T0 + 7 * DAY) == []
    csat_count = next(b for b in found if b.rule_key == csat)
    assert (csat_count.first_at, csat_count.last_at) == (T0, T0 + 2 * DAY)


def test_active_silences_and_the_expiry_scan_read_their_indexes(engine, cfg, silences) -> None:  # noqa: ANN001
    start(silences, "all")
    statements: list[tuple[str, object]] = []

    def seen(_c, _cur, sql, params, _ctx, _many):  # noqa: ANN001, ANN202
        statements.append((sql, params))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        silences.expire(T0 + MIN)
        with silences.reads() as s:
            sil.silenced_rules(s, cfg.teams["delivery"], T0 + MIN)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    expiry, active = (q for q in statements if "FROM silences" in q[0])
    for (sql, params), index in (
        (expiry, "ix_silences_ended_at_ends_at"),
        (active, "ix_silences_team_ended_at_ends_at"),
    ):
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SET enable_seqscan = off"))
            explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(explain + sql, params))
        if engine.dialect.name == "sqlite":
            assert index in plan, plan
        else:  # PostgreSQL's planner picks either of the two on a table of a few rows; never the table
            assert "Index Scan using ix_silences_" in plan and "Seq Scan" not in plan, plan
