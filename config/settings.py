"""Environment settings (SPEC §3), built once by the entry point and passed down."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.fields import clip
from config.sources import Sources

WEBHOOK_TOOLS = ("typeform", "delighted", "zendesk", "intercom", "standard")


def _quoted(value: str) -> str:
    """A value as an error quotes it: at most 80 characters, whatever the environment holds."""
    return repr(clip(value, 80))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")
    database_url: str = Field("sqlite:///loopbot.db", validation_alias="DATABASE_URL")
    config_path: Path = Field(Path("config/loopbot.yaml"), validation_alias="LOOPBOT_CONFIG")
    ingest_token: SecretStr | None = Field(None, validation_alias="LOOPBOT_INGEST_TOKEN")
    host: str = Field("0.0.0.0", validation_alias="LOOPBOT_HOST")
    port: int = Field(3000, ge=1, le=65535, validation_alias="LOOPBOT_PORT")
    command: str = Field("/feedback", validation_alias="LOOPBOT_COMMAND")
    log_format: str = Field("text", validation_alias="LOOPBOT_LOG_FORMAT")
    # Not in the SPEC's table: the request-size guard of the ingestion API. 5,000 items with
    # 5,000-character comments fit in about 30 MB, so 32 MiB never refuses a valid request.
    max_body_bytes: int = Field(
        32 * 1024 * 1024, ge=1024, validation_alias="LOOPBOT_MAX_BODY_BYTES"
    )
    # The shared secret each survey tool signs its webhooks with (SPEC §10); unset = that endpoint
    # answers 503. Standard Webhooks' may be raw or whsec_ + base64.
    webhook_secret_typeform: SecretStr | None = Field(
        None, validation_alias="LOOPBOT_WEBHOOK_SECRET_TYPEFORM"
    )
    webhook_secret_delighted: SecretStr | None = Field(
        None, validation_alias="LOOPBOT_WEBHOOK_SECRET_DELIGHTED"
    )
    webhook_secret_zendesk: SecretStr | None = Field(
        None, validation_alias="LOOPBOT_WEBHOOK_SECRET_ZENDESK"
    )
    webhook_secret_intercom: SecretStr | None = Field(
        None, validation_alias="LOOPBOT_WEBHOOK_SECRET_INTERCOM"
    )
    webhook_secret_standard: SecretStr | None = Field(
        None, validation_alias="LOOPBOT_WEBHOOK_SECRET_STANDARD"
    )

    @field_validator(
        "slack_bot_token",
        "slack_app_token",
        "ingest_token",
        "slack_signing_secret",
        *(f"webhook_secret_{tool}" for tool in WEBHOOK_TOOLS),
    )
    @classmethod
    def _blank_is_unset(cls, v: SecretStr | None) -> SecretStr | None:
        # `FOO=` in a .env file means "not set", not "the empty secret".
        return v if v is not None and v.get_secret_value().strip() else None

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not v.get_secret_value().startswith("xoxb-"):
            raise ValueError(
                "must be a bot token starting with xoxb- (OAuth & Permissions page of the Slack app)"
            )
        return v

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not v.get_secret_value().startswith("xapp-"):
            raise ValueError(
                "must be an app-level token starting with xapp- (Basic Information page of the Slack app)"
            )
        return v

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_shape(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError(
                f"must be an http(s) URL such as https://slack.com/api/, not {_quoted(v)}"
            )
        return v if v.endswith("/") else v + "/"

    @field_validator("command")
    @classmethod
    def _command_shape(cls, v: str) -> str:
        if not v.startswith("/") or " " in v:
            raise ValueError(f"must be a slash command such as /feedback, not {_quoted(v)}")
        return v

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, v: str) -> str:
        if v not in ("text", "json"):
            raise ValueError(f"must be text or json, not {_quoted(v)}")
        return v

    @model_validator(mode="after")
    def _http_mode_needs_secret(self) -> Settings:
        # Without Socket Mode, Slack calls us over HTTP: unsigned requests must be refused, so a secret is required.
        if self.slack_bot_token and not self.slack_app_token and not self.slack_signing_secret:
            raise ValueError(
                "SLACK_SIGNING_SECRET is required in HTTP mode (SLACK_BOT_TOKEN set, SLACK_APP_TOKEN not); "
                "copy it from the Basic Information page of the Slack app, or set SLACK_APP_TOKEN for Socket Mode"
            )
        return self

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def webhook_secret(self, tool: str) -> SecretStr | None:
        return getattr(self, f"webhook_secret_{tool}")


def webhook_secret_env(tool: str) -> str:
    return f"LOOPBOT_WEBHOOK_SECRET_{tool.upper()}"


def webhook_warnings(settings: Settings, sources: Sources) -> list[str]:
    """One line per tool configured under `sources:` whose secret is not set (`loopbot check-config`)."""
    return [
        f"sources.{tool} is configured but {webhook_secret_env(tool)} is not set: "
        f"POST /api/webhooks/{tool} answers 503 until it is"
        for tool in sources.configured()
        if settings.webhook_secret(tool) is None
    ]


class SettingsError(Exception):
    """Environment problems, one line each, naming the variable but never its value."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


_ENV_NAMES = {name: f.validation_alias for name, f in Settings.model_fields.items()}


def load_settings(**overrides: object) -> Settings:
    """Read the environment (and .env); raise SettingsError with readable lines."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_input=False, include_url=False):
            msg = err["msg"].removeprefix("Value error, ")
            if not err["loc"]:  # a rule across variables names them itself
                lines.append(f"environment: {msg}")
                continue
            loc = str(err["loc"][0])
            lines.append(f"environment: {_ENV_NAMES.get(loc, loc)}: {msg}")
        raise SettingsError(lines) from None
