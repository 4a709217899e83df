"""The reading stage of `loopbot import`: stream the CSV, validate each row like the API, write the
rejects file, and emit prepared batches. It runs in a process of its own (see bot/feedback/importer.py)."""

from __future__ import annotations

import codecs
import csv
import io
import math
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.clock import utcnow
from bot.feedback.ingest import Batch, Preparer
from bot.feedback.schema import FIELDS, REQUIRED, ValidFeedback
from config.teams import LoopbotConfig

ATTR = "attributes."
_INT = re.compile(r"^\s*[+-]?\d+\s*$")
_FLOAT = re.compile(r"^\s*[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?\s*$")
_SPLIT_TAGS = re.compile(r"[;,]")
# surrogateescape maps each undecodable byte to U+DC80..U+DCFF; real text never holds lone surrogates.
_UNDECODABLE = re.compile("[\udc80-\udcff]")
_PROGRESS_EVERY = 10_000
# OWASP's CSV-injection list: a spreadsheet evaluates a cell starting with one of these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# Messages to the importing side: ("batch", Batch) | ("progress", read, total, rows)
# | ("done", ReadStats) | ("failed", message) | ("crashed", traceback)
Emit = Callable[[tuple], None]


class ImportFailed(Exception):
    """The file cannot be imported at all (missing, unreadable header, required columns absent)."""


class _BadCell(ValueError):
    """A cell that cannot become its field's value: its row is rejected with this reason."""


@dataclass(frozen=True)
class ReadOptions:
    source: str = "csv"
    mapping: dict[str, str] = field(default_factory=dict)  # column -> field
    constants: dict[str, str] = field(default_factory=dict)  # field -> value for rows that lack one
    timezone: str | None = None  # zone of timestamps written without an offset
    encoding: str = "utf-8-sig"
    batch: int = 5_000

    def check(self) -> None:
        for option, names in (("--map", self.mapping.values()), ("--set", self.constants)):
            bad = [f for f in names if f not in FIELDS and not f.startswith(ATTR)]
            if bad:
                raise ImportFailed(
                    f"{option} names unknown field(s) {', '.join(bad)}; fields: {', '.join(FIELDS)}, or attributes.NAME"
                )
        if self.timezone is not None:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ImportFailed(
                    f"--timezone {self.timezone!r} is not an IANA time zone (e.g. Europe/Paris, America/Sao_Paulo, UTC)"
                ) from None
        try:
            codecs.lookup(self.encoding)
        except LookupError:
            raise ImportFailed(
                f"--encoding {self.encoding!r} is not a known encoding; try utf-8, cp1252 or latin-1"
            ) from None
        # base64, zlib…: codecs.lookup knows them, but they turn bytes into bytes, not into text.
        try:
            "".encode(self.encoding)
        except LookupError:
            raise ImportFailed(
                f"--encoding {self.encoding!r} is not a text encoding; try utf-8, cp1252 or latin-1"
            ) from None

    @property
    def encoding_name(self) -> str:
        return (
            "UTF-8"
            if self.encoding.lower().replace("_", "-") in ("utf-8-sig", "utf-8", "utf8")
            else self.encoding
        )


@dataclass
class ReadStats:
    rows: int = 0
    rejected: int = 0
    ignored_columns: list[str] = field(default_factory=list)


def rejected_path_for(path: Path) -> Path:
    """feedback.csv → feedback.rejected.csv, next to the input."""
    return path.with_name(f"{path.stem}.rejected.csv")


def read_in_child(path: Path, config: LoopbotConfig, options: ReadOptions, emit: Emit) -> None:
    """Entry point of the reader process: every outcome, including a crash, becomes a message."""
    try:
        CsvReader(Preparer(config), options).read(path, emit)
    except ImportFailed as exc:
        emit(("failed", str(exc)))
    except BaseException:  # the importing side re-raises it with the reader's traceback
        emit(("crashed", traceback.format_exc()))


class CsvReader:
    def __init__(self, preparer: Preparer, options: ReadOptions):
        options.check()
        self.preparer = preparer
        self.options = options
        self.mapping = {k.strip(): v.strip() for k, v in options.mapping.items()}
        self.tz = ZoneInfo(options.timezone) if options.timezone else None

    def read(self, path: Path, emit: Emit) -> None:
        try:
            raw = path.open("rb")
        except OSError as exc:
            raise ImportFailed(f"{path}: cannot open ({exc.strerror})") from None
        # A comment of 10k characters must reach validation (and be rejected there with a reason),
        # not trip the csv module's 128 KiB default field limit.
        csv.field_size_limit(16 * 1024 * 1024)
        stats = ReadStats()
        with raw, _Rejects(rejected_path_for(path), self.options.encoding) as rejects:
            counting = _Counting(raw)
            # surrogateescape: an undecodable byte becomes a marker we can find per row, so one
            # badly encoded line is rejected with its number instead of aborting the whole import.
            text = io.TextIOWrapper(
                io.BufferedReader(counting, 1 << 16),
                self.options.encoding,
                errors="surrogateescape",
                newline="",
            )
            reader = csv.reader(text)
            header = self._header(path, reader)
            fields = self._fields(path, header, stats)
            rejects.header = header
            total = os.fstat(raw.fileno()).st_size
            pending: list[ValidFeedback] = []
            for line, values in _records(reader, rejects):
                stats.rows += 1
                item = self._validate(line, values, header, fields)
                if isinstance(item, str):
                    stats.rejected += 1
                    rejects.write(line, item, values)
                else:
                    pending.append(item)
                    if len(pending) >= self.options.batch:
                        emit(("batch", self._batch(pending)))
                        pending = []
                if stats.rows % _PROGRESS_EVERY == 0:
                    emit(("progress", counting.read_bytes, total, stats.rows))
            if pending:
                emit(("batch", self._batch(pending)))
            stats.rows += rejects.unparsable
            stats.rejected += rejects.unparsable
            emit(("progress", total, total, stats.rows))
        emit(("done", stats))

    def _batch(self, items: list[ValidFeedback]) -> Batch:
        return self.preparer.rows(items, default_source=self.options.source, now=utcnow())

    def _header(self, path: Path, reader: Iterator[list[str]]) -> list[str]:
        try:
            header = next(reader)
        except StopIteration:
            raise ImportFailed(
                f"{path}: the file is empty; the first line must name the columns"
            ) from None
        except csv.Error as exc:
            raise ImportFailed(f"{path}: line 1 (the header) is not CSV: {exc}") from None
        if _UNDECODABLE.search("".join(header)):
            raise ImportFailed(
                f"{path}: the header is not valid {self.options.encoding_name}; "
                "re-save the file as UTF-8 or pass --encoding (e.g. cp1252)"
            )
        return [h.strip() for h in header]

    def _fields(self, path: Path, header: list[str], stats: ReadStats) -> list[str | None]:
        """For each column, the feedback field it fills (None: ignored)."""
        by_lower = {f.lower(): f for f in FIELDS}
        fields: list[str | None] = []
        for name in header:
            target = self.mapping.get(name) or by_lower.get(name.lower())
            if target is None and name.lower().startswith(ATTR):
                target = ATTR + name[len(ATTR) :]
            if target is None or target in fields:
                stats.ignored_columns.append(name)
                target = None
            fields.append(target)
        present = {*fields, *self.options.constants}
        missing = [f for f in REQUIRED if f not in present]
        if "team" not in present and "touchpoint" not in present:
            missing.append("team or touchpoint")
        unmapped = [src for src in self.mapping if src not in header]
        if missing or unmapped:
            parts = []
            if missing:
                parts.append(f"missing required column(s): {', '.join(missing)}")
            if unmapped:
                parts.append(f"--map names column(s) not in the file: {', '.join(unmapped)}")
            raise ImportFailed(
                f"{path}: {'; '.join(parts)} (columns found: {', '.join(header)}); map yours with --map COLUMN=FIELD, or give one value for all rows with --set FIELD=VALUE"
            )
        return fields

    def _validate(
        self, line: int, values: list[str], header: list[str], fields: list[str | None]
    ) -> ValidFeedback | str:
        if len(values) > len(header):
            return f"has {len(values)} fields but the header has {len(header)} (an unquoted comma?)"
        if _UNDECODABLE.search("\x00".join(values)):
            bad = next(t for t, v in zip(fields, values) if _UNDECODABLE.search(v))
            return (
                f"{bad or 'an ignored column'}: is not valid {self.options.encoding_name}; "
                "re-save the file as UTF-8 or pass --encoding (e.g. cp1252)"
            )
        item: dict[str, Any] = {}
        attributes: dict[str, Any] = {}
        try:
            for target, value in zip(fields, values):
                if target is not None and value != "":
                    _put(item, attributes, target, value)
            for target, value in self.options.constants.items():
                if target not in item and target[len(ATTR) :] not in attributes:
                    _put(item, attributes, target, value)
        except _BadCell as exc:
            return str(exc)
        if attributes:
            item["attributes"] = attributes
        if self.tz is not None and isinstance(item.get("submitted_at"), str):
            item["submitted_at"] = _in_zone(item["submitted_at"], self.tz)
        result = self.preparer.validator.validate(item, line, utcnow())
        if isinstance(result, list):
            return "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in result)
        return result


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


def _put(item: dict[str, Any], attributes: dict[str, Any], target: str, value: str) -> None:
    """Turn a CSV cell into the value its field takes in the API's JSON."""
    if target.startswith(ATTR):
        attributes[target[len(ATTR) :]] = _number(target, value)
    elif target == "score":
        item["score"] = _int(target, value) if _INT.match(value) else value
    elif target == "tags":
        item["tags"] = [t.strip() for t in _SPLIT_TAGS.split(value) if t.strip()]
    else:
        item[target] = value


def _in_zone(text: str, tz: ZoneInfo) -> str | datetime:
    """A timestamp without an offset, read in the zone given with --timezone; anything else as is."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return text  # validation reports it
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else text


def _number(target: str, value: str) -> Any:
    if _INT.match(value):
        return _int(target, value)
    if _FLOAT.match(value):
        number = float(value)
        if not math.isfinite(number):  # 1.0e999: JSON (and PostgreSQL's jsonb) has no infinity
            raise _BadCell(f"{target}: is too large a number")
        return number
    return value


def _int(target: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:  # past sys.int_max_str_digits, Python's guard against quadratic parsing
        raise _BadCell(
            f"{target}: is too long a number (at most {sys.get_int_max_str_digits()} digits)"
        ) from None


def _inert(cell: str) -> str:
    """OWASP's defence against CSV injection: a leading quote makes a spreadsheet show the cell as
    text. A plain negative number (-5) gets one too: telling it from -5+cmd|' /C calc'!A0 is the
    kind of parsing attackers outwit, and the rejects file is for reading, not for sums."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


class _Rejects:
    """FILE.rejected.csv: line, reason, then the row as it was (formulas made inert); created only
    when a row is rejected."""

    def __init__(self, path: Path, encoding: str):
        # utf-8-sig reads a file with or without a BOM; the rejects file is written without one.
        name = codecs.lookup(encoding).name
        self.path, self.encoding = path, "utf-8" if name == "utf-8-sig" else encoding
        self.header: list[str] = []
        self.unparsable = 0
        self._file: io.TextIOWrapper | None = None
        self._writer: Any = None

    def __enter__(self) -> _Rejects:
        self.path.unlink(missing_ok=True)  # a stale file from an earlier run would mislead
        return self

    def write(self, line: int, reason: str, values: list[str]) -> None:
        if self._writer is None:
            self._file = self.path.open(
                "w", encoding=self.encoding, errors="surrogateescape", newline=""
            )
            self._writer = csv.writer(self._file)
            self._writer.writerow(["line", "reason", *map(_inert, self.header)])
        # An operator opens this file in a spreadsheet: no cell of it may run as a formula there.
        self._writer.writerow([line, _inert(reason), *map(_inert, values)])

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
