"""The gazette family: highlights (/pepite), their authors' consent, and the gazette.

Highlights are remarkable words kept for the network's gazette, published only with their
author's consent, asked by direct message; the gazette gathers them with the sections other
families offer (:attr:`bot.family.Family.gazette`: sessions, polls, veille) and the newcomers,
is edited as a draft, published in a channel as one HTML file and archived.

Where things are: ``highlights`` (recording a highlight, proposals), ``consent`` (asking,
answering, withdrawing; archives rebuilt after a change), ``images``, ``listeners`` (the 📰
reaction, remembered messages), ``parsing``, ``highlight_handlers`` (/pepite); ``draft``
(sections, periods, candidates, items), ``content`` (the database read into
:mod:`digests.gazette` data, the HTML), ``publish`` (publication, archives, rebuilds),
``preview`` (the draft as a chat message), ``gazette_handlers`` (/gazette, /gazettes), ``cli``
(:func:`build_gazette_file`); ``messages`` (shared texts), ``errors``.
"""

from __future__ import annotations

from bot.family import Family, ReportSection
from commands.gazette import (
    consent,
    data,
    edit_handlers,
    gazette_handlers,
    highlight_handlers,
    listeners,
)
from commands.gazette.cli import BuildResult, build_gazette_file
from commands.gazette.consent import ask_again, my_consents, stop_asking, withdraw
from commands.gazette.report import report_gazette

FAMILY = Family(
    name="gazette",
    handlers=(highlight_handlers, consent, gazette_handlers, edit_handlers),
    setup=listeners.setup,
    outbox_topics=("consent", "gazette"),
    report=(ReportSection("gazette", report_gazette),),
    member_data=data.MEMBER_DATA,
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
