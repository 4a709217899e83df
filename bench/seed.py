"""The latency benchmark's SQLite database: 1M feedback rows, 50k cases with timelines and outbox, cached in /tmp."""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.datagen import BENCH_CONFIG, feedback, respondent  # noqa: E402
from bot import scores  # noqa: E402
from bot.feedback.categories import Categorizer  # noqa: E402
from bot.feedback.pii import mask  # noqa: E402
from config.fields import segment_key  # noqa: E402
from config.loader import load_config  # noqa: E402
from config.teams import LoopbotConfig  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import make_engine, make_sessions  # noqa: E402
from storage.feedback import insert_new  # noqa: E402
from storage.models import Case, CaseEvent, OutboxMessage  # noqa: E402

# Bump when what build() writes changes: the cache key includes it, so a stale file is never reused.
# 2: customers on responses and cases, categories on cases (recurrence); 3: segment, touchpoint and
# channel on responses (breakdowns), customers drawn by segment, causes that sometimes differ from the category.
SEED_VERSION = 3
BATCH = 20_000
# A resolved case's cause is its keyword category this often, another cause otherwise, so that `stats …
# categories` has disagreements to show, as a taxonomy that keywords approximate has.
CAUSE_AGREES = 0.85
OUTCOMES = ("fixed", "fixed", "fixed", "workaround", "no_action", "duplicate")


def bench_config(work: Path) -> tuple[Path, LoopbotConfig]:
    """BENCH_CONFIG as the YAML file `loopbot run` reads, and as the loaded model."""
    path = work / "bench.yaml"
    path.write_text(yaml.safe_dump(BENCH_CONFIG))
    return path, load_config(str(path))


def cached_db(
    *,
    rows: int,
    cases: int,
    open_: int,
    acknowledged: int,
    seed: int = 5,
    cache_dir: Path | None = None,
) -> tuple[Path, float | None, bool]:
    """The database file for these parameters, built when missing; (path, seconds its build took, and
    whether it was built just now)."""
    key = f"{SEED_VERSION}-{migrate.head_revision()}-{rows}-{cases}-{open_}-{acknowledged}-{seed}"
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    path = (cache_dir or Path(tempfile.gettempdir())) / f"loopbot-latency-{digest}.db"
    took = path.with_name(path.name + ".took")
    if path.exists():
        return path, float(took.read_text()) if took.exists() else None, False
    started = time.perf_counter()
    partial = path.with_name(path.name + ".partial")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as work:
        _, config = bench_config(Path(work))
        build(
            partial,
            config,
            rows=rows,
            cases=cases,
            open_=open_,
            acknowledged=acknowledged,
            seed=seed,
        )
    # Renamed only when complete: an interrupted build is never mistaken for a finished one.
    os.replace(partial, path)
    elapsed = time.perf_counter() - started
    took.write_text(f"{elapsed:.1f}")
    return path, elapsed, True


def build(
    path: Path,
    config: LoopbotConfig,
    *,
    rows: int,
    cases: int,
    open_: int,
    acknowledged: int,
    seed: int,
) -> None:
    if open_ + acknowledged > cases:
        raise ValueError("more open and acknowledged cases than cases")
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    negatives = _store_feedback(engine, config, rows, seed)
    if len(negatives) < cases:
        raise ValueError(f"only {len(negatives):,} negative responses for {cases:,} cases")
    case_rows, events, posts = _cases(
        config, negatives, cases, open_, acknowledged, random.Random(seed)
    )
    with engine.begin() as conn:
        for table, values in (
            (Case.__table__, case_rows),
            (CaseEvent.__table__, events),
            (OutboxMessage.__table__, posts),
        ):
            for i in range(0, len(values), BATCH):
                conn.execute(insert(table), values[i : i + BATCH])
    engine.dispose()
    # Outside any transaction (the engine would BEGIN IMMEDIATE): fold the WAL into the file, so a
    # plain copy of the .db is the whole database.
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("feedback", "cases", "case_events", "outbox")
        }
    finally:
        conn.close()
    print("seeded " + ", ".join(f"{n:,} {t}" for t, n in counts.items()), file=sys.stderr)


def _store_feedback(
    engine: Any, config: LoopbotConfig, rows: int, seed: int
) -> list[tuple[int, str, str, int, str | None, datetime, str, str | None]]:
    """Insert datagen's responses through the product's bulk insert; return the negative ones as
    (feedback id, team, metric, score, category, submitted_at, customer, segment)."""
    who = random.Random(seed + 1)
    sessions = make_sessions(engine)
    categorizer = Categorizer.from_config(config.categories)
    # datagen draws comments from a few dozen texts: masking and categorising each once is enough.
    seen: dict[str, tuple[str, str | None]] = {}
    now = datetime.now(UTC)
    negatives = []
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        with sessions.begin() as s:
            inserted = insert_new(s, batch)
        assert len(inserted) == len(batch), "datagen ids are unique"
        for (fid, _, _), r in zip(inserted, batch, strict=True):
            if scores.is_negative(config.teams[r["team"]].open_case_when, r["metric"], r["score"]):
                negatives.append(
                    (
                        fid,
                        r["team"],
                        r["metric"],
                        r["score"],
                        r["category"],
                        r["submitted_at"],
                        r["customer"],
                        r["segment"],
                    )
                )
        batch.clear()

    for it in feedback(rows, seed=seed):
        comment = it.get("comment")
        if comment and comment not in seen:
            masked = mask(comment)
            seen[comment] = (masked, categorizer.categorize(masked))
        masked, category = seen[comment] if comment else (None, None)
        batch.append(
            {
                "source": "bench",
                "external_id": it["id"],
                "team": it["team"],
                "metric": it["metric"],
                "score": it["score"],
                "comment": masked,
                "category": category,
                "submitted_at": datetime.fromisoformat(it["submitted_at"]),
                "received_at": now,
                # Who answered and where, so breakdowns and the customer view have something to show.
                **respondent(who, it["metric"], it["score"]),
                "tags": None,
                "attributes": None,
            }
        )
        if len(batch) == BATCH:
            flush()
    if batch:
        flush()
    return negatives


def _states(n: int, open_: int, acknowledged: int, rng: random.Random) -> list[str]:
    """State per case, oldest first: work in progress is mostly recent; a tenth of the open cases are
    old ones nobody picked up (they lead the oldest-first `list`, as in a real backlog)."""
    states = ["resolved"] * n
    old_open = open_ // 10
    recent = min(n, (open_ - old_open + acknowledged) * 5 // 4)
    recent_slots = rng.sample(range(n - recent, n), open_ - old_open + acknowledged)
    for i, slot in enumerate(recent_slots):
        states[slot] = "open" if i < open_ - old_open else "acknowledged"
    for slot in rng.sample(range(n - recent), old_open):
        states[slot] = "open"
    return states


def _cases(
    config: LoopbotConfig,
    negatives: list,
    n: int,
    open_: int,
    acknowledged: int,
    rng: random.Random,
) -> tuple[list[dict], list[dict], list[dict]]:
    """Cases for n of the negative responses (spread over the teams and the two years), their
    timeline events and the delivered outbox posts that reported them, with explicit ids."""
    chosen = sorted(rng.sample(negatives, n), key=lambda x: (x[5], x[0]))
    causes = [*config.categories, "other"]
    states = _states(n, open_, acknowledged, rng)
    cases, events, posts = [], [], []

    def event(
        case_id: int,
        kind: str,
        actor: str,
        source: str,
        at: datetime,
        channel: str,
        ts: str,
        **details: Any,
    ) -> None:
        eid = len(events) + 1
        events.append(
            {
                "id": eid,
                "case_id": case_id,
                "kind": kind,
                "actor": actor,
                "source": source,
                "at": at,
                "details": details,
            }
        )
        if kind == "opened":
            key, kind_, payload = f"case:{case_id}:open", "case.open", {"case_id": case_id}
        else:
            key, kind_, payload = (
                f"case:{case_id}:event:{eid}",
                "case.event",
                {"case_id": case_id, "event_id": eid},
            )
        posts.append(
            {
                "key": key,
                "kind": kind_,
                "channel": channel,
                "payload": payload,
                "state": "delivered",
                "attempts": 1,
                "not_before": at,
                "created_at": at,
                "delivered_at": at + timedelta(seconds=1),
                "last_error": None,
                "result": {"channel": channel, "ts": ts},
            }
        )

    for case_id, (
        (fid, team_key, metric, score, category, submitted, customer, segment),
        state,
    ) in enumerate(zip(chosen, states, strict=True), 1):
        team = config.teams[team_key]
        supervisor = team.supervisors[0]
        opened = submitted + timedelta(seconds=rng.randint(5, 600))
        # Unique per case, shaped like Slack's ts; the benchmark replaces it for the cases it clicks.
        ts = f"{int(opened.timestamp())}.{case_id:06d}"
        version, assignee = 1, None
        event(case_id, "opened", "loopbot", "api", opened, team.channel, ts)
        at = opened
        if state != "open" and rng.random() < 0.3:
            at += timedelta(minutes=rng.expovariate(1 / 30))
            assignee, version = supervisor, version + 1
            event(
                case_id,
                "assigned",
                supervisor,
                "button",
                at,
                team.channel,
                ts,
                assignee=supervisor,
                previous=None,
            )
        if state == "acknowledged" or (state == "resolved" and rng.random() < 0.9):
            at += timedelta(minutes=rng.expovariate(1 / 90))
            version += 1
            event(case_id, "acknowledged", supervisor, "button", at, team.channel, ts)
        if state == "resolved":
            at += timedelta(hours=rng.expovariate(1 / 20))
            version += 1
            outcome = rng.choice(OUTCOMES)
            cause = category if category and rng.random() < CAUSE_AGREES else None
            details = {
                "outcome": outcome,
                "root_cause": cause or rng.choice([c for c in causes if c != category]),
                "action": "Called the customer back.",
            }
            if outcome == "no_action":
                details["rationale"] = "Customer only wanted to be heard."
            event(case_id, "resolved", supervisor, "modal", at, team.channel, ts, **details)
        cases.append(
            {
                "id": case_id,
                "kind": "feedback",
                "team": team_key,
                "state": state,
                "version": version,
                "severity": scores.severity(metric, score),
                "opened_at": opened,
                "assignee": assignee,
                "feedback_id": fid,
                "rule_key": None,
                "summary": {
                    "metric": metric,
                    "score": score,
                    "category": category,
                    "segment": segment,
                    "customer": customer,
                    "submitted_at": submitted.isoformat(),
                },
                "customer": customer,
                "category": category,
                "segment": segment_key(segment),
                "slack_channel": team.channel,
                "slack_ts": ts,
            }
        )
    return cases, events, posts


if __name__ == "__main__":
    built_path, seconds, fresh = cached_db(
        rows=1_000_000, cases=50_000, open_=5_000, acknowledged=3_000
    )
    print(f"{built_path}: {'built' if fresh else 'cached, built earlier'} in {seconds or 0:.0f} s")
