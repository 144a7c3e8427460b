"""Rocket.Chat as the runner sees it: its section, its secrets, how to build and check it.

Cheap to import: ``rocketchat_API``, ``requests`` and the adapter load when a platform is built
or checked.
"""

from __future__ import annotations

from bot.config import Problem, read_secret
from bot.i18n import N_
from bot.platforms.base import Platform, PlatformHost, PlatformKind, Secrets
from bot.platforms.rocketchat.settings import PLATFORM, RocketChatSettings


def _read_secrets() -> tuple[Secrets, list[tuple[str, str]]]:
    password = read_secret("ROCKETCHAT_PASSWORD")
    token = read_secret("ROCKETCHAT_TOKEN")
    problems: list[tuple[str, str]] = []
    if not password and not token:
        problems.append(
            (
                "TISSERAND_ROCKETCHAT_PASSWORD",
                Problem(
                    N_(
                        "set the bot's password, or TISSERAND_ROCKETCHAT_TOKEN with "
                        "rocketchat.user_id"
                    )
                ),
            )
        )
    return {"password": password, "token": token}, problems


def _build(settings: RocketChatSettings, secrets: Secrets, host: PlatformHost) -> Platform:
    from bot.platforms.rocketchat.platform import RocketChatPlatform
    from bot.storage.platform_state import CursorStore

    return RocketChatPlatform(
        settings,
        password=secrets["password"],
        token=secrets["token"],
        cursors=CursorStore(host.sessions, PLATFORM),
    )


async def _check_online(settings: RocketChatSettings, secrets: Secrets) -> None:
    from bot.platforms.rocketchat.online import check_online

    await check_online(settings, secrets["password"], secrets["token"])


KIND = PlatformKind(
    name=PLATFORM,
    settings=RocketChatSettings,
    read_secrets=_read_secrets,
    build=_build,
    check_online=_check_online,
)
"""Rocket.Chat in :data:`bot.wiring.PLATFORMS`."""
