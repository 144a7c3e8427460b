"""Rocket.Chat: the bot as a member of a self-hosted Rocket.Chat, over REST and the realtime API.

The package's modules, one concern each: ``settings`` (the ``[rocketchat]`` section), ``kind``
(what the runner needs: :data:`KIND`), ``rest`` (transport, rate limits, server clock),
``realtime`` (the DDP client), ``events`` (messages into events), ``reactions`` (reactions and
choices), ``delivery`` (replies), ``catchup`` and ``cursors`` (nothing lost, nothing twice, across
drops and restarts), ``users``, ``rooms``, ``state``, ``markdown``, ``online``
(``check-config --online``), ``types`` (the payloads) and ``platform`` (the
:class:`RocketChatPlatform` that wires them).

Importing the package is cheap: the adapter and its client libraries load on first use of
:class:`RocketChatPlatform`, :class:`RocketChatError` or :func:`check_online`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bot.platforms.rocketchat.kind import KIND
from bot.platforms.rocketchat.settings import PLATFORM, RocketChatSettings

if TYPE_CHECKING:
    from bot.platforms.rocketchat.online import check_online
    from bot.platforms.rocketchat.platform import RocketChatPlatform
    from bot.platforms.rocketchat.rest import RocketChatError

__all__ = [
    "KIND",
    "PLATFORM",
    "RocketChatError",
    "RocketChatPlatform",
    "RocketChatSettings",
    "check_online",
]

_LAZY = {
    "RocketChatError": "bot.platforms.rocketchat.rest",
    "RocketChatPlatform": "bot.platforms.rocketchat.platform",
    "check_online": "bot.platforms.rocketchat.online",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
