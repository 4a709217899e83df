"""POST /api/webhooks/standard over real HTTP: Loopbot's own JSON signed the Standard Webhooks way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from storage.models import Case
from tests.api.fixtures import body, count, post, start, stored
from tests.api.fixtures.standard import sign
from tests.factories import item


@pytest.fixture
def api(serve, engine):  # noqa: ANN001, ANN201
    return start(serve, engine)


def send(api, payload, msg_id="msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", at=None, headers=None):  # noqa: ANN001, ANN201
    raw = body(payload)
    signed = sign(raw, msg_id, at or datetime.now(UTC))
    return post(api, "standard", raw, signed if headers is None else headers)


def test_a_signed_batch_is_stored_like_api_feedback_and_a_negative_opens_a_case(api, engine):
    r = send(
        api,
        [item(id="s1", score=1, comment="Rude driver"), item(id="s2", touchpoint="chat", team=...)],
    )
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 2 and len(r.json()["cases"]) == 1
    assert [(f.source, f.external_id, f.team) for f in stored(engine)] == [
        ("api", "s1", "delivery"),
        ("api", "s2", "support"),
    ]
    assert count(engine, Case) == 1


def test_the_raw_secret_form_works_too(serve, engine):
    api = start(serve, engine, LOOPBOT_WEBHOOK_SECRET_STANDARD="a plain shared secret")
    raw = body(item(id="s3"))
    headers = sign(raw, "msg_1", datetime.now(UTC), secret="whsec_YSBwbGFpbiBzaGFyZWQgc2VjcmV0")
    assert post(api, "standard", raw, headers).status_code == 200  # same key bytes, base64'd
    assert count(engine) == 1


def test_one_matching_entry_among_several_signatures_is_enough(api, engine):
    raw = body(item(id="s4"))
    headers = sign(raw, "msg_2", datetime.now(UTC))
    headers["webhook-signature"] = "v1,b2xkIHNlY3JldA== " + headers["webhook-signature"]
    assert post(api, "standard", raw, headers).status_code == 200


@pytest.mark.parametrize(
    "mangle",
    [
        lambda h: {k: v for k, v in h.items() if k != "webhook-signature"},
        lambda h: {**h, "webhook-id": "msg_other"},
        lambda h: {**h, "webhook-signature": h["webhook-signature"].replace("v1,", "v2,")},
    ],
    ids=["missing", "other-id", "unknown-version"],
)
def test_a_bad_or_missing_signature_is_401_and_stores_nothing(api, engine, mangle):
    raw = body(item(id="s5", score=1))
    r = post(api, "standard", raw, mangle(sign(raw, "msg_3", datetime.now(UTC))))
    assert r.status_code == 401 and "webhook-signature" in r.json()["error"]
    assert count(engine) == 0


@pytest.mark.parametrize("minutes", [-6, 6])
def test_timestamps_more_than_5_minutes_away_are_refused(api, engine, minutes):
    r = send(api, item(id="s6"), at=datetime.now(UTC) + timedelta(minutes=minutes))
    assert r.status_code == 401 and "5 minutes" in r.json()["error"]
    assert count(engine) == 0


def test_a_ping_is_answered_and_stores_nothing(api, engine):
    r = send(api, {"type": "ping", "timestamp": datetime.now(UTC).isoformat(), "data": {}})
    assert r.status_code == 200 and r.json()["accepted"] == 0 and r.json()["ignored"]
    assert count(engine) == 0


def test_invalid_items_are_422_by_index_and_nothing_is_stored(api, engine):
    r = send(api, [item(id="s7"), item(id="s8", score=9)])
    assert r.status_code == 422
    assert [(e["index"], e["field"]) for e in r.json()["errors"]] == [(1, "score")]
    assert send(api, []).status_code == 422
    assert count(engine) == 0


def test_retries_of_the_same_message_are_duplicates(api, engine):
    answers = [send(api, item(id="s9", score=1)).json() for _ in range(3)]
    assert [a["accepted"] for a in answers] == [1, 0, 0]
    assert [a["duplicates"] for a in answers] == [0, 1, 1]
    assert count(engine) == 1 and count(engine, Case) == 1


def test_every_webhook_is_in_openapi_with_its_payload_schema_and_headers(api):
    doc = httpx.get(f"{api.url}/openapi.json").json()
    expect = {
        "typeform": ("Typeform-Signature", "form_response"),
        "delighted": ("X-Delighted-Webhook-Signature", "event_data"),
        "zendesk": ("X-Zendesk-Webhook-Signature-Timestamp", "satisfaction"),
        "intercom": ("X-Hub-Signature", "data"),
        "standard": ("webhook-signature", None),
    }
    for tool, (header, key) in expect.items():
        op = doc["paths"][f"/api/webhooks/{tool}"]["post"]
        assert header in [p["name"] for p in op["parameters"]]
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        assert key in schema["properties"] if key else "oneOf" in schema
        assert {"200", "401", "413", "422", "503"} <= set(op["responses"])
