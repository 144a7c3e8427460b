"""Command families: one module per family, each with its domain services and handlers.

Modules tag their handlers with :func:`bot.registry.command`; the app builds the registry from
:func:`all_modules` at start-up. A module may define ``setup(app)`` to register scheduled work or
listeners.
"""

from __future__ import annotations

from types import ModuleType


def all_modules() -> list[ModuleType]:
    from commands import announce, gazette, help, highlights, polls, profile, sessions, veille

    return [help, profile, announce, polls, sessions, veille, highlights, gazette]
