"""The members family: the directory (/directory), rounds of meetings (/rencontres) and the
referents of each theme (/referent).

Each concern is a module of this package whose tagged functions are listed in ``FAMILY.handlers``;
other families use only what ``__all__`` offers (the annual report: :func:`meeting_figures`).
"""

from __future__ import annotations

from bot.family import Family
from commands.members import data, directory, meetings, referents
from commands.members.directory import Listed
from commands.members.directory import directory as directory_of
from commands.members.rounds import MeetingFigures, meeting_figures
from commands.members.work import setup

FAMILY = Family(
    name="members",
    handlers=(directory, meetings, referents),
    setup=setup,
    outbox_topics=("meet", "referent"),
    member_data=data.MEMBER_DATA,
)

__all__ = ["FAMILY", "Listed", "MeetingFigures", "directory_of", "meeting_figures"]
