"""The ``[discord]`` section of the configuration (cheap to import: yarl is loaded only to
validate a section)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bot.core import InvalidValue
from bot.i18n import N_

PLATFORM = "discord"
"""The value of ``Actor.platform`` (and of the stored names) for Discord."""
DISCORD_API = "https://discord.com/api/v10"


class DiscordSettings(BaseModel):
    """The ``[discord]`` section. The token is not here: it comes from TISSERAND_DISCORD_TOKEN."""

    model_config = ConfigDict(extra="forbid")

    application_id: int | None = None
    """The application (client) id; read from Discord when not given."""
    guild_ids: list[int] = []
    """Register the commands in these servers (immediate); empty: globally."""
    coordinator_roles: list[str] = ["Coordination"]
    """Role names (case- and accent-insensitive) or ids whose members are coordinators."""
    api_base_url: str = DISCORD_API
    gateway_url: str | None = None
    """None: the URL ``GET /gateway/bot`` gives."""
    message_content_intent: bool = False
    """Ask for the privileged Message Content intent; needed only for prefix commands."""
    command_prefix: str = "!"
    max_buttons: int = Field(default=5, ge=0, le=25)
    """Up to this many choices are buttons (rows of five); more become a select menu."""

    @field_validator("api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        import yarl

        url = yarl.URL(value)
        if url.scheme not in ("http", "https") or not url.host:
            raise InvalidValue(N_("must be an http(s) URL such as https://discord.com/api/v10"))
        return value.rstrip("/")

    @field_validator("gateway_url")
    @classmethod
    def _ws_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        import yarl

        url = yarl.URL(value)
        if url.scheme not in ("ws", "wss") or not url.host:
            raise InvalidValue(N_("must be a ws(s) URL such as wss://gateway.discord.gg"))
        return value

    @field_validator("command_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not value.strip():
            raise InvalidValue(N_("must not be empty"))
        return value
