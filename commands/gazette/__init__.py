"""The gazette family: highlights (/pepite), their authors' consent, and the gazette."""

from __future__ import annotations

from bot.family import Family
from commands.gazette import gazette_handlers, highlights
from commands.gazette.cli import BuildResult, build_gazette_file
from commands.gazette.highlights import ask_again, my_consents, stop_asking, withdraw

FAMILY = Family(
    name="gazette",
    handlers=(highlights, gazette_handlers),
    setup=highlights.setup,
    outbox_topics=("consent", "gazette"),
)

__all__ = [
    "FAMILY",
    "BuildResult",
    "ask_again",
    "build_gazette_file",
    "my_consents",
    "stop_asking",
    "withdraw",
]
