"""The writer: a process of its own that applies the batches of case changes (bot.changes.apply_batch).

Why a process: the server answers Slack from many threads that share one GIL. A batch is a dozen statements,
and the driver lets go of the GIL for each statement and each row; under load, getting it back meant waiting
behind every other request, so a batch of 5 ms of work took over 20 ms, and every click in it waited that
long (bench/RESULTS.md). With its own GIL the batch takes its own time, and the server's GIL is left to the
requests. Changes still commit before a click is answered; the server only waits on a pipe meanwhile.
The batches are made in the server (bot.group): when the writer batched the changes sent to it one by one,
batches halved and each answer had to wake two threads of the server, so a change waited twice as long.
"""
from __future__ import annotations

import logging
import multiprocessing
import pickle
import signal
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection

from bot.changes import ChangeRequest, Outcome, apply_batch
from config.teams import LoopbotConfig

log = logging.getLogger("loopbot.writer")

START_TIMEOUT_S = 60  # a spawned interpreter imports SQLAlchemy and the models first
_READY = "ready"


class WriterGone(RuntimeError):
    """The writer process ended while applying a batch: whether it committed is unknown to this side."""


class Writer:
    """`apply` is called by one thread at a time (the group's leader, bot.group); a writer that died is
    started again on the next batch, and the batch that was in it fails (its callers hear so and may retry:
    a change that did commit then answers "already done")."""

    def __init__(self, database_url: str, config: LoopbotConfig):
        self._url = database_url
        self._config = config
        # spawn, not fork: the server has threads and open connections by the time a writer (re)starts.
        self._mp = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None
        self._ready = False

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        """Start the process; it gets ready (imports, engine) beside the server's own start-up."""
        with self._lock:
            if self._proc is None:
                self._spawn()

    def apply(self, requests: Sequence[ChangeRequest]) -> list[Outcome]:
        with self._lock:
            if self._proc is None or not self._proc.is_alive():
                if self._proc is not None:
                    log.error("the writer process ended (exit code %s); starting another", self._proc.exitcode)
                self._close()
                self._spawn()
            conn = self._conn
            assert conn is not None
            try:
                if not self._ready:
                    if not conn.poll(START_TIMEOUT_S) or conn.recv() != _READY:
                        raise WriterGone("the writer process did not start")
                    self._ready = True
                conn.send(list(requests))
                return conn.recv()
            except (EOFError, OSError, WriterGone) as exc:
                self._close()
                raise WriterGone("the change could not be saved (the writer process stopped); try again") from exc

    def stop(self, timeout: float = 15) -> None:
        """Let the batch in hand finish, then end the process."""
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.send(None)
                except OSError:
                    pass
            if self._proc is not None:
                self._proc.join(timeout)
            self._close()

    def _spawn(self) -> None:
        ours, theirs = self._mp.Pipe()
        self._proc = self._mp.Process(target=serve, args=(theirs, self._url, self._config), name="loopbot-writer", daemon=True)
        self._proc.start()
        theirs.close()
        self._conn, self._ready = ours, False

    def _close(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5)
        if self._conn is not None:
            self._conn.close()
        self._proc, self._conn, self._ready = None, None, False


def serve(conn: Connection, database_url: str, config: LoopbotConfig) -> None:
    """The process: apply each batch received, send back its outcomes; end on None or when the server is gone."""
    from storage.db import make_engine, make_sessions

    # Ctrl-C in a terminal reaches the whole process group: the server decides when its writer stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    engine = make_engine(database_url, pool_size=1, max_overflow=1)
    sessions = make_sessions(engine)
    conn.send(_READY)
    try:
        while True:
            try:
                requests = conn.recv()
            except EOFError:  # the server ended without a word (killed): nothing is waiting for us
                break
            if requests is None:
                break
            conn.send([_portable(outcome) for outcome in apply_batch(sessions, requests, config)])
    finally:
        engine.dispose()


def _portable(outcome: Outcome) -> Outcome:
    """An error the server can unpickle. The person-facing ones (bot.errors) travel whole; a driver's error may
    hold what does not pickle, so it travels as its text."""
    if not isinstance(outcome, BaseException):
        return outcome
    try:
        pickle.loads(pickle.dumps(outcome))
    except Exception:  # noqa: BLE001 - any failure to round-trip means: send the text
        return RuntimeError(f"{type(outcome).__name__}: {outcome}")
    return outcome
