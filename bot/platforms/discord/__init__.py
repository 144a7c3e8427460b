"""Discord, on discord.py: slash commands, buttons and select menus, direct messages."""

from bot.platforms.discord.app_commands import application_commands
from bot.platforms.discord.platform import (
    CUSTOM_ID_PREFIX,
    DISCORD_API,
    PLATFORM,
    SELECT_PREFIX,
    DiscordDeliveryError,
    DiscordPlatform,
    DiscordSettings,
    check_online,
)

__all__ = [
    "CUSTOM_ID_PREFIX",
    "DISCORD_API",
    "PLATFORM",
    "SELECT_PREFIX",
    "DiscordDeliveryError",
    "DiscordPlatform",
    "DiscordSettings",
    "application_commands",
    "check_online",
]
