"""Rocket.Chat: the bot as a member of a self-hosted Rocket.Chat, over REST and the realtime API.

The package's modules, one concern each: ``settings`` (the ``[rocketchat]`` section), ``rest``
(transport, rate limits, server clock), ``realtime`` (the DDP client), ``events`` (messages into
events), ``reactions`` (reactions and choices), ``delivery`` (replies), ``catchup`` and
``cursors`` (nothing lost, nothing twice, across drops and restarts), ``users``, ``rooms``,
``markdown``, ``online`` (``check-config --online``), ``types`` (the payloads) and ``platform``
(the :class:`RocketChatPlatform` that wires them).
"""

from bot.platforms.rocketchat.online import check_online
from bot.platforms.rocketchat.platform import RocketChatPlatform
from bot.platforms.rocketchat.rest import RocketChatError
from bot.platforms.rocketchat.settings import PLATFORM, RocketChatSettings

__all__ = [
    "PLATFORM",
    "RocketChatError",
    "RocketChatPlatform",
    "RocketChatSettings",
    "check_online",
]
