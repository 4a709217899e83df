"""Environment settings: defaults of SPEC §3, readable errors that never echo a secret."""

from __future__ import annotations

import pytest

from config.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_API_URL",
        "DATABASE_URL",
        "LOOPBOT_CONFIG",
        "LOOPBOT_INGEST_TOKEN",
        "LOOPBOT_HOST",
        "LOOPBOT_PORT",
        "LOOPBOT_COMMAND",
        "LOOPBOT_LOG_FORMAT",
        "LOOPBOT_MAX_BODY_BYTES",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_follow_the_spec():
    s = load_settings()
    assert (s.slack_api_url, s.database_url, str(s.config_path)) == (
        "https://slack.com/api/",
        "sqlite:///loopbot.db",
        "config/loopbot.yaml",
    )
    assert (s.host, s.port, s.command, s.log_format) == ("0.0.0.0", 3000, "/feedback", "text")
    assert s.ingest_token is None and not s.socket_mode


def test_environment_and_dotenv_are_read(monkeypatch, tmp_path):
    (tmp_path / ".env").write_text(
        "LOOPBOT_PORT=8080\nSLACK_APP_TOKEN=xapp-1-abc\nLOOPBOT_INGEST_TOKEN=\n"
    )
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9999/api")
    s = load_settings()
    assert s.port == 8080 and s.socket_mode and s.slack_api_url == "http://127.0.0.1:9999/api/"
    assert s.ingest_token is None  # blank means unset


def test_errors_name_the_variable_and_never_the_secret(monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxp-very-secret-user-token")
    monkeypatch.setenv("SLACK_APP_TOKEN", "also-secret")
    monkeypatch.setenv("LOOPBOT_LOG_FORMAT", "xml")
    with pytest.raises(SettingsError) as exc:
        load_settings()
    text = str(exc.value)
    assert "environment: SLACK_BOT_TOKEN: must be a bot token starting with xoxb-" in text
    assert "environment: SLACK_APP_TOKEN: must be an app-level token starting with xapp-" in text
    assert "environment: LOOPBOT_LOG_FORMAT: must be text or json, not 'xml'" in text
    assert "secret" not in text


def test_tokens_are_secret_strings():
    s = load_settings(SLACK_BOT_TOKEN="xoxb-123-secret", SLACK_SIGNING_SECRET="sign-456")
    assert repr(s.slack_bot_token) == "SecretStr('**********')" and "123-secret" not in repr(s)
    assert "sign-456" not in repr(s)


def test_http_mode_requires_a_signing_secret_and_socket_mode_does_not():
    with pytest.raises(SettingsError) as err:
        load_settings(SLACK_BOT_TOKEN="xoxb-1")
    assert (
        err.value.errors == [err.value.errors[0]]
        and "SLACK_SIGNING_SECRET is required in HTTP mode" in err.value.errors[0]
    )
    assert load_settings(SLACK_BOT_TOKEN="xoxb-1", SLACK_APP_TOKEN="xapp-1").socket_mode
