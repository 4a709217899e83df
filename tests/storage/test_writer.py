"""The writer process (bot.writer): case changes applied in a process of its own, on SQLite and PostgreSQL."""
from __future__ import annotations

import fcntl
import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select, text

from bot.cases import Cases, parse_ref
from bot.changes import ChangeRequest
from bot.clock import utcnow
from bot.errors import AlreadyDone, NotFound, PermissionDenied
from bot.writer import Writer, WriterGone
from storage.db import make_read_sessions
from storage.models import Case, CaseEvent, OutboxMessage
from tests.conftest import PG_URL
from tests.storage.test_cases import AGENT, OTHER_AGENT, STRANGER, SUPER, _at_once, open_case


def _url(engine: Engine) -> str:
    """A URL that reaches the same database from another process (the test's own PostgreSQL schema included)."""
    if engine.dialect.name == "sqlite":
        return engine.url.render_as_string(hide_password=False)
    with engine.connect() as conn:
        schema = conn.execute(text("SHOW search_path")).scalar_one()
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


@pytest.fixture
def writer(engine, config) -> Iterator[Writer]:  # noqa: ANN001
    w = Writer(_url(engine), config)
    w.start()
    yield w
    w.stop()


@pytest.fixture
def remote(engine, sessions, config, writer) -> tuple[Cases, list]:  # noqa: ANN001
    """Cases as `loopbot run` builds them: the changes go to the writer; and what its observer heard."""
    seen: list = []
    return Cases(sessions, config, observer=lambda change, before: seen.append((change.case.ref, before, change.event.kind)),
                 reads=make_read_sessions(engine), apply=writer.apply), seen


def test_a_burst_applied_by_the_writer_changes_each_case_once_and_answers_each_caller(sessions, ingestor, remote, writer):  # noqa: ANN001
    cases, seen = remote
    refs = [open_case(ingestor, comment=f"late {i}") for i in range(10)]
    calls = [lambda r=r: cases.acknowledge(r, actor=AGENT, source="button") for r in refs]
    calls.append(lambda: cases.assign(refs[0], OTHER_AGENT, actor=SUPER, source="button"))
    outcomes = _at_once(calls)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    # What came back from the other process is the committed case and event, readable here.
    assert {(o.case.ref, o.case.state, o.event.kind, o.event.actor) for o in outcomes[:-1]} == {
        (r, "acknowledged", "acknowledged", AGENT) for r in refs}
    assert outcomes[-1].case.assignee == OTHER_AGENT and outcomes[-1].event.details["previous"] is None
    assert sorted(c for c in seen if c[2] == "acknowledged") == sorted((r, "open", "acknowledged") for r in refs)
    with sessions() as s:
        events = s.execute(select(CaseEvent.case_id, CaseEvent.id).where(CaseEvent.kind != "opened")).all()
        posts = set(s.scalars(select(OutboxMessage.key).where(OutboxMessage.kind == "case.event")))
        assert s.get(Case, parse_ref(refs[0])).assignee == OTHER_AGENT
    assert len(events) == 11 and posts == {f"case:{cid}:event:{eid}" for cid, eid in events}
    assert writer.pid != os.getpid()


def test_what_to_tell_the_person_crosses_from_the_writer_whole(ingestor, remote):  # noqa: ANN001
    cases, _ = remote
    ref = open_case(ingestor)
    outcomes = _at_once([lambda u=u: cases.acknowledge(ref, actor=u, source="button") for u in (AGENT, OTHER_AGENT)])
    loser = next(o for o in outcomes if isinstance(o, AlreadyDone))
    winner = next(o for o in outcomes if not isinstance(o, Exception))
    assert loser.by == winner.event.actor and f"was already acknowledged by <@{winner.event.actor}>" in loser.message
    with pytest.raises(PermissionDenied, match="Only supervisors of Delivery Ops"):
        cases.resolve(ref, outcome="fixed", root_cause="late_delivery", action="refunded", actor=STRANGER, source="slash")
    with pytest.raises(NotFound) as missing:
        cases.acknowledge("FB-999999", actor=AGENT, source="slash")
    assert missing.value.field == "case" and "There is no case FB-999999" in missing.value.message
    resolved = cases.resolve(ref, outcome="no_action", root_cause="other", action="called", rationale="customer asked",
                             actor=SUPER, source="modal")
    assert resolved.event.details == {"outcome": "no_action", "root_cause": "other", "action": "called",
                                      "rationale": "customer asked"}


def test_a_killed_writer_is_started_again_by_the_next_change(sessions, ingestor, remote, writer):  # noqa: ANN001
    cases, _ = remote
    first, second = open_case(ingestor), open_case(ingestor)
    cases.acknowledge(first, actor=AGENT, source="button")
    old = writer.pid
    os.kill(old, signal.SIGKILL)
    time.sleep(0.2)
    assert cases.acknowledge(second, actor=AGENT, source="button").case.state == "acknowledged"
    assert writer.pid not in (None, old)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "acknowledged")) == 2


def _die(*_: object) -> dict:
    os._exit(3)  # the writer process ends in the middle of a batch


def test_a_writer_that_dies_in_a_batch_fails_that_batch_and_the_next_change_works(sessions, ingestor, remote, writer):  # noqa: ANN001
    cases, _ = remote
    ref = open_case(ingestor)
    request = ChangeRequest(parse_ref(ref), "acknowledged", AGENT, "button", utcnow(), _die, {})
    with pytest.raises(WriterGone, match="try again"):
        writer.apply([request])
    assert cases.acknowledge(ref, actor=AGENT, source="button").case.state == "acknowledged"
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.kind == "acknowledged")) == 1


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the file lock is SQLite's
def test_the_server_and_its_writer_write_one_sqlite_file_at_once_without_a_busy_error(engine, sessions, ingestor, remote):  # noqa: ANN001
    cases, _ = remote
    refs = [open_case(ingestor) for _ in range(8)]
    # Ingestion here opens cases while the writer process acknowledges others: the two queue on the file lock.
    calls = [lambda r=r: cases.acknowledge(r, actor=AGENT, source="button") for r in refs]
    calls += [lambda i=i: open_case(ingestor, comment=f"late again {i}") for i in range(8)]
    outcomes = _at_once(calls)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 16


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the file lock is SQLite's
def test_a_sqlite_write_waits_for_another_process_holding_the_file_lock(engine, sessions, ingestor):  # noqa: ANN001
    # Another open file description stands in for another process: flock excludes the two alike.
    fd = os.open(f"{engine.url.database}-writer.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    done = threading.Event()
    worker = threading.Thread(target=lambda: (open_case(ingestor), done.set()))
    worker.start()
    try:
        assert not done.wait(0.5), "the write went ahead while another process held the lock"
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    assert done.wait(10)
    worker.join()
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1
