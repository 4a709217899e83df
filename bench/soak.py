"""Soak (issue 20): bench/latency.py's realistic load, held for --minutes (default 10) against one `loopbot
run` on SQLite: Slack requests at 30/s open loop (clicks, `/feedback list` and `show`, the resolve modal) beside
100 ingested responses/s, on the benchmark's seeded database. Samples the bot's resident memory from /proc
every few seconds and keeps every request's latency and answer. Promises: RSS at the end within 10 % of RSS at
1 minute (after the warm-up); no error (no 5xx, no failed or refused request, no post failed or parked, no
change lost or made twice, no ERROR line in the bot's log); p99 stable (the last minute's p99 at most 1.5×
the second minute's, for Slack answers and for ingestion).

Run: .venv/bin/python bench/soak.py [--minutes 10]
Smoke: .venv/bin/python bench/soak.py --minutes 1 --rows 30000 --cases 3000
Progress goes to stderr, the Markdown section for RELIABILITY.md to stdout; exit 1 if a promise is broken.
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import seed  # noqa: E402
from bench._slackload import RssSampler, heading, outbox_states, pct, read_log, verdict  # noqa: E402
from bench.latency import CHANNELS, INGEST_RATE, USERS, WARM_RATE, WARM_S, Bench, Renderer  # noqa: E402
from bench.openloop import Dispatcher, Phase, answers, error_replies, run_load, wait_updates  # noqa: E402
from bench.openloop_check import check, last_event  # noqa: E402
from bench.openloop_servers import SECRET, TOKEN, server  # noqa: E402
from bench.slack_load import BLOCK, MIX, Draw, ingest_plan, prime, schedule  # noqa: E402
from slack_emulator import SlackEmulator  # noqa: E402

GROWTH_MAX = 10.0  # % of RSS from 1 minute in to the end
P99_DRIFT_MAX = 1.5  # last minute's p99 over the second minute's
BASELINE_S = 60  # RSS is compared from here: the first minute warms caches and pools


@dataclass
class Minute:
    slack: list[float] = field(default_factory=list)  # round trips of Slack requests due in it, s
    ingest: list[float] = field(default_factory=list)  # ... of POST /api/feedback
    errors: int = 0  # not sent, not 200, or over Slack's 3 s
    rss: float = math.nan  # MiB at its end


@dataclass
class Soak:
    args: argparse.Namespace
    phase: Phase
    minutes: list[Minute]
    rss: list[tuple[float, float]]
    five_xx: int
    failed_posts: dict[str, int]
    log_errors: list[str]
    took: float
    db_built: float | None

    @property
    def baseline(self) -> tuple[float, float]:
        at = min(BASELINE_S, self.args.minutes * 60 / 2)
        return min(self.rss, key=lambda s: abs(s[0] - at))

    @property
    def growth(self) -> float:
        return (self.rss[-1][1] / self.baseline[1] - 1) * 100

    def errors(self) -> dict[str, int]:
        p = self.phase
        refused = sum(1 for x in p.problems if x.startswith(("emulator:", "Slack would refuse")))
        return {
            "5xx answers": self.five_xx,
            "requests failed (not sent, not 200, or an error shown)": p.failed,
            "requests over Slack's 3 s": p.over_deadline,
            "changes lost / made twice, responses lost / stored twice": p.lost + p.doubled,
            "messages the emulator refused or could not serve": refused,
            "posts failed or parked in the outbox": sum(self.failed_posts.values()),
            "ERROR lines in the bot's log": len(self.log_errors),
        }

    def drift(self, kind: str) -> float | None:
        """The last minute's p99 over the second minute's (None with fewer than two minutes)."""
        if len(self.minutes) < 2:
            return None
        second, last = (pct(getattr(m, kind), 99) for m in (self.minutes[1], self.minutes[-1]))
        return last / second


def pool_size(minutes: float, rate: float) -> tuple[int, int]:
    """Open and acknowledged cases the seeded database needs: every click takes its own case, and the
    pool splits unresolved cases between Acknowledge and the rest in the mix's proportions. A 5 % margin,
    rounded up to thousands so that nearby --minutes share one cached database."""
    blocks = math.ceil(rate * (minutes * 60 + WARM_S) / BLOCK)
    per_block = MIX["ack"] + MIX["assign"] + 1
    unresolved = math.ceil(blocks * per_block * 1.05 / 1000) * 1000
    open_ = math.ceil(unresolved * 0.6)
    return open_, unresolved - open_


def soak(args: argparse.Namespace, work: Path) -> Soak:
    began = time.perf_counter()
    seconds = args.minutes * 60
    open_, acked = pool_size(args.minutes, args.rate)
    cached, built, fresh = seed.cached_db(
        rows=args.rows, cases=args.cases, open_=open_, acknowledged=acked
    )
    log(f"database {cached}: {'generated' if fresh else 'cached'}")
    config_path, _ = seed.bench_config(work)
    render = Renderer(cached, work, config_path)
    pool = render.pool(random.Random(3))
    if pool.max_requests() < args.rate * (seconds + WARM_S):
        raise SystemExit(f"the pool holds {pool.max_requests():,} requests: too few")
    b = Bench(argparse.Namespace(postgres=None), work, cached, None, config_path, pool, render)
    draw = Draw(pool, random.Random(20))
    warm, jobs = schedule(WARM_RATE, WARM_S, draw), schedule(args.rate, seconds, draw)
    warm_posts = ingest_plan(INGEST_RATE, WARM_S)
    posts = ingest_plan(INGEST_RATE, seconds, first=sum(len(p.ids) for p in warm_posts))
    phase = Phase(args.rate, seconds)
    url = b.fresh_database()
    bot_log = work / "loopbot.log"
    try:
        with SlackEmulator(channels=CHANNELS, users=USERS, signing_secret=SECRET) as emu:
            log(f"posting {len({j.case_id for j in warm + jobs})} case messages into the emulator")
            ts_of = b.post_messages(emu, url, warm + jobs)
            base_event = last_event(url)
            with server(emu, bot_log, url=url, config=b.config) as (base, proc):
                senders = Dispatcher(prime=lambda: prime(emu, TOKEN))
                run_load(senders, emu, ts_of, warm, warm_posts, base, TOKEN)
                wait_updates(emu, Phase(0, 0), warm, error_replies(emu), ts_of, args.settle)
                log(
                    f"load: {args.rate:g} Slack requests/s and {INGEST_RATE} responses/s for {seconds:g} s"
                )
                sampler = RssSampler(proc.pid, args.sample).start()
                wall0 = run_load(senders, emu, ts_of, jobs, posts, base, TOKEN)
                sampler.stop()
                replies = error_replies(emu)
                answers(phase, jobs, posts, wall0, replies)
                wait_updates(emu, phase, jobs, replies, ts_of, args.settle)
                time.sleep(1)  # a second update of a message would come about now
                replies = error_replies(emu)
                senders.close()
                states = outbox_states(work / "run.db")
            check(phase, url, base_event, warm + jobs, warm_posts + posts, emu, replies, ts_of)
            phase.problems += [f"emulator: {e[:200]}" for e in emu.internal_errors]
            phase.problems += [
                f"Slack would refuse: {p}" for d in emu.deliveries for p in d.problems
            ]
    finally:
        b.drop_database()
    minutes = [Minute() for _ in range(math.ceil(args.minutes))]
    five_xx = 0
    for j in jobs:
        m = minutes[min(int(j.due // 60), len(minutes) - 1)]
        d = j.delivery
        if d is None or not d.ok or d.elapsed > 3:
            m.errors += 1
        if d is not None:
            m.slack.append(d.elapsed)
            five_xx += isinstance(d.status, int) and d.status >= 500
    for p in posts:
        m = minutes[min(int(p.due // 60), len(minutes) - 1)]
        m.ingest.append(p.elapsed)
        m.errors += p.status != 200 or p.elapsed > 3
        five_xx += isinstance(p.status, int) and p.status >= 500
    for i, m in enumerate(minutes):
        m.rss = min(sampler.samples, key=lambda s: abs(s[0] - (i + 1) * 60))[1]
    failed = {s: n for s, n in states.items() if s in ("failed", "parked")}
    errors = read_log(bot_log).errors
    took = time.perf_counter() - began
    return Soak(args, phase, minutes, sampler.samples, five_xx, failed, errors, took, built)


def markdown(s: Soak) -> tuple[str, bool]:
    a, p = s.args, s.phase
    base_at, base = s.baseline
    errors = s.errors()
    drifts = {kind: s.drift(kind) for kind in ("slack", "ingest")}
    ok_rss = s.growth <= GROWTH_MAX
    ok_err = not any(errors.values())
    ok_p99 = all(d is None or d <= P99_DRIFT_MAX for d in drifts.values())
    mix = ", ".join(f"{n} {k}" for k, n in MIX.items())
    lines = heading(f"Soak: {a.minutes:g} minute{'s' * (a.minutes != 1)} at the realistic load") + [
        f"bench/latency.py's realistic load for {a.minutes:g} min after its 3 s warm-up, open loop, against "
        f"one `loopbot run` on SQLite: {a.rate:g} Slack requests/s over HTTP (per 30: {mix}, a Resolve… "
        "click and its modal's submission; each click on its own case) beside `POST /api/feedback` at "
        f"{INGEST_RATE} responses/s (10 per POST, negative ones open cases). Database from bench/seed.py: "
        f"{a.rows:,} responses, {a.cases:,} cases ({pool_size(a.minutes, a.rate)[0]:,} open, "
        f"{pool_size(a.minutes, a.rate)[1]:,} acknowledged, where bench/latency.py's has 5,000 and 3,000: every "
        "click of the whole run on a case of its own). "
        f"RSS of the bot and its children from /proc every {a.sample:g} s.",
        "",
        "| promise | measured | |",
        "|---|---|---|",
        f"| RSS growth from {base_at:.0f} s to the end ≤ {GROWTH_MAX:g} % | {base:.0f} MiB → "
        f"{s.rss[-1][1]:.0f} MiB: {s.growth:+.1f} % (peak {max(r for _, r in s.rss):.0f} MiB) | "
        f"{verdict(ok_rss)} |",
        f"| no error | {sum(errors.values())}: "
        + ", ".join(f"{k} {n}" for k, n in errors.items())
        + f" | {verdict(ok_err)} |",
    ]
    for kind, label in (("slack", "Slack answers"), ("ingest", "ingestion POSTs")):
        d = drifts[kind]
        figure = "n/a (one minute)" if d is None else f"{d:.2f}×"
        lines.append(
            f"| {label}: last minute's p99 ≤ {P99_DRIFT_MAX:g}× the second minute's | {figure} | "
            f"{verdict(None if d is None else d <= P99_DRIFT_MAX)} |"
        )
    lines += [
        "",
        "| minute | Slack requests | p50 | p99 | max | ingestion POSTs | p50 | p99 | errors | RSS at its end |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, m in enumerate(s.minutes, 1):
        lines.append(
            f"| {i} | {len(m.slack):,} | {pct(m.slack, 50):.1f} | {pct(m.slack, 99):.1f} | "
            f"{pct(m.slack, 100):.0f} | {len(m.ingest):,} | {pct(m.ingest, 50):.1f} | "
            f"{pct(m.ingest, 99):.1f} | {m.errors} | {m.rss:.0f} MiB |"
        )
    clicks = p.clicks
    lines += [
        "",
        f"Latencies in ms. Click → updated case message over the run: p50 {pct(clicks, 50):,.0f} ms, "
        f"p99 {pct(clicks, 99):,.0f} ms ({len(clicks):,} clicks). Counts after the load: "
        + ", ".join(f"{k} {v:,}" for k, v in p.counts.items())
        + ".",
    ]
    problems = list(dict.fromkeys(p.problems)) + s.log_errors
    if problems:
        lines += ["", f"Problems ({len(problems)}), the first 10:"]
        lines += [f"- {x[:300]}" for x in problems[:10]]
    command = " ".join(["bench/soak.py", *sys.argv[1:]])
    lines += ["", f"Run with `.venv/bin/python {command}`: {s.took / 60:.1f} min in all."]
    if s.db_built is not None:
        lines[-1] += f" Generating the database took {s.db_built:.0f} s (cached in /tmp)."
    return "\n".join(lines), ok_rss and ok_err and ok_p99


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--minutes", type=float, default=10, help="length of the load (default 10)")
    p.add_argument("--rate", type=float, default=30, help="Slack requests/s (default 30)")
    p.add_argument(
        "--sample", type=float, default=5, help="seconds between RSS samples (default 5)"
    )
    p.add_argument(
        "--rows",
        type=int,
        default=1_000_000,
        help="responses in the seeded database (default 1,000,000, as bench/latency.py's)",
    )
    p.add_argument(
        "--cases", type=int, default=50_000, help="cases in the seeded database (default 50,000)"
    )
    p.add_argument("--settle", type=float, default=60, help="s to wait for updates after the load")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="loopbot-soak-"))
    try:
        text, ok = markdown(soak(args, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(text)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
