"""A DATABASE_URL that is malformed or points nowhere: one line naming it (never its password), exit 2, at once."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import CONFIG, PG_URL

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "s3cret-Pa55"
CLOSED = f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:1/test"  # nothing listens on port 1


def loopbot(
    tmp_path: Path, database_url: str, *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "loopbot.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    env = {
        "PATH": "/usr/bin:/bin",
        "LOOPBOT_CONFIG": str(config),
        "DATABASE_URL": database_url,
        "LOOPBOT_HOST": "127.0.0.1",
        "LOOPBOT_PORT": "1",  # never reached: the database is checked first
    }
    return subprocess.run(
        [sys.executable, "-m", "loopbot", *args],
        env=env,  # no SLACK_* tokens: ingestion only, so nothing needs Slack
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def assert_one_line(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "Traceback" not in output
    assert PASSWORD not in output
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("environment: DATABASE_URL: "), line
    for text in expected:
        assert text in line, line
    return line


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (CLOSED, ("postgresql+psycopg://postgres:***@127.0.0.1:1/test", "cannot connect")),
        (
            f"postgresql+psycopg://postgres@127.0.0.1:1/test?password={PASSWORD}&sslmode=disable",
            ("/test?password=***&sslmode=disable: cannot connect",),
        ),
        (
            f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:notaport/db",
            ('the port "notaport" is not a number',),
        ),
        (
            f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:70000/db",
            ("the port 70000 is not between 1 and 65535",),
        ),
        ("nosuchdriver://x", ('"nosuchdriver" is not a database SQLAlchemy knows',)),
        (
            f"postgresql+nosuch://u:{PASSWORD}@h/d",
            ('"postgresql+nosuch" is not a database SQLAlchemy knows',),
        ),
        (
            f"postgresql+psycopg2://u:{PASSWORD}@h/d",
            ("the driver psycopg2 is not installed", "postgresql+psycopg://"),
        ),
        (f"postgres:{PASSWORD}@localhost", ("is not a database URL",)),
    ],
    ids=["closed port", "password in the query", "port not a number", "port too high", "unknown", "unknown driver",
         "driver not installed", "no scheme"],
)  # fmt: skip
def test_check_config_names_a_bad_database_url_in_one_line(
    tmp_path: Path, url: str, expected: tuple[str, ...]
) -> None:
    assert_one_line(loopbot(tmp_path, url, "check-config"), *expected)


def test_check_config_reports_the_database_beside_the_yamls_problems(tmp_path: Path) -> None:
    config = tmp_path / "loopbot.yaml"
    config.write_text(yaml.safe_dump({**CONFIG, "retention_days": 0}))
    result = subprocess.run(
        [sys.executable, "-m", "loopbot", "check-config"],
        env={"PATH": "/usr/bin:/bin", "LOOPBOT_CONFIG": str(config), "DATABASE_URL": CLOSED},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("environment: DATABASE_URL: ")
    assert lines[1].startswith(f"{config}: retention_days: must be 1 or more")


def test_check_config_refuses_a_sqlite_file_in_a_folder_that_does_not_exist(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'missing' / 'loopbot.db'}"
    line = assert_one_line(loopbot(tmp_path, url, "check-config"))
    assert line.endswith(f"the folder {tmp_path / 'missing'} does not exist")


def test_check_config_accepts_a_new_sqlite_file_without_creating_it(tmp_path: Path) -> None:
    result = loopbot(tmp_path, f"sqlite:///{tmp_path / 'loopbot.db'}", "check-config")
    assert result.returncode == 0, result.stderr
    assert ": OK — 2 team(s)" in result.stdout
    assert not (tmp_path / "loopbot.db").exists()


def test_check_config_refuses_a_file_that_is_not_a_sqlite_database(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("these are not the tables you are looking for\n" * 100)
    line = assert_one_line(loopbot(tmp_path, f"sqlite:///{tmp_path / 'notes.db'}", "check-config"))
    assert "cannot connect" in line


def test_check_config_connects_to_a_reachable_postgresql(tmp_path: Path) -> None:
    if not PG_URL:
        pytest.skip("LOOPBOT_TEST_DATABASE_URL not set: PostgreSQL run skipped")
    result = loopbot(tmp_path, PG_URL, "check-config")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize(
    "args",
    [("run",), ("db", "upgrade"), ("import", "feedback.csv"), ("digest", "delivery")],
    ids=["run", "db upgrade", "import", "digest"],
)
def test_commands_that_need_the_database_stop_at_once_with_one_line(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    (tmp_path / "feedback.csv").write_text("team,metric,score\ndelivery,csat,1\n")
    started = time.monotonic()
    result = loopbot(
        tmp_path, CLOSED, *[str(tmp_path / a) if a.endswith(".csv") else a for a in args]
    )
    assert time.monotonic() - started < 20
    assert_one_line(result, "postgresql+psycopg://postgres:***@127.0.0.1:1/test", "cannot connect")


def test_db_upgrade_names_an_unknown_database_in_one_line(tmp_path: Path) -> None:
    assert_one_line(
        loopbot(tmp_path, "nosuchdriver://x", "db", "upgrade"),
        '"nosuchdriver" is not a database SQLAlchemy knows',
    )


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never says a word, as a firewall or a hung server does."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        held: list[socket.socket] = []
        accepting = threading.Thread(
            target=lambda: held.extend(server.accept()[0] for _ in range(8)), daemon=True
        )
        accepting.start()
        yield server.getsockname()[1]
        for conn in held:
            conn.close()


@pytest.mark.parametrize("command", ["check-config", "run"])
def test_a_database_that_never_answers_is_given_up_on_after_the_connect_timeout(
    tmp_path: Path, silent_server: int, command: str
) -> None:
    url = f"postgresql+psycopg://postgres:{PASSWORD}@127.0.0.1:{silent_server}/test"
    started = time.monotonic()
    result = loopbot(tmp_path, url, command, timeout=30)  # before: exit 0, or no end at all
    assert 5 <= time.monotonic() - started < 20
    assert_one_line(result, f"127.0.0.1:{silent_server}/test: cannot connect: ", "timeout")
