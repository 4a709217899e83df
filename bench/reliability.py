"""What bench/outage_db.py and bench/crash.py share (their clients are in bench/traffic.py): the teams and
people of the emulated workspace, a PostgreSQL server or schema of the run's own, the reading of what was
stored and posted afterwards, and the report's heading.

`loopbot run` itself is started by tests/e2e/harness.py's running_bot (the same process, environment and
health wait the end-to-end tests use), and the PostgreSQL server is tests/api/test_outage.py's Throwaway;
importing them needs pytest, which the test extras install.
"""

from __future__ import annotations

import glob
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from statistics import quantiles

from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slack_emulator import SlackEmulator  # noqa: E402
from storage.models import Case, CaseEvent, Feedback, OutboxMessage  # noqa: E402
from tests.api.conftest import free_port  # noqa: E402
from tests.api.test_outage import Throwaway  # noqa: E402

LEADERS = "C0LEADERS"
REF = re.compile(r"\bFB-(\d+)\b")


# -- the workspace -----------------------------------------------------------------------------------------


def workspace(teams: int, watch: dict | None = None) -> tuple[dict, dict, dict]:
    """(config, channels, users) for `teams` teams, ops0 …, each with two members and a supervisor, whose
    cases people acknowledge; and, when given, a team `watch` (its settings) whose cases nobody touches.
    Several channels: more than 10 cases of one channel in 5 minutes are grouped into one message (SPEC §5),
    and the clicks need cases with messages of their own."""
    away = (datetime.now(UTC).hour + 12) % 24  # no huddle of the ops teams falls due during the run
    config: dict = {
        "defaults": {
            "timezone": "UTC",
            "sla": {"ack": "1h", "resolve": "2d"},
            "huddle": f"0 {away} * * *",
        },
        "leaders": ["U0LEADER1"],
        "leaders_channel": LEADERS,
        "teams": {},
        "categories": {"late_delivery": {"domain": "process", "keywords": ["late"]}},
    }
    channels, users = {LEADERS: "leaders"}, {"U0LEADER1": "leader one"}
    for i in range(teams):
        members = [f"U0AGT{i}A", f"U0AGT{i}B"]
        config["teams"][f"ops{i}"] = {
            "name": f"Ops {i}",
            "channel": f"C0OPS{i}",
            "supervisors": [f"U0SUP{i}"],
            "members": members,
        }
        channels[f"C0OPS{i}"] = f"ops-{i}"
        users |= {u: f"agent {u[-2:]}" for u in members} | {f"U0SUP{i}": f"supervisor {i}"}
    if watch is not None:
        config["teams"]["watch"] = {
            "name": "Watch",
            "channel": "C0WATCH",
            "supervisors": ["U0SUPW"],
        } | watch
        channels["C0WATCH"] = "watch"
        users["U0SUPW"] = "supervisor watch"
    return config, channels, users


# -- what was stored and posted ----------------------------------------------------------------------------


@dataclass
class Store:
    feedback: Counter  # (source, external_id) → rows
    acks: Counter  # case id → `acknowledged` events
    cases: dict[int, tuple[str, str | None, str | None]]  # id → (team, slack channel, slack ts)
    # (key, state, created, delivered, attempts)
    outbox: list[tuple[str, str, datetime, datetime | None, int]]


def read_store(url: str) -> Store:
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            rows = c.execute(select(Feedback.source, Feedback.external_id)).all()
            acks = c.execute(
                select(CaseEvent.case_id, func.count())
                .where(CaseEvent.kind == "acknowledged")
                .group_by(CaseEvent.case_id)
            ).all()
            cases = c.execute(select(Case.id, Case.team, Case.slack_channel, Case.slack_ts)).all()
            outbox = c.execute(
                select(
                    OutboxMessage.key,
                    OutboxMessage.state,
                    OutboxMessage.created_at,
                    OutboxMessage.delivered_at,
                    OutboxMessage.attempts,
                )
            ).all()
    finally:
        engine.dispose()
    return Store(
        Counter(tuple(r) for r in rows),
        Counter(dict(acks)),
        {i: (team, ch, ts) for i, team, ch, ts in cases},
        [tuple(r) for r in outbox],
    )


def posted_keys(emu: SlackEmulator) -> dict[str, list[float]]:
    """Outbox key → the times Slack took a post carrying it (every post of the outbox is marked so)."""
    out: dict[str, list[float]] = {}
    for c in emu.calls_to("chat.postMessage"):
        meta = c.args.get("metadata")
        meta = json.loads(meta) if isinstance(meta, str) else meta or {}
        key = (meta.get("event_payload") or {}).get("key")
        if c.ok and key:
            out.setdefault(key, []).append(c.time)
    return out


def case_posts(emu: SlackEmulator, channels: list[str]) -> Counter:
    """Case id → top-level messages of the teams' channels naming it: its own message, or a grouped one."""
    seen: Counter = Counter()
    for channel in channels:
        for m in emu.messages(channel):
            key = ((m.get("metadata") or {}).get("event_payload") or {}).get("key")
            if key is not None and not re.fullmatch(r"case:\d+:open", key):
                continue  # a digest or notice naming cases; a grouped message carries no key
            seen.update({int(n) for n in REF.findall(json.dumps([m.get("text"), m.get("blocks")]))})
    return seen


def batches(store: Store) -> tuple[Counter, int]:
    """Items stored per ingestion request (ids `<rid>-<n>`), and the rows stored more than once."""
    per = Counter(ext.rsplit("-", 1)[0] for (src, ext) in store.feedback if src == "api")
    return per, sum(n - 1 for n in store.feedback.values() if n > 1)


# -- databases of the run's own ----------------------------------------------------------------------------


@contextmanager
def own_postgres() -> Iterator[Throwaway]:
    """A PostgreSQL server in a temporary folder (tests/api/test_outage.py's Throwaway), as user postgres
    when run as root; never the machine's shared server, which this run stops."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise SystemExit("no PostgreSQL server binaries (initdb under /usr/lib/postgresql/*/bin)")
    data = Path(tempfile.mkdtemp(prefix="loopbot-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    pg = Throwaway(Path(found[-1]).parent, data, free_port())
    try:
        pg._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        pg.start()
        yield pg
    finally:
        try:
            pg.stop()
        except Exception:  # noqa: BLE001 - stopped already
            pass
        shutil.rmtree(data, ignore_errors=True)


@contextmanager
def pg_schema(url: str) -> Iterator[str]:
    """A fresh schema in the database at `url`, dropped afterwards; the URL that puts Loopbot in it."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def server_version(url: str) -> str:
    if url.startswith("sqlite"):
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return f"PostgreSQL {c.execute(text('SHOW server_version')).scalar()}".split(" (")[0]
    finally:
        engine.dispose()


# -- the report --------------------------------------------------------------------------------------------


def heading(title: str, database: str) -> str:
    return (
        f"### {title} — {datetime.now(UTC):%Y-%m-%d}, {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {database}"
    )


def pct(values: list[float], q: int) -> float:
    """The q-th percentile (inclusive); the value itself for fewer than two."""
    if len(values) < 2:
        return values[0] if values else 0.0
    return quantiles(values, n=100, method="inclusive")[q - 1]


def verdict(ok: bool) -> str:
    return "held" if ok else "**BROKEN**"


def logged(paths: Iterable[Path]) -> str:
    """How much `loopbot run` logged: lines, and tracebacks (each a failure someone should read)."""
    lines = [line for p in paths for line in p.read_text(errors="replace").splitlines()]
    return f"{len(lines):,} lines, {sum(x.startswith('Traceback') for x in lines)} tracebacks"


@contextmanager
def kept_if_broken(work: Path) -> Iterator[list[bool]]:
    """The run's folder (the logs of `loopbot run`) is removed afterwards, unless the run failed or
    broke a promise (the body appends True to the list it is given): then it is kept for reading."""
    broken: list[bool] = []
    try:
        yield broken
    except BaseException:
        log(f"the logs of `loopbot run` are kept in {work}")
        raise
    if any(broken):
        log(f"a promise is broken; the logs of `loopbot run` are kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
