"""Discord, on discord.py: slash commands, buttons and select menus, direct messages.

The package's modules, one concern each: ``settings`` (the ``[discord]`` section), ``transport``
(where discord.py connects, its errors as DeliveryError), ``app_commands`` (the command payload,
built from the specs), ``events`` (interactions, messages and reactions into events),
``delivery`` (replies), ``views`` (choices as components), ``state``, ``online``
(``check-config --online``), ``types`` (the payloads) and ``platform`` (the
:class:`DiscordPlatform` that wires them).
"""

from bot.platforms.discord.app_commands import application_commands
from bot.platforms.discord.online import check_online
from bot.platforms.discord.platform import DiscordPlatform
from bot.platforms.discord.settings import PLATFORM, DiscordSettings
from bot.platforms.discord.transport import DiscordDeliveryError

__all__ = [
    "PLATFORM",
    "DiscordDeliveryError",
    "DiscordPlatform",
    "DiscordSettings",
    "application_commands",
    "check_online",
]
