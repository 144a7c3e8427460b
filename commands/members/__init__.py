"""The members family: the directory (/annuaire), rounds of meetings (/rencontres) and the
referents of each theme (/referent).

Each concern is a module of this package whose tagged functions are listed in ``FAMILY.handlers``;
other families use only what ``__all__`` offers.
"""

from __future__ import annotations

from bot.family import Family
from commands.members import directory
from commands.members.directory import Listed
from commands.members.directory import directory as directory_of

FAMILY = Family(name="members", handlers=(directory,))

__all__ = ["FAMILY", "Listed", "directory_of"]
