"""CSV import of hostile files: formulas in the rejects file, huge numbers, odd options, year 1."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.feedback.csv_reader import _Rejects
from bot.feedback.importer import CsvImport, ImportFailed, rejected_path_for
from storage.models import Feedback
from tests.conftest import CONFIG

OLD = "2025-03-01T10:00:00+00:00"
HUGE = "7" * 5_000  # past Python's 4,300-digit int/str conversion limit


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def stored_ids(sessions) -> list[str]:  # noqa: ANN001
    with sessions() as s:
        return sorted(s.scalars(select(Feedback.external_id)))


def read_rejects(path: Path) -> list[list[str]]:
    with rejected_path_for(path).open(newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def write_rows(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def test_rejects_file_neutralises_formulas_and_keeps_the_stored_data(tmp_path, ingestor, sessions):
    formulas = ['=HYPERLINK("https://evil.example","x")', "+1+2", "-5", "@SUM(A1)", "\tx", "\rx"]
    header = ["id", "submitted_at", "metric", "score", "team", "comment", "segment"]
    # Every row but the last has a score out of scale, so it is rejected with its cells as written.
    f = write_rows(
        tmp_path / "formulas.csv",
        [
            header,
            *(
                [f"r{i}", OLD, "csat", "9", "delivery", cell, cell]
                for i, cell in enumerate(formulas)
            ),
            ["ok", OLD, "csat", "4", "delivery", "=1+1", "@vip"],
        ],
    )
    report = CsvImport(ingestor, in_process=True).run(f)
    assert (report.stored, report.rejected) == (1, len(formulas))
    written, *rows = read_rejects(f)
    assert written == ["line", "reason", *header]
    # OWASP: a leading quote makes a spreadsheet show the cell as text instead of evaluating it.
    # That includes a plain negative number: -5 shows as the text '-5 in the rejects file.
    assert [r[written.index("comment")] for r in rows] == ["'" + c for c in formulas]
    assert [r[written.index("segment")] for r in rows] == ["'" + c for c in formulas]
    assert [r[0] for r in rows] == ["2", "3", "4", "5", "6", "7"]
    assert [r[2] for r in rows] == [f"r{i}" for i in range(len(formulas))]
    # A segment holding TAB or CR is refused for that before its score is looked at.
    control = "segment: must not contain control characters (U+0000–U+001F, U+007F–U+009F)"
    scale = "score: 9 is outside the csat scale 1–5"
    assert [r[1] for r in rows] == [scale] * 4 + [control] * 2
    with sessions() as s:
        ok = s.scalars(select(Feedback)).one()
    assert (ok.comment, ok.segment) == ("=1+1", "@vip")  # the stored data stays as sent


def test_rejects_file_neutralises_the_header_and_the_reason_too(tmp_path, ingestor):
    # A column name is the file's own text; so is anything a reason may quote from it.
    f = write(
        tmp_path / "h.csv", f"id,submitted_at,metric,score,team,@cmd\n1,{OLD},csat,9,delivery,x\n"
    )
    CsvImport(ingestor, in_process=True).run(f)
    header, row = read_rejects(f)
    assert header[-1] == "'@cmd" and row[-1] == "x"
    rejects = _Rejects(tmp_path / "r.csv", "utf-8")
    with rejects:
        rejects.write(3, "-1 is not a reason a spreadsheet should compute", ["+x"])
    with (tmp_path / "r.csv").open(newline="", encoding="utf-8") as out:
        assert list(csv.reader(out))[1] == [
            "3",
            "'-1 is not a reason a spreadsheet should compute",
            "'+x",
        ]


@pytest.mark.parametrize("in_process", [False, True], ids=["reader-process", "in-process"])
def test_a_huge_number_rejects_its_row_and_the_rest_is_stored(
    tmp_path, ingestor, sessions, in_process
):
    rows = [f"n{i},{OLD},ces,{1 + i % 7},delivery,{i}\n" for i in range(1_000)]
    rows[10] = f"score,{OLD},ces,{HUGE},delivery,1\n"
    rows[20] = f"attr,{OLD},ces,3,delivery,{HUGE}\n"
    rows[30] = f"neg,{OLD},ces,-{HUGE},delivery,1\n"
    rows[40] = f"float,{OLD},ces,3,delivery,{HUGE}.5\n"
    f = write(
        tmp_path / "huge.csv",
        "id,submitted_at,metric,score,team,attributes.delay_days\n" + "".join(rows),
    )
    report = CsvImport(ingestor, batch=300, in_process=in_process).run(f)
    assert (report.rows, report.stored, report.rejected) == (1_000, 996, 4)
    rejects = {r[2]: r[1] for r in read_rejects(f)[1:]}
    assert set(rejects) == {"score", "attr", "neg", "float"}
    too_long = f"is too long a number (at most {sys.get_int_max_str_digits()} digits)"
    assert rejects["score"] == rejects["neg"] == f"score: {too_long}"
    assert rejects["attr"] == f"attributes.delay_days: {too_long}"
    # As a float it would be infinity, which JSON (and PostgreSQL's jsonb) cannot hold.
    assert rejects["float"] == "attributes.delay_days: is too large a number"
    assert len(stored_ids(sessions)) == 996


@pytest.mark.parametrize(
    ("timestamp", "timezone"),
    [
        ("0001-01-01T00:00:00", "Asia/Tokyo"),
        ("0001-01-01T00:00:00+05:00", None),
        ("0001-01-01 08:59:59", "Asia/Tokyo"),
    ],
)
def test_year_one_rejects_its_row_naming_submitted_at(
    tmp_path, ingestor, sessions, timestamp, timezone
):
    f = write(
        tmp_path / "y1.csv",
        "id,submitted_at,metric,score,team\n"
        f"early,{timestamp},csat,3,delivery\n"
        f"fine,{OLD},csat,3,delivery\n",
    )
    report = CsvImport(ingestor, timezone=timezone, in_process=True).run(f)
    assert (report.stored, report.rejected) == (1, 1)
    (_, (line, reason, *_)) = read_rejects(f)
    # Named by field; the wording may come from the schema (the API's check) or from the reader.
    assert line == "2" and reason.startswith("submitted_at: ") and ";" not in reason
    assert stored_ids(sessions) == ["fine"]


def test_the_earliest_instant_in_utc_or_west_of_it_is_still_stored(tmp_path, ingestor, sessions):
    # From 0001-01-02 00:00 UTC on, written in UTC or west of it, it stays valid history.
    f = write(
        tmp_path / "y1ok.csv",
        "id,submitted_at,metric,score,team\n"
        "utc,0001-01-02T00:00:00+00:00,csat,3,delivery\n"
        "west,0001-01-01T19:00:00-05:00,csat,3,delivery\n",
    )
    report = CsvImport(ingestor, in_process=True).run(f)
    assert (report.stored, report.rejected) == (2, 0)


def test_unknown_encoding_is_refused_before_reading(tmp_path, ingestor):
    f = write(tmp_path / "e.csv", f"id,submitted_at,metric,score,team\n1,{OLD},csat,4,delivery\n")
    with pytest.raises(ImportFailed, match=r"^--encoding 'nope' is not a known encoding"):
        CsvImport(ingestor, encoding="nope")
    # A text encoding that is not one (a codec of bytes to bytes) is refused too.
    with pytest.raises(ImportFailed, match="is not a text encoding"):
        CsvImport(ingestor, encoding="base64")
    assert not rejected_path_for(f).exists()


def test_cli_unknown_encoding_exits_2_with_one_line(tmp_path):
    cfg = tmp_path / "loopbot.yaml"
    cfg.write_text(yaml.safe_dump(CONFIG))
    db = tmp_path / "cli.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}", "LOOPBOT_CONFIG": str(cfg)}
    f = write(tmp_path / "e.csv", f"id,submitted_at,metric,score,team\n1,{OLD},csat,4,delivery\n")
    done = subprocess.run(
        [sys.executable, "-m", "loopbot", "import", str(f), "--encoding", "nope"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        "--encoding 'nope' is not a known encoding; try utf-8, cp1252 or latin-1"
    ]
    assert done.stdout == "" and not rejected_path_for(f).exists()
