"""The ``[rocketchat]`` section of the configuration."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.core import ConfigError, InvalidValue
from bot.i18n import N_

PLATFORM = "rocketchat"
"""The value of ``Actor.platform`` (and of the stored names) for Rocket.Chat."""


class RocketChatSettings(BaseModel):
    """The ``[rocketchat]`` section. Secrets are not here: the password or personal access token
    come from ``TISSERAND_ROCKETCHAT_PASSWORD`` / ``TISSERAND_ROCKETCHAT_TOKEN``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    server_url: str
    username: str
    user_id: str | None = None
    """Required with a personal access token."""
    command_prefix: str = "!"
    channels: list[str] = Field(default_factory=list)
    """Channel names to join and listen to; empty means every room the bot is in."""
    coordinator_roles: list[str] = Field(default_factory=lambda: ["admin", "coordinator"])
    coordinators: list[str] = Field(default_factory=list)
    """Usernames that are coordinators whatever their roles."""
    messages_per_second: float = Field(default=5.0, gt=0)
    role_cache_seconds: int = Field(default=300, ge=0)
    number_reactions: bool = True
    """Add ``:one:`` .. ``:keycap_ten:`` under messages with up to ten choices."""
    catch_up_hours: float = Field(default=24.0, ge=0)
    """After a restart (or a long drop), messages said while the bot was away are handled when
    they are no older than this; older ones are not. 0 turns the catch-up after a restart off
    (drops of the connection are then caught up without this time bound)."""
    catch_up_max_messages: int = Field(default=200, ge=1)
    """At most this many messages per room are handled by one catch-up: the newest ones."""

    @field_validator("server_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidValue(
                N_("must be an http:// or https:// URL, such as https://chat.example.org")
            )
        return value.strip().rstrip("/")

    @field_validator("command_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not value.strip() or any(c.isspace() for c in value):
            raise InvalidValue(N_("must be a non-empty prefix without spaces, such as !"))
        return value

    @field_validator("channels", mode="after")
    @classmethod
    def _channel_names(cls, value: list[str]) -> list[str]:
        return [name.lstrip("#") for name in value]


def check_credentials(
    settings: RocketChatSettings, password: str | None, token: str | None
) -> None:
    """ConfigError unless the secrets given can log in (without asking the server)."""
    if not password and not token:
        raise ConfigError(
            [("rocketchat", N_("set TISSERAND_ROCKETCHAT_PASSWORD or TISSERAND_ROCKETCHAT_TOKEN"))]
        )
    if token and not password and not settings.user_id:
        raise ConfigError([("rocketchat.user_id", N_("required with a personal access token"))])
