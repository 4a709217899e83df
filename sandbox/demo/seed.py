"""Seed a database with a simulated past: feedback stored hour by hour, its cases worked through their lifecycle."""

from __future__ import annotations

import heapq
import itertools
import math
import random
import time as clock
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.silences import Silences
from bot.alerts.thresholds import Thresholds
from bot.cases.lifecycle import Cases
from bot.feedback.ingest import Ingestor
from config.teams import LoopbotConfig, Team
from sandbox.demo.config import BILLING_SILENCE
from sandbox.demo.feedback import history_by_hour
from sandbox.demo.improvements import Story
from sandbox.demo.resolutions import REOPEN_REASONS, resolution
from storage.models import ActionEvent, Case, CaseEvent, CorrectiveAction, OutboxMessage

ORIGIN = "api"  # the seeded feedback came in as a survey tool would send it

# (first hour, last hour + 1, weekdays) when someone watches each team's channel; cases opened outside it wait.
_SHIFTS: dict[str, tuple[int, int, frozenset[int]]] = {
    "delivery": (6, 22, frozenset(range(7))),
    "support": (7, 23, frozenset(range(7))),
    "billing": (8, 22, frozenset(range(6))),
}
_DEFAULT_SHIFT = (8, 18, frozenset(range(5)))


@dataclass(frozen=True)
class SeedSummary:
    feedback: int
    cases: int  # every case: one per negative response, plus the systemic ones
    acknowledged: int  # acknowledged at least once (resolving straight from open counts, as in TTA)
    resolved: int  # cases resolved now
    still_open: int  # cases open or acknowledged now
    reopened: int
    systemic: int = 0  # systemic cases opened in the leaders' channel (SPEC §8), open or closed
    actions: int = 0  # corrective actions
    thresholds: int = 0  # threshold cases (SPEC §6, §9), opened by the rules evaluated at `now`
    seconds: float = 0.0


@dataclass(order=True)
class _Step:
    at: datetime
    seq: int
    case_id: int = 0
    # acknowledge | assign | resolve | reopen | story (a corrective action's move) | silence
    kind: str = ""
    actor: str = ""
    args: dict[str, Any] | None = None
    team: str = ""


def seed(
    sessions: sessionmaker[Session],
    config: LoopbotConfig,
    cases: Cases,
    ingestor: Ingestor,
    *,
    now: datetime,
    days: int = 60,
    rng_seed: int = 7,
    mark_posted: bool = False,
) -> SeedSummary:
    """Store `days` of generated feedback ending at `now`, opening cases as it goes, and work those cases.

    Feedback is stored one simulated hour at a time with `now` = the end of that hour, so each negative
    response opens its case within the hour it came in (ingestion opens none for feedback older than
    CASE_HORIZON). Lifecycle steps run in simulated time order too, and steps that would fall at or after
    `now` never happen: that is how the last days' cases are left open or unacknowledged. The demo's
    corrective actions (sandbox.demo.improvements) are planned, done and verified among them, and billing's
    supervisor starts a silence (BILLING_SILENCE) a few hours before `now`. At `now` the threshold rules are
    evaluated once, as the every-minute job would: the sandbox opens with their cases (support's slow CSAT
    slide, SPC rule 4) rather than waiting for its first minute. With `mark_posted`, every post this seeding
    wrote to the outbox is marked delivered, except those a sandbox must show (see `_mark_posted`).
    """
    started = clock.perf_counter()
    rng = random.Random(rng_seed)
    # Streams of their own: lifecycle choices don't shift the feedback, nor the story the lifecycle.
    plans = random.Random(rng_seed + 1)
    story = Story(
        cases,
        config,
        now=now,
        start=now - timedelta(days=days),
        rng=random.Random(rng_seed + 2),
        on_shift=_on_shift,
    )
    first_outbox_id, first_case_id = _max_id(sessions, OutboxMessage.id), _max_id(sessions, Case.id)
    first_action_id = _max_id(sessions, CorrectiveAction.id)
    steps: list[_Step] = []
    seq = itertools.count(1)
    for at, what, imp in story.moves():
        heapq.heappush(steps, _Step(at, next(seq), kind="story", args={"what": what, "imp": imp}))
    hush = BILLING_SILENCE
    hush_at = now - timedelta(hours=hush.hours_ago)
    if hush.team in config.teams and hush_at >= now - timedelta(days=days):
        heapq.heappush(steps, _Step(hush_at, next(seq), kind="silence", actor=hush.actor))
    stored = 0
    zones = {key: team.timezone for key, team in config.teams.items()}
    for _, end, raw in history_by_hour(rng, teams=zones, now=now, days=days):
        _run(cases, story, steps, seq, until=end)
        if not raw:
            continue
        valid, errors = ingestor.validate(raw, end)
        if errors:
            raise ValueError(f"generated feedback failed validation: {errors[:3]}")
        result = ingestor.store(valid, default_source="demo", origin=ORIGIN, now=end)
        stored += result.accepted
        if not result.cases:
            continue
        with sessions.begin() as s:
            opened = s.execute(
                select(Case.id, Case.team, Case.opened_at, Case.summary)
                .where(Case.id.in_([int(ref[3:]) for ref in result.cases]))
                .order_by(Case.id)
            ).all()
        for case_id, team, opened_at, summary in opened:
            if summary.get("repeat", {}).get("customer_count", 0) >= 3:
                continue  # a regular's third complaint in a month: left for whoever opens the sandbox
            category = summary.get("category")
            for step in _plan(plans, config, config.teams[team], category, opened_at):
                step.seq, step.case_id, step.team = next(seq), case_id, team
                heapq.heappush(steps, step)
    _run(cases, story, steps, seq, until=now)
    # As the every-minute job would at `now`: the sandbox's own first run finds these cases already open.
    evaluated = Thresholds(sessions, config, cases).evaluate(now)
    if evaluated.failed:
        raise RuntimeError(f"the demo's threshold rules failed at now: {evaluated.failed}")
    if mark_posted:
        _mark_posted(sessions, first_outbox_id, first_action_id)
    return _summary(
        sessions, first_case_id, first_action_id, stored, clock.perf_counter() - started
    )


# -- lifecycle --------------------------------------------------------------------------------------------------


def _run(
    cases: Cases, story: Story, steps: list[_Step], seq: Iterator[int], *, until: datetime
) -> None:
    """Carry out every planned step due before `until`, oldest first; the rest wait (or never come)."""
    while steps and steps[0].at < until:
        step = heapq.heappop(steps)
        args = step.args or {}
        if step.kind == "acknowledge":
            cases.acknowledge(step.case_id, actor=step.actor, source="button", now=step.at)
        elif step.kind == "assign":
            cases.assign(
                step.case_id, args["assignee"], actor=step.actor, source="button", now=step.at
            )
        elif step.kind == "resolve":
            args = dict(args)
            planning = story.resolving(step.team, args)
            change = cases.resolve(step.case_id, actor=step.actor, now=step.at, **args)
            if planning is not None:
                story.resolved(planning, change)
        elif step.kind == "reopen":
            cases.reopen(
                step.case_id, args["reason"], actor=step.actor, source="command", now=step.at
            )
        elif step.kind == "silence":
            hush = BILLING_SILENCE
            Silences(cases.sessions, cases.config).start(
                hush.team, hush.rule, hush.duration, hush.reason, step.actor, "command", step.at
            )
        elif step.kind == "story":
            for at, what, imp in story.act(args["what"], args["imp"], step.at):
                heapq.heappush(
                    steps, _Step(at, next(seq), kind="story", args={"what": what, "imp": imp})
                )


def _plan(
    rng: random.Random, config: LoopbotConfig, team: Team, category: str | None, opened: datetime
) -> list[_Step]:
    """The steps one case will go through, at increasing times from `opened`; empty for a forgotten case."""
    if rng.random() < 0.006:
        return []  # forgotten: it stays open (and overdue) for ever
    members = team.members or team.supervisors
    steps: list[_Step] = []
    at = opened
    if rng.random() < 0.06:
        # A supervisor spotted it and resolved it straight away (counts as acknowledged then).
        at = _on_shift(team, at) + _lognormal(rng, team.sla.ack * 0.5, 0.8)
    else:
        at = _on_shift(team, at) + _lognormal(rng, team.sla.ack * 0.4, 0.9)
        acker = rng.choice(team.supervisors) if rng.random() < 0.1 else rng.choice(members)
        steps.append(_Step(at, 0, kind="acknowledge", actor=acker))
        if rng.random() < 0.25:
            at += timedelta(minutes=rng.uniform(1, 20))
            if rng.random() < 0.6:
                steps.append(_Step(at, 0, kind="assign", actor=acker, args={"assignee": acker}))
            else:
                steps.append(
                    _Step(
                        at,
                        0,
                        kind="assign",
                        actor=rng.choice(team.supervisors),
                        args={"assignee": rng.choice(members)},
                    )
                )
        if rng.random() < 0.01:
            return steps  # acknowledged, then left: an old case stuck in acknowledged
        at = _on_shift(team, at + _lognormal(rng, team.sla.resolve * 0.25, 1.0))
    steps.append(_resolution(rng, config, team, category, at))
    if rng.random() < 0.04:
        at = _on_shift(team, at + timedelta(hours=rng.uniform(2, 48)))
        steps.append(
            _Step(
                at,
                0,
                kind="reopen",
                actor=rng.choice(team.supervisors),
                args={"reason": rng.choice(REOPEN_REASONS)},
            )
        )
        at = _on_shift(team, at + _lognormal(rng, team.sla.resolve * 0.2, 0.8))
        steps.append(_resolution(rng, config, team, category, at))
    return steps


def _resolution(
    rng: random.Random, config: LoopbotConfig, team: Team, category: str | None, at: datetime
) -> _Step:
    args = resolution(rng, config, category)
    return _Step(at, 0, kind="resolve", actor=rng.choice(team.supervisors), args=args)


def _on_shift(team: Team, at: datetime) -> datetime:
    """`at`, or the start of the team's next shift when nobody watches the channel at `at`."""
    first, last, weekdays = _SHIFTS.get(team.key, _DEFAULT_SHIFT)
    local = at.astimezone(team.tz)
    if local.weekday() in weekdays and first <= local.hour < last:
        return at
    day = local.date() if local.hour < first else local.date() + timedelta(days=1)
    while day.weekday() not in weekdays:
        day += timedelta(days=1)
    return datetime.combine(day, time(first), team.tz).astimezone(at.tzinfo)


def _lognormal(rng: random.Random, median: timedelta, sigma: float) -> timedelta:
    # Handling times are skewed: most cases go fast, a long tail goes past the SLA.
    seconds = median.total_seconds() * math.exp(rng.gauss(0, sigma))
    return timedelta(seconds=max(30.0, seconds))


# -- bookkeeping ------------------------------------------------------------------------------------------------


def _max_id(sessions: sessionmaker[Session], column: Any) -> int:
    """The highest id so far: what this seeding writes comes after it (the database need not be empty)."""
    with sessions.begin() as s:
        return s.scalar(select(func.coalesce(func.max(column), 0))) or 0


def _mark_posted(sessions: sessionmaker[Session], after_id: int, after_action_id: int) -> None:
    """Mark the seeded posts delivered, so a sandbox does not replay weeks of messages into Slack.

    The posts of cases still open or acknowledged stay pending: their message must really be posted (that is
    where the case's Slack ts comes from), or any later click on them would wait for ever on a message that
    was never sent. The resolved history needs no message; its cases show in lists, stats and charts. The
    few corrective actions keep theirs, with the cases they were planned from: a newcomer sees each action's
    message and timeline, and a case thread naming the action it planned. So does the silence's start."""
    with sessions.begin() as s:
        live = list(s.scalars(select(Case.id).where(Case.state.in_(("open", "acknowledged")))))
        planned = s.scalars(
            select(ActionEvent.details).where(
                ActionEvent.action_id > after_action_id, ActionEvent.kind == "planned"
            )
        )
        live += [int(d["case"][3:]) for d in planned if d.get("case")]
        keys = [f"case:{i}:open" for i in live]
        keys += [
            f"case:{c}:event:{e}"
            for c, e in s.execute(
                select(CaseEvent.case_id, CaseEvent.id).where(CaseEvent.case_id.in_(live))
            )
        ]
        s.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id > after_id,
                OutboxMessage.state == "pending",
                OutboxMessage.key.not_in(keys),
                OutboxMessage.key.not_like("action:%"),
                OutboxMessage.key.not_like("silence:%"),
            )
            .values(state="delivered", delivered_at=OutboxMessage.created_at)
            .execution_options(synchronize_session=False)
        )


def _summary(
    sessions: sessionmaker[Session],
    after_case_id: int,
    after_action_id: int,
    stored: int,
    seconds: float,
) -> SeedSummary:
    with sessions.begin() as s:
        states = dict(
            s.execute(
                select(Case.state, func.count()).where(Case.id > after_case_id).group_by(Case.state)
            )
            .tuples()
            .all()
        )
        cases_with = select(func.count(func.distinct(CaseEvent.case_id))).where(
            CaseEvent.case_id > after_case_id
        )
        acked = s.scalar(cases_with.where(CaseEvent.kind.in_(("acknowledged", "resolved")))) or 0
        reopened = s.scalar(cases_with.where(CaseEvent.kind == "reopened")) or 0
        systemic = s.scalar(
            select(func.count()).where(Case.id > after_case_id, Case.kind == "systemic")
        )
        actions = s.scalar(select(func.count()).where(CorrectiveAction.id > after_action_id))
        thresholds = s.scalar(
            select(func.count()).where(Case.id > after_case_id, Case.kind == "threshold")
        )
    return SeedSummary(
        feedback=stored,
        cases=sum(states.values()),
        acknowledged=acked,
        resolved=states.get("resolved", 0),
        still_open=states.get("open", 0) + states.get("acknowledged", 0),
        reopened=reopened,
        systemic=systemic or 0,
        actions=actions or 0,
        thresholds=thresholds or 0,
        seconds=round(seconds, 2),
    )
