"""Renders charts in a separate process, so drawing never holds the GIL the request threads need."""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from bot.charts.model import ChartData

log = logging.getLogger("loopbot.charts")

RENDER_TIMEOUT_S = 60


def _start(server: int) -> None:
    # A pool worker holds both ends of its task queue, so it never sees the server die (SIGKILL, OOM): it
    # watches for that itself, rather than linger as an orphan holding all of matplotlib.
    threading.Thread(
        target=_exit_with, args=(server,), name="loopbot-server-watch", daemon=True
    ).start()
    # Importing matplotlib and building its font cache takes about a second: done once, when the process starts.
    import bot.charts.render  # noqa: F401


def _exit_with(server: int) -> None:
    while os.getppid() == server:
        time.sleep(1)
    os._exit(0)


def _warm() -> None:
    pass  # a first task, so that the pool starts its worker now: the initializer (_start) does the work


def _render(chart: ChartData) -> bytes:
    from bot.charts.render import render

    return render(chart)


class Renderer:
    """One worker process, started on first use (or by `warm`), replaced if it dies.

    A process rather than a thread: matplotlib draws in Python and C++ holding the GIL for hundreds of
    milliseconds, which would stall every Slack answer on a thread of this process. "spawn", not fork:
    forking a process that runs threads (bolt, the outbox workers, the scheduler) can copy a held lock.
    """

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def warm(self) -> Future[None]:
        return self._executor().submit(_warm)

    def render(self, chart: ChartData) -> bytes:
        try:
            return self._executor().submit(_render, chart).result(timeout=RENDER_TIMEOUT_S)
        except BrokenProcessPool:
            log.warning("the chart worker process died; starting a new one")
            self._reset()
            return self._executor().submit(_render, chart).result(timeout=RENDER_TIMEOUT_S)

    def pids(self) -> list[int]:
        """The worker's process id (for the benchmark's memory figures)."""
        pool = self._pool
        return list(getattr(pool, "_processes", None) or {}) if pool is not None else []

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start,
                    initargs=(os.getpid(),),
                )
            return self._pool

    def _reset(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
