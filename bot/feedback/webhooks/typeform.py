"""Typeform: `Typeform-Signature` checked, a `form_response` mapped by form id and field refs."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.feedback.webhooks.common import (
    Ignored,
    Mapped,
    Unmappable,
    Value,
    fill,
    node,
    routed_values,
    same,
    text,
    whole,
)
from config.sources import Typeform

NAME, LABEL = "typeform", "Typeform"
SIGNATURE = "typeform-signature"
# Typeform's "Send test request" fills every hidden field with this placeholder.
TEST_HIDDEN_VALUE = "hidden_value"
_WHERE = {"hidden": "form_response.hidden"}


def verify(key: bytes, body: bytes, headers: Mapping[str, str], now: datetime) -> str | None:
    """Typeform signs the raw body: `sha256=` + base64 of its HMAC-SHA256 under the secret."""
    given = headers.get(SIGNATURE)
    if not given:
        return "the Typeform-Signature header is missing"
    expected = b"sha256=" + base64.b64encode(hmac.new(key, body, hashlib.sha256).digest())
    if not same(expected, given):
        return "the Typeform-Signature header does not match the body and LOOPBOT_WEBHOOK_SECRET_TYPEFORM"
    return None


@dataclass(frozen=True, slots=True)
class _Form:
    metric: str
    score: str
    comment: str | None
    values: list[Value]


class Mapper:
    def __init__(self, source: Typeform):
        self.forms = {
            form_id: _Form(f.metric, f.score, f.comment, routed_values(f, _WHERE))
            for form_id, f in source.forms.items()
        }

    def map(self, payload: Any, headers: Mapping[str, str]) -> Mapped | Ignored:
        event = node(payload, "event_type")
        if event is not None and event != "form_response":
            # form_response_partial: the complete response follows when the respondent submits.
            return Ignored(f"a Typeform {event} event is not a completed response")
        response = node(payload, "form_response")
        if not isinstance(response, dict):
            raise Unmappable("id", "form_response", "is missing: Typeform sends a form_response")
        hidden = response.get("hidden")
        if isinstance(hidden, dict) and TEST_HIDDEN_VALUE in hidden.values():
            return Ignored("Typeform's test request (its hidden fields say hidden_value)")
        form_id = response.get("form_id")
        form = self.forms.get(form_id) if isinstance(form_id, str) else None
        if form is None:
            raise Unmappable(
                "form",
                "form_response.form_id",
                f"{form_id!r} is not a configured form; configured form ids: "
                f"{', '.join(sorted(self.forms))} (sources: typeform: forms: in the YAML)",
            )
        answers = {
            node(a, "field", "ref"): a for a in response.get("answers") or [] if isinstance(a, dict)
        }
        item: dict[str, Any] = {
            "id": text(response.get("token"), "id", "form_response.token", required=True),
            "submitted_at": text(
                response.get("submitted_at"),
                "submitted_at",
                "form_response.submitted_at",
                required=True,
            ),
            "metric": form.metric,
        }
        paths = {"id": "form_response.token", "submitted_at": "form_response.submitted_at"}
        score_path = f"form_response.answers[field.ref={form.score}]"
        answer = answers.get(form.score)
        if answer is None:
            raise Unmappable(
                "score",
                score_path,
                f"is missing: the response has no answer to field ref {form.score}",
            )
        # Opinion scale, rating and number answers all carry `number` (Typeform's answer types).
        item["score"] = whole(answer.get("number"), "score", f"{score_path}.number")
        paths["score"] = f"{score_path}.number"
        if form.comment is not None and form.comment in answers:
            comment_path = f"form_response.answers[field.ref={form.comment}].text"
            comment = text(
                answers[form.comment].get("text"), "comment", comment_path, required=False
            )
            if comment is not None:
                item["comment"], paths["comment"] = comment, comment_path
        fill(form.values, {"hidden": hidden}, item, paths)
        return Mapped(item, paths)
