"""POST /api/webhooks/intercom over real HTTP: conversation ratings as CSAT, the ping answered."""

from __future__ import annotations

import pytest

from storage.models import Case
from tests.api.fixtures import body, count, post, recently, start, stored
from tests.api.fixtures.intercom import ping, rating_added, sign


@pytest.fixture
def api(serve, engine):  # noqa: ANN001, ANN201
    return start(serve, engine)


def send(api, payload, headers=None):  # noqa: ANN001, ANN201
    raw = body(payload)
    return post(api, "intercom", raw, sign(raw) if headers is None else headers)


def test_a_low_rating_with_its_remark_is_stored_and_opens_a_case(api, engine):
    r = send(api, rating_added("195208945002873", recently(), 2, "The app showed an error twice"))
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1 and len(r.json()["cases"]) == 1
    [row] = stored(engine)
    assert (row.source, row.external_id, row.team, row.metric, row.score) == (
        "intercom",
        "195208945002873",
        "support",
        "csat",
        2,
    )
    assert (row.comment, row.category, row.customer) == (
        "The app showed an error twice",
        "app_error",
        "cust_48213",
    )
    assert count(engine, Case) == 1


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Hub-Signature": "sha1=" + "a" * 40}, sign(b"{}"), {"X-Hub-Signature": "sha256=x"}],
    ids=["missing", "wrong", "other-body", "wrong-scheme"],
)
def test_a_bad_or_missing_signature_is_401_and_stores_nothing(api, engine, headers):
    r = send(api, rating_added("1", recently(), 1), headers)
    assert r.status_code == 401 and "X-Hub-Signature" in r.json()["error"]
    assert count(engine) == 0


def test_the_ping_and_other_topics_are_answered_and_store_nothing(api, engine):
    r = send(api, ping())
    assert r.status_code == 200 and r.json()["ignored"] == "Intercom's ping"
    other = rating_added("2", recently(), 1)
    other["topic"] = "conversation.admin.closed"
    assert "conversation.admin.closed" in send(api, other).json()["ignored"]
    assert count(engine) == 0


def test_an_unmappable_notification_is_422_naming_the_field_and_its_path(api, engine):
    unrated = rating_added("3", recently(), 1)
    unrated["data"]["item"]["conversation_rating"]["rating"] = None
    [error] = send(api, unrated).json()["errors"]
    assert (error["field"], error["path"]) == ("score", "data.item.conversation_rating.rating")
    too_high = rating_added("4", recently(), 6)
    r = send(api, too_high)
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert (error["field"], error["path"]) == ("score", "data.item.conversation_rating.rating")
    assert "1–5" in error["message"]
    assert count(engine) == 0


def test_retries_of_the_same_rating_store_it_once(api, engine):
    payload = rating_added("5", recently(), 1, "Rude")
    answers = [send(api, payload).json() for _ in range(3)]
    assert answers[0]["accepted"] == 1 and [a["duplicates"] for a in answers] == [0, 1, 1]
    assert count(engine) == 1 and count(engine, Case) == 1
