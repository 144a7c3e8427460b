"""The composition root: the families the bot is made of.

With :mod:`bot.cli`, the only module of ``bot`` that imports ``commands``; ``docs/design.md``
("Dependency rule") says why and what may import what.
"""

from __future__ import annotations

from typing import Any

from bot.app import App
from bot.config import Settings
from bot.family import Family
from commands import announce, gazette, help, polls, profile, sessions, veille

FAMILIES: tuple[Family, ...] = (
    help.FAMILY,
    profile.FAMILY,
    announce.FAMILY,
    polls.FAMILY,
    sessions.FAMILY,
    veille.FAMILY,
    gazette.FAMILY,
)
"""Every family, in the order their commands are listed (Discord) and their ``setup`` runs."""


def make_app(settings: Settings, **options: Any) -> App:
    """The app with every family (options as for :class:`bot.app.App`)."""
    return App(settings, families=FAMILIES, **options)


__all__ = ["FAMILIES", "make_app"]
