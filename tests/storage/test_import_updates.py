"""CSV re-imports follow SPEC §10: an unchanged row is a duplicate, a changed one an update."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.feedback.importer import CsvImport
from storage.models import Case, CaseEvent, Feedback

RECENT = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
OLD = "2025-03-01T10:00:00+00:00"
HEADER = "id,submitted_at,metric,score,team,comment,segment\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def stored(sessions) -> dict[str, Feedback]:  # noqa: ANN001
    with sessions() as s:
        return {f.external_id: f for f in s.scalars(select(Feedback))}


def events(sessions) -> list[tuple[str, str]]:  # noqa: ANN001
    with sessions() as s:
        return [(e.kind, e.source) for e in s.scalars(select(CaseEvent).order_by(CaseEvent.id))]


@pytest.mark.parametrize("in_process", [False, True], ids=["reader-process", "in-process"])
def test_a_corrected_export_updates_the_changed_rows_and_their_cases(
    tmp_path, ingestor, sessions, in_process
):
    first = write(
        tmp_path / "export.csv",
        HEADER
        + f"1,{RECENT},csat,2,delivery,,consumer\n"  # opens a case
        + f"2,{RECENT},csat,4,delivery,fine,\n"
        + f"3,{OLD},nps,7,support,,\n"
        + "".join(f"x{i},{OLD},ces,3,delivery,,\n" for i in range(12)),
    )
    report = CsvImport(ingestor, batch=5, in_process=in_process).run(first)
    assert (report.stored, report.duplicates, report.updated, len(report.cases)) == (15, 0, 0, 1)
    again = CsvImport(ingestor, batch=5, in_process=in_process).run(first)
    assert (again.stored, again.duplicates, again.updated, again.cases) == (0, 15, 0, [])

    corrected = write(
        tmp_path / "corrected.csv",
        HEADER
        + f"1,{RECENT},csat,2,delivery,Parcel never arrived,consumer\n"  # the comment came later
        + f"2,{RECENT},csat,1,delivery,fine,\n"  # turned negative within 24 h: its case opens
        + f"3,{OLD},nps,7,support,,vip\n"
        + "".join(f"x{i},{OLD},ces,3,delivery,,\n" for i in range(12)),
    )
    report = CsvImport(ingestor, batch=5, in_process=in_process).run(corrected)
    assert (report.rows, report.stored, report.duplicates, report.updated) == (15, 0, 12, 3)
    assert report.rejected == 0 and len(report.cases) == 1
    rows = stored(sessions)
    assert (rows["1"].comment, rows["1"].category) == ("Parcel never arrived", "late_delivery")
    assert (rows["2"].score, rows["3"].segment) == (1, "vip")
    with sessions() as s:
        summaries = {c.feedback_id: c.summary for c in s.scalars(select(Case))}
    assert summaries[rows["1"].id]["category"] == "late_delivery"
    assert summaries[rows["2"].id]["score"] == 1
    # The first case got one timeline line from the import; the second opened as it is now.
    assert events(sessions) == [
        ("opened", "import"),
        ("response_updated", "import"),
        ("opened", "import"),
    ]


def test_a_row_repeated_in_one_file_is_applied_in_order_across_batches_too(
    tmp_path, ingestor, sessions
):
    f = write(
        tmp_path / "repeats.csv",
        HEADER
        + f"r,{OLD},csat,4,delivery,,\n"
        + f"r,{OLD},csat,4,delivery,,\n"  # the same again: a duplicate
        + f"r,{OLD},csat,3,delivery,Box was crushed,\n"  # same batch: an update
        + f"s,{OLD},csat,5,delivery,,\n"
        + f"r,{OLD},csat,3,delivery,Box was crushed and late,\n",  # next batch: an update too
    )
    report = CsvImport(ingestor, batch=4, in_process=True).run(f)
    assert (report.rows, report.stored, report.duplicates, report.updated) == (5, 2, 1, 2)
    row = stored(sessions)["r"]
    assert (row.score, row.comment, row.category) == (
        3,
        "Box was crushed and late",
        "late_delivery",
    )
