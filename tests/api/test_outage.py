"""A real outage: a PostgreSQL server of the test's own is stopped under the running API, then restarted."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.feedback.ingest import Ingestor
from storage import migrate
from storage.db import make_engine, make_sessions
from storage.models import Feedback
from tests.api.conftest import free_port
from tests.conftest import IN_CI
from tests.factories import item


class Throwaway:
    """initdb + pg_ctl in a temporary folder; never the machine's shared server."""

    def __init__(self, bindir: Path, data: Path, port: int):
        self.bindir, self.data, self.port = bindir, data, port
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-w",
            "-l",
            str(self.data / "log"),
            "-o",
            f"-p {self.port} -h 127.0.0.1 -k {self.data}",
            "start",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "fast", "stop")


@pytest.fixture
def throwaway_pg() -> Iterator[Throwaway]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        if IN_CI:
            pytest.fail(
                "PostgreSQL server binaries (initdb) not found; CI needs them for the outage test"
            )
        pytest.skip("no PostgreSQL server binaries (initdb) on this machine")
    # Not pytest's tmp_path: its parents are private to root, and the server runs as postgres.
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
        except subprocess.CalledProcessError:
            pass  # already stopped by the test, or never started
        shutil.rmtree(data, ignore_errors=True)


def test_database_outage_answers_503_stores_nothing_and_recovers(serve, config, throwaway_pg):
    engine = make_engine(throwaway_pg.url, connect_args={"connect_timeout": 3})
    migrate.upgrade(engine)
    sessions = make_sessions(engine)
    running = serve(engine, Ingestor(sessions, config))

    def stored() -> int:
        with sessions() as s:
            return s.scalar(select(func.count()).select_from(Feedback))

    with running.client() as c:
        assert c.post("/api/feedback", json=item(id="before")).status_code == 200
        throwaway_pg.stop()
        during = c.post("/api/feedback", json=[item(id="during-1", score=1), item(id="during-2")])
        health = c.get("/healthz")
        assert during.status_code == 503 and "nothing was stored" in during.json()["error"]
        assert health.status_code == 503 and health.json() == {
            "status": "unavailable",
            "database": "unreachable",
        }
        throwaway_pg.start()
        after = c.post(
            "/api/feedback", json=[item(id="during-1", score=1), item(id="during-2")]
        )  # the client retries
        assert (
            after.status_code == 200
            and after.json()["accepted"] == 2
            and len(after.json()["cases"]) == 1
        )
        assert c.get("/healthz").status_code == 200
    assert stored() == 3
    engine.dispose()


def test_a_restart_between_requests_is_not_seen_by_the_next_one(serve, config, throwaway_pg):
    # The pool's idle connections died with the old server; the next request must get fresh ones, not a 503.
    engine = make_engine(throwaway_pg.url, connect_args={"connect_timeout": 3})
    migrate.upgrade(engine)
    sessions = make_sessions(engine)
    running = serve(engine, Ingestor(sessions, config))
    with running.client() as c:
        assert c.post("/api/feedback", json=item(id="before")).status_code == 200
        assert c.get("/healthz").status_code == 200
        throwaway_pg.stop()
        throwaway_pg.start()
        assert c.get("/healthz").status_code == 200
        after = c.post("/api/feedback", json=item(id="after", score=1))
        assert after.status_code == 200 and len(after.json()["cases"]) == 1
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Feedback)) == 2
    engine.dispose()
