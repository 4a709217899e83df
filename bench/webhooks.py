"""Webhook ingestion benchmark (issue 19): signed webhooks carrying one response each, from 8 concurrent
senders over real HTTP to `loopbot run` on a fresh SQLite database (no Slack token: ingestion only, cases
wait in the outbox), with two floors measured on the same server in the same run:
POST /api/feedback with the same one-item bodies and a bearer token (ingestion without signature or
mapping), and GET /healthz (no ingestion, but two database reads; its ping takes the write lock).

Run: .venv/bin/python -m bench.webhooks [--requests 6000] [--senders 8] [--runs 3]
Prints each run to stderr and medians as Markdown for bench/RESULTS.md to stdout.
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
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.datagen import BENCH_CONFIG, feedback, respondent  # noqa: E402
from bench.ingest import TOKEN, env_for, free_port  # noqa: E402
from bot.scores import is_negative  # noqa: E402
from config.teams import OpenCaseWhen  # noqa: E402

TOOLS = ("typeform", "delighted", "zendesk", "intercom", "standard")
# The raw secrets; Standard Webhooks writes its own as whsec_ + base64 of the key.
SECRETS = {tool: f"bench-{tool}-secret" for tool in TOOLS[:4]}
STANDARD_KEY = b"bench-standard-key"
SECRETS["standard"] = "whsec_" + base64.b64encode(STANDARD_KEY).decode()
FORMS = {"nps": "BenchNps", "csat": "BenchCsat", "ces": "BenchCes"}  # one Typeform form per metric
SOURCES = {
    "typeform": {
        "forms": {
            form: {
                "metric": metric,
                "score": "score",
                "comment": "why",
                "team": "hidden.team",
                "customer": "hidden.customer_id",
                "segment": "hidden.segment",
            }
            for metric, form in FORMS.items()
        }
    },
    "delighted": {
        "team": "properties.team",
        "customer": "person.id",
        "segment": "properties.segment",
    },
    "zendesk": {"team": "ticket.group", "customer": "ticket.requester.id", "good": 5, "bad": 1},
    "intercom": {"team": "attributes.team", "customer": "contact.external_id"},
}
# Where each request's response is stored: the Standard webhook takes Loopbot's own JSON, source "api".
SOURCE_OF = {tool: tool for tool in TOOLS[:4]} | {"standard": "api", "api": "api"}
DEFAULT_LIMITS = OpenCaseWhen()


@dataclass(frozen=True, slots=True)
class Request:
    kind: str  # a tool, "api" or "healthz"
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None = None
    key: tuple[str, str] | None = None  # (source, id) of the response it carries


@dataclass
class Phase:
    name: str
    wall: float
    latencies: list[float]
    kinds: list[str]
    answers: list[tuple[int, bytes]]
    server_cpu: float  # seconds of CPU `loopbot run` used during the phase
    client_cpu: float
    by_kind: dict[str, tuple[float, float]] = field(default_factory=dict)  # p50, p99 in ms

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall

    def pct(self, q: int, lat: list[float] | None = None) -> float:
        # quantiles' 99 cut points: [49] is p50, [98] p99; in ms.
        return statistics.quantiles(lat or self.latencies, n=100, method="inclusive")[q - 1] * 1e3


# -- payloads, pre-built and pre-signed so the clock measures the server ---------------------------


def _csat(it: dict) -> int:
    """A 1-5 rating for the CSAT-only tools, negative exactly when the drawn response is."""
    if it["metric"] == "csat":
        return it["score"]
    return 2 if is_negative(DEFAULT_LIMITS, it["metric"], it["score"]) else 4


def _typeform(it: dict, rid: str) -> tuple[dict, dict[str, str]]:
    secret = SECRETS["typeform"].encode()
    answers = [{"type": "number", "number": it["score"], "field": {"id": "f1", "ref": "score"}}]
    if it.get("comment"):
        answers.append({"type": "text", "text": it["comment"], "field": {"id": "f2", "ref": "why"}})
    hidden = {"team": it["team"], "customer_id": it["customer"], "segment": it.get("segment") or ""}
    payload = {
        "event_id": f"ev{rid}",
        "event_type": "form_response",
        "form_response": {
            "form_id": FORMS[it["metric"]],
            "token": rid,
            "landed_at": it["submitted_at"],
            "submitted_at": it["submitted_at"],
            "hidden": hidden,
            "definition": {"id": FORMS[it["metric"]], "title": "How are we doing?", "fields": []},
            "answers": answers,
        },
    }
    body = json.dumps(payload).encode()
    sig = base64.b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()
    return payload, {"Typeform-Signature": f"sha256={sig}"}


def _delighted(it: dict, rid: str) -> tuple[dict, dict[str, str]]:
    at = int(datetime.fromisoformat(it["submitted_at"]).timestamp())
    props = {"team": it["team"], "Delighted Source": "Email"}
    if it.get("segment"):
        props["segment"] = it["segment"]
    score = it["score"]
    payload = {
        "event_type": "survey_response.created",
        "event_id": f"ev{rid}",
        "event_data": {
            "id": rid,
            "person": {"id": it["customer"], "email": f"{it['customer']}@example.com"},
            "survey_type": it["metric"],
            # Delighted's CES runs the other way (7 = easy); the receiver turns it back.
            "score": 8 - score if it["metric"] == "ces" else score,
            "comment": it.get("comment"),
            "created_at": at,
            "updated_at": at,
            "person_properties": props,
            "notes": [],
            "tags": [],
        },
    }
    body = json.dumps(payload).encode()
    sig = hmac.new(SECRETS["delighted"].encode(), body, hashlib.sha256).hexdigest()
    return payload, {"X-Delighted-Webhook-Signature": f"sha256={sig}"}


def _zendesk(it: dict, rid: str) -> tuple[dict, dict[str, str]]:
    payload = {
        "ticket": {"id": rid, "group": it["team"], "requester": {"id": it["customer"]}},
        "satisfaction": {
            "current_rating": "Bad" if _csat(it) <= 2 else "Good",
            "current_comment": it.get("comment") or "",
        },
    }
    # Zendesk signs the time it sent: the response's time is that header (no time in the body).
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = json.dumps(payload).encode()
    digest = hmac.new(SECRETS["zendesk"].encode(), stamp.encode() + body, hashlib.sha256).digest()
    return payload, {
        "X-Zendesk-Webhook-Signature": base64.b64encode(digest).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
    }


def _intercom(it: dict, rid: str) -> tuple[dict, dict[str, str]]:
    at = int(datetime.fromisoformat(it["submitted_at"]).timestamp())
    rating = {"rating": _csat(it), "remark": it.get("comment"), "created_at": at - 60}
    rating["contact"] = {"type": "contact", "id": f"c{rid}", "external_id": it["customer"]}
    payload = {
        "type": "notification_event",
        "topic": "conversation.rating.added",
        "id": f"notif_{rid}",
        "created_at": at,
        "data": {
            "type": "notification_event_data",
            "item": {
                "type": "conversation",
                "id": rid,
                "custom_attributes": {"team": it["team"]},
                "conversation_rating": rating,
            },
        },
    }
    body = json.dumps(payload).encode()
    sig = hmac.new(SECRETS["intercom"].encode(), body, hashlib.sha1).hexdigest()
    return payload, {"X-Hub-Signature": f"sha1={sig}"}


def _standard(it: dict, rid: str) -> tuple[dict, dict[str, str]]:
    payload = {**it, "id": rid}
    stamp = str(int(time.time()))
    body = json.dumps(payload).encode()
    signed = f"msg_{rid}.{stamp}.".encode() + body
    sig = base64.b64encode(hmac.new(STANDARD_KEY, signed, hashlib.sha256).digest()).decode()
    return payload, {
        "webhook-id": f"msg_{rid}",
        "webhook-timestamp": stamp,
        "webhook-signature": f"v1,{sig}",
    }


BUILD = {"typeform": _typeform, "delighted": _delighted, "zendesk": _zendesk}
BUILD |= {"intercom": _intercom, "standard": _standard}


def responses(n: int, seed: int) -> list[dict]:
    """n responses of the last hour (so negative ones open cases), with customer and segment."""
    rng = random.Random(seed)
    end = datetime.now(UTC) - timedelta(minutes=1)
    out = []
    for it in feedback(n, seed=seed, days=1 / 24, end=end):
        who = respondent(rng, it["metric"], it["score"])
        it["customer"] = who["customer"]
        if who["segment"]:
            it["segment"] = who["segment"]
        out.append(it)
    return out


def webhook_requests(n: int, seed: int, tag: str) -> list[Request]:
    """n signed webhooks rotating over the tools, each carrying a new response (ids unique by tag)."""
    reqs = []
    for i, it in enumerate(responses(n, seed)):
        tool, rid = TOOLS[i % len(TOOLS)], f"{tag}{i}"
        payload, headers = BUILD[tool](it, rid)
        body = json.dumps(payload).encode()  # the same bytes as signed: json.dumps is deterministic
        headers["Content-Type"] = "application/json"
        reqs.append(
            Request(tool, "POST", f"/api/webhooks/{tool}", headers, body, (SOURCE_OF[tool], rid))
        )
    return reqs


def api_requests(n: int, seed: int, tag: str) -> list[Request]:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    return [
        Request(
            "api",
            "POST",
            "/api/feedback",
            headers,
            json.dumps({**it, "id": f"{tag}{i}"}).encode(),
            ("api", f"{tag}{i}"),
        )
        for i, it in enumerate(responses(n, seed))
    ]


def health_requests(n: int) -> list[Request]:
    return [Request("healthz", "GET", "/healthz", {})] * n


# -- driving -----------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far, from /proc (fields 14 and 15, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drive(name: str, clients: list[httpx.Client], reqs: list[Request], pid: int) -> Phase:
    """Each sender sends its share back to back, the next as soon as the previous is answered; all start
    together at a barrier. Answers are only kept under the clock and checked after it."""
    shares = [reqs[i :: len(clients)] for i in range(len(clients))]
    done: list[list[tuple[float, int, bytes]]] = [[] for _ in clients]
    gate = threading.Barrier(len(clients) + 1)

    def sender(i: int) -> None:
        c, out, clock = clients[i], done[i], time.perf_counter
        gate.wait()
        for r in shares[i]:
            t = clock()
            a = c.request(r.method, r.path, content=r.body, headers=r.headers)
            out.append((clock() - t, a.status_code, a.content))

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    server0, client0 = cpu_seconds(pid), time.process_time()
    gate.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    server_cpu, client_cpu = cpu_seconds(pid) - server0, time.process_time() - client0
    flat = [(s[j], d) for s, out in zip(shares, done, strict=True) for j, d in enumerate(out)]
    if len(flat) != len(reqs):
        raise RuntimeError(f"{name}: {len(reqs) - len(flat)} requests were not answered")
    phase = Phase(
        name,
        wall,
        [d[0] for _, d in flat],
        [r.kind for r, _ in flat],
        [(d[1], d[2]) for _, d in flat],
        server_cpu,
        client_cpu,
    )
    for kind in dict.fromkeys(phase.kinds):
        lat = [x for x, k in zip(phase.latencies, phase.kinds, strict=True) if k == kind]
        phase.by_kind[kind] = (phase.pct(50, lat), phase.pct(99, lat))
    return phase


def check_answers(phase: Phase) -> int:
    """Every answer 200, every ingestion stored its one response as new; the number of cases opened."""
    cases = 0
    for kind, (status, content) in zip(phase.kinds, phase.answers, strict=True):
        if status != 200:
            raise AssertionError(f"{phase.name}: {kind} answered {status}: {content[:300]!r}")
        if kind == "healthz":
            continue
        got = json.loads(content)
        if (got["accepted"], got["duplicates"], got["updated"]) != (1, 0, 0):
            raise AssertionError(f"{phase.name}: {kind} answered {got}")
        cases += len(got["cases"])
    return cases


def wait_healthy(c: httpx.Client) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if c.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("loopbot run did not come up")


def one_run(work: Path, n: int, warmup: int, senders: int, run: int) -> dict[str, Phase]:
    db = work / f"webhooks-{run}.db"
    port = free_port()
    secrets = {f"LOOPBOT_WEBHOOK_SECRET_{t.upper()}": s for t, s in SECRETS.items()}
    env = env_for(work, db, LOOPBOT_PORT=str(port), LOOPBOT_HOST="127.0.0.1", **secrets)
    # Ingestion only, whatever the caller's shell holds.
    env = {k: v for k, v in env.items() if not k.startswith("SLACK_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "loopbot", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    # One keep-alive connection per sender; timeouts far above any target so a slow answer is measured.
    clients = [httpx.Client(base_url=base, timeout=60) for _ in range(senders)]
    keys: set[tuple[str, str]] = set()
    cases = 0
    try:
        wait_healthy(clients[0])
        # Warm-up, not counted: connections opened, code paths and caches of every kind exercised.
        warm = webhook_requests(warmup, 100 + run, "w") + api_requests(warmup // 2, 200 + run, "wa")
        warm += health_requests(warmup // 4)
        random.Random(run).shuffle(warm)
        phase = drive("warm-up", clients, warm, server.pid)
        cases += check_answers(phase)
        keys |= {r.key for r in warm if r.key}
        phases = {}
        # Built just before each phase: Zendesk and Standard signatures expire after 5 minutes.
        for name, build in (
            ("webhooks", lambda: webhook_requests(n, 300 + run, "h")),
            ("api", lambda: api_requests(n, 400 + run, "a")),
            ("healthz", lambda: health_requests(n)),
        ):
            reqs = build()
            phases[name] = drive(name, clients, reqs, server.pid)
            cases += check_answers(phases[name])
            keys |= {r.key for r in reqs if r.key}
    finally:
        for c in clients:
            c.close()
        server.terminate()
        server.wait(30)
    # What was stored, read after the server stopped: one row per distinct (source, id) sent.
    with sqlite3.connect(db) as conn:
        stored = dict(
            conn.execute("SELECT source, count(*) FROM feedback GROUP BY source").fetchall()
        )
        case_rows = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    expected = dict(Counter(source for source, _ in keys))
    if stored != expected or case_rows != cases:
        raise AssertionError(f"stored {stored}, {case_rows} cases; sent {expected}, {cases} cases")
    sent = sum(expected.values())
    print(
        f"run {run}: {sent:,} distinct responses sent and stored, {cases:,} cases opened "
        f"({cases / sent:.0%})",
        file=sys.stderr,
    )
    for p in phases.values():
        print(
            f"  {p.name}: {p.rate:,.0f} req/s, p50 {p.pct(50):.1f} ms, p99 {p.pct(99):.1f} ms, "
            f"max {max(p.latencies) * 1e3:.0f} ms; server CPU {p.server_cpu / len(p.latencies) * 1e3:.2f} "
            f"ms/req ({p.server_cpu / p.wall:.0%} of a core), client {p.client_cpu / p.wall:.0%}",
            file=sys.stderr,
        )
    hook = phases["webhooks"]
    print(
        "  per tool: "
        + ", ".join(f"{k} {a:.1f}/{b:.1f}" for k, (a, b) in hook.by_kind.items())
        + " ms p50/p99",
        file=sys.stderr,
    )
    return phases


# -- report ------------------------------------------------------------------------------------------


def row(label: str, values: list[float], fmt: str, target: str = "", ok: bool | None = None) -> str:
    verdict = "" if ok is None else ("met" if ok else "MISSED")
    runs = " · ".join(format(v, fmt) for v in values)
    return f"| {label} | {format(statistics.median(values), fmt)} | {runs} | {target} | {verdict} |"


def latency_row(label: str, pairs: list[tuple[float, float]]) -> str:
    """p50 / p99 in ms: the median of each over the runs, then each run's."""
    p50, p99 = statistics.median(a for a, _ in pairs), statistics.median(b for _, b in pairs)
    runs = " · ".join(f"{a:.1f} / {b:.1f}" for a, b in pairs)
    return f"| {label} | {p50:.1f} / {p99:.1f} | {runs} | | |"


def report(runs: list[dict[str, Phase]], n: int, senders: int) -> None:
    h, a, z = ([r[k] for r in runs] for k in ("webhooks", "api", "healthz"))
    rate, p99 = [p.rate for p in h], [p.pct(99) for p in h]
    print(
        f"\n### Webhook ingestion — {datetime.now(UTC):%Y-%m-%d}, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version} (WAL), medians of {len(runs)} runs\n"
    )
    print(
        f"{n:,} requests per measure, each a new response, {senders} senders back to back on "
        "keep-alive connections (client on the same cores); all measures on the same server.\n"
    )
    print("| measure | median | runs | target | |")
    print("|---|---|---|---|---|")
    print(row("webhooks, 5 tools in turn: requests/s", rate, ",.0f", "≥ 500", median(rate) >= 500))
    print(row("webhooks p50, ms", [p.pct(50) for p in h], ".1f"))
    print(row("webhooks p99, ms", p99, ".1f", "≤ 50 ms", median(p99) <= 50))
    print(row("webhooks max, ms", [max(p.latencies) * 1e3 for p in h], ".0f"))
    for tool in TOOLS:
        print(latency_row(f"— {tool} p50 / p99, ms", [p.by_kind[tool] for p in h]))
    floors = (
        ("floor 1: POST /api/feedback, one item, bearer token", a),
        ("floor 2: GET /healthz (2 DB reads, no ingestion)", z),
    )
    for i, (label, ps) in enumerate(floors, 1):
        print(row(f"{label}: requests/s", [p.rate for p in ps], ",.0f"))
        print(latency_row(f"floor {i} p50 / p99, ms", [(p.pct(50), p.pct(99)) for p in ps]))
        ratios = [x.rate / y.rate for x, y in zip(h, ps, strict=True)]
        print(row(f"webhooks / floor {i}, requests/s per run", ratios, ".2f"))
    for label, ps in (("webhooks", h), ("floor 1", a), ("floor 2", z)):
        cpu = [p.server_cpu / len(p.latencies) * 1e3 for p in ps]
        print(row(f"`loopbot run` CPU per request, {label}, ms", cpu, ".2f"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=6_000, help="per measure, after the warm-up")
    p.add_argument(
        "--warmup", type=int, default=800, help="webhooks before the clock (plus api, healthz)"
    )
    p.add_argument("--senders", type=int, default=8)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="loopbot-bench-"))
    try:
        config = {**BENCH_CONFIG, "sources": SOURCES}
        (work / "bench.yaml").write_text(yaml.safe_dump(config))
        runs = [
            one_run(work, args.requests, args.warmup, args.senders, i + 1) for i in range(args.runs)
        ]
        report(runs, args.requests, args.senders)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
