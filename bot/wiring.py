"""The composition root: the families and the platforms the bot is made of.

With :mod:`bot.cli`, the only module of ``bot`` that imports ``commands``; ``docs/design.md``
("Dependency rule") says why and what may import what.
"""

from __future__ import annotations

from typing import Any

from bot.app import App
from bot.config import Settings
from bot.family import Family
from bot.platforms import discord, rocketchat
from bot.platforms.base import AnyPlatformKind
from commands import (
    announce,
    gazette,
    help,
    ideas,
    mailing,
    members,
    polls,
    profile,
    questionnaires,
    report,
    sessions,
    veille,
)

FAMILIES: tuple[Family, ...] = (
    help.FAMILY,
    profile.FAMILY,
    announce.FAMILY,
    polls.FAMILY,
    sessions.FAMILY,
    veille.FAMILY,
    gazette.FAMILY,
    members.FAMILY,
    mailing.FAMILY,
    ideas.FAMILY,
    questionnaires.FAMILY,
    report.FAMILY,
)
"""Every family, in the order their commands are listed (Discord) and their ``setup`` runs."""

PLATFORMS: tuple[AnyPlatformKind, ...] = (rocketchat.KIND, discord.KIND)
"""Every chat platform the bot can run on, in the order they start."""


def make_app(settings: Settings, **options: Any) -> App:
    """The app with every family (options as for :class:`bot.app.App`)."""
    return App(settings, families=FAMILIES, **options)


__all__ = ["FAMILIES", "PLATFORMS", "make_app"]
