"""After a load: the database's events and feedback rows and Slack's message updates, held against what the
load was told (every successful change made once and shown once, every ingested response stored once)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import text

from bench.openloop import Phase, succeeded
from bench.slack_load import CHANGES, INGEST_SEED, Job, Post
from slack_emulator import SlackEmulator
from storage.db import make_engine


def last_event(url: str) -> int:
    """The newest case event before the load: everything after it is the load's doing (or a job's)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT coalesce(max(id), 0) FROM case_events")).scalar_one()
    engine.dispose()
    return int(found)


def check(
    phase: Phase,
    url: str,
    base: int,
    jobs: list[Job],
    posts: list[Post],
    emu: SlackEmulator,
    replies: dict[str, str],
    ts_of: dict[int, str],
) -> None:
    """Count into `phase`: changes lost (no event, or no message update) and made or shown twice."""
    engine = make_engine(url)
    with engine.connect() as conn:
        events = conn.execute(
            text("SELECT case_id, kind, source FROM case_events WHERE id > :base"), {"base": base}
        ).all()
        stored = conn.execute(
            text(
                "SELECT external_id, count(*) FROM feedback WHERE source = 'api' "
                "AND external_id LIKE :prefix GROUP BY external_id"
            ),
            {"prefix": f"b-{INGEST_SEED}-%"},
        ).all()
    engine.dispose()
    made = Counter((cid, kind, source) for cid, kind, source in events)
    per_case = Counter(cid for cid, _, _ in events)
    updates = Counter(
        (str(c.args.get("channel")), str(c.args.get("ts")))
        for c in emu.calls_to("chat.update")
        if c.ok
    )
    changes = [j for j in jobs if j.kind in CHANGES and j.delivery is not None]
    ok = [j for j in changes if succeeded(j, replies)]
    asked = {(j.case_id, *CHANGES[j.kind]) for j in ok}
    lost_cases: set[int] = set()
    twice_cases: set[int] = set()
    examples: dict[str, list[str]] = {}
    for j in ok:
        n, shown = made[(j.case_id, *CHANGES[j.kind])], updates[(j.channel, ts_of[j.case_id])]
        new = per_case[j.case_id]  # every event since the load began updates the message once
        for bad, what, where in (
            (n == 0, "successful changes without their event", lost_cases),
            (n > 1, "successful changes made more than once", twice_cases),
            (shown < new, "changed cases with fewer chat.updates than new events", lost_cases),
            (shown > new, "changed cases with more chat.updates than new events", twice_cases),
        ):
            if bad:
                where.add(j.case_id)
                examples.setdefault(what, []).append(
                    f"FB-{j.case_id} ({new} events, {shown} updates)"
                )
    for what, found in examples.items():
        phase.problems.append(f"{len(found)} {what}, e.g. {', '.join(found[:3])}")
    lost, twice = len(lost_cases), len(twice_cases)
    # Events of the kinds the load makes that no successful request asked for (a refused or timed-out
    # request that changed the case all the same).
    unasked = sum(
        n
        for key, n in made.items()
        if key not in asked and (key[1], key[2]) in set(CHANGES.values())
    )
    matching = sum(n for key, n in made.items() if key in asked)
    if unasked:
        phase.problems.append(f"{unasked} events no successful request asked for")

    sent_ok = {i for p in posts if p.status == 200 for i in p.ids}
    rows = dict(stored)
    missing = len(sent_ok - set(rows))
    duplicated = sum(n - 1 for n in rows.values() if n > 1)
    accepted = sum(p.accepted for p in posts)
    if missing:
        phase.problems.append(f"{missing} ingested responses answered 200 but not stored")
    if duplicated:
        phase.problems.append(f"{duplicated} ingested responses stored more than once")
    if accepted != len(sent_ok):
        phase.problems.append(f"the API accepted {accepted} of {len(sent_ok)} items sent")

    phase.lost = lost + missing + (len(sent_ok) - accepted if accepted < len(sent_ok) else 0)
    phase.doubled = twice + duplicated + unasked
    phase.counts = {
        "changes": len(changes),
        "succeeded": len(ok),
        "events": matching + unasked,
        "items": sum(len(p.ids) for p in posts),
        "accepted": accepted,
        "stored": len(rows),
        "new events": len(events),
    }
