"""``tisserand check-config --online`` for Discord: ask Discord whether the settings and the token
work, with an HTTP session of its own (nothing of discord.py's process-wide state is touched)."""

from __future__ import annotations

from typing import Any

import aiohttp

from bot.core import ConfigError, TisserandError
from bot.i18n import N_
from bot.platforms.discord.settings import DiscordSettings

GATEWAY_MESSAGE_CONTENT = 1 << 18
GATEWAY_MESSAGE_CONTENT_LIMITED = 1 << 19


class _Status(TisserandError):
    """Control flow of the online check: an HTTP status other than 200."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


async def _get_json(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url) as response:
        if response.status != 200:
            raise _Status(response.status)
        return await response.json(content_type=None)


async def check_online(settings: DiscordSettings, token: str) -> None:
    """Ask Discord whether ``settings`` and ``token`` work; raise :class:`ConfigError` if not.

    Checks: the token is accepted; the application id matches; the gateway is advertised; the
    bot is in every ``guild_ids`` server; the Message Content intent is enabled when asked for.
    Uses its own HTTP session: nothing of discord.py's process-wide state is touched.
    """
    if not token.strip():
        raise ConfigError([("TISSERAND_DISCORD_TOKEN", N_("The Discord bot token is missing."))])
    base = settings.api_base_url
    problems: list[tuple[str, str]] = []
    headers = {
        "Authorization": f"Bot {token.strip()}",
        "User-Agent": "DiscordBot (https://tisserand.invalid, 1) Tisserand",
    }
    timeout = aiohttp.ClientTimeout(total=20)
    async with aiohttp.ClientSession(headers=headers, timeout=timeout) as session:
        try:
            await _get_json(session, base + "/users/@me")
            application = await _get_json(session, base + "/oauth2/applications/@me")
            if settings.gateway_url is None:
                gateway = await _get_json(session, base + "/gateway/bot")
                if not isinstance(gateway, dict) or not gateway.get("url"):
                    problems.append(
                        (
                            "discord.gateway_url",
                            N_("The Discord API at {url} gives no gateway address.").format(
                                url=base
                            ),
                        )
                    )
            guilds = await _get_json(session, base + "/users/@me/guilds")
        except _Status as exc:
            if exc.status == 401:
                raise ConfigError(
                    [("TISSERAND_DISCORD_TOKEN", N_("Discord rejected the bot token."))]
                ) from None
            raise ConfigError(
                [
                    (
                        "discord.api_base_url",
                        N_("The Discord API at {url} answered with HTTP status {status}.").format(
                            url=base, status=exc.status
                        ),
                    )
                ]
            ) from None
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError):
            raise ConfigError(
                [
                    (
                        "discord.api_base_url",
                        N_("Cannot reach the Discord API at {url}.").format(url=base),
                    )
                ]
            ) from None
    app_id = int(application.get("id", 0)) if isinstance(application, dict) else 0
    if settings.application_id is not None and app_id != settings.application_id:
        problems.append(
            (
                "discord.application_id",
                N_("The token belongs to application {actual}, not {expected}.").format(
                    actual=app_id, expected=settings.application_id
                ),
            )
        )
    member_of = (
        {int(g["id"]) for g in guilds if isinstance(g, dict)} if isinstance(guilds, list) else set()
    )
    for guild_id in settings.guild_ids:
        if guild_id not in member_of:
            problems.append(
                (
                    "discord.guild_ids",
                    N_("The bot is not a member of the server {guild_id}.").format(
                        guild_id=guild_id
                    ),
                )
            )
    flags = int(application.get("flags") or 0) if isinstance(application, dict) else 0
    content_flags = GATEWAY_MESSAGE_CONTENT | GATEWAY_MESSAGE_CONTENT_LIMITED
    if settings.message_content_intent and not flags & content_flags:
        problems.append(
            (
                "discord.message_content_intent",
                N_(
                    "Enable the Message Content intent of the application in the "
                    "Discord Developer Portal, or set message_content_intent to false."
                ),
            )
        )
    if problems:
        raise ConfigError(problems)
