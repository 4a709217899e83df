"""Database down 60 s mid-traffic (issue 20, RELIABILITY.md): `loopbot run` in HTTP mode on a PostgreSQL
server of this script's own (never the machine's shared one), Slack played by the emulator. Survey tools
ingest a few requests/s (some responses negative, so cases open and posts go out) and people acknowledge
cases (button clicks, `/feedback ack`, `/feedback list`). Mid-traffic the server is stopped (`pg_ctl stop
-m immediate`: a crash) for --down seconds, then started again. The run is timed so that a team's huddle
cron and the ack SLA (1 min) of a few of its cases fall due inside the outage, and so that case posts
are waiting in the outbox (Slack takes 0.2 s a post) when it begins.

Promises: during the outage the API answers 503 within 1 s (no hang), /healthz too, and each Slack click
or command gets an ephemeral "try again" within 3 s; afterwards every response the API accepted (200) and
every request retried after a 503 is stored exactly once, every acknowledgement answered as done is one
timeline event, the huddle and the escalations that fell due are posted, and every post is delivered
exactly once.

Run: .venv/bin/python bench/outage_db.py [--down 60] [--mode immediate]    (about 6 minutes)
     .venv/bin/python bench/outage_db.py --quick                           (--down 10, about 3 minutes)
Prints progress to stderr and a Markdown section for RELIABILITY.md; exits 1 if a promise is broken.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.reliability import (  # noqa: E402
    LEADERS,
    Store,
    batches,
    case_posts,
    heading,
    kept_if_broken,
    log,
    logged,
    own_postgres,
    pct,
    posted_keys,
    read_store,
    server_version,
    verdict,
    workspace,
)
from bench.traffic import Clicker, Ingester, response  # noqa: E402
from slack_emulator import SlackEmulator  # noqa: E402
from tests.e2e.harness import running_bot  # noqa: E402

START_S = 20  # allowed for `loopbot run` to come up before the plan's first step
ACK_SLA = timedelta(minutes=1)  # the watch team's: the shortest SLA a config can say


class Plan:
    """When each thing happens (wall clock): the huddle fires at the minute `fire` inside the outage, the
    watch cases open so that their ack deadline falls inside it too, halfway between its start and the fire."""

    def __init__(self, down: float):
        self.lead = min(down * 0.35, 20.0)  # outage start → huddle fire; the rest of it comes after
        earliest = datetime.now(UTC) + timedelta(seconds=START_S + self.lead) + ACK_SLA
        self.fire = (earliest + timedelta(minutes=1)).replace(second=0, microsecond=0)
        self.stop_at = self.fire - timedelta(seconds=self.lead)
        self.deadline = self.stop_at + timedelta(seconds=self.lead / 2)
        self.watch_at = self.deadline - ACK_SLA


def sleep_until(at: datetime) -> None:
    time.sleep(max(0.0, (at - datetime.now(UTC)).total_seconds()))


def poll_health(base: str, stop: threading.Event, out: list) -> None:
    with httpx.Client(timeout=10) as c:
        while not stop.wait(0.5):
            at, started = time.time(), time.monotonic()
            try:
                status: int | str = c.get(f"{base}/healthz").status_code
            except httpx.TransportError:
                status = "no answer"
            out.append((at, time.monotonic() - started, status))


def run(args: argparse.Namespace, work: Path) -> tuple[list[tuple], str]:
    plan = Plan(args.down)
    watch = {"sla": {"ack": "1m", "resolve": "1d"}, "huddle": f"{plan.fire:%M %H} * * *"}
    config, channels, users = workspace(args.teams, watch)
    ops = [t for t in config["teams"] if t != "watch"]
    with own_postgres() as pg, SlackEmulator(channels=channels, users=users) as emu:
        for method in ("chat.postMessage", "chat.update"):  # Slack's own latency
            emu.hang(method, args.slack_latency, times=None)
        database = server_version(pg.url) + f", its server stopped with -m {args.mode}"
        with running_bot(work, pg.url, socket_mode=False, emu=emu, config_data=config) as bot:
            if datetime.now(UTC) > plan.watch_at:
                raise SystemExit("loopbot run took too long to start; the plan is missed")
            ingester = Ingester(
                bot.url, ops, rate=args.rate, batch=3, negative=args.negative, seed=args.seed
            )
            clicker = Clicker(emu, config, rate=args.click_rate, seed=args.seed)
            health: list[tuple] = []
            stop_health = threading.Event()
            poller = threading.Thread(target=poll_health, args=(bot.url, stop_health, health))
            for t in (ingester, clicker, poller):
                t.start()
            log(f"traffic on; huddle at {plan.fire:%H:%M:%S}, outage from {plan.stop_at:%H:%M:%S}")
            sleep_until(plan.watch_at)
            items = [response(f"watch-{i}", "watch", True) for i in range(args.watch)]
            watched = [int(ref.split("-")[1]) for ref in bot.ingest(*items)["cases"]]
            # Cases of half the teams 8 s before the stop, left unacknowledged: people click them
            # during the outage. Cases of the others just before it, while Slack takes its time: their
            # posts are waiting (or half sent: posted, not yet recorded) when the database goes.
            sleep_until(plan.stop_at - timedelta(seconds=10))
            clicker.holding.set()
            sleep_until(plan.stop_at - timedelta(seconds=8))
            bot.ingest(*[response(f"click-{team}", team, True) for team in ops[::2]])
            sleep_until(plan.stop_at - timedelta(seconds=0.5))
            bot.ingest(*[response(f"last-{team}", team, True) for team in ops[1::2]])
            sleep_until(plan.stop_at)
            clicker.holding.clear()
            down_from = time.time()
            pg._run("pg_ctl", "-D", str(pg.data), "-w", "-m", args.mode, "stop")
            stopped = time.time()
            log(f"database stopped ({stopped - down_from:.1f} s to stop)")
            time.sleep(max(0.0, down_from + args.down - time.time()))
            starting = time.time()
            pg.start()
            back = time.time()
            log(f"database running again after {back - down_from:.0f} s")
            time.sleep(args.after)
            ingester.stop_new()
            expected = [f"case:{c}:escalation:ack" for c in watched]
            expected.append(f"huddle:watch:{plan.fire:%Y-%m-%dT%H:%MZ}")
            settled = settle(args.settle, ingester, clicker, emu, expected, pg.url)
            log(f"settled: {settled}")
            stop_health.set()
            clicker.stop()
            ingester.close()
        store = read_store(pg.url)
    # "During" is while the server is surely down: from pg_ctl stop's return to pg_ctl start's call.
    outage = (down_from, stopped, starting, back)
    keys = posted_keys(emu)
    teams = [c for c in channels if c != LEADERS]
    rows = report(args, plan, outage, ingester, clicker, health, store, keys, emu, teams)
    rows.append(("log of `loopbot run`", "", logged([bot.log]), ""))
    return rows, database


def settle(
    seconds: float,
    ingester: Ingester,
    clicker: Clicker,
    emu: SlackEmulator,
    expected: list[str],
    url: str,
) -> bool:
    """Wait until every refused request got in, every case was acknowledged, the expected posts came and
    the outbox is empty, or `seconds` passed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        keys = posted_keys(emu)
        waiting = read_store(url).outbox
        if (
            ingester.pending() == 0
            and not clicker.waiting()
            and all(k in keys for k in expected)
            and not [r for r in waiting if r[1] in ("pending", "sending")]
        ):
            return True
        time.sleep(1)
    return False


def report(
    args: argparse.Namespace,
    plan: Plan,
    outage: tuple[float, float, float, float],
    ingester: Ingester,
    clicker: Clicker,
    health: list[tuple],
    store: Store,
    keys: dict[str, list[float]],
    emu: SlackEmulator,
    channels: list[str],
) -> list[tuple]:
    """The rows: (what, promise, measured, verdict) — verdict True/False, or "" where nothing is promised."""
    s, down, up, e = outage
    rows: list[tuple] = []
    during = [a for a in ingester.attempts if down <= a.at <= up]
    took = [a.elapsed for a in during]
    statuses = Counter(a.status for a in during)
    said = ", ".join(f"{n:,} × {st}" for st, n in sorted(statuses.items(), key=str))
    ok = set(statuses) == {503} and max(took, default=0) <= 1.0
    rows.append(
        (
            "POST /api/feedback sent during the outage",
            "503 within 1 s, no hang",
            f"{said}; max {max(took, default=0) * 1e3:.0f} ms, p99 {pct(took, 99) * 1e3:.0f} ms",
            ok,
        )
    )
    hs = [h for h in health if down <= h[0] <= up]
    ok = {h[2] for h in hs} == {503} and max((h[1] for h in hs), default=0) <= 1.0
    h_said = ", ".join(f"{n} × {st}" for st, n in Counter(h[2] for h in hs).items())
    max_h = max((h[1] for h in hs), default=0) * 1e3
    rows.append(
        ("GET /healthz during the outage", "503 within 1 s", f"{h_said}; max {max_h:.0f} ms", ok)
    )

    slack = [i for i in clicker.log if down <= i.at <= up]
    outcomes = Counter(i.outcome for i in slack)
    eph = [i.ephemeral_s for i in slack if i.outcome == "try again" and i.ephemeral_s is not None]
    answers = [i.elapsed for i in slack]
    bad = [i for i in slack if i.status != 200 or i.outcome in ("error", "no answer")]
    ok = not bad and max(answers + eph, default=0) <= 3.0 and set(outcomes) == {"try again"}
    kinds = Counter(i.kind for i in slack)
    rows.append(
        (
            "Slack clicks and commands during the outage "
            f"({kinds['click']} clicks, {kinds['command'] + kinds['list']} commands)",
            'an ephemeral "try again" within 3 s',
            ", ".join(f"{n} {o}" for o, n in outcomes.items())
            + f"; HTTP answer max {max(answers, default=0) * 1e3:.0f} ms, "
            f"ephemeral max {max(eph, default=0) * 1e3:.0f} ms",
            ok,
        )
    )

    per, dup_rows = batches(store)
    accepted = [r for r in ingester.requests.values() if r.accepted]
    wrong = [r.rid for r in accepted if per.get(r.rid, 0) != r.items]
    refused_rids = {a.rid for a in ingester.attempts if a.status != 200}
    retried = [r for r in accepted if r.rid in refused_rids]
    never = [r.rid for r in ingester.requests.values() if not r.accepted]
    rows.append(
        (
            "responses accepted (200)",
            "each stored exactly once",
            f"{len(accepted):,} requests, {sum(r.items for r in accepted):,} responses: "
            f"{len(wrong)} not stored as sent, {dup_rows} rows twice; "
            f"{len(ingester.problems)} wrong answers {ingester.problems[:3]}",
            not wrong and not dup_rows and not ingester.problems,
        )
    )
    rows.append(
        (
            "requests refused during the outage, retried by the client",
            "stored exactly once; none refused after recovery",
            f"{len(retried):,} retried and accepted, {sum(r.rid in wrong for r in retried)} wrong; "
            f"{len(never)} never accepted",
            not never and not any(r.rid in wrong for r in retried),
        )
    )
    done = sorted(clicker.done)
    twice = [c for c, n in store.acks.items() if n > 1]
    lost = [c for c in done if store.acks.get(c, 0) != 1]
    rows.append(
        (
            "acknowledgements answered as done (after the outage, the person clicked again)",
            "one `acknowledged` event each",
            f"{len(done)} cases: {len(lost)} without exactly one, {len(twice)} cases with two or more",
            not lost and not twice,
        )
    )

    huddle = f"huddle:watch:{plan.fire:%Y-%m-%dT%H:%MZ}"
    at = keys.get(huddle, [])
    rows.append(
        (
            f"huddle due at {plan.fire:%H:%M:%S} UTC, {plan.lead:.0f} s into the outage",
            "posted once after recovery",
            f"posted {len(at)} time(s)" + (f", {at[0] - e:.0f} s after recovery" if at else ""),
            len(at) == 1,
        )
    )
    watched = [c for c, (team, _, _) in store.cases.items() if team == "watch"]
    esc = [keys.get(f"case:{c}:escalation:ack", []) for c in watched]
    late = [t[0] - e for t in esc if len(t) == 1]
    rows.append(
        (
            f"ack escalations due at {plan.deadline:%H:%M:%S} UTC, inside the outage",
            "each posted once after recovery",
            f"{sum(len(t) == 1 for t in esc)} of {len(watched)} posted once"
            + (f", {span(late)} s after recovery" if late else ""),
            bool(watched) and len(late) == len(watched) and min(late) > 0,
        )
    )

    # Due in the outage: what waited in the outbox when it began, and the escalations that fell due in it.
    waiting = [
        r for r in store.outbox if r[2].timestamp() < s and (r[3] is None or r[3].timestamp() > s)
    ]
    due = waiting + [
        r for r in store.outbox if r[0] in {f"case:{c}:escalation:ack" for c in watched}
    ]
    once = [
        r
        for r in due
        if r[1] == "grouped" or (r[1] == "delivered" and len(keys.get(r[0], [])) == 1)
    ]
    after = [keys[r[0]][0] - e for r in due if r[0] in keys]
    # A post claimed just before the stop may have reached Slack and only been recorded after: its Slack
    # time is inside the outage. A claim the worker could not finish waits out its lease (60 s).
    late_ = [t for t in after if t > 0]
    states = Counter(r[1] for r in store.outbox)
    dups = {k: len(t) for k, t in keys.items() if len(t) > 1}
    posts = case_posts(emu, channels)
    missing = [c for c in store.cases if posts.get(c, 0) == 0]
    twice_posted = [c for c in store.cases if posts.get(c, 0) > 1]
    rows.append(
        (
            "posts due during the outage: waiting in the outbox when it began, and the escalations",
            "delivered after it, each once",
            f"{len(due)} posts ({len(waiting)} waiting, {len(due) - len(waiting)} escalations): "
            f"{len(once)} delivered once; "
            + (
                f"{len(after) - len(late_)} handed to Slack as it stopped (recorded after), "
                if len(after) > len(late_)
                else ""
            )  # fmt: skip
            + (f"posted {span(late_, '.1f')} s after recovery" if late_ else "none posted after"),
            len(once) == len(due),
        )
    )
    rows.append(
        (
            "every post of the run",
            "delivered exactly once; each case's message once",
            f"{len(store.outbox):,} posts: {dict(states)}; {len(dups)} posted twice; "
            f"{len(store.cases)} cases: {len(missing)} without a message, {len(twice_posted)} in two",
            set(states) <= {"delivered", "grouped"}
            and not dups
            and not missing
            and not twice_posted,
        )
    )
    return rows


def span(values: list[float], fmt: str = ".0f") -> str:
    low, high = format(min(values), fmt), format(max(values), fmt)
    return low if low == high else f"{low}–{high}"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--down", type=float, default=60, help="seconds the database is down (60)")
    p.add_argument("--mode", choices=["fast", "immediate"], default="immediate", help="pg_ctl stop")
    p.add_argument("--rate", type=float, default=4, help="ingestion requests/s (4)")
    p.add_argument("--negative", type=float, default=0.02, help="share of negative responses")
    p.add_argument("--click-rate", type=float, default=1, help="Slack interactions/s (1)")
    p.add_argument("--slack-latency", type=float, default=0.2, help="s per post or update (0.2)")
    p.add_argument("--teams", type=int, default=8, help="teams whose cases are acknowledged (8)")
    p.add_argument("--watch", type=int, default=3, help="cases left to escalate in the outage (3)")
    p.add_argument("--after", type=float, default=20, help="s of traffic after recovery (20)")
    p.add_argument("--settle", type=float, default=120, help="s to wait for the catch-up (120)")
    p.add_argument("--seed", type=int, default=20)
    p.add_argument("--quick", action="store_true", help="a smoke run: --down 10 --settle 60")
    args = p.parse_args()
    if args.quick:
        args.down, args.settle = 10, 60
    work = Path(tempfile.mkdtemp(prefix="loopbot-outage-"))
    began = time.monotonic()
    with kept_if_broken(work) as broken:
        rows, database = run(args, work)
        broken.append(any(r[3] is False for r in rows))
    print(f"\n{heading(f'Database down {args.down:.0f} s mid-traffic', database)}\n")
    print(
        f"`python3 bench/outage_db.py{' --quick' if args.quick else ''}` (--down {args.down:g}, "
        f"{args.rate:g} ingestion requests/s, {args.click_rate:g} Slack interactions/s, Slack "
        f"taking {args.slack_latency:g} s per post, "
        f"{time.monotonic() - began:.0f} s in all):\n"
    )
    print("| what | promise | measured | |\n|---|---|---|---|")
    for what, promise, measured, *ok in rows:
        print(
            f"| {what} | {promise} | {measured} | {verdict(ok[0]) if ok and ok[0] != '' else ''} |"
        )
    sys.exit(1 if broken[-1] else 0)


if __name__ == "__main__":
    main()
