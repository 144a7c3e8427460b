"""Discord as the runner sees it: its section, its secret, how to build and check it.

Cheap to import: discord.py and aiohttp load when a platform is built or checked.
"""

from __future__ import annotations

from bot.config import Problem, read_secret
from bot.i18n import N_
from bot.platforms.base import Platform, PlatformHost, PlatformKind, Secrets
from bot.platforms.discord.settings import PLATFORM, DiscordSettings


def _read_secrets() -> tuple[Secrets, list[tuple[str, str]]]:
    token = read_secret("DISCORD_TOKEN")
    problems: list[tuple[str, str]] = []
    if not token:
        problems.append(
            ("TISSERAND_DISCORD_TOKEN", Problem(N_("set the bot token of the application")))
        )
    return {"token": token}, problems


def _build(settings: DiscordSettings, secrets: Secrets, host: PlatformHost) -> Platform:
    from bot.platforms.discord.app_commands import application_commands
    from bot.platforms.discord.platform import DiscordPlatform

    token = secrets["token"]
    assert token is not None
    return DiscordPlatform(
        settings,
        token,
        commands=application_commands(host.registry, host.translators),
        autocomplete=host.autocomplete,
    )


async def _check_online(settings: DiscordSettings, secrets: Secrets) -> None:
    from bot.platforms.discord.online import check_online

    await check_online(settings, secrets["token"] or "")


KIND = PlatformKind(
    name=PLATFORM,
    settings=DiscordSettings,
    read_secrets=_read_secrets,
    build=_build,
    check_online=_check_online,
)
"""Discord in :data:`bot.wiring.PLATFORMS`."""
