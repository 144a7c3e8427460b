"""Discord, on discord.py: slash commands, buttons and select menus, direct messages.

The package's modules, one concern each: ``settings`` (the ``[discord]`` section), ``kind``
(what the runner needs: :data:`KIND`), ``transport`` (where discord.py connects, its errors as
DeliveryError), ``app_commands`` (the command payload, built from the specs), ``events``
(interactions, messages and reactions into events), ``delivery`` (replies), ``views`` (choices as
components), ``state``, ``online`` (``check-config --online``), ``types`` (the payloads) and
``platform`` (the :class:`DiscordPlatform` that wires them).

Importing the package is cheap: the adapter and discord.py load on first use of
:class:`DiscordPlatform`, :class:`DiscordDeliveryError`, :func:`application_commands` or
:func:`check_online`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bot.platforms.discord.kind import KIND
from bot.platforms.discord.settings import PLATFORM, DiscordSettings

if TYPE_CHECKING:
    from bot.platforms.discord.app_commands import application_commands
    from bot.platforms.discord.online import check_online
    from bot.platforms.discord.platform import DiscordPlatform
    from bot.platforms.discord.transport import DiscordDeliveryError

__all__ = [
    "KIND",
    "PLATFORM",
    "DiscordDeliveryError",
    "DiscordPlatform",
    "DiscordSettings",
    "application_commands",
    "check_online",
]

_LAZY = {
    "application_commands": "bot.platforms.discord.app_commands",
    "DiscordDeliveryError": "bot.platforms.discord.transport",
    "DiscordPlatform": "bot.platforms.discord.platform",
    "check_online": "bot.platforms.discord.online",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
