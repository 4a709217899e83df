"""POST /api/feedback over real HTTP: success, idempotency, every kind of bad input, limits, outages."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.feedback.ingest import Ingestor
from storage.db import make_engine, make_sessions
from storage.models import Case, Feedback
from tests.factories import item


def count(engine, model=Feedback) -> int:  # noqa: ANN001
    with make_sessions(engine)() as s:
        return s.scalar(select(func.count()).select_from(model))


def stored(engine) -> list[Feedback]:  # noqa: ANN001
    with make_sessions(engine)() as s:
        return list(s.scalars(select(Feedback).order_by(Feedback.id)))


def test_one_object_and_an_array_are_accepted(api, engine):
    with api.client() as c:
        r1 = c.post("/api/feedback", json=item(id="a1", score=4))
        r2 = c.post(
            "/api/feedback",
            json=[
                item(id="a2", score=1, comment="Rude driver"),
                item(id="a3", touchpoint="post-delivery", team=...),
            ],
        )
    assert r1.status_code == 200 and r1.json() == {
        "accepted": 1,
        "duplicates": 0,
        "updated": 0,
        "cases": [],
    }
    assert r2.status_code == 200
    body = r2.json()
    assert body["accepted"] == 2 and body["duplicates"] == 0 and len(body["cases"]) == 1
    assert body["cases"][0].startswith("FB-")
    rows = stored(engine)
    assert [(f.external_id, f.source, f.team, f.category) for f in rows] == [
        ("a1", "api", "delivery", None),
        ("a2", "api", "delivery", "rude_staff"),
        ("a3", "api", "delivery", None),
    ]


def test_resending_is_a_no_op_counted_as_duplicate_also_inside_one_batch(api, engine):
    batch = [
        item(id="d1", score=1),
        item(id="d2"),
        item(id="d1", score=1),
        item(id="d2", source="other-tool"),
    ]
    with api.client() as c:
        first = c.post("/api/feedback", json=batch).json()
        again = c.post("/api/feedback", json=batch).json()
    assert (first["accepted"], first["duplicates"], len(first["cases"])) == (3, 1, 1)
    assert again == {"accepted": 0, "duplicates": 4, "updated": 0, "cases": []}
    assert count(engine) == 3 and count(engine, Case) == 1


def test_old_negative_feedback_is_stored_but_opens_no_case(api, engine):
    old = (datetime.now(UTC) - timedelta(hours=25)).isoformat()
    with api.client() as c:
        r = c.post(
            "/api/feedback", json=[item(score=1, submitted_at=old), item(metric="nps", score=3)]
        )
    assert r.json()["accepted"] == 2 and len(r.json()["cases"]) == 1


def test_pii_is_masked_and_sql_and_mrkdwn_are_stored_verbatim(api, engine):
    sql = "Robert'); DROP TABLE feedback;-- was late"
    mrkdwn = "<!channel> *urgent* <https://evil.example|click> & <@U123>"
    with api.client() as c:
        r = c.post(
            "/api/feedback",
            json=[
                item(id="p1", comment="Mail me at jane.doe@example.com or call +44 20 7946 0958"),
                item(id="p2", comment=sql),
                item(id="p3", comment=mrkdwn),
            ],
        )
    assert r.status_code == 200
    comments = [f.comment for f in stored(engine)]
    assert comments == ["Mail me at [email] or call [phone]", sql, mrkdwn]
    assert stored(engine)[1].category == "late_delivery"


def errors_of(response) -> list[tuple]:  # noqa: ANN001
    return [(e["index"], e["field"], e["message"]) for e in response.json()["errors"]]


def test_invalid_items_answer_422_with_every_error_and_store_nothing(api, engine):
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    batch = [
        item(id="ok"),
        item(score="5"),
        item(metric="nps", score=11),
        item(submitted_at="2026-11-20T10:00:00"),
        item(submitted_at=future),
        item(team="marketing"),
        item(team=..., touchpoint="kiosk"),
        item(comment="x" * 10_000),
        {"metric": "csat"},
        "not an object",
        item(id=42, extra_field=1),
    ]
    with api.client() as c:
        r = c.post("/api/feedback", json=batch)
    assert r.status_code == 422
    errs = errors_of(r)
    assert (1, "score", "must be an integer") in errs
    assert (2, "score", "11 is outside the nps scale 0–10") in errs
    assert (
        3,
        "submitted_at",
        "has no UTC offset; add one (Z or +01:00), e.g. 2026-11-22T09:30:00+01:00",
    ) in errs
    assert (
        4,
        "submitted_at",
        "is in the future (more than 5 minutes ahead of the server clock)",
    ) in errs
    assert (5, "team", "unknown team 'marketing' (configured: delivery, support)") in errs
    assert (
        6,
        "touchpoint",
        "no routing for touchpoint 'kiosk' (routed: chat, post-delivery); send `team` instead",
    ) in errs
    assert (7, "comment", "is too long (at most 5000 characters)") in errs
    assert {
        (8, "id", "is required"),
        (8, "submitted_at", "is required"),
        (8, "score", "is required"),
    } <= set(errs)
    assert (9, "", "must be a JSON object") in errs
    assert (10, "id", "must be a string") in errs
    assert any(e[:2] == (10, "extra_field") for e in errs)
    assert not any(e[0] == 0 for e in errs)
    assert count(engine) == 0 and count(engine, Case) == 0


@pytest.mark.parametrize(
    "body, message",
    [
        (b'{"id": "1", "metric": ', "is not valid UTF-8 JSON"),
        (b'[{"id": "1"},]', "is not valid UTF-8 JSON"),
        ('{"id": "caf\xe9"}'.encode("latin-1"), "is not valid UTF-8 JSON"),
    ],
)
def test_malformed_json_and_non_utf8_are_400_naming_the_body(api, engine, body, message):
    with api.client() as c:
        r = c.post("/api/feedback", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "body" and message in r.json()["errors"][0]["message"]
    assert count(engine) == 0


@pytest.mark.parametrize("body", [b"42", b'"text"', b"null", b"[]"])
def test_body_that_is_not_an_object_or_array_is_422(api, body):
    with api.client() as c:
        r = c.post("/api/feedback", content=body)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body"


def test_too_many_items_is_413(api, engine):
    with api.client() as c:
        r = c.post("/api/feedback", json=[item() for _ in range(5_001)])
    assert r.status_code == 413 and "at most 5000" in r.json()["error"]
    assert count(engine) == 0


def test_body_over_the_byte_limit_is_413_also_when_chunked(serve, engine, ingestor):
    running = serve(engine, ingestor, LOOPBOT_MAX_BODY_BYTES=4096)
    payload = json.dumps([item(comment="y" * 3000), item(comment="z" * 3000)]).encode()
    with running.client() as c:
        declared = c.post(
            "/api/feedback", content=payload, headers={"Content-Type": "application/json"}
        )
        chunked = c.post("/api/feedback", content=iter([payload[:3000], payload[3000:]]))
    assert declared.status_code == 413 and chunked.status_code == 413
    assert "larger than 4096 bytes" in declared.json()["error"]
    assert count(engine) == 0


def test_token_is_required_and_compared(api, engine):
    with api.client(token=None) as c:
        missing = c.post("/api/feedback", json=item())
    with api.client(token="wrong") as c:
        wrong = c.post("/api/feedback", json=item())
    assert missing.status_code == 401 and wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == "Bearer"
    assert "s3cret" not in wrong.text
    assert count(engine) == 0


def test_api_is_disabled_without_a_configured_token(serve, engine, ingestor):
    running = serve(engine, ingestor, LOOPBOT_INGEST_TOKEN="")
    with running.client(token="anything") as c:
        r = c.post("/api/feedback", json=item())
    assert r.status_code == 503 and "set LOOPBOT_INGEST_TOKEN" in r.json()["error"]


def test_healthz_openapi_and_metrics(api):
    with api.client() as c:
        c.post("/api/feedback", json=[item(score=1), item()])
        health = c.get("/healthz")
        spec = c.get("/openapi.json").json()
        metrics = c.get("/metrics").text
    assert health.status_code == 200 and health.json() == {"status": "ok", "database": "ok"}
    op = spec["paths"]["/api/feedback"]["post"]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    assert schema["oneOf"][1]["maxItems"] == 5000 and "score" in schema["oneOf"][0]["properties"]
    assert {"200", "401", "413", "422", "503"} <= set(op["responses"])
    assert 'loopbot_feedback_accepted_total{team="delivery"} 2.0' in metrics
    assert 'loopbot_cases_opened_total{kind="feedback",team="delivery"} 1.0' in metrics


def test_database_down_is_503_and_healthz_says_so(serve, config):
    # A real PostgreSQL URL where nothing listens: the driver fails to connect, as in an outage.
    engine = make_engine(
        "postgresql+psycopg://postgres@127.0.0.1:9/none", connect_args={"connect_timeout": 2}
    )
    sessions = make_sessions(engine)
    running = serve(engine, Ingestor(sessions, config))
    with running.client() as c:
        r = c.post("/api/feedback", json=item())
        health = c.get("/healthz")
    assert (
        r.status_code == 503
        and "nothing was stored" in r.json()["error"]
        and r.headers["retry-after"] == "10"
    )
    assert health.status_code == 503 and health.json()["database"] == "unreachable"


def test_nul_characters_are_refused_per_field(api, engine):
    with api.client() as c:
        r = c.post(
            "/api/feedback",
            json=[
                item(comment="a\u0000b"),
                item(tags=["x\u0000"]),
                item(attributes={"k": "v\u0000"}),
            ],
        )
    assert r.status_code == 422
    assert errors_of(r) == [
        (0, "comment", "must not contain NUL characters (\\u0000)"),
        (1, "tags[0]", "must not contain NUL characters (\\u0000)"),
        (2, "attributes.k", "must not contain NUL characters (\\u0000)"),
    ]
    assert count(engine) == 0
