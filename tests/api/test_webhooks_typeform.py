"""POST /api/webhooks/typeform over real HTTP: signed responses stored, everything else refused."""

from __future__ import annotations

import pytest

from storage.models import Case
from tests.api.fixtures import body, count, post, recently, start, stored
from tests.api.fixtures.typeform import nps_response, sample_request, sign


@pytest.fixture
def api(serve, engine):  # noqa: ANN001, ANN201
    return start(serve, engine)


def send(api, payload, headers=None):  # noqa: ANN001, ANN201
    raw = body(payload)
    return post(api, "typeform", raw, sign(raw) if headers is None else headers)


def test_a_signed_response_is_mapped_through_its_form_and_a_detractor_opens_a_case(api, engine):
    r = send(api, nps_response("tok-1", recently(), 3, "Driver was late, again"))
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 1 and r.json()["duplicates"] == 0
    assert [ref.startswith("FB-") for ref in r.json()["cases"]] == [True]
    [row] = stored(engine)
    assert (row.source, row.external_id, row.team, row.metric, row.score) == (
        "typeform",
        "tok-1",
        "delivery",
        "nps",
        3,
    )
    assert (row.comment, row.category, row.customer, row.segment) == (
        "Driver was late, again",
        "late_delivery",
        "cus_9f8e7d",
        "vip",
    )
    assert count(engine, Case) == 1


def test_a_promoter_is_stored_without_a_case_and_a_form_may_route_by_touchpoint(api, engine):
    promoter = send(api, nps_response("tok-2", recently(), 10, comment=None))
    csat = nps_response("tok-3", recently(), 4, comment=None)
    csat["form_response"]["form_id"] = "Zz9Yx8"
    csat["form_response"]["answers"][0]["field"]["ref"] = "csat_rating"
    routed = send(api, csat)
    for answer in (promoter.json(), routed.json()):
        assert (answer["accepted"], answer["duplicates"], answer["cases"]) == (1, 0, [])
    assert [(f.metric, f.score, f.team, f.comment) for f in stored(engine)] == [
        ("nps", 10, "delivery", None),
        ("csat", 4, "delivery", None),
    ]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Typeform-Signature": "sha256=bm90IHRoZSByaWdodCBzaWduYXR1cmU="},
        sign(b"another body"),
        sign(b"", secret="someone-elses-secret"),
    ],
    ids=["missing", "garbage", "other-body", "other-secret"],
)
def test_a_bad_or_missing_signature_is_401_and_stores_nothing(api, engine, headers):
    r = send(api, nps_response("tok-4", recently(), 1), headers=headers)
    assert r.status_code == 401
    assert "Typeform-Signature" in r.json()["error"]
    assert count(engine) == 0


def test_a_body_changed_after_signing_is_refused(api, engine):
    raw = body(nps_response("tok-5", recently(), 9))
    r = post(api, "typeform", raw.replace(b'"number":9', b'"number":0'), sign(raw))
    assert r.status_code == 401 and count(engine) == 0


def test_the_test_request_is_answered_and_stores_nothing(api, engine):
    r = send(api, sample_request(recently()))
    assert r.status_code == 200
    assert r.json()["accepted"] == 0 and "test request" in r.json()["ignored"]
    partial = nps_response("tok-6", recently(), 2)
    partial["event_type"] = "form_response_partial"
    assert send(api, partial).json()["ignored"]
    assert count(engine) == 0


def test_a_payload_without_the_score_answer_is_422_naming_the_field_and_its_path(api, engine):
    payload = nps_response("tok-7", recently(), 5)
    payload["form_response"]["answers"] = payload["form_response"]["answers"][1:]
    r = send(api, payload)
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert error["field"] == "score"
    assert error["path"] == "form_response.answers[field.ref=nps_question]"
    assert "nps_question" in error["message"]
    assert count(engine) == 0


def test_an_unknown_form_id_is_422_listing_the_configured_ones(api, engine):
    payload = nps_response("tok-8", recently(), 5)
    payload["form_response"]["form_id"] = "lT4Z3j"
    [error] = send(api, payload).json()["errors"]
    assert (error["field"], error["path"]) == ("form", "form_response.form_id")
    assert "'lT4Z3j'" in error["message"] and "Ab12Cd, Zz9Yx8" in error["message"]
    assert count(engine) == 0


def test_values_the_core_refuses_name_the_typeform_path_they_came_from(api, engine):
    r = send(api, nps_response("tok-9", recently(), 11, team="nowhere"))
    assert r.status_code == 422
    errors = {e["field"]: e for e in r.json()["errors"]}
    assert errors["score"]["path"] == "form_response.answers[field.ref=nps_question].number"
    assert "0–10" in errors["score"]["message"]
    assert errors["team"]["path"] == "form_response.hidden.team"
    assert "'nowhere'" in errors["team"]["message"]
    missing = nps_response("tok-10", recently(), 5)
    del missing["form_response"]["hidden"]["team"]
    [error] = send(api, missing).json()["errors"]
    assert (error["field"], error["path"], error["message"]) == (
        "team",
        "form_response.hidden.team",
        "is missing",
    )
    assert count(engine) == 0


def test_retries_of_the_same_response_store_it_once(api, engine):
    payload = nps_response("tok-11", recently(), 2)
    answers = [send(api, payload).json() for _ in range(5)]
    assert answers[0]["accepted"] == 1 and len(answers[0]["cases"]) == 1
    assert all(a["accepted"] == 0 and a["duplicates"] == 1 and not a["cases"] for a in answers[1:])
    assert count(engine) == 1 and count(engine, Case) == 1


def test_without_its_secret_the_endpoint_is_503_naming_the_variable(serve, engine):
    api = start(serve, engine, LOOPBOT_WEBHOOK_SECRET_TYPEFORM="")
    r = send(api, nps_response("tok-12", recently(), 1))
    assert r.status_code == 503
    assert "LOOPBOT_WEBHOOK_SECRET_TYPEFORM" in r.json()["error"]
    assert "tf-webhook-secret" not in r.text
    assert count(engine) == 0


def test_a_tool_missing_from_sources_is_503_saying_where_to_add_it(serve, engine):
    api = start(serve, engine, sources={"intercom": {"team": "support"}})
    r = send(api, nps_response("tok-13", recently(), 1))
    assert r.status_code == 503 and "sources:" in r.json()["error"]
    assert count(engine) == 0


def test_a_body_over_the_limit_is_413(serve, engine):
    api = start(serve, engine, LOOPBOT_MAX_BODY_BYTES="2048")
    payload = nps_response("tok-14", recently(), 1, comment="x" * 4000)
    r = send(api, payload)
    assert r.status_code == 413 and count(engine) == 0


def test_a_body_that_is_not_json_is_400(api, engine):
    r = post(api, "typeform", b"form_response=1", sign(b"form_response=1"))
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "body"
