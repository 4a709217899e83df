"""Webhook ingestion benchmark (issue 19): signed webhooks of the five tools in turn, one new
response each, from 8 concurrent senders over real HTTP to `loopbot run` on a fresh SQLite database
(no Slack token: ingestion only, cases wait in the outbox). Floors, same server, same run:
  1. POST /api/feedback with one item per request and a bearer token: the same ingestion without
     signature or mapping;
  2. GET /healthz: no ingestion, but not free: a `SELECT 1` under BEGIN IMMEDIATE (the write lock)
     and a query of the outbox, each in its own hop to the thread pool;
  3. GET of a path no route serves: the router's 404, the HTTP stack alone (no thread hop, no DB);
     its rate is bound by the senders (httpx, ~0.7 ms of client CPU a request): read its server CPU.

Run: .venv/bin/python bench/webhooks.py [--requests 6000] [--senders 8] [--runs 3]
Prints each run to stderr, then medians and ratios as Markdown for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median, quantiles

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.datagen import BENCH_CONFIG, feedback, respondent  # noqa: E402
from bench.ingest import TOKEN, env_for, free_port  # noqa: E402
from bot.scores import is_negative  # noqa: E402
from config.teams import OpenCaseWhen  # noqa: E402

TOOLS = ("typeform", "delighted", "zendesk", "intercom", "standard")
SECRETS = {tool: f"bench-{tool}-secret" for tool in TOOLS[:4]}
STANDARD_KEY = b"bench-standard-key"  # written as Standard Webhooks writes secrets: whsec_ + base64
SECRETS["standard"] = "whsec_" + base64.b64encode(STANDARD_KEY).decode()
FORMS = {"nps": "BenchNps", "csat": "BenchCsat", "ces": "BenchCes"}  # a Typeform form per metric
ROUTED = {"team": "hidden.team", "customer": "hidden.customer_id", "segment": "hidden.segment"}
FORM = {"score": "score", "comment": "why", **ROUTED}  # field refs of the answers, hidden fields
SOURCES = {
    "typeform": {"forms": {form: {"metric": metric, **FORM} for metric, form in FORMS.items()}},
    "delighted": {
        "team": "properties.team",
        "customer": "person.id",
        "segment": "properties.segment",
    },
    "zendesk": {"team": "ticket.group", "customer": "ticket.requester.id", "good": 5, "bad": 1},
    "intercom": {"team": "attributes.team", "customer": "contact.external_id"},
}
# The source responses are stored under: the Standard webhook takes Loopbot's own JSON, as the API.
SOURCE_OF = {tool: tool for tool in TOOLS[:4]} | {"standard": "api", "api": "api"}


@dataclass(frozen=True, slots=True)
class Request:
    kind: str  # a tool, "api", "healthz" or "http"
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None = None
    key: tuple[str, str] | None = None  # (source, id) of the response it carries


@dataclass
class Phase:
    wall: float
    latencies: list[float]
    kinds: list[str]
    answers: list[tuple[int, bytes]]
    server_cpu: float  # seconds of CPU `loopbot run` used while the phase ran
    client_cpu: float  # and this process, the senders

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall

    @property
    def cpu_ms(self) -> float:  # of `loopbot run`, per request
        return self.server_cpu / len(self.latencies) * 1e3

    def pct(self, q: int, kind: str | None = None) -> float:
        lat = [x for x, k in zip(self.latencies, self.kinds) if kind in (None, k)]
        return quantiles(lat, n=100, method="inclusive")[q - 1] * 1e3  # ms


# -- requests, built and signed before the clock starts --------------------------------------------


def sign(tool: str, body: bytes) -> dict[str, str]:
    """The tool's signature headers, as its receiver checks them (bot/feedback/webhooks/)."""
    key = STANDARD_KEY if tool == "standard" else SECRETS[tool].encode()
    if tool == "typeform":  # sha256= + base64 of the body's HMAC-SHA256
        return {"Typeform-Signature": "sha256=" + _b64(hmac.digest(key, body, "sha256"))}
    if tool == "delighted":  # sha256= + hex
        sig = hmac.digest(key, body, "sha256").hex()
        return {"X-Delighted-Webhook-Signature": f"sha256={sig}"}
    if tool == "intercom":  # sha1= + hex of HMAC-SHA1
        return {"X-Hub-Signature": "sha1=" + hmac.digest(key, body, "sha1").hex()}
    if tool == "zendesk":  # base64 over timestamp + body; the time it sends, checked for replays
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        sig = _b64(hmac.digest(key, at.encode() + body, "sha256"))
        return {"X-Zendesk-Webhook-Signature": sig, "X-Zendesk-Webhook-Signature-Timestamp": at}
    # Standard Webhooks: v1,base64 over "id.timestamp.body", Unix seconds, checked for replays too.
    msg, at = f"msg_{hashlib.sha1(body).hexdigest()}", str(int(time.time()))
    sig = _b64(hmac.digest(key, f"{msg}.{at}.".encode() + body, "sha256"))
    return {"webhook-id": msg, "webhook-timestamp": at, "webhook-signature": f"v1,{sig}"}


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def _csat(it: dict) -> int:
    """A 1-5 rating for the CSAT-only tools, negative exactly when the drawn response is."""
    if it["metric"] == "csat":
        return it["score"]
    return 2 if is_negative(OpenCaseWhen(), it["metric"], it["score"]) else 4


def payload(tool: str, it: dict, rid: str) -> dict:
    """A response as the tool's webhook carries it (the shapes of tests/api/fixtures, trimmed)."""
    at, comment, team, customer = it["submitted_at"], it.get("comment"), it["team"], it["customer"]
    unix = int(datetime.fromisoformat(at).timestamp())
    if tool == "typeform":
        answers = [{"type": "number", "number": it["score"], "field": {"ref": "score"}}]
        if comment:
            answers.append({"type": "text", "text": comment, "field": {"ref": "why"}})
        hidden = {"team": team, "customer_id": customer, "segment": it.get("segment", "")}
        form = {"form_id": FORMS[it["metric"]], "token": rid, "landed_at": at, "submitted_at": at}
        form |= {"hidden": hidden, "answers": answers}
        return {"event_id": f"e{rid}", "event_type": "form_response", "form_response": form}
    if tool == "delighted":
        props = {"team": team} | ({"segment": it["segment"]} if "segment" in it else {})
        # Delighted's CES runs the other way (7 = easiest); the receiver turns it back.
        score = 8 - it["score"] if it["metric"] == "ces" else it["score"]
        data = {"id": rid, "person": {"id": customer}, "survey_type": it["metric"], "score": score}
        data |= {"comment": comment, "created_at": unix, "person_properties": props}
        return {"event_type": "survey_response.created", "event_id": f"e{rid}", "event_data": data}
    if tool == "zendesk":  # the trigger's JSON body; the signed timestamp is the response's time
        rating = {"current_rating": "Bad" if _csat(it) <= 2 else "Good"}
        ticket = {"id": rid, "group": team, "requester": {"id": customer}}
        return {"ticket": ticket, "satisfaction": rating | {"current_comment": comment or ""}}
    if tool == "intercom":
        rating = {"rating": _csat(it), "remark": comment, "created_at": unix - 60}
        rating["contact"] = {"type": "contact", "id": f"c{rid}", "external_id": customer}
        item = {"type": "conversation", "id": rid, "custom_attributes": {"team": team}}
        data = {"type": "notification_event_data", "item": item | {"conversation_rating": rating}}
        topic = "conversation.rating.added"
        return {"type": "notification_event", "topic": topic, "created_at": unix, "data": data}
    return {**it, "id": rid}  # Standard Webhooks and /api/feedback: Loopbot's own JSON


def responses(n: int, seed: int) -> list[dict]:
    """n responses of the last hour (negative ones open cases: ~16 % with datagen's score mix)."""
    rng = random.Random(seed)
    out = list(feedback(n, seed=seed, days=1 / 24, end=datetime.now(UTC) - timedelta(minutes=1)))
    for it in out:
        who = respondent(rng, it["metric"], it["score"])
        it["customer"] = who["customer"]
        if who["segment"]:
            it["segment"] = who["segment"]
    return out


def posts(kind: str, n: int, seed: int, tag: str) -> list[Request]:
    """n POSTs, each a new response: webhooks of the tools in turn, or /api/feedback items."""
    reqs, json_ = [], {"Content-Type": "application/json"}
    for i, it in enumerate(responses(n, seed)):
        tool, rid = TOOLS[i % len(TOOLS)] if kind == "webhooks" else "api", f"{tag}{i}"
        body = json.dumps(payload(tool, it, rid)).encode()
        if tool == "api":
            path, headers = "/api/feedback", json_ | {"Authorization": f"Bearer {TOKEN}"}
        else:
            path, headers = f"/api/webhooks/{tool}", json_ | sign(tool, body)
        reqs.append(Request(tool, "POST", path, headers, body, (SOURCE_OF[tool], rid)))
    return reqs


def gets(kind: str, path: str, n: int) -> list[Request]:
    return [Request(kind, "GET", path, {})] * n


# -- driving ---------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far: /proc/PID/stat fields 14 and 15, in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drive(clients: list[httpx.Client], reqs: list[Request], pid: int) -> Phase:
    """Each sender sends its share back to back, the next as soon as the previous is answered, all
    starting together; answers are kept as bytes under the clock and checked after it."""
    shares = [reqs[i :: len(clients)] for i in range(len(clients))]
    done: list[list[tuple[float, int, bytes]]] = [[] for _ in clients]
    gate = threading.Barrier(len(clients) + 1)

    def sender(c: httpx.Client, mine: list[Request], out: list, clock=time.perf_counter) -> None:
        gate.wait()
        for r in mine:
            t = clock()
            a = c.request(r.method, r.path, content=r.body, headers=r.headers)
            out.append((clock() - t, a.status_code, a.content))

    threads = [threading.Thread(target=sender, args=a) for a in zip(clients, shares, done)]
    for t in threads:
        t.start()
    server, client = cpu_seconds(pid), time.process_time()
    gate.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    server, client = cpu_seconds(pid) - server, time.process_time() - client
    pairs = [(r.kind, *d) for share, out in zip(shares, done) for r, d in zip(share, out)]
    if len(pairs) != len(reqs):
        raise RuntimeError(f"{len(reqs) - len(pairs)} requests were not answered")
    kinds, latencies, statuses, bodies = (list(x) for x in zip(*pairs))
    return Phase(wall, latencies, kinds, list(zip(statuses, bodies)), server, client)


def check(phase: Phase) -> int:
    """Every answer 200, every ingestion stored its one response as new; the cases opened."""
    cases = 0
    for kind, (status, content) in zip(phase.kinds, phase.answers):
        if status != (404 if kind == "http" else 200):
            raise AssertionError(f"{kind} answered {status}: {content[:300]!r}")
        if kind not in ("healthz", "http"):
            got = json.loads(content)
            if (got["accepted"], got["duplicates"], got["updated"]) != (1, 0, 0):
                raise AssertionError(f"{kind} answered {got}")
            cases += len(got["cases"])
    return cases


def wait_healthy(c: httpx.Client, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            if c.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.1)
    raise RuntimeError("loopbot run did not come up")


MEASURES: dict[str, Callable[[int, int], list[Request]]] = {
    "webhooks": lambda n, run: posts("webhooks", n, 300 + run, "h"),
    "api": lambda n, run: posts("api", n, 400 + run, "a"),
    "healthz": lambda n, run: gets("healthz", "/healthz", n),
    "http": lambda n, run: gets("http", "/bench-no-such-path", n),
}


def one_run(work: Path, n: int, warmup: int, senders: int, run: int) -> dict[str, Phase]:
    db, port = work / f"webhooks-{run}.db", free_port()
    secrets = {f"LOOPBOT_WEBHOOK_SECRET_{t.upper()}": s for t, s in SECRETS.items()}
    env = env_for(work, db, LOOPBOT_PORT=str(port), LOOPBOT_HOST="127.0.0.1", **secrets)
    # Ingestion only, whatever the calling shell holds.
    env = {k: v for k, v in env.items() if not k.startswith("SLACK_")}
    cmd, out = [sys.executable, "-m", "loopbot", "run"], subprocess.DEVNULL
    server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=out)
    # A keep-alive connection per sender; a timeout far above any target: slow answers are measured.
    base = f"http://127.0.0.1:{port}"
    clients = [httpx.Client(base_url=base, timeout=60) for _ in range(senders)]
    keys: set[tuple[str, str]] = set()
    cases, phases = 0, {}
    try:
        wait_healthy(clients[0], time.monotonic() + 60)
        # Not counted: opens the connections, runs every path before the clock (imports, caches).
        warm = posts("webhooks", warmup, 100 + run, "w") + gets("healthz", "/healthz", warmup // 4)
        warm += posts("api", warmup // 2, 200 + run, "wa")
        random.Random(run).shuffle(warm)
        cases += check(drive(clients, warm, server.pid))
        keys |= {r.key for r in warm if r.key}
        for name, build in MEASURES.items():
            reqs = build(n, run)  # signed just before: Zendesk, Standard refuse them 5 min old
            phases[name] = drive(clients, reqs, server.pid)
            cases += check(phases[name])
            keys |= {r.key for r in reqs if r.key}
    finally:
        for c in clients:
            c.close()
        server.terminate()
        server.wait(30)
    # Read after the server stopped: a row per distinct (source, id) sent, a case per case answered.
    with sqlite3.connect(db) as conn:
        stored = dict(conn.execute("SELECT source, count(*) FROM feedback GROUP BY source"))
        (case_rows,) = conn.execute("SELECT count(*) FROM cases").fetchone()
    sent = dict(Counter(source for source, _ in keys))
    if stored != sent or case_rows != cases:
        raise AssertionError(f"stored {stored}, {case_rows} cases; sent {sent}, {cases} cases")
    log(f"run {run}: {len(keys):,} distinct responses sent and stored, {cases:,} cases opened\n")
    for name, p in phases.items():
        log(f"  {name}: {p.rate:,.0f} req/s, p50 {p.pct(50):.1f} ms, p99 {p.pct(99):.1f} ms, ")
        log(f"max {max(p.latencies) * 1e3:.0f} ms; server CPU {p.cpu_ms:.2f} ms/req, ")
        log(f"{p.server_cpu / p.wall:.0%} of a core; client {p.client_cpu / p.wall:.0%}\n")
    hooks = phases["webhooks"]
    tools = ", ".join(f"{t} {hooks.pct(50, t):.1f}/{hooks.pct(99, t):.1f}" for t in TOOLS)
    log(f"  webhooks p50/p99 by tool, ms: {tools}\n")
    return phases


def log(text: str) -> None:
    sys.stderr.write(text)


# -- report ----------------------------------------------------------------------------------------

LABELS = {
    "api": "floor 1: POST /api/feedback, one item per request, bearer token",
    "healthz": "floor 2: GET /healthz (no ingestion; `SELECT 1` under the write lock, outbox read)",
    "http": "floor 3: GET of an unrouted path, the router's 404 (HTTP stack only)",
}


def row(label: str, values: list[float], fmt: str, target: str = "", ok: bool | None = None) -> str:
    verdict = "" if ok is None else "met" if ok else "MISSED"
    runs = " · ".join(format(v, fmt) for v in values)
    return f"| {label} | {format(median(values), fmt)} | {runs} | {target} | {verdict} |"


def pair(label: str, pairs: list[tuple[float, float]]) -> str:
    """Two figures per run (p50 / p99): the median of each over the runs, then each run's."""
    runs = " · ".join(f"{a:.1f} / {b:.1f}" for a, b in pairs)
    a, b = median(a for a, _ in pairs), median(b for _, b in pairs)
    return f"| {label} | {a:.1f} / {b:.1f} | {runs} | | |"


def report(runs: list[dict[str, Phase]], n: int, senders: int) -> None:
    by = {name: [r[name] for r in runs] for name in MEASURES}
    hooks = by["webhooks"]
    rate, p99 = [p.rate for p in hooks], [p.pct(99) for p in hooks]
    print(f"\n### Webhook ingestion — {datetime.now(UTC):%Y-%m-%d}, {platform.node()}, ", end="")
    print(f"{os.cpu_count()} cores (nproc), Python {platform.python_version()}, ", end="")
    print(f"SQLite {sqlite3.sqlite_version} (WAL), medians of {len(runs)} runs\n")
    print(f"{n:,} requests per measure after a warm-up, {senders} senders back to back on")
    print(
        "keep-alive connections, the client on the same cores; all measures on the same server.\n"
    )
    print("| measure | median | runs | target | |\n|---|---|---|---|---|")
    print(row("webhooks, 5 tools in turn: requests/s", rate, ",.0f", "≥ 500", median(rate) >= 500))
    print(row("webhooks p99, ms", p99, ".1f", "≤ 50 ms", median(p99) <= 50))
    print(row("webhooks p50, ms", [p.pct(50) for p in hooks], ".1f"))
    print(row("webhooks max, ms", [max(p.latencies) * 1e3 for p in hooks], ".0f"))
    for tool in TOOLS:
        print(pair(f"— {tool}: p50 / p99, ms", [(p.pct(50, tool), p.pct(99, tool)) for p in hooks]))
    for name, label in LABELS.items():
        floor = by[name]
        print(row(f"{label}: requests/s", [p.rate for p in floor], ",.0f"))
        print(pair(f"{name}: p50 / p99, ms", [(p.pct(50), p.pct(99)) for p in floor]))
        ratios = [h.rate / f.rate for h, f in zip(hooks, floor)]
        print(row(f"webhooks / {name}, requests/s in each run", ratios, ".2f"))
    for name, phases in by.items():
        cpu = [p.cpu_ms for p in phases]
        print(row(f"{name}: CPU of `loopbot run` per request, ms", cpu, ".2f"))
        client = [p.client_cpu / p.wall * 100 for p in phases]
        print(row(f"{name}: CPU of the senders, % of a core", client, ".0f"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--requests", type=int, default=6_000, help="per measure (default 6000)")
    p.add_argument("--warmup", type=int, default=800, help="webhooks before the clock, and more")
    p.add_argument("--senders", type=int, default=8)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="loopbot-bench-"))
    try:
        (work / "bench.yaml").write_text(yaml.safe_dump({**BENCH_CONFIG, "sources": SOURCES}))
        runs = [
            one_run(work, args.requests, args.warmup, args.senders, run)
            for run in range(1, args.runs + 1)
        ]
        report(runs, args.requests, args.senders)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
