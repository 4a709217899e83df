"""Staff-written text is PII-masked like comments before it is stored (SPEC §11): notes, what was done, rationales,
whys, reopen reasons, corrective actions' text, done texts, drop and silence reasons; read back from the rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.alerts.silences import Silences
from bot.cases.action_model import NewAction
from storage.db import make_read_sessions
from storage.models import ActionEvent, CaseEvent, CorrectiveAction, Silence
from tests.storage.test_escalations import open_case
from tests.storage.test_silences import rules_config

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SUPER, AGENT, OWNER = "U0SUPER1", "U0AGENT1", "U0OWNER1"
# An e-mail, a Luhn-valid card (grouped and compact), a phone and a mod-97 IBAN, as staff might paste them.
PII = "jane.doe@example.com 4111 1111 1111 1111 +44 20 7946 0958 GB82WEST12345698765432"
MASKED = "[email] [card] [phone] [iban]"
CARD = "5500005555555559"


def event_details(sessions, kind: str) -> list[dict]:  # noqa: ANN001
    with sessions() as s:
        return [
            e.details
            for e in s.scalars(
                select(CaseEvent).where(CaseEvent.kind == kind).order_by(CaseEvent.id)
            )
        ]


def test_case_notes_resolutions_and_reopen_reasons_are_stored_masked(sessions, cases):  # noqa: ANN001
    ref = open_case(sessions, cases, T0)
    cases.note(ref, f"Called back: {PII}", actor=AGENT, source="command", now=T0)
    cases.resolve(
        ref,
        outcome="fixed",
        root_cause="late_delivery",
        action=f"Refunded to card {CARD}, receipt to jane.doe@example.com",
        rationale=f"Customer asked on +44 20 7946 0958, card {CARD}",
        whys=f"Courier called jane.doe@example.com\nCard {CARD} was charged twice",
        corrective=NewAction(f"Stop asking for {CARD} on the phone", OWNER, "2026-03-20"),
        actor=SUPER,
        source="modal",
        now=T0 + timedelta(minutes=1),
    )
    cases.reopen(
        ref,
        f"Customer wrote again from {PII}",
        actor=SUPER,
        source="command",
        now=T0 + timedelta(minutes=2),
    )

    [note] = event_details(sessions, "note")
    assert note["text"] == f"Called back: {MASKED}"
    [resolved] = event_details(sessions, "resolved")
    assert resolved["action"] == "Refunded to card [card], receipt to [email]"
    assert resolved["rationale"] == "Customer asked on [phone], card [card]"
    assert resolved["whys"] == ["Courier called [email]", "Card [card] was charged twice"]
    [reopened] = event_details(sessions, "reopened")
    assert reopened["reason"] == f"Customer wrote again from {MASKED}"
    with sessions() as s:
        action = s.scalars(select(CorrectiveAction)).one()
    assert action.text == "Stop asking for [card] on the phone"
    # And shown as stored: the case's timeline read back carries no trace of them.
    shown = repr([e.details for e in cases.get(ref).events])
    for secret in ("jane.doe@", "4111 1111", CARD, "7946", "GB82"):
        assert secret not in shown


def test_corrective_action_texts_and_reasons_are_stored_masked(sessions, cases):  # noqa: ANN001
    actions = cases.actions
    planned = actions.plan(
        "delivery", cause="late_delivery", due="2026-03-20", owner=OWNER,
        text=f"Call customers back, never by {CARD}", actor=SUPER, source="command", now=T0,
    ).action  # fmt: skip
    actions.done(
        planned.ref, live=None, text="Live; questions to ops@example.com", actor=OWNER,
        source="command", now=T0,
    )  # fmt: skip
    actions.drop(planned.ref, f"Duplicate, see {PII}", actor=SUPER, source="command", now=T0)
    with sessions() as s:
        row = s.scalars(select(CorrectiveAction)).one()
        events = {e.kind: e.details for e in s.scalars(select(ActionEvent))}
    assert row.text == "Call customers back, never by [card]"
    assert events["done"]["text"] == "Live; questions to [email]"
    assert events["dropped"]["reason"] == f"Duplicate, see {MASKED}"


def test_a_silence_reason_is_stored_masked(engine, sessions):  # noqa: ANN001
    silences = Silences(sessions, rules_config(), reads=make_read_sessions(engine))
    silences.start(
        "delivery", "all", "1h", f"outage, call {PII}", actor=SUPER, source="command", now=T0
    )
    with sessions() as s:
        assert s.scalars(select(Silence.reason)).one() == f"outage, call {MASKED}"


def test_text_without_personal_data_is_kept_as_written(sessions, cases):  # noqa: ANN001
    ref = open_case(sessions, cases, T0)
    text = "Order 112-1234567-1234567 refunded 12.50 on 01.03.2026, ticket #4411"
    cases.note(ref, text, actor=AGENT, source="command", now=T0)
    assert event_details(sessions, "note") == [{"text": text}]
