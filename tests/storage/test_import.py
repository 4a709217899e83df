"""CSV import on a real database: streaming rows, rejects with line numbers, encodings, re-import."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from bot.feedback.importer import CsvImport, ImportFailed, rejected_path_for
from bot.feedback.progress import ProgressBar
from storage.models import Case, Feedback
from tests.conftest import CONFIG

RECENT = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
OLD = "2025-03-01T10:00:00+00:00"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def rows_in(sessions) -> list[Feedback]:  # noqa: ANN001
    with sessions() as s:
        return list(s.scalars(select(Feedback).order_by(Feedback.id)))


def read_rejects(path: Path) -> list[dict[str, str]]:
    with rejected_path_for(path).open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_import_stores_rows_with_multiline_comments_and_opens_recent_cases(
    tmp_path, ingestor, sessions
):
    f = write(
        tmp_path / "export.csv",
        "id,submitted_at,metric,score,team,comment,tags,attributes.delay_days\n"
        f'1,{OLD},csat,1,delivery,"Parcel was late,\nand the box was ""crushed""",vip;repeat,3\n'
        f"2,{RECENT},csat,2,delivery,Driver was rude,,\n"
        f"3,{RECENT},nps,10,support,,,1.5\n",
    )
    report = CsvImport(ingestor).run(f)
    assert (report.rows, report.stored, report.duplicates, report.rejected) == (3, 3, 0, 0)
    assert (
        len(report.cases) == 1
    )  # only the recent negative one; history does not flood the channel
    first, second, third = rows_in(sessions)
    assert (
        first.comment == 'Parcel was late,\nand the box was "crushed"'
        and first.category == "late_delivery"
    )
    assert (
        first.tags == ["vip", "repeat"]
        and first.attributes == {"delay_days": 3}
        and first.source == "csv"
    )
    assert second.category == "rude_staff" and third.attributes == {"delay_days": 1.5}
    assert not rejected_path_for(f).exists()


@pytest.mark.parametrize("in_process", [False, True], ids=["reader-process", "in-process"])
def test_reimport_stores_nothing_twice(tmp_path, ingestor, sessions, in_process):
    f = write(
        tmp_path / "e.csv",
        "id,submitted_at,metric,score,team\n"
        + "".join(f"{i},{OLD},ces,{1 + i % 7},delivery\n" for i in range(25)),
    )
    first = CsvImport(ingestor, batch=10, in_process=in_process).run(f)
    second = CsvImport(ingestor, batch=10, in_process=in_process).run(f)
    assert (first.stored, first.duplicates) == (25, 0) and (second.stored, second.duplicates) == (
        0,
        25,
    )
    assert len(rows_in(sessions)) == 25


def test_rejects_go_to_a_file_with_line_numbers_and_reasons(tmp_path, ingestor, sessions):
    f = write(
        tmp_path / "bad.csv",
        "id,submitted_at,metric,score,team,comment\n"
        f'ok1,{OLD},csat,5,delivery,"two\nlines"\n'  # lines 2-3
        f"b1,{OLD},csat,9,delivery,\n"  # line 4: out of scale
        f"b2,2025-03-01 10:00,csat,4,delivery,\n"  # line 5: naive
        f"b3,{OLD},csat,four,delivery,\n"  # line 6: not an integer
        f"b4,{OLD},csat,4,marketing,\n"  # line 7: unknown team
        f"b5,{OLD},csat,4,delivery,{'x' * 10_000}\n"  # line 8: too long
        f"b6,{OLD},csat,4,delivery,a,b,c\n"  # line 9: too many fields
        f"ok2,{OLD},nps,0,support,Robert'); DROP TABLE feedback;--\n",
    )
    report = CsvImport(ingestor).run(f)
    assert (report.rows, report.stored, report.rejected) == (8, 2, 6)
    rejects = read_rejects(f)
    assert [(r["line"], r["id"]) for r in rejects] == [
        ("4", "b1"),
        ("5", "b2"),
        ("6", "b3"),
        ("7", "b4"),
        ("8", "b5"),
        ("9", "b6"),
    ]
    assert rejects[0]["reason"] == "score: 9 is outside the csat scale 1–5"
    assert rejects[1]["reason"].startswith("submitted_at: has no UTC offset")
    assert rejects[2]["reason"] == "score: must be an integer"
    assert rejects[3]["reason"].startswith("team: unknown team 'marketing'")
    assert rejects[4]["reason"] == "comment: is too long (at most 5000 characters)"
    assert "has 8 fields but the header has 6" in rejects[5]["reason"]
    assert [r.external_id for r in rows_in(sessions)] == ["ok1", "ok2"]


def test_missing_required_columns_are_named(tmp_path, ingestor):
    f = write(tmp_path / "m.csv", "id,when,rating,comment\n1,x,3,hi\n")
    with pytest.raises(
        ImportFailed,
        match=r"missing required column\(s\): submitted_at, metric, score, team or touchpoint .*--map COLUMN=FIELD",
    ):
        CsvImport(ingestor).run(f)


def test_map_renames_columns_and_rejects_unknown_targets(tmp_path, ingestor, sessions):
    f = write(
        tmp_path / "survey.csv", f"Response ID,Date,Type,Review Score,Queue\nr1,{OLD},CSAT,4,chat\n"
    )
    mapping = {
        "Response ID": "id",
        "Date": "submitted_at",
        "Type": "metric",
        "Review Score": "score",
        "Queue": "touchpoint",
    }
    report = CsvImport(ingestor, mapping=mapping, source="typeform").run(f)
    assert report.stored == 1
    (row,) = rows_in(sessions)
    assert (row.source, row.team, row.metric, row.score) == ("typeform", "support", "csat", 4)
    with pytest.raises(ImportFailed, match="--map names unknown field"):
        CsvImport(ingestor, mapping={"Review Score": "rating"})
    with pytest.raises(ImportFailed, match="--map names column"):
        CsvImport(ingestor, mapping={"Nope": "score"}).run(f)


def test_wrong_encoding_rejects_the_bad_rows_and_says_what_to_do(tmp_path, ingestor, sessions):
    text = (
        "id,submitted_at,metric,score,team,comment\n"
        f"1,{OLD},csat,4,delivery,fine\n"
        f"2,{OLD},csat,2,delivery,café trop tardé\n"
    )
    f = write(tmp_path / "latin.csv", text, encoding="latin-1")
    report = CsvImport(ingestor).run(f)
    assert (report.stored, report.rejected) == (1, 1)
    with rejected_path_for(f).open("rb") as raw:
        content = raw.read()
    assert b"caf\xe9 trop tard\xe9" in content  # the rejected row keeps its original bytes
    assert b"comment: is not valid UTF-8; re-save the file as UTF-8 or pass --encoding" in content
    again = CsvImport(ingestor, encoding="cp1252").run(f)
    assert (again.stored, again.duplicates, again.rejected) == (1, 1, 0)
    assert rows_in(sessions)[-1].comment == "café trop tardé"
    header = write(tmp_path / "h.csv", "id,subm\xe9,metric\n", encoding="latin-1")
    with pytest.raises(ImportFailed, match="the header is not valid"):
        CsvImport(ingestor).run(header)


def test_dry_run_stores_nothing(tmp_path, ingestor, sessions):
    f = write(
        tmp_path / "d.csv",
        f"id,submitted_at,metric,score,team\n1,{RECENT},csat,1,delivery\n2,{OLD},csat,8,delivery\n",
    )
    report = CsvImport(ingestor).run(f, dry_run=True)
    assert (report.stored, report.rejected) == (1, 1) and report.cases == []
    assert rows_in(sessions) == []
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 0


def test_progress_bar_draws_on_a_terminal_only():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        bar = ProgressBar(stream)
        bar(50, 100, 500)
        bar(100, 100, 1000)
    assert "100.0% 1,000 rows" in tty.getvalue() and tty.getvalue().endswith("\n")
    assert pipe.getvalue() == ""


def test_cli_exit_status_and_messages(tmp_path):
    cfg = tmp_path / "loopbot.yaml"
    cfg.write_text(yaml.safe_dump(CONFIG))
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "LOOPBOT_CONFIG": str(cfg),
    }
    good = write(
        tmp_path / "good.csv", f"id,submitted_at,metric,score,team\n1,{OLD},csat,4,delivery\n"
    )
    bad = write(
        tmp_path / "bad.csv", f"id,submitted_at,metric,score,team\n1,{OLD},csat,0,delivery\n"
    )
    nocols = write(tmp_path / "nocols.csv", "id,score\n1,2\n")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "loopbot", "import", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    ok = run(str(good))
    assert (
        ok.returncode == 0
        and "1 rows read, stored 1, 0 updated, 0 duplicates, 0 rejected" in ok.stdout
    )
    rerun = run(str(good))
    assert rerun.returncode == 0 and "stored 0, 0 updated, 1 duplicates" in rerun.stdout
    rejected = run(str(bad))
    assert rejected.returncode == 1 and "bad.rejected.csv" in rejected.stderr
    missing = run(str(nocols))
    assert (
        missing.returncode == 2
        and "missing required column(s): submitted_at, metric, team or touchpoint" in missing.stderr
    )
    badmap = run(str(good), "--map", "oops")
    assert badmap.returncode == 2 and "write it as COLUMN=FIELD" in badmap.stderr


def test_set_fills_missing_fields_and_timezone_reads_naive_timestamps(tmp_path, ingestor, sessions):
    # Shaped like a real marketplace export: no metric or team column, local times without offset.
    f = write(
        tmp_path / "reviews.csv",
        "review_id,review_score,review_comment_message,review_creation_date\n"
        "a1,1,Produto não chegou,2018-08-15 00:00:00\n"
        "a2,5,,2018-01-18 12:30:00\n",
    )
    mapping = {
        "review_id": "id",
        "review_score": "score",
        "review_comment_message": "comment",
        "review_creation_date": "submitted_at",
    }
    report = CsvImport(
        ingestor,
        mapping=mapping,
        constants={"metric": "csat", "team": "support"},
        timezone="America/Sao_Paulo",
    ).run(f)
    assert (report.stored, report.rejected) == (2, 0)
    first, second = rows_in(sessions)
    assert (first.metric, first.team, first.score) == ("csat", "support", 1)
    assert first.submitted_at == datetime(2018, 8, 15, 3, 0, tzinfo=UTC)  # São Paulo is UTC-3
    assert second.submitted_at == datetime(
        2018, 1, 18, 14, 30, tzinfo=UTC
    )  # UTC-2 under 2018's summer time
    without_zone = CsvImport(
        ingestor, mapping=mapping, constants={"metric": "csat", "team": "support"}, source="other"
    ).run(f)
    assert without_zone.rejected == 2  # naive timestamps stay an error unless a zone is given
    with pytest.raises(ImportFailed, match="--timezone 'Mars/Olympus' is not an IANA time zone"):
        CsvImport(ingestor, timezone="Mars/Olympus")
    with pytest.raises(ImportFailed, match="--set names unknown field"):
        CsvImport(ingestor, constants={"rating": "5"})


def test_csv_bad_input_is_rejected_by_line_and_nothing_else_is_lost(tmp_path, ingestor, sessions):
    future = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    mrkdwn = "<!channel> *late* <https://evil.example|click> & <@U123>"
    f = write(
        tmp_path / "mixed.csv",
        "id,submitted_at,metric,score,touchpoint,comment\n"
        f"f1,{future},csat,4,post-delivery,\n"  # line 2: future
        f"t1,{OLD},csat,4,kiosk,\n"  # line 3: unknown touchpoint
        f'm1,{OLD},nps,9,chat,"{mrkdwn}"\n'  # line 4: stored verbatim
        f'm1,{OLD},nps,9,chat,"{mrkdwn}"\n'  # line 5: the same row again, a duplicate
        f"n1,{OLD},csat,4,chat,nul \x00 byte\n"  # line 6: NUL byte
        f"ok,{OLD},ces,2,post-delivery,fine\n",
    )  # line 7
    report = CsvImport(ingestor).run(f)
    rejects = {r["line"]: r["reason"] for r in read_rejects(f)}
    assert (
        rejects["2"]
        == "submitted_at: is in the future (more than 5 minutes ahead of the server clock)"
    )
    assert rejects["3"].startswith("touchpoint: no routing for touchpoint 'kiosk'")
    assert rejects["6"] == "comment: must not contain NUL characters (\\u0000)"
    assert set(rejects) == {"2", "3", "6"}
    assert (report.rows, report.stored, report.duplicates, report.rejected) == (6, 2, 1, 3)
    stored = {r.external_id: r for r in rows_in(sessions)}
    assert (
        stored["m1"].comment == mrkdwn
        and stored["m1"].score == 9
        and stored["m1"].team == "support"
    )
    assert stored["ok"].team == "delivery"
