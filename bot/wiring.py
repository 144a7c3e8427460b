"""The composition root: the families and the platforms the bot is made of."""

from __future__ import annotations

from bot.platforms import discord, rocketchat
from bot.platforms.base import AnyPlatformKind

PLATFORMS: tuple[AnyPlatformKind, ...] = (rocketchat.KIND, discord.KIND)
"""Every chat platform the bot can run on, in the order they start."""
