"""views.*: trigger_ids (single use, 3 s), view ids and hashes, external ids, Home tabs, invalid views."""

from __future__ import annotations

import time

import pytest
from slack_sdk.errors import SlackApiError

from tests.emulator import section, slack_error, web


def modal(title: str = "Resolve FB-1", **extra) -> dict:
    return {
        "type": "modal",
        "callback_id": "resolve",
        "title": {"type": "plain_text", "text": title},
        "blocks": [section("Resolve it?")],
        **extra,
    }


def test_views_open_returns_the_stored_view_with_id_and_hash(emu):
    trigger = emu.new_trigger_id("U0AGENT1")
    view = web(emu).views_open(trigger_id=trigger, view=modal(private_metadata="12"))["view"]
    assert view["id"].startswith("V") and view["hash"]
    assert (view["callback_id"], view["private_metadata"], view["root_view_id"]) == (
        "resolve",
        "12",
        view["id"],
    )
    assert view["blocks"][0]["block_id"], "Slack fills in block_ids"
    [stored] = emu.open_views("U0AGENT1")
    assert stored["id"] == view["id"] and emu.open_views("U0SUPER1") == []


def test_a_trigger_id_is_single_use(emu):
    client = web(emu)
    trigger = emu.new_trigger_id("U0AGENT1")
    client.views_open(trigger_id=trigger, view=modal())
    assert (
        slack_error(lambda: client.views_open(trigger_id=trigger, view=modal()))["error"]
        == "exchanged_trigger_id"
    )
    assert (
        slack_error(lambda: client.views_open(trigger_id="123.456.abc", view=modal()))["error"]
        == "invalid_trigger_id"
    )
    assert len(emu.open_views()) == 1


def test_a_trigger_id_expires_after_three_seconds(emu):
    trigger = emu.new_trigger_id("U0AGENT1")
    time.sleep(3.1)
    assert (
        slack_error(lambda: web(emu).views_open(trigger_id=trigger, view=modal()))["error"]
        == "expired_trigger_id"
    )
    assert emu.open_views() == []


def test_an_invalid_view_is_refused_as_invalid_arguments(emu):
    with pytest.raises(SlackApiError) as caught:
        web(emu).views_open(
            trigger_id=emu.new_trigger_id("U0AGENT1"),
            view=modal(title="A title that is far too long"),
        )
    answer = caught.value.response.data
    assert answer["error"] == "invalid_arguments"
    assert answer["response_metadata"]["messages"] == [
        "[ERROR] view.title.text: must be at most 24 characters"
    ]


def test_views_update_by_id_or_external_id_with_hash_checks(emu):
    client = web(emu)
    opened = client.views_open(
        trigger_id=emu.new_trigger_id("U0AGENT1"), view=modal(external_id="resolve-1")
    )["view"]
    updated = client.views_update(
        view_id=opened["id"], hash=opened["hash"], view=modal("Resolved")
    )["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    assert emu.view(opened["id"])["title"]["text"] == "Resolved"
    # The hash is of the view as it was: a second writer with the old one loses.
    assert (
        slack_error(
            lambda: client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal())
        )["error"]
        == "hash_conflict"
    )
    by_external = client.views_update(
        external_id="resolve-1", view=modal("Again", external_id="resolve-1")
    )["view"]
    assert by_external["id"] == opened["id"]
    assert (
        slack_error(lambda: client.views_update(view_id="V0MISSING", view=modal()))["error"]
        == "not_found"
    )


def test_views_push_stacks_modals(emu):
    client = web(emu)
    root = client.views_open(trigger_id=emu.new_trigger_id("U0AGENT1"), view=modal())["view"]
    pushed = client.views_push(trigger_id=emu.new_trigger_id("U0AGENT1"), view=modal("Confirm"))[
        "view"
    ]
    assert (pushed["root_view_id"], pushed["previous_view_id"]) == (root["id"], root["id"])
    assert [v["id"] for v in emu.open_views("U0AGENT1")] == [root["id"], pushed["id"]]


def test_views_publish_keeps_one_home_per_user(emu):
    client = web(emu)
    home = {"type": "home", "blocks": [section("Your open cases: 2")]}
    first = client.views_publish(user_id="U0AGENT1", view=home)["view"]
    second = client.views_publish(
        user_id="U0AGENT1", view={**home, "blocks": [section("Your open cases: 1")]}
    )["view"]
    assert first["id"] == second["id"] and first["hash"] != second["hash"]
    assert emu.home("U0AGENT1")["blocks"][0]["text"]["text"] == "Your open cases: 1"
    assert emu.home("U0SUPER1") is None
    assert (
        slack_error(lambda: client.views_publish(user_id="U0NOBODY", view=home))["error"]
        == "user_not_found"
    )
    assert (
        slack_error(lambda: client.views_publish(user_id="U0AGENT1", view=modal()))["error"]
        == "invalid_arguments"
    )
    assert (
        slack_error(lambda: client.views_publish(user_id="U0AGENT1", view=home, hash="1.stale"))[
            "error"
        ]
        == "hash_conflict"
    )
