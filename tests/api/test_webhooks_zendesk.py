"""POST /api/webhooks/zendesk over real HTTP: satisfaction ratings as CSAT, replays refused."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from storage.models import Case
from tests.api.fixtures import body, count, post, start, stored
from tests.api.fixtures.zendesk import rating, sample_request, sign


@pytest.fixture
def api(serve, engine):  # noqa: ANN001, ANN201
    return start(serve, engine)


def send(api, payload, at=None, headers=None):  # noqa: ANN001, ANN201
    raw = body(payload)
    at = at or datetime.now(UTC)
    return post(api, "zendesk", raw, sign(raw, at) if headers is None else headers)


def test_a_bad_rating_becomes_the_configured_csat_and_opens_a_case(api, engine):
    r = send(api, rating(35436, "Bad", "Nobody answered for two days"))
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1 and len(r.json()["cases"]) == 1
    [row] = stored(engine)
    assert (row.source, row.external_id, row.team, row.metric, row.score) == (
        "zendesk",
        "35436",
        "support",
        "csat",
        1,
    )
    assert (row.comment, row.customer) == ("Nobody answered for two days", "20978392")
    assert count(engine, Case) == 1


def test_a_good_rating_is_the_configured_good_score_without_a_case(api, engine):
    answer = send(api, rating(35437, "Good")).json()
    assert (answer["accepted"], answer["duplicates"], answer["cases"]) == (1, 0, [])
    assert [(f.score, f.comment) for f in stored(engine)] == [(5, None)]


@pytest.mark.parametrize(
    "mangle",
    [
        lambda h: {},
        lambda h: {
            **h,
            "X-Zendesk-Webhook-Signature": "tRDSF7URY8BLCDlaBcQ7FHu051Zk+aAB0NKMP53teMw=",
        },
        lambda h: {**h, "X-Zendesk-Webhook-Signature-Timestamp": "2031-01-01T00:00:00Z"},
    ],
    ids=["missing", "other-signature", "timestamp-not-signed"],
)
def test_a_bad_or_missing_signature_is_401_and_stores_nothing(api, engine, mangle):
    raw = body(rating(1, "Bad"))
    r = post(api, "zendesk", raw, mangle(sign(raw, datetime.now(UTC))))
    assert r.status_code == 401 and "X-Zendesk-Webhook-Signature" in r.json()["error"]
    assert count(engine) == 0


def test_a_signature_more_than_5_minutes_old_is_a_replay(api, engine):
    r = send(api, rating(2, "Bad"), at=datetime.now(UTC) - timedelta(minutes=6))
    assert r.status_code == 401 and "5 minutes old" in r.json()["error"]
    assert (
        send(api, rating(2, "Bad"), at=datetime.now(UTC) - timedelta(minutes=4)).status_code == 200
    )
    assert count(engine) == 1


def test_the_test_request_and_an_offered_rating_store_nothing(api, engine):
    r = send(api, sample_request())
    assert r.status_code == 200 and r.json()["accepted"] == 0 and r.json()["ignored"]
    assert send(api, rating(3, "Offered")).json()["ignored"]
    assert count(engine) == 0


def test_an_unmappable_rating_is_422_naming_the_field_and_its_path(api, engine):
    [error] = send(api, rating(4, "Great")).json()["errors"]
    assert (error["field"], error["path"]) == ("score", "satisfaction.current_rating")
    no_ticket = rating(4, "Bad")
    del no_ticket["ticket"]["id"]
    r = send(api, no_ticket)
    assert r.status_code == 422
    assert [(e["field"], e["path"]) for e in r.json()["errors"]] == [("id", "ticket.id")]
    assert count(engine) == 0


def test_retries_of_the_same_rating_store_it_once(api, engine):
    answers = [send(api, rating(5, "Bad", "Slow")).json() for _ in range(3)]
    assert answers[0]["accepted"] == 1
    assert [a["duplicates"] for a in answers[1:]] == [1, 1]
    assert count(engine) == 1 and count(engine, Case) == 1


def test_a_storm_of_concurrent_retries_stores_one_response_and_opens_one_case(api, engine):
    # Zendesk retries a webhook that answers slowly; eight copies of one event arrive at once.
    raw = body(rating(77, "Bad", "Still waiting"))
    headers = sign(raw, datetime.now(UTC))
    barrier = threading.Barrier(8)

    def retry() -> dict:
        barrier.wait()
        return post(api, "zendesk", raw, headers).json()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: retry(), range(8)))
    assert sum(a["accepted"] for a in answers) == 1
    assert sum(a["duplicates"] for a in answers) == 7
    assert sum(len(a["cases"]) for a in answers) == 1
    assert count(engine) == 1 and count(engine, Case) == 1
