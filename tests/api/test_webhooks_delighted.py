"""POST /api/webhooks/delighted over real HTTP: survey responses stored, other events answered."""

from __future__ import annotations

import pytest

from storage.models import Case
from tests.api.fixtures import body, count, post, recently, start, stored
from tests.api.fixtures.delighted import sign, survey_response, unsubscribe


@pytest.fixture
def api(serve, engine):  # noqa: ANN001, ANN201
    return start(serve, engine)


def send(api, payload, headers=None):  # noqa: ANN001, ANN201
    raw = body(payload)
    return post(api, "delighted", raw, sign(raw) if headers is None else headers)


def test_a_signed_detractor_is_stored_with_its_person_and_opens_a_case(api, engine):
    r = send(api, survey_response("survey_response.created", "5435", recently(), 4, None))
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1 and len(r.json()["cases"]) == 1
    [row] = stored(engine)
    assert (row.source, row.external_id, row.team, row.metric, row.score, row.comment) == (
        "delighted",
        "5435",
        "support",
        "nps",
        4,
        None,
    )
    assert (row.customer, row.segment) == ("5975", "enterprise")
    assert count(engine, Case) == 1


def test_the_metric_comes_from_the_survey_type_and_ces_turns_around(api, engine):
    for n, (kind, score) in enumerate([("csat", 5), ("ces", 7), ("ces", 1)]):
        r = send(
            api, survey_response("survey_response.created", f"9{n}", recently(), score, None, kind)
        )
        assert r.status_code == 200, r.text
    # Delighted's CES: 7 = strongly agree it was easy; Loopbot's: 7 = most effort.
    assert [(f.metric, f.score) for f in stored(engine)] == [("csat", 5), ("ces", 1), ("ces", 7)]
    assert count(engine, Case) == 1  # the CES of 1 ("strongly disagree") is effort 7


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Delighted-Webhook-Signature": "sha256=" + "0" * 64}, sign(b"{}"), sign(b"", "k")],
    ids=["missing", "zeros", "other-body", "other-key"],
)
def test_a_bad_or_missing_signature_is_401_and_stores_nothing(api, engine, headers):
    r = send(api, survey_response("survey_response.created", "1", recently(), 0, "no"), headers)
    assert r.status_code == 401 and "X-Delighted-Webhook-Signature" in r.json()["error"]
    assert count(engine) == 0


def test_events_that_are_not_responses_are_answered_and_store_nothing(api, engine):
    r = send(api, unsubscribe())
    assert r.status_code == 200
    assert r.json()["accepted"] == 0 and "unsubscribe.created" in r.json()["ignored"]
    assert count(engine) == 0


@pytest.mark.parametrize(
    ("change", "field", "path"),
    [
        (lambda d: d["event_data"].pop("score"), "score", "event_data.score"),
        (lambda d: d["event_data"].update(survey_type="enps"), "metric", "event_data.survey_type"),
        (
            lambda d: d["event_data"].update(created_at="yesterday"),
            "submitted_at",
            "event_data.created_at",
        ),
        (lambda d: d.pop("event_type"), "event", "event_type"),
    ],
    ids=["no-score", "enps", "bad-time", "no-event-type"],
)
def test_an_unmappable_payload_is_422_naming_the_field_and_its_path(
    api, engine, change, field, path
):
    payload = survey_response("survey_response.created", "77", recently(), 3, None)
    change(payload)
    r = send(api, payload)
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert (error["field"], error["path"]) == (field, path)
    assert count(engine) == 0


def test_retries_are_duplicates_and_the_later_comment_is_an_update(api, engine):
    created = survey_response("survey_response.created", "88", recently(), 2, None)
    first, retry = send(api, created).json(), send(api, created).json()
    assert first["accepted"] == 1 and len(first["cases"]) == 1
    assert (retry["accepted"], retry["duplicates"], retry["cases"]) == (0, 1, [])
    # Delighted sends the comment minutes later as survey_response.updated of the same response.
    updated = survey_response("survey_response.updated", "88", recently(), 2, "Billing was wrong")
    r = send(api, updated)
    assert r.status_code == 200
    assert r.json() == {"accepted": 0, "duplicates": 0, "updated": 1, "cases": []}
    assert [row.comment for row in stored(engine)] == ["Billing was wrong"]
    assert count(engine) == 1 and count(engine, Case) == 1
