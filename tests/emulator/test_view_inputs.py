"""Modal inputs as the Slack client sends them: user and date pickers, several text inputs, dispatching selects."""

from __future__ import annotations

import pytest

from slack_emulator.server import ThreadedServer
from tests.emulator import OUTCOME, bolt_asgi, field, plain, resolve_app, resolve_view, web


def open_modal(emu, view: dict | None = None, user: str = "U0SUPER1") -> dict:
    trigger = emu.new_trigger_id(user)
    return web(emu).views_open(trigger_id=trigger, view=view or resolve_view())["view"]


def test_a_submission_carries_user_and_date_pickers_and_every_text_input(emu, received):
    view = open_modal(emu)
    values = {
        "outcome": {"outcome": "fixed"},
        "action": {"action": "Rebooked\na morning slot"},
        "owner": {"owner": "U0SUPER1"},
        "due": {"due": "2025-03-01"},
        "note": {"note": "Customer called back"},
    }
    assert emu.submit_view(view["id"], values=values).ok
    [payload] = received
    assert payload["type"] == "view_submission" and payload["view"]["id"] == view["id"]
    assert payload["view"]["state"]["values"] == {
        "outcome": {
            "outcome": {
                "type": "static_select",
                "selected_option": {"text": plain("Fixed"), "value": "fixed"},
            }
        },
        "action": {"action": {"type": "plain_text_input", "value": "Rebooked\na morning slot"}},
        "owner": {"owner": {"type": "users_select", "selected_user": "U0SUPER1"}},
        "due": {"due": {"type": "datepicker", "selected_date": "2025-03-01"}},
        "note": {"note": {"type": "plain_text_input", "value": "Customer called back"}},
    }


def test_empty_optional_inputs_are_null_and_an_untouched_picker_keeps_its_initial_value(
    emu, received
):
    view = open_modal(emu)
    values = {
        "outcome": {"outcome": "fixed"},
        "action": {"action": "x"},
        "due": {"due": "2025-01-31"},
    }
    assert emu.submit_view(view["id"], values={**values, "note": {"note": ""}}).ok
    state = received[0]["view"]["state"]["values"]
    assert state["owner"] == {"owner": {"type": "users_select", "selected_user": "U0AGENT1"}}
    assert state["note"] == {"note": {"type": "plain_text_input", "value": None}}
    again = open_modal(emu)
    assert emu.submit_view(again["id"], values={**values, "owner": {"owner": None}}).ok
    assert received[1]["view"]["state"]["values"]["owner"]["owner"]["selected_user"] is None


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"due": {"due": None}}, "due: a required input is empty"),
        ({"due": {"due": ""}}, "due: a required input is empty"),
        ({"due": {"due": "01/03/2025"}}, "due.due: '01/03/2025' is not a date written YYYY-MM-DD"),
        ({"due": {"due": "2025-02-30"}}, "due.due: '2025-02-30' is not a date"),
        ({"owner": {"owner": "U0GHOST"}}, "owner.owner: 'U0GHOST' is not a user of this workspace"),
        ({"action": {"action": ""}}, "action: a required input is empty"),
    ],
)
def test_what_the_slack_client_would_not_submit_never_reaches_the_app(
    emu, received, change, refusal
):
    view = open_modal(emu)
    values = {
        "outcome": {"outcome": "fixed"},
        "action": {"action": "x"},
        "due": {"due": "2025-01-31"},
    }
    with pytest.raises(ValueError, match=refusal):
        emu.submit_view(view["id"], values={**values, **change})
    assert received == []


def test_a_dispatching_select_sends_block_actions_with_the_view_and_what_was_typed(emu, received):
    view = open_modal(emu)
    typed = {"action": {"action": "Rebooked"}, "due": {"due": "2025-03-01"}}
    assert emu.select_in_view(view["id"], "outcome", "no_action", values=typed).ok
    [payload] = received
    assert payload["type"] == "block_actions" and payload["trigger_id"]
    assert payload["container"] == {"type": "view", "view_id": view["id"]}
    [action] = payload["actions"]
    assert {k: v for k, v in action.items() if k != "action_ts"} == {
        "type": "static_select",
        "action_id": "outcome",
        "block_id": "outcome",
        "selected_option": {"text": plain("No action needed"), "value": "no_action"},
        "placeholder": plain("Pick an outcome"),
    }
    assert float(action["action_ts"]) > 0
    state = payload["view"]["state"]["values"]
    assert state["outcome"]["outcome"]["selected_option"]["value"] == "no_action"
    assert state["action"]["action"] == {"type": "plain_text_input", "value": "Rebooked"}
    assert state["due"]["due"] == {"type": "datepicker", "selected_date": "2025-03-01"}
    assert payload["view"]["hash"] == view["hash"], "the app may views.update with this hash"
    # Nothing is required yet: the person has not submitted.
    assert emu.select_in_view(view["id"], "outcome", "fixed").ok


def test_only_an_input_with_dispatch_action_tells_the_app_at_once(emu, received):
    quiet = resolve_view()
    quiet["blocks"][1] = field("outcome", OUTCOME)
    view = open_modal(emu, quiet)
    with pytest.raises(LookupError, match="no dispatch_action"):
        emu.select_in_view(view["id"], "outcome", "fixed")
    with pytest.raises(LookupError, match="no select or picker"):
        emu.select_in_view(view["id"], "nothing", "fixed")
    with pytest.raises(ValueError, match="not one of the options"):
        emu.select_in_view(open_modal(emu)["id"], "outcome", "weather")
    assert received == []


def test_views_update_keeps_what_was_typed_where_block_and_action_ids_are_unchanged(emu, received):
    view = open_modal(emu)
    typed = {
        "action": {"action": "Rebooked"},
        "owner": {"owner": "U0SUPER1"},
        "note": {"note": "typed before the update"},
    }
    assert emu.select_in_view(view["id"], "outcome", "no_action", values=typed).ok
    # The app shows a rationale input and renames the note block: Slack clears a renamed input.
    updated = web(emu).views_update(
        view_id=view["id"],
        hash=received[0]["view"]["hash"],
        view=resolve_view(rationale=True, note_block="note_v2"),
    )["view"]
    kept = updated["state"]["values"]
    assert sorted(kept) == ["action", "due", "outcome", "owner"]
    assert kept["action"]["action"]["value"] == "Rebooked"
    assert kept["owner"]["owner"]["selected_user"] == "U0SUPER1"
    assert kept["outcome"]["outcome"]["selected_option"]["value"] == "no_action"
    assert emu.view(view["id"])["state"] == updated["state"]
    # A same block_id whose element changed type is a new input too.
    changed = resolve_view()
    changed["blocks"][2] = field("action", OUTCOME)
    again = web(emu).views_update(view_id=view["id"], view=changed)["view"]
    assert "action" not in again["state"]["values"] and "owner" in again["state"]["values"]

    # A submit that leaves kept inputs out sends what the person typed before the update.
    assert emu.submit_view(
        view["id"], values={"action": {"action": "fixed"}, "due": {"due": "2025-03-01"}}
    ).ok
    state = received[-1]["view"]["state"]["values"]
    assert state["outcome"]["outcome"]["selected_option"]["value"] == "no_action"
    assert state["owner"]["owner"]["selected_user"] == "U0SUPER1"


def test_a_bolt_app_updates_the_modal_from_a_dispatching_select(emu):
    seen: list[dict] = []
    with ThreadedServer(bolt_asgi(resolve_app(emu, seen))) as server:
        emu.deliver_http(server.url + "slack/events")
        view = open_modal(emu)
        typed = {"action": {"action": "Explained the delay"}}
        assert emu.select_in_view(view["id"], "outcome", "no_action", values=typed).ok
        shown = emu.wait_for(
            lambda: (
                [b for b in emu.view(view["id"])["blocks"] if b["block_id"] == "rationale"]
                and emu.view(view["id"])
            )
        )
        assert shown["state"]["values"]["action"]["action"]["value"] == "Explained the delay"
        with pytest.raises(ValueError, match="rationale: a required input is empty"):
            emu.submit_view(view["id"], values={"due": {"due": "2025-03-01"}})
        done = emu.submit_view(
            view["id"],
            values={"due": {"due": "2025-03-01"}, "rationale": {"rationale": "Courier strike"}},
        )
        assert done.ok and emu.open_views("U0SUPER1") == []
    [picked, submitted] = seen
    assert picked == {"listener": "outcome", "picked": "no_action"}
    values = submitted["values"]
    assert values["action"]["action"]["value"] == "Explained the delay"
    assert values["rationale"]["rationale"]["value"] == "Courier strike"
    assert values["owner"]["owner"] == {"type": "users_select", "selected_user": "U0AGENT1"}
