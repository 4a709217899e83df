"""Slack down 5 minutes (issue 20): `loopbot run` in Socket Mode against the Slack emulator on SQLite, with
steady ingestion opening cases (negative responses) and changing them (Acknowledge and Resolve clicks while
Slack is up; re-sent responses with a changed comment, up or down), and a huddle of each team falling due
while the emulator is stopped entirely for --down seconds, then started again on the same port. Afterwards:
every post in Slack exactly once, each case's thread lines in its message's thread in timeline order, each
due huddle once, nothing left in the outbox, and how long after Slack came back the backlog took to go out.

Run: .venv/bin/python bench/outage_slack.py [--down 300] [--before 60] [--after 60]
Smoke: .venv/bin/python bench/outage_slack.py --down 20 --before 20 --after 15
Progress goes to stderr, the Markdown section for RELIABILITY.md to stdout; exit 1 if a promise is broken.
"""

from __future__ import annotations

import argparse
import math
import random
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._slackdown import Outcome, check, markdown  # noqa: E402
from bench._slackload import outbox_states, read_log  # noqa: E402
from bench.ingest import free_port  # noqa: E402
from bench.slack_load import RESOLUTION  # noqa: E402
from bot.slack.ids import ActionId, CallbackId  # noqa: E402
from jobs.huddle import post_key  # noqa: E402
from slack_emulator import SlackEmulator  # noqa: E402
from tests.conftest import CONFIG  # noqa: E402
from tests.e2e.harness import INGEST_TOKEN, running_bot  # noqa: E402

# Four teams in four zones (a huddle's cron is in its team's wall time), each with its own supervisor.
TEAMS = {
    "delivery": ("C0DELIVERY", "U0SUP1", "UTC"),
    "support": ("C0SUPPORT", "U0SUP2", "America/New_York"),
    "returns": ("C0RETURNS", "U0SUP3", "Europe/Berlin"),
    "billing": ("C0BILLING", "U0SUP4", "Asia/Kolkata"),
}
CHANNELS = {ch: key for key, (ch, _, _) in TEAMS.items()} | {"C0LEADERS": "leaders"}
USERS: dict[str, str | dict] = {sup: f"supervisor of {key}" for key, (_, sup, _) in TEAMS.items()}
USERS["U0LEADER1"] = "leader one"
COMMENTS = ("Parcel came late again", "The driver was rude", "The app shows an error", "No refund")
STARTUP_S = 20  # time allowed for `loopbot run` to come up before the planned timeline begins


@dataclass
class Plan:
    down_at: float  # time.time() the emulator stops
    back_at: float  # ... and starts again
    fires: dict[str, datetime]  # team → its huddle's one fire, inside the outage (UTC)

    def cron(self, team: str) -> str:
        """That one fire as a cron of the team's wall time: minute, hour, day and month."""
        at = self.fires[team].astimezone(ZoneInfo(TEAMS[team][2]))
        return f"{at.minute} {at.hour} {at.day} {at.month} *"


def plan(before: float, down: float) -> Plan:
    """Stop Slack after `before` s of load with a whole minute (a cron's fire) inside the outage, a margin
    from either end; a short outage starts later, so that a minute falls in its middle."""
    margin = min(5.0, down / 4)
    earliest = time.time() + STARTUP_S + before
    boundary = math.ceil((earliest + margin) / 60) * 60
    down_at = max(earliest, boundary - down / 2) if down < 60 + 2 * margin else earliest
    minutes = range(
        math.ceil((down_at + margin) / 60), math.floor((down_at + down - margin) / 60) + 1
    )
    if not minutes:
        raise SystemExit(f"--down {down:g} is too short to hold a huddle's fire (20 s at least)")
    picks = [minutes[round(i * (len(minutes) - 1) / (len(TEAMS) - 1))] for i in range(len(TEAMS))]
    fires = {team: datetime.fromtimestamp(m * 60, UTC) for team, m in zip(TEAMS, picks)}
    return Plan(down_at, down_at + down, fires)


def bot_config(p: Plan) -> dict:
    away = f"0 {(datetime.now(UTC).hour + 12) % 24} * * *"
    return {
        # SLAs far beyond the run: no escalation joins in.
        "defaults": {"timezone": "UTC", "sla": {"ack": "4h", "resolve": "2d"}, "huddle": away},
        "leaders": ["U0LEADER1"],
        "leaders_channel": "C0LEADERS",
        "teams": {
            key: {
                "name": key.title(),
                "channel": ch,
                "supervisors": [sup],
                "timezone": tz,
                "huddle": p.cron(key),
            }
            for key, (ch, sup, tz) in TEAMS.items()
        },
        "categories": CONFIG["categories"],
    }


# -- the load -------------------------------------------------------------------------------------------


@dataclass
class Opened:
    team: str
    item: dict
    updates: int = 0
    changed: float = 0.0  # monotonic time of the last change sent
    acked: float = 0.0
    resolved: bool = False


@dataclass
class Load:
    """Ingestion every `every` s (two responses that open nothing, a negative one opening a case every
    `case_every` s, teams in turn, and a re-send with a changed comment of a case's response, each case twice
    at most), and, while Slack is up, its supervisor acknowledging each case once its message is in Slack and
    resolving every third one through the modal."""

    base: str
    emu: SlackEmulator
    every: float
    case_every: float
    phase: str = "before"  # before | down | after
    cases: dict[int, Opened] = field(default_factory=dict)
    # Each POST: (phase, status, elapsed s).
    sent: list[tuple[str, int | str, float]] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # phase → what was done
    click_errors: list[str] = field(default_factory=list)
    # Held by the clicks in hand, and to stop Slack: no click is cut off halfway by the outage.
    slack: threading.Lock = field(default_factory=threading.Lock)
    slack_up: bool = True
    _stop: threading.Event = field(default_factory=threading.Event)
    _n: int = 0

    def start(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=f, daemon=True) for f in (self._ingest, self._clicks)]
        for t in threads:
            t.start()
        return threads

    def stop(self, threads: list[threading.Thread]) -> None:
        self._stop.set()
        for t in threads:
            t.join(30)

    def _count(self, what: str, n: int = 1) -> None:
        got = self.counts.setdefault(self.phase, {})
        got[what] = got.get(what, 0) + n

    def _item(self, team: str, score: int) -> dict:
        self._n += 1
        at = datetime.now(UTC) - timedelta(minutes=2)
        text = f"{random.choice(COMMENTS)} (#{self._n})" if score <= 2 else None
        return {
            "id": f"o-{self._n}",
            "submitted_at": at.isoformat(),
            "metric": "csat",
            "score": score,
            "team": team,
            "customer": f"cust-{self._n}",  # each its own: no repeat-customer case joins in
            **({"comment": text} if text else {}),
        }

    def _ingest(self) -> None:
        client = httpx.Client(
            base_url=self.base, timeout=30, headers={"Authorization": f"Bearer {INGEST_TOKEN}"}
        )
        teams, tick, due, next_case = list(TEAMS), 0, time.monotonic(), time.monotonic()
        while not self._stop.is_set():
            batch = [self._item(teams[(tick + i) % len(teams)], 5) for i in range(2)]
            negative = None
            if time.monotonic() >= next_case:
                negative = self._item(teams[len(self.cases) % len(teams)], 1)
                batch.append(negative)
                next_case += self.case_every
            update = self._update()
            if update is not None:
                batch.append(update)
            started = time.monotonic()
            try:
                r = client.post("/api/feedback", json=batch)
                status: int | str = r.status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            self.sent.append((self.phase, status, time.monotonic() - started))
            self._count("responses", len(batch) - (update is not None))
            if status == 200 and negative is not None:
                for ref in r.json()["cases"]:
                    self.cases[int(ref.split("-")[1])] = Opened(negative["team"], negative)
                    self._count("cases opened")
            if status == 200 and update is not None:
                self._count("comment updates")
            tick += 1
            due += self.every
            self._stop.wait(max(0.0, due - time.monotonic()))
        client.close()

    def _update(self) -> dict | None:
        """The next case's response again with another comment: a response_updated line in its thread."""
        now = time.monotonic()
        for case in self.cases.values():
            if case.updates < 2 and now - case.changed > 2 * self.every:
                case.updates, case.changed = case.updates + 1, now
                case.item = {**case.item, "comment": f"{case.item['comment']}, edit {case.updates}"}
                return case.item
        return None

    def _clicks(self) -> None:
        while not self._stop.wait(0.5):
            with self.slack:
                if not self.slack_up:
                    continue
                posted = self._messages()
                for cid, case in list(self.cases.items()):
                    ts = posted.get(f"case:{cid}:open")
                    if ts is None or case.resolved:
                        continue
                    try:
                        if not case.acked:
                            self._click(cid, case, ts)
                        elif cid % 3 == 0 and time.monotonic() - case.acked > 2:
                            self._resolve(cid, case, ts)
                    except Exception as exc:  # noqa: BLE001 - reported with the results
                        case.acked = case.acked or time.monotonic()
                        self.click_errors.append(f"FB-{cid}: {type(exc).__name__}: {exc}"[:200])

    def _messages(self) -> dict[str, str]:
        found = {}
        for ch in CHANNELS:
            for m in self.emu.messages(ch):
                key = ((m.get("metadata") or {}).get("event_payload") or {}).get("key")
                found[key] = m["ts"]
        return found

    def _click(self, cid: int, case: Opened, ts: str) -> None:
        ch, sup, _ = TEAMS[case.team]
        d = self.emu.click(ch, ts, ActionId.ACK, sup)
        case.acked = time.monotonic()
        self._count("acknowledged")
        if not d.ok:
            self.click_errors.append(f"FB-{cid} Acknowledge: {d.status}")

    def _resolve(self, cid: int, case: Opened, ts: str) -> None:
        ch, sup, _ = TEAMS[case.team]
        case.resolved = True
        d = self.emu.click(ch, ts, ActionId.RESOLVE, sup)
        try:
            view = self.emu.wait_for(lambda: self._modal(sup, cid), timeout=10)
        except TimeoutError:
            self.click_errors.append(f"FB-{cid} Resolve…: {d.status}, no modal opened")
            return
        if not self.emu.submit_view(view["id"], sup, RESOLUTION).ok:
            self.click_errors.append(f"FB-{cid} resolve modal refused")
        self._count("resolved")

    def _modal(self, user: str, cid: int) -> dict | None:
        for view in self.emu.open_views(user):
            meta = view.get("private_metadata") or ""
            if view["callback_id"] == CallbackId.RESOLVE and f'"case_id":{cid}' in meta:
                return view
        return None


# -- the run ----------------------------------------------------------------------------------------------


def sleep_until(at: float) -> None:
    time.sleep(max(0.0, at - time.time()))


def run(args: argparse.Namespace, work: Path) -> Outcome:
    p = plan(args.before, args.down)
    for team, at in p.fires.items():
        print(f"huddle of {team} due at {at:%H:%M:%S}Z ({p.cron(team)})", file=sys.stderr)
    db = work / "outage.db"
    # A fixed port: SlackEmulator.start() binds the port it was made with, so the restart keeps its URLs.
    emu = SlackEmulator(channels=CHANNELS, users=USERS, port=free_port()).start()
    try:
        with running_bot(
            work, f"sqlite:///{db}", socket_mode=True, emu=emu, config_data=bot_config(p)
        ) as bot:
            load = Load(bot.url, emu, args.every, args.case_every)
            threads = load.start()
            print(f"bot up; Slack stops at {p.down_at - time.time():.0f} s", file=sys.stderr)
            sleep_until(p.down_at)
            with load.slack:
                load.slack_up, load.phase = False, "down"
                connections = emu.socket_connections
                emu.stop()
            print(f"Slack down for {args.down:g} s", file=sys.stderr)
            sleep_until(p.back_at)
            waiting = outbox_states(db)
            load.phase = "after"
            emu.start()
            back_at = time.time()
            reconnected = None
            if emu.wait_socket(timeout=120, connections=connections + 1):
                reconnected = time.time() - back_at
            load.slack_up = True
            print(f"Slack back; outbox then {waiting}", file=sys.stderr)
            time.sleep(args.after)
            load.stop(threads)
            deadline, left = time.monotonic() + args.drain_timeout, outbox_states(db)
            while time.monotonic() < deadline and any(left.get(s) for s in ("pending", "sending")):
                time.sleep(1)
                left = outbox_states(db)
            # A last round's posts (a case event behind a click just made) settle before the count.
            time.sleep(3)
            left = outbox_states(db)
            timed_out = time.monotonic() >= deadline
        found = check(
            emu,
            f"sqlite:///{db}",
            list(CHANNELS),
            [post_key(t, f) for t, f in p.fires.items()],
            back_at,
        )
    finally:
        emu.stop()
    log = read_log(bot.log)
    if args.keep_log:
        shutil.copyfile(bot.log, args.keep_log)
    out = Outcome(p, found, load, waiting, left, reconnected, drain_timeout=timed_out)
    out.log_errors, out.log_tracebacks = len(log.errors), log.tracebacks
    out.log_loggers, out.log_samples = log.by_logger(), log.distinct()
    out.log_errors_down = len(read_log(bot.log, p.down_at).errors) - len(
        read_log(bot.log, back_at + 60).errors
    )
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--down", type=float, default=300, help="seconds Slack is down (default 300)")
    p.add_argument("--before", type=float, default=60, help="seconds of load before (default 60)")
    p.add_argument("--after", type=float, default=60, help="seconds of load after (default 60)")
    p.add_argument("--every", type=float, default=3, help="seconds between POSTs (default 3)")
    p.add_argument(
        "--case-every",
        type=float,
        default=12,
        help="seconds between cases opened (default 12: each team's channel gets one every 48 s, "
        "below the 10 in 5 minutes that group a storm's case messages)",
    )
    p.add_argument(
        "--drain-timeout",
        type=float,
        default=900,
        help="seconds to wait for the outbox to empty (default 900)",
    )
    p.add_argument("--keep-log", type=Path, metavar="PATH", help="copy the bot's log there")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="loopbot-outage-slack-") as work:
        outcome = run(args, Path(work))
        text, ok = markdown(outcome, args)
    print(text)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
