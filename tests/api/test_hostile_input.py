"""POST /api/feedback over real HTTP with input that once answered 500 or was stored when it should
not be: year-0 instants, NaN and Infinity, Unix timestamps, control characters; and /openapi.json
promising no more than the API accepts."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.scores import SCALES
from storage.db import make_sessions
from storage.models import Case, Feedback
from tests.factories import item


def count(engine, model=Feedback) -> int:  # noqa: ANN001
    with make_sessions(engine)() as s:
        return s.scalar(select(func.count()).select_from(model))


def post_raw(api, body: str):  # noqa: ANN001, ANN201
    """The body as written: json.dumps would refuse NaN, and a survey tool's serializer may not."""
    with api.client() as c:
        return c.post(
            "/api/feedback", content=body.encode(), headers={"Content-Type": "application/json"}
        )


def post(api, items: list[dict]):  # noqa: ANN001, ANN201
    with api.client() as c:
        return c.post("/api/feedback", json=items)


def errors_of(response) -> list[tuple]:  # noqa: ANN001
    return [(e["index"], e["field"], e["message"]) for e in response.json()["errors"]]


@pytest.mark.parametrize(
    "at",
    [
        "0001-01-01T00:00:00+05:00",  # 0000-12-31T19:00Z: no datetime holds it in UTC
        "0001-01-01T13:59:59+14:00",
        "0001-01-01T23:59:59Z",  # UTC-12 could not show it
    ],
)
def test_an_instant_before_the_earliest_is_422_naming_submitted_at(api, engine, at):
    r = post(api, [item(id="fine"), item(submitted_at=at)])
    assert r.status_code == 422, r.text
    assert errors_of(r) == [
        (1, "submitted_at", "is before 0001-01-02T00:00:00Z, the earliest time Loopbot can store")
    ]
    assert count(engine) == 0 and count(engine, Case) == 0


def test_the_earliest_storable_instants_are_accepted(api, engine):
    r = post(
        api,
        [
            item(submitted_at="0001-01-02T00:00:00Z"),
            item(submitted_at="0001-01-02T05:00:00+05:00"),
            item(submitted_at="0001-01-01T19:00:00-05:00"),
        ],
    )
    assert r.status_code == 200, r.text
    assert count(engine) == 3


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_in_attributes_are_422_naming_the_key(api, engine, literal):
    good = json.dumps(item(id="fine", attributes={"delay_days": 3}))
    bad = json.dumps(item(attributes={"weight": 1.5}))
    bad = bad.replace('"weight": 1.5', f'"weight": {literal}')
    r = post_raw(api, f"[{good}, {bad}]")
    assert r.status_code == 422, r.text
    assert errors_of(r) == [
        (1, "attributes.weight", "must be a finite number (NaN and Infinity are not JSON)")
    ]
    assert count(engine) == 0


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400", "4.0"])
def test_a_score_that_is_not_an_integer_is_422(api, engine, literal):
    bad = json.dumps(item(score=123456789)).replace("123456789", literal)
    r = post_raw(api, bad)
    assert r.status_code == 422, r.text
    assert errors_of(r) == [(0, "score", "must be an integer")]
    assert count(engine) == 0


@pytest.mark.parametrize("at", [1700000000, "1700000000", 1700000000.5, "1700000000.5", -5])
def test_unix_timestamps_are_422_asking_for_iso_8601(api, engine, at):
    r = post(api, [item(submitted_at=at)])
    assert r.status_code == 422, r.text
    assert errors_of(r) == [
        (
            0,
            "submitted_at",
            "must be an ISO-8601 timestamp with an offset, e.g. 2026-11-22T09:30:00+01:00, "
            "not a Unix time",
        )
    ]
    assert count(engine) == 0


@pytest.mark.parametrize(
    "field, overrides",
    [
        ("id", {"id": "r-1\n"}),
        ("source", {"source": "tool\u0085"}),
        ("customer", {"customer": "C-9\r\nX-Injected: 1"}),
        ("team", {"team": "delivery\t"}),
        ("touchpoint", {"team": ..., "touchpoint": "post-\u001bdelivery"}),
        ("segment", {"segment": "vip\u007f"}),
        ("channel", {"channel": "e\u0008mail"}),
        ("tags[1]", {"tags": ["ok", "bad\u000b"]}),
        ("attributes.car\nrier", {"attributes": {"car\nrier": "DHL"}}),
    ],
)
def test_control_characters_in_names_and_ids_are_422_naming_the_field(
    api, engine, field, overrides
):
    r = post(api, [item(id="fine"), item(**overrides)])
    assert r.status_code == 422, r.text
    message = "must not contain control characters (U+0000–U+001F, U+007F–U+009F)"
    assert errors_of(r) == [(1, field, message)]
    assert count(engine) == 0


@pytest.mark.parametrize("key", ["delivery window", "{a}"])
def test_an_attribute_key_with_spaces_or_braces_is_named_whole(api, engine, key):
    r = post(api, [item(attributes={key: [1, 2]})])
    assert r.status_code == 422, r.text
    assert errors_of(r) == [
        (
            0,
            f"attributes.{key}",
            "must be a string, number, boolean or null (no nested objects or lists)",
        )
    ]
    assert count(engine) == 0


def test_line_breaks_and_tabs_stay_allowed_where_text_is_free(api, engine):
    r = post(
        api,
        [item(comment="Line one\n\tLine two\r\n", attributes={"note": "left at\ndoor"})],
    )
    assert r.status_code == 200, r.text
    assert count(engine) == 1


def request_schema(api) -> dict:  # noqa: ANN001
    with api.client() as c:
        doc = c.get("/openapi.json").json()
    body = doc["paths"]["/api/feedback"]["post"]["requestBody"]
    one, many = body["content"]["application/json"]["schema"]["oneOf"]
    assert many["items"] == one
    return one


def test_openapi_states_the_score_ranges_and_that_team_or_touchpoint_is_required(api):
    schema = request_schema(api)
    score = schema["properties"]["score"]
    assert (score["type"], score["minimum"], score["maximum"]) == ("integer", 0, 10)
    assert all(f"{m} {lo}–{hi}" in score["description"] for m, (lo, hi) in SCALES.items())
    per_metric = {
        rule["if"]["properties"]["metric"]["const"]: (
            rule["then"]["properties"]["score"]["minimum"],
            rule["then"]["properties"]["score"]["maximum"],
        )
        for rule in schema["allOf"]
        if "if" in rule
    }
    assert per_metric == SCALES
    assert all(rule["if"]["required"] == ["metric"] for rule in schema["allOf"] if "if" in rule)
    # `"team": null` satisfies `required` but is refused: each branch also asks for a string.
    assert schema["anyOf"] == [
        {"required": ["team"], "properties": {"team": {"type": "string"}}},
        {"required": ["touchpoint"], "properties": {"touchpoint": {"type": "string"}}},
    ]


@pytest.mark.parametrize("metric", sorted(SCALES))
def test_the_ranges_openapi_states_are_the_ones_the_api_enforces(api, engine, metric):
    [rule] = [
        r
        for r in request_schema(api)["allOf"]
        if r.get("if", {}).get("properties", {}).get("metric", {}).get("const") == metric
    ]
    # FastAPI's OpenAPI model writes the bounds as floats (1.0): JSON Schema compares numbers by value.
    low = int(rule["then"]["properties"]["score"]["minimum"])
    high = int(rule["then"]["properties"]["score"]["maximum"])
    inside = post(api, [item(metric=metric, score=low), item(metric=metric, score=high)])
    assert inside.status_code == 200, inside.text
    outside = post(api, [item(metric=metric, score=low - 1), item(metric=metric, score=high + 1)])
    assert outside.status_code == 422
    assert [e[:2] for e in errors_of(outside)] == [(0, "score"), (1, "score")]
    assert count(engine) == 2


def test_openapi_refuses_in_its_schema_what_the_api_refuses_per_field(api):
    props = request_schema(api)["properties"]
    names = "^[^\\x00-\\x1f\\x7f-\\x9f]*$"
    for field in ("source", "team", "touchpoint", "customer", "segment", "channel"):
        [text, _null] = props[field]["anyOf"]
        assert text["pattern"] == names, field
    assert props["id"]["pattern"] == names
    assert props["tags"]["anyOf"][0]["items"]["pattern"] == names
    assert props["comment"]["anyOf"][0]["pattern"] == "^[^\\x00]*$"
    [attributes, _null] = props["attributes"]["anyOf"]
    assert attributes["propertyNames"]["pattern"] == names
    assert "patternProperties" not in attributes  # it let keys that miss the pattern through
    values = attributes["additionalProperties"]
    assert values["type"] == ["string", "number", "boolean", "null"]
    assert values["pattern"] == "^[^\\x00]*$"
    at = props["submitted_at"]
    assert at["type"] == "string" and at["format"] == "date-time"
    assert "5 minutes" in at["description"] and "Unix" in at["description"]
