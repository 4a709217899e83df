"""Ingestion benchmark: (a) the API over real HTTP (new responses, then the same re-sent with changed comments,
then re-sent unchanged), (b) `loopbot import` of a 1M-row CSV, (c) the floor, a raw Core insert() of the same rows.

Run: .venv/bin/python bench/ingest.py [--api-items 100000] [--csv-rows 1000000] [--runs 3]
Prints medians and ratios as Markdown for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.datagen import BENCH_CONFIG, feedback  # noqa: E402

TOKEN = "bench-token"
COLUMNS = ["id", "submitted_at", "metric", "score", "team", "comment"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(work: Path, db: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "LOOPBOT_CONFIG": str(work / "bench.yaml"),
        "LOOPBOT_INGEST_TOKEN": TOKEN,
        **extra,
    }


def _bodies(items: list[dict], batch: int) -> list[bytes]:
    return [json.dumps(items[i : i + batch]).encode() for i in range(0, len(items), batch)]


def _edited(it: dict) -> dict:
    """The same response with its comment changed, as a survey tool sends a respondent's edit."""
    return {
        **it,
        "comment": f"{it.get('comment') or 'No comment at first'}; edit: the parcel was late",
    }


def bench_api(work: Path, items: int, batch: int) -> tuple[float, float, float]:
    """Items per second through `loopbot run` over HTTP, one client sending batches back to back: (new
    responses, the same re-sent with changed comments (updates), the same re-sent unchanged (duplicates))."""
    db = work / "api.db"
    db.unlink(missing_ok=True)
    port = free_port()
    sent = list(feedback(items, seed=11))
    rounds = [
        ("accepted", _bodies(sent, batch)),
        ("updated", _bodies([_edited(it) for it in sent], batch)),
        ("duplicates", _bodies([_edited(it) for it in sent], batch)),
    ]
    server = subprocess.Popen(
        [sys.executable, "-m", "loopbot", "run"],
        cwd=ROOT,
        env=env_for(work, db, LOOPBOT_PORT=str(port), LOOPBOT_HOST="127.0.0.1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            timeout=60,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        ) as c:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if c.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("loopbot run did not come up")
                time.sleep(0.1)
            rates = []
            for counted, bodies in rounds:
                n = 0
                start = time.perf_counter()
                for body in bodies:
                    r = c.post("/api/feedback", content=body)
                    r.raise_for_status()
                    n += r.json()[counted]
                elapsed = time.perf_counter() - start
                assert n == items, (counted, n)
                rates.append(items / elapsed)
        return rates[0], rates[1], rates[2]
    finally:
        server.terminate()
        server.wait(30)


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, COLUMNS)
        w.writeheader()
        for it in feedback(rows, seed=23):
            w.writerow(it)


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (the import's reader process), from /proc."""
    total = 0
    pids = [pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # field 4 of stat: the parent's pid
            pids.append(int(stat.parent.name))
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def bench_import(work: Path, csv_path: Path, rows: int) -> tuple[float, float]:
    """(rows/s, peak RSS MiB of the import's processes together) of `loopbot import` run as a command."""
    db = work / "import.db"
    db.unlink(missing_ok=True)
    subprocess.run(
        [sys.executable, "-m", "loopbot", "db", "upgrade"],
        cwd=ROOT,
        env=env_for(work, db),
        check=True,
        capture_output=True,
    )
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "loopbot", "import", str(csv_path)],
        cwd=ROOT,
        env=env_for(work, db),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, tree_rss_mib(proc.pid))
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    out = proc.stdout.read().decode() if proc.stdout else ""
    if proc.returncode != 0 or f"stored {rows:,}" not in out:
        raise RuntimeError(f"import failed: {out}")
    return rows / elapsed, peak


def bench_floor(work: Path, csv_path: Path, rows: int, batch: int = 5000) -> float:
    """Rows per second of plain Core insert() executemany, same table, same batch size as the import;
    parsing untimed."""
    from sqlalchemy import insert

    from storage import migrate
    from storage.db import make_engine
    from storage.models import Feedback

    db = work / "floor.db"
    db.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{db}")
    migrate.upgrade(engine)
    now = datetime.now(UTC)
    timed = 0.0
    with csv_path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        while True:
            chunk = []
            for r in reader:
                chunk.append(
                    {
                        "source": "csv",
                        "external_id": r["id"],
                        "team": r["team"],
                        "metric": r["metric"],
                        "score": int(r["score"]),
                        "comment": r["comment"] or None,
                        "category": None,
                        "submitted_at": datetime.fromisoformat(r["submitted_at"]),
                        "received_at": now,
                        "touchpoint": None,
                        "customer": None,
                        "segment": None,
                        "channel": None,
                        "tags": None,
                        "attributes": None,
                    }
                )
                if len(chunk) == batch:
                    break
            if not chunk:
                break
            start = time.perf_counter()
            with engine.begin() as conn:
                conn.execute(insert(Feedback), chunk)
            timed += time.perf_counter() - start
    engine.dispose()
    return rows / timed


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--api-items", type=int, default=100_000)
    p.add_argument("--api-batch", type=int, default=1_000)
    p.add_argument("--csv-rows", type=int, default=1_000_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--skip", choices=["api", "import"], action="append", default=[])
    args = p.parse_args()

    work = Path(tempfile.mkdtemp(prefix="loopbot-bench-"))
    try:
        (work / "bench.yaml").write_text(yaml.safe_dump(BENCH_CONFIG))
        api, upd, dup, imp, rss, floor = [], [], [], [], [], []
        if "api" not in args.skip:
            for _ in range(args.runs):
                new, updated, duplicates = bench_api(work, args.api_items, args.api_batch)
                api.append(new)
                upd.append(updated)
                dup.append(duplicates)
                print(
                    f"api: {new:,.0f} new items/s, {updated:,.0f} updates/s ({updated / new:.2f}x), "
                    f"{duplicates:,.0f} duplicates/s",
                    file=sys.stderr,
                )
        if "import" not in args.skip:
            csv_path = work / "feedback.csv"
            write_csv(csv_path, args.csv_rows)
            size = csv_path.stat().st_size / 2**20
            for _ in range(args.runs):
                rate, peak = bench_import(work, csv_path, args.csv_rows)
                imp.append(rate)
                rss.append(peak)
                floor.append(bench_floor(work, csv_path, args.csv_rows))
                print(
                    f"import: {rate:,.0f} rows/s, {peak:.0f} MiB; floor {floor[-1]:,.0f} rows/s",
                    file=sys.stderr,
                )
        print(
            f"\n### Ingestion — {datetime.now(UTC):%Y-%m-%d}, {platform.node()}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}, SQLite (WAL), medians of {args.runs} runs\n"
        )
        print("| measure | median | runs | target | |")
        print("|---|---|---|---|---|")
        if api:
            m = statistics.median(api)
            print(
                f"| (a) API, {args.api_items:,} items in batches of {args.api_batch:,} over HTTP | {m:,.0f} items/s | "
                f"{', '.join(f'{x:,.0f}' for x in api)} | ≥ 10,000 items/s | {'met' if m >= 10_000 else 'MISSED'} |"
            )
            ratios = [u / n for u, n in zip(upd, api)]
            r = statistics.median(ratios)
            print(
                f"| (a′) the same {args.api_items:,} re-sent with changed comments: updates | "
                f"{statistics.median(upd):,.0f} items/s | {', '.join(f'{x:,.0f}' for x in upd)} | | |"
            )
            print(
                f"| (a′) / (a), per run | {r:.2f} | {', '.join(f'{x:.2f}' for x in ratios)} | ≥ 0.5 | "
                f"{'met' if r >= 0.5 else 'MISSED'} |"
            )
            print(
                f"| (a″) the same re-sent unchanged: duplicates | {statistics.median(dup):,.0f} items/s | "
                f"{', '.join(f'{x:,.0f}' for x in dup)} | | |"
            )
        if imp:
            m, f_, r = statistics.median(imp), statistics.median(floor), max(rss)
            ratios = [a / b for a, b in zip(imp, floor)]
            print(
                f"| (b) `loopbot import` of {args.csv_rows:,} rows ({size:.0f} MiB CSV), whole process | {m:,.0f} rows/s | "
                f"{', '.join(f'{x:,.0f}' for x in imp)} | ≥ 30,000 rows/s | {'met' if m >= 30_000 else 'MISSED'} |"
            )
            print(
                f"| (c) floor: Core `insert()` executemany, same rows and table | {f_:,.0f} rows/s | "
                f"{', '.join(f'{x:,.0f}' for x in floor)} | | |"
            )
            print(
                f"| (b) / (c) | {statistics.median(ratios):.2f} | {', '.join(f'{x:.2f}' for x in ratios)} | ≥ 0.30 | "
                f"{'met' if statistics.median(ratios) >= 0.3 else 'MISSED'} |"
            )
            print(
                f"| peak RSS of the import (both processes, summed) | {r:.0f} MiB (max) | {', '.join(f'{x:.0f}' for x in rss)} | ≤ 300 MB | "
                f"{'met' if r * 1.048576 <= 300 else 'MISSED'} |"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
