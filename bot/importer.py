"""`loopbot import`: stream a CSV export, validate each row like the API, store valid rows in batches."""
from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from bot.clock import utcnow
from bot.ingest import Ingestor
from bot.schema import FIELDS, REQUIRED, ValidFeedback

BATCH = 2_000
_INT = re.compile(r"^\s*[+-]?\d+\s*$")
_FLOAT = re.compile(r"^\s*[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?\s*$")
_SPLIT_TAGS = re.compile(r"[;,]")
_ATTR = "attributes."
Progress = Callable[[int, int, int], None]  # bytes read, total bytes, rows read


class ImportFailed(Exception):
    """The file cannot be imported at all (missing, unreadable header, required columns absent)."""


@dataclass
class ImportReport:
    rows: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    cases: list[str] = field(default_factory=list)
    rejected_path: Path | None = None
    ignored_columns: list[str] = field(default_factory=list)


def rejected_path_for(path: Path) -> Path:
    """feedback.csv → feedback.rejected.csv, next to the input."""
    return path.with_name(f"{path.stem}.rejected.csv")


class _Counting(io.RawIOBase):
    """Counts bytes as the csv reader pulls them, for the progress bar, without reading ahead."""

    def __init__(self, raw: BinaryIO):
        self.raw, self.read_bytes = raw, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = self.raw.readinto(b)  # type: ignore[attr-defined]
        self.read_bytes += n or 0
        return n


class CsvImport:
    def __init__(
        self, ingestor: Ingestor, *, source: str = "csv", mapping: dict[str, str] | None = None,
        encoding: str = "utf-8-sig", batch: int = BATCH, progress: Progress | None = None,
    ):
        self.ingestor = ingestor
        self.source = source
        self.mapping = {k.strip(): v.strip() for k, v in (mapping or {}).items()}
        self.encoding = encoding
        self._encoding_name = "UTF-8" if encoding.lower().replace("_", "-") in ("utf-8-sig", "utf-8", "utf8") else encoding
        self.batch = batch
        self.progress = progress
        bad = [f for f in self.mapping.values() if f not in FIELDS and not f.startswith(_ATTR)]
        if bad:
            raise ImportFailed(f"--map names unknown field(s) {', '.join(bad)}; fields: {', '.join(FIELDS)}, or attributes.NAME")

    def run(self, path: Path, *, dry_run: bool = False) -> ImportReport:
        path = Path(path)
        try:
            raw = path.open("rb")
        except OSError as exc:
            raise ImportFailed(f"{path}: cannot open ({exc.strerror})") from None
        # A comment of 10k characters must reach validation (and be rejected there with a reason),
        # not trip the csv module's 128 KiB default field limit.
        csv.field_size_limit(16 * 1024 * 1024)
        report = ImportReport()
        out = rejected_path_for(path)
        with raw, _Rejects(out, self.encoding) as rejects:
            counting = _Counting(raw)
            # surrogateescape: an undecodable byte becomes a marker we can find per row, so one
            # badly encoded line is rejected with its number instead of aborting the whole import.
            text = io.TextIOWrapper(io.BufferedReader(counting, 1 << 16), self.encoding, errors="surrogateescape", newline="")
            reader = csv.reader(text)
            header = self._header(path, reader)
            fields = self._fields(path, header, report)
            rejects.header = header
            total = os.fstat(raw.fileno()).st_size
            pending: list[ValidFeedback] = []
            for line, values in _records(reader, rejects):
                report.rows += 1
                item = self._validate(line, values, header, fields)
                if isinstance(item, str):
                    report.rejected += 1
                    rejects.write(line, item, values)
                else:
                    pending.append(item)
                    if len(pending) >= self.batch:
                        self._flush(pending, report, dry_run)
                if self.progress and report.rows % 1000 == 0:
                    self.progress(counting.read_bytes, total, report.rows)
            self._flush(pending, report, dry_run)
            report.rows += rejects.unparsable
            report.rejected += rejects.unparsable
            if self.progress:
                self.progress(total, total, report.rows)
        report.rejected_path = out if report.rejected else None
        return report

    def _header(self, path: Path, reader: Iterator[list[str]]) -> list[str]:
        try:
            header = next(reader)
        except StopIteration:
            raise ImportFailed(f"{path}: the file is empty; the first line must name the columns") from None
        except csv.Error as exc:
            raise ImportFailed(f"{path}: line 1 (the header) is not CSV: {exc}") from None
        if any(_undecodable(h) for h in header):
            raise ImportFailed(f"{path}: the header is not valid {self._encoding_name}; re-save the file as UTF-8 or pass --encoding (e.g. cp1252)")
        return [h.strip() for h in header]

    def _fields(self, path: Path, header: list[str], report: ImportReport) -> list[str | None]:
        """For each column, the feedback field it fills (None: ignored)."""
        by_lower = {f.lower(): f for f in FIELDS}
        fields: list[str | None] = []
        for name in header:
            target = self.mapping.get(name) or by_lower.get(name.lower())
            if target is None and name.lower().startswith(_ATTR):
                target = _ATTR + name[len(_ATTR):]
            if target is None or target in fields:
                report.ignored_columns.append(name)
                target = None
            fields.append(target)
        missing = [f for f in REQUIRED if f not in fields]
        if "team" not in fields and "touchpoint" not in fields:
            missing.append("team or touchpoint")
        unmapped = [src for src in self.mapping if src not in header]
        if missing or unmapped:
            parts = []
            if missing:
                parts.append(f"missing required column(s): {', '.join(missing)}")
            if unmapped:
                parts.append(f"--map names column(s) not in the file: {', '.join(unmapped)}")
            raise ImportFailed(f"{path}: {'; '.join(parts)} (columns found: {', '.join(header)}); map yours with --map COLUMN=FIELD")
        return fields

    def _validate(self, line: int, values: list[str], header: list[str], fields: list[str | None]) -> ValidFeedback | str:
        if len(values) > len(header):
            return f"has {len(values)} fields but the header has {len(header)} (an unquoted comma?)"
        item: dict[str, Any] = {}
        attributes: dict[str, Any] = {}
        for target, value in zip(fields, values):
            if target is None or value == "":
                continue
            if _undecodable(value):
                return f"{target}: is not valid {self._encoding_name}; re-save the file as UTF-8 or pass --encoding (e.g. cp1252)"
            if target.startswith(_ATTR):
                attributes[target[len(_ATTR):]] = _number(value)
            elif target == "score":
                item["score"] = int(value) if _INT.match(value) else value
            elif target == "tags":
                item["tags"] = [t.strip() for t in _SPLIT_TAGS.split(value) if t.strip()]
            else:
                item[target] = value
        if attributes:
            item["attributes"] = attributes
        result = self.ingestor.validator.validate(item, line, self._now)
        if isinstance(result, list):
            return "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in result)
        return result

    @property
    def _now(self) -> datetime:
        return utcnow()

    def _flush(self, pending: list[ValidFeedback], report: ImportReport, dry_run: bool) -> None:
        if not pending:
            return
        if dry_run:
            report.stored += len(pending)
        else:
            result = self.ingestor.store(pending, default_source=self.source, origin="import", now=utcnow())
            report.stored += result.accepted
            report.duplicates += result.duplicates
            report.cases.extend(result.cases)
        pending.clear()


def _records(reader: Iterator[list[str]], rejects: _Rejects) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, fields); a record the csv module cannot parse is rejected, not fatal."""
    while True:
        start = reader.line_num + 1  # type: ignore[attr-defined]
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            rejects.unparsable += 1
            rejects.write(start, f"is not valid CSV: {exc}", [])
            continue
        if values:  # a blank line is not a record
            yield start, values


def _undecodable(value: str) -> bool:
    # surrogateescape maps each bad byte to U+DC80..U+DCFF; real text never contains lone surrogates.
    return any("\udc80" <= ch <= "\udcff" for ch in value) if not value.isascii() else False


def _number(value: str) -> Any:
    if _INT.match(value):
        return int(value)
    if _FLOAT.match(value):
        return float(value)
    return value


class _Rejects:
    """FILE.rejected.csv: line, reason, then the row as it was; created only when a row is rejected."""

    def __init__(self, path: Path, encoding: str):
        self.path, self.encoding = path, encoding
        self.header: list[str] = []
        self.unparsable = 0
        self._file: io.TextIOWrapper | None = None
        self._writer: Any = None

    def __enter__(self) -> _Rejects:
        self.path.unlink(missing_ok=True)  # a stale file from an earlier run would mislead
        return self

    def write(self, line: int, reason: str, values: list[str]) -> None:
        if self._writer is None:
            self._file = self.path.open("w", encoding=self.encoding.replace("-sig", ""), errors="surrogateescape", newline="")
            self._writer = csv.writer(self._file)
            self._writer.writerow(["line", "reason", *self.header])
        self._writer.writerow([line, reason, *values])

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
