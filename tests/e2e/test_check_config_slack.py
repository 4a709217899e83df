"""manifest.yaml against the README and the code, and `loopbot check-config` asking Slack about the token and channels."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.slack.preflight import check_slack
from config.loader import parse_config
from slack_emulator import SlackEmulator
from tests.api.conftest import free_port
from tests.conftest import CONFIG
from tests.e2e.harness import CHANNELS, USERS
from tests.e2e.test_cli import base_env, loopbot

ROOT = Path(__file__).resolve().parents[2]

# Bot scopes each Web API method needs, per Slack's method reference. conversations.* need the public and the
# private channel scope because a team channel may be either. views.* and auth.test need none.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "auth.test": (),
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "views.open": (),
    "views.update": (),
    "views.publish": (),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
    "users.info": ("users:read",),
    "conversations.info": ("channels:read", "groups:read"),
    "conversations.history": ("channels:history", "groups:history"),
    "conversations.replies": ("channels:history", "groups:history"),
}
# WebClient helpers that call several methods.
HELPERS = {"files.upload_v2": ("files.getUploadURLExternal", "files.completeUploadExternal")}
_CALL = re.compile(
    r"""(?:_call\(\s*["']|client\.)(auth|chat|conversations|files|users|views)_(\w+)"""
)


def manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "manifest.yaml").read_text())


def readme_slack_scopes() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Slack\n", 1)[1].split("\n## ", 1)[0]
    # Scopes are `word:word`, plus `commands`, the one without a colon.
    return set(re.findall(r"`([a-z]+:[a-z_.]+|commands)`", section))


def methods_called() -> set[str]:
    found: set[str] = set()
    for folder in ("bot", "handlers", "jobs"):
        for path in (ROOT / folder).rglob("*.py"):
            if "emulator" in path.parts:
                continue
            for family, name in _CALL.findall(path.read_text()):
                method = f"{family}.{name}"
                found.update(HELPERS.get(method, (method,)))
    return found


def test_manifest_declares_the_command_socket_mode_interactivity_and_home_tab():
    m = manifest()
    [command] = m["features"]["slash_commands"]
    assert command["command"] == "/feedback" and command["description"]
    assert (
        command["usage_hint"]
        == "help | list | show FB-n | ack FB-n | resolve FB-n … | chart KIND … | stats …"
    )
    # `assign FB-n @user` is only understood as <@U…>, which Slack sends only with escaping on (bot/slack/grammar.py).
    assert command["should_escape"] is True
    assert m["features"]["bot_user"]["always_online"] is True
    home = m["features"]["app_home"]
    assert home["home_tab_enabled"] is True and home["messages_tab_enabled"] is True
    settings = m["settings"]
    assert (
        settings["socket_mode_enabled"] is True and settings["interactivity"]["is_enabled"] is True
    )
    assert settings["org_deploy_enabled"] is False and settings["token_rotation_enabled"] is False
    assert settings["event_subscriptions"]["bot_events"] == ["app_home_opened"]


def test_manifest_scopes_cover_the_readme_and_every_method_the_code_calls():
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    mentioned = readme_slack_scopes()
    assert {
        "chat:write",
        "commands",
        "users:read",
        "files:write",
        "channels:history",
        "groups:history",
    } <= mentioned
    assert mentioned <= scopes, f"README mentions scopes the manifest lacks: {mentioned - scopes}"
    called = methods_called()
    assert {
        "chat.postMessage",
        "conversations.info",
        "files.completeUploadExternal",
    } <= called  # the scan works
    assert called <= METHOD_SCOPES.keys(), (
        f"methods with no scope entry here: {called - METHOD_SCOPES.keys()}"
    )
    needed = {scope for method in called | {"users.info"} for scope in METHOD_SCOPES[method]} | {
        "commands"
    }
    assert needed <= scopes, f"the manifest lacks {needed - scopes}"
    assert scopes <= needed | mentioned, f"scopes nothing needs: {scopes - needed - mentioned}"


# -- check-config against the emulator


def config_file(tmp_path: Path) -> Path:
    teams = {
        **CONFIG["teams"],
        "returns": {"name": "Returns", "channel": "C0RETURNS", "supervisors": ["U0SUPER2"]},
    }
    path = tmp_path / "loopbot.yaml"
    path.write_text(yaml.safe_dump({**CONFIG, "teams": teams}))
    return path


def slack_env(tmp_path: Path, api_url: str, token: str) -> dict[str, str]:
    return base_env(
        tmp_path,
        config_file(tmp_path),
        SLACK_BOT_TOKEN=token,
        SLACK_API_URL=api_url,
        SLACK_SIGNING_SECRET="check-config-signing-secret",
    )


def warnings(result: Any) -> list[str]:
    return [
        line for line in (result.stdout + result.stderr).splitlines() if line.startswith("warning:")
    ]


@pytest.fixture
def slack() -> SlackEmulator:
    # C0SUPPORT exists without the bot in it; teams.returns.channel (C0RETURNS) does not exist at all.
    with SlackEmulator(channels=CHANNELS, users=USERS, not_in_channel={"C0SUPPORT"}) as emu:
        yield emu


def test_check_config_warns_about_channels_the_bot_cannot_post_in(tmp_path, slack):
    result = loopbot("check-config", env=slack_env(tmp_path, slack.api_url, slack.bot_token))
    assert result.returncode == 0, result.stderr
    found = warnings(result)
    assert len(found) == 2, found
    assert any(
        w.startswith("warning: teams.support.channel: C0SUPPORT: ") and "/invite @Loopbot" in w
        for w in found
    )
    assert any(
        w.startswith("warning: teams.returns.channel: C0RETURNS: ")
        and "no such channel" in w
        and "check the id" in w
        for w in found
    )
    assert (
        "OK" in result.stdout
        and "token accepted" in result.stdout
        and "4 channel(s) checked" in result.stdout
    )
    assert sorted(c.args["channel"] for c in slack.calls_to("conversations.info")) == sorted(
        ["C0DELIVERY", "C0SUPPORT", "C0RETURNS", "C0LEADERS"]
    )
    assert slack.bot_token not in result.stdout + result.stderr


def test_check_config_rides_out_one_rate_limit(tmp_path, slack):
    slack.rate_limit("conversations.info", times=1, retry_after=1)
    result = loopbot("check-config", env=slack_env(tmp_path, slack.api_url, slack.bot_token))
    assert result.returncode == 0, result.stderr
    assert len(warnings(result)) == 2 and "4 channel(s) checked" in result.stdout


def test_check_config_says_once_when_the_app_lacks_the_read_scopes(tmp_path, slack):
    slack.fail("conversations.info", "missing_scope")
    result = loopbot("check-config", env=slack_env(tmp_path, slack.api_url, slack.bot_token))
    assert result.returncode == 0, result.stderr
    [warning] = warnings(result)
    assert "lacks the scope" in warning and "reinstall" in warning
    assert len(slack.calls_to("conversations.info")) == 1


def test_check_config_fails_on_a_token_slack_refuses_without_echoing_it(tmp_path, slack):
    token = "xoxb-0000-wrong-secret-value"
    result = loopbot("check-config", env=slack_env(tmp_path, slack.api_url, token))
    assert result.returncode == 2
    assert any(
        line.startswith("environment: SLACK_BOT_TOKEN: Slack refused the token (invalid_auth)")
        for line in result.stderr.splitlines()
    ), result.stderr
    assert "OK" not in result.stdout
    assert (
        token not in result.stdout + result.stderr
        and "wrong-secret" not in result.stdout + result.stderr
    )
    assert slack.calls_to("conversations.info") == []


def test_check_config_passes_with_one_warning_when_slack_is_unreachable(tmp_path):
    closed = f"http://127.0.0.1:{free_port()}/api/"
    result = loopbot(
        "check-config", env=slack_env(tmp_path, closed, "xoxb-unreachable-secret"), timeout=60
    )
    assert result.returncode == 0, result.stderr
    [warning] = warnings(result)
    assert warning.startswith(f"warning: cannot reach Slack at {closed}")
    assert "OK" in result.stdout and "unreachable-secret" not in result.stdout + result.stderr


# -- what the emulator cannot play: an archived channel


class _Client:
    def __init__(self, channels: dict[str, dict]):
        self.channels = channels

    def auth_test(self) -> dict:
        return {"ok": True, "user": "loopbot", "team": "Acme"}

    def conversations_info(self, channel: str) -> dict:
        return {"ok": True, "channel": self.channels[channel]}


def test_an_archived_channel_is_a_warning_naming_its_key():
    config = parse_config(CONFIG, "tests/conftest.py")
    ok = {"is_member": True, "is_archived": False}
    client = _Client(
        {
            "C0DELIVERY": {**ok, "name": "delivery-ops"},
            "C0SUPPORT": {**ok, "name": "support"},
            "C0LEADERS": {"name": "leaders", "is_member": False, "is_archived": True},
        }
    )
    found = check_slack(client, config, "https://slack.com/api/")  # type: ignore[arg-type]
    assert found.errors == []
    assert found.warnings == [
        "warning: leaders_channel: C0LEADERS: #leaders is archived: unarchive it or configure "
        "another channel"
    ]
