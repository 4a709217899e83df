"""`loopbot import`: a reader process parses and validates the CSV while this one stores the batches.

Reading, validating, masking and categorising cost about as much per row as writing it, so the two
halves run in two processes (the GIL would serialise two threads): on a 2-core machine the import
goes about as fast as the database can write. Only prepared rows cross between them.
"""

from __future__ import annotations

import multiprocessing
import queue
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.clock import utcnow
from bot.feedback.csv_reader import (
    CsvReader,
    ImportFailed,
    ReadOptions,
    ReadStats,
    read_in_child,
    rejected_path_for,
)
from bot.feedback.ingest import Batch, Ingestor

__all__ = ["CsvImport", "ImportFailed", "ImportReport", "rejected_path_for"]

Progress = Callable[[int, int, int], None]  # bytes read, total bytes, rows read
# Batches waiting between the processes: enough to keep both busy, few enough to bound memory.
_IN_FLIGHT = 4


@dataclass
class ImportReport:
    rows: int = 0
    stored: int = 0
    duplicates: int = 0
    updated: int = 0  # rows re-importing a stored (source, id) with a changed field (SPEC §10)
    rejected: int = 0
    cases: list[str] = field(default_factory=list)
    rejected_path: Path | None = None
    ignored_columns: list[str] = field(default_factory=list)


class CsvImport:
    def __init__(
        self,
        ingestor: Ingestor,
        *,
        source: str = "csv",
        mapping: dict[str, str] | None = None,
        constants: dict[str, str] | None = None,
        timezone: str | None = None,
        encoding: str = "utf-8-sig",
        batch: int = 5_000,
        progress: Progress | None = None,
        in_process: bool = False,
    ):
        self.ingestor = ingestor
        self.options = ReadOptions(
            source=source,
            mapping=dict(mapping or {}),
            constants=dict(constants or {}),
            timezone=timezone,
            encoding=encoding,
            batch=batch,
        )
        self.options.check()
        self.progress = progress
        # in_process: read on this process's thread (a one-core machine, a debugger).
        self.in_process = in_process

    def run(self, path: Path, *, dry_run: bool = False) -> ImportReport:
        path = Path(path)
        report = ImportReport()
        handle = _Handler(self.ingestor, report, self.progress, dry_run)
        if self.in_process:
            CsvReader(self.ingestor.preparer, self.options).read(path, handle)
        else:
            self._run_reader_process(path, handle)
        report.rejected_path = rejected_path_for(path) if report.rejected else None
        return report

    def _run_reader_process(self, path: Path, handle: _Handler) -> None:
        # spawn, not fork: a forked child would inherit this process's open SQLite connections.
        ctx = multiprocessing.get_context("spawn")
        messages = ctx.Queue(maxsize=_IN_FLIGHT)
        reader = ctx.Process(
            target=read_in_child,
            args=(path, self.ingestor.config, self.options, messages.put),
            name="loopbot-import-reader",
            daemon=True,
        )
        reader.start()
        try:
            while not handle.finished:
                try:
                    message = messages.get(timeout=1)
                except queue.Empty:
                    if not reader.is_alive():
                        raise ImportFailed(
                            f"{path}: the reader process stopped unexpectedly "
                            f"(exit code {reader.exitcode}); nothing after the last stored batch was stored"
                        ) from None
                    continue
                handle(message)
        finally:
            if reader.is_alive() and not handle.finished:
                reader.terminate()
            reader.join(30)
            messages.close()


class _Handler:
    """Acts on the reader's messages: stores batches, draws progress, collects the outcome."""

    def __init__(
        self, ingestor: Ingestor, report: ImportReport, progress: Progress | None, dry_run: bool
    ):
        self.ingestor, self.report, self.progress, self.dry_run = (
            ingestor,
            report,
            progress,
            dry_run,
        )
        self.finished = False

    def __call__(self, message: tuple) -> None:
        kind = message[0]
        if kind == "batch":
            self._store(message[1])
        elif kind == "progress":
            if self.progress:
                self.progress(*message[1:])
        elif kind == "done":
            stats: ReadStats = message[1]
            self.report.rows, self.report.rejected = stats.rows, stats.rejected
            self.report.ignored_columns = stats.ignored_columns
            self.finished = True
        elif kind == "failed":
            raise ImportFailed(message[1])
        elif kind == "crashed":
            # A bug, not the file: its traceback is for the report, and the exit status says the
            # import could not run (2), not that rows were rejected (1).
            raise ImportFailed(f"the CSV reader failed (please report this):\n{message[1]}")

    def _store(self, batch: Batch) -> None:
        if self.dry_run:
            self.report.stored += len(batch.rows)
            return
        result = self.ingestor.store_rows(batch, origin="import", now=utcnow())
        self.report.stored += result.accepted
        self.report.duplicates += result.duplicates
        self.report.updated += result.updated
        self.report.cases.extend(result.cases)
