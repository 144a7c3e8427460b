"""The gazette family: highlights (/pepite), their authors' consent, and the gazette."""

from __future__ import annotations

from commands.gazette import gazette_handlers, highlights
from commands.gazette.gazette_handlers import BuildResult, build_gazette_file
from commands.gazette.highlights import ask_again, my_consents, stop_asking, withdraw

__all__ = [
    "BuildResult",
    "ask_again",
    "build_gazette_file",
    "gazette_handlers",
    "highlights",
    "my_consents",
    "stop_asking",
    "withdraw",
]
