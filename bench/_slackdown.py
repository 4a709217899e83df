"""bench/outage_slack.py's findings and report. After Slack came back: every outbox post in Slack once (by the
outbox key each post carries as message metadata), each case's thread lines in its message's thread in
timeline order, each due huddle posted once, and how long after Slack's return the backlog took to go out."""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from bench._slackload import heading, pct, verdict
from slack_emulator import SlackEmulator
from storage.db import make_engine
from storage.models import Case, OutboxMessage

if TYPE_CHECKING:
    from bench.outage_slack import Load, Plan

# Kinds whose post carries no outbox key (a chart's file upload); every other delivered post has one.
UNMARKED = frozenset({"chart"})


@dataclass
class Found:
    posts: Counter = field(default_factory=Counter)  # outbox kind → posts
    states: Counter = field(default_factory=Counter)  # outbox state → posts
    missing: list[str] = field(default_factory=list)  # delivered in the outbox, in Slack 0 times
    doubled: list[str] = field(default_factory=list)  # in Slack more than once
    unknown: list[str] = field(
        default_factory=list
    )  # in Slack under a key the outbox does not hold
    cases: int = 0
    case_messages_doubled: list[str] = field(default_factory=list)
    grouped: int = 0  # case messages that went out as one of a storm's grouped message
    lines: int = 0
    out_of_order: list[str] = field(
        default_factory=list
    )  # cases whose thread lines are not in order
    astray: list[str] = field(default_factory=list)  # thread lines outside their case's thread
    huddles: list[tuple[str, int]] = field(
        default_factory=list
    )  # (key, times in Slack) per due fire
    extra_huddles: list[str] = field(default_factory=list)
    backlog: int = 0  # posts made before Slack came back and not delivered by then
    backlog_kinds: Counter = field(default_factory=Counter)
    first_after: float | None = None  # s from Slack's return to the first of them delivered
    drained_after: float | None = None  # ... to the last

    @property
    def exactly_once(self) -> bool:
        return not (self.missing or self.doubled or self.unknown or self.case_messages_doubled)

    @property
    def in_order(self) -> bool:
        return not (self.out_of_order or self.astray)

    @property
    def huddles_once(self) -> bool:
        return all(n == 1 for _, n in self.huddles) and not self.extra_huddles


def _key(message: dict) -> str | None:
    return ((message.get("metadata") or {}).get("event_payload") or {}).get("key")


def _slack(emu: SlackEmulator, channels: list[str]) -> tuple[dict, dict]:
    """Every message with an outbox key: key → [(channel, thread root or None, ts)], and each top-level
    message's thread: (channel, ts) → its replies' (ts, key), in the order Slack shows them."""
    where: dict[str, list[tuple[str, str | None, str]]] = defaultdict(list)
    threads: dict[tuple[str, str], list[tuple[str, str | None]]] = {}
    for ch in channels:
        for m in emu.messages(ch):
            if (k := _key(m)) is not None:
                where[k].append((ch, None, m["ts"]))
            replies = emu.replies(ch, m["ts"])
            threads[(ch, m["ts"])] = [(r["ts"], _key(r)) for r in replies]
            for r in replies:
                if (k := _key(r)) is not None:
                    where[k].append((ch, m["ts"], r["ts"]))
    return where, threads


def check(
    emu: SlackEmulator, url: str, channels: list[str], fires: list[str], back_at: float
) -> Found:
    """Hold the outbox (at `url`) against what the emulator holds. `fires`: the huddle posts' keys due
    during the run; `back_at`: when Slack came back (time.time())."""
    engine = make_engine(url)
    with engine.connect() as conn:
        posts = conn.execute(
            select(
                OutboxMessage.key,
                OutboxMessage.kind,
                OutboxMessage.state,
                OutboxMessage.created_at,
                OutboxMessage.delivered_at,
                OutboxMessage.payload,
            ).order_by(OutboxMessage.id)
        ).all()
        cases = conn.execute(select(Case.id, Case.slack_channel, Case.slack_ts)).all()
    engine.dispose()
    where, threads = _slack(emu, channels)
    out = Found(cases=len(cases))
    keys = set()
    back = datetime.fromtimestamp(back_at, UTC)
    waited: list[float] = []
    for key, kind, state, created, delivered, _ in posts:
        keys.add(key)
        out.posts[kind] += 1
        out.states[state] += 1
        if created < back and (delivered is None or delivered > back):
            out.backlog += 1
            out.backlog_kinds[kind] += 1
            if delivered is not None:
                waited.append((delivered - back).total_seconds())
        if state == "grouped":
            out.grouped += 1
        elif state == "delivered" and kind not in UNMARKED:
            seen = len(where.get(key, []))
            if seen == 0:
                out.missing.append(key)
            elif seen > 1:
                out.doubled.append(f"{key} ×{seen}")
        if kind == "case.open" and len(where.get(key, [])) > 1:
            out.case_messages_doubled.append(key)
    # A retried post that found an earlier attempt's copy reuses it; any other key in Slack is not ours.
    out.unknown = [k for k in where if k not in keys and not k.endswith((":again", ":again:note"))]
    if waited:
        out.first_after, out.drained_after = min(waited), max(waited)
    _order(out, posts, cases, where, threads)
    for key in fires:
        out.huddles.append((key, len(where.get(key, []))))
    out.extra_huddles = [k for k in where if k.startswith("huddle:") and k not in fires]
    return out


def _order(out: Found, posts: list, cases: list, where: dict, threads: dict) -> None:
    """Each case event's line in the thread of its case's message, the lines in timeline order."""
    message = {cid: (ch, ts) for cid, ch, ts in cases if ts}
    lines: dict[int, list[int]] = defaultdict(list)  # case id → its events with a line, by event id
    for _, kind, state, _, _, payload in posts:
        if kind == "case.event" and state == "delivered":
            lines[int(payload["case_id"])].append(int(payload["event_id"]))
    for cid, events in sorted(lines.items()):
        out.lines += len(events)
        if cid not in message:
            out.astray.append(f"FB-{cid}: lines but no case message")
            continue
        ch, ts = message[cid]
        thread = [k for _, k in sorted(threads.get((ch, ts), []), key=lambda r: float(r[0]))]
        mine = [f"case:{cid}:event:{e}" for e in sorted(events)]
        shown = [k for k in thread if k in set(mine)]
        for k in mine:
            placed = where.get(k, [])
            if placed and all(root != ts for _, root, _ in placed):
                out.astray.append(f"{k} not in the thread of FB-{cid}'s message")
        if shown != [k for k in mine if k in set(shown)]:
            order = ", ".join(k.rsplit(":", 1)[1] for k in shown)
            out.out_of_order.append(f"FB-{cid}: its thread shows the lines of events {order}")


@dataclass
class Outcome:
    plan: Plan
    found: Found
    load: Load
    waiting: dict[str, int]  # outbox states just before Slack came back
    left: dict[str, int]  # outbox states at the end, before the bot stopped
    reconnected: float | None  # s from Slack's return to Socket Mode connected again
    log_errors: int = 0
    log_errors_down: int = 0
    log_tracebacks: int = 0
    log_loggers: str = ""
    log_samples: list[str] = field(default_factory=list)
    drain_timeout: bool = False


# -- the report -------------------------------------------------------------------------------------------


def markdown(o: Outcome, args: argparse.Namespace) -> tuple[str, bool]:
    f, load = o.found, o.load
    sent = {ph: [x for x in load.sent if x[0] == ph] for ph in ("before", "down", "after")}
    bad = [x for x in load.sent if x[1] != 200]

    def done(ph: str) -> str:
        got = load.counts.get(ph, {})
        return ", ".join(f"{n} {what}" for what, n in got.items()) or "nothing"

    left = {s: o.left.get(s, 0) for s in ("pending", "sending", "parked", "failed")}
    huddles = ", ".join(f"{t} {at:%H:%M}Z" for t, at in o.plan.fires.items())
    promises = {
        "exactly once": f.exactly_once,
        "in order": f.in_order,
        "huddles": f.huddles_once and len(f.huddles) == len(o.plan.fires),
        "outbox empty": not any(left.values()) and not o.drain_timeout,
        "ingestion": not bad,
        "reconnected": o.reconnected is not None,
    }
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(f.posts.items()))
    waiting = ", ".join(f"{n} {k}" for k, n in sorted(f.backlog_kinds.items()))
    lines = heading(f"Slack down {_duration(args.down)}") + [
        f"`loopbot run` in Socket Mode against the Slack emulator, the emulator stopped entirely for "
        f"{args.down:g} s and started again on the same port, after {args.before:g} s of load with Slack "
        f"up; the load went on through the outage and for {args.after:g} s after. Every {args.every:g} s "
        f"a POST /api/feedback: two responses that open nothing, a negative one every {args.case_every:g} s "
        "(teams in turn: a case), and a re-send of a case's response with a changed comment (a "
        "`response_updated` line in its thread; each case twice). While Slack was up each case's supervisor "
        "clicked Acknowledge once its message was in Slack, and resolved every third one through the "
        "modal. Each of the 4 teams (4 time zones) had its huddle due once, inside the outage.",
        "",
        f"Done before: {done('before')}. During the outage: {done('down')}. After: {done('after')}.",
        "",
        "| measure | figure | promise | |",
        "|---|---|---|---|",
        f"| posts in the outbox | {sum(f.posts.values())}: {kinds} | | |",
        f"| posts in Slack missing / twice / under a key the outbox lacks | {len(f.missing)} / "
        f"{len(f.doubled)} / {len(f.unknown)} | 0 / 0 / 0 | {verdict(promises['exactly once'])} |",
        f"| case messages per case ({f.cases} cases; {f.grouped} in a storm's grouped message) | "
        f"{len(f.case_messages_doubled)} cases with more than one | each once | "
        f"{verdict(not f.case_messages_doubled)} |",
        f"| thread lines ({f.lines}): out of timeline order / outside their case's thread | "
        f"{len(f.out_of_order)} cases / {len(f.astray)} lines | 0 / 0 | {verdict(promises['in order'])} |",
        f"| huddles due during the outage ({huddles}) | posted "
        + ", ".join(str(n) for _, n in f.huddles)
        + f" time(s){'; extra: ' + ', '.join(f.extra_huddles) if f.extra_huddles else ''} | each once "
        f"| {verdict(promises['huddles'])} |",
        "| left in the outbox: pending / sending / parked / failed | "
        + " / ".join(str(n) for n in left.values())
        + (" (drain timed out)" if o.drain_timeout else "")
        + f" | 0 | {verdict(promises['outbox empty'])} |",
        f"| ingestion: POSTs before / during / after the outage, not 200 | {len(sent['before'])} / "
        f"{len(sent['down'])} / {len(sent['after'])}, {len(bad)} not 200; p99 during "
        f"{pct([x[2] for x in sent['down']], 99):,.0f} ms | all 200 | {verdict(promises['ingestion'])} |",
        f"| backlog when Slack came back | {f.backlog} posts ({waiting or 'none'}) | | |",
        "| Socket Mode connected again after Slack came back | "
        + (f"{o.reconnected:.1f} s" if o.reconnected is not None else "not within 120 s")
        + f" | connects again | {verdict(promises['reconnected'])} |",
        f"| backlog: first post out / all out, after Slack came back | {_s(f.first_after)} / "
        f"{_s(f.drained_after)} | reported | |",
        f"| bot log: ERROR lines (during the outage and its first minute after) / tracebacks | "
        f"{o.log_errors} ({o.log_errors_down}) / {o.log_tracebacks}"
        + (f"; by logger: {o.log_loggers}" if o.log_loggers else "")
        + " | reported | |",
        f"| clicks refused or failed while Slack was up | {len(load.click_errors)} | reported | |",
    ]
    if o.log_samples:
        lines += ["", "The bot's ERROR lines, the first kinds:"]
        lines += [f"- `{x}`" for x in o.log_samples]
    problems = [*f.missing, *f.doubled, *f.unknown, *f.out_of_order, *f.astray, *load.click_errors]
    if problems:
        lines += ["", f"Problems ({len(problems)}), the first 10:"]
        lines += [f"- {x}" for x in problems[:10]]
    command = " ".join(["bench/outage_slack.py", *sys.argv[1:]])
    lines += ["", f"Run with `.venv/bin/python {command}`."]
    return "\n".join(lines), all(promises.values())


def _duration(seconds: float) -> str:
    return f"{seconds / 60:g} minutes" if seconds % 60 == 0 else f"{seconds:g} s"


def _s(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.1f} s"
