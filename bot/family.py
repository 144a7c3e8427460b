"""What a command family declares, and what its ``setup`` may use.

A family (polls, sessions, veille, the gazette, …) is a package of ``commands/`` that ends with
one :class:`Family` object. The composition root (:mod:`bot.wiring`) lists them; the app builds
the registry from their handler modules, calls their ``setup`` with a :class:`Host`, and gives the
gazette what they contribute. Nothing is found by name: a family that declares something wrong
fails when the app is built (:class:`FamilyError`), never skips.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, Protocol

from bot.core import MessageRef, Reply, TisserandError
from bot.sources import GazetteSource

if TYPE_CHECKING:
    from jinja2 import Environment
    from sqlalchemy.orm import Session, sessionmaker

    from bot.clock import Clock
    from bot.config import Settings
    from bot.context import Context
    from bot.i18n import Translator, Translators
    from bot.registry import ReplyLike
    from bot.scheduler import Scheduler
    from bot.storage.members import Member

ListenerKind = Literal["message", "reaction"]
Listener = Callable[["Context"], "ReplyLike | Awaitable[ReplyLike]"]


class FamilyError(TisserandError):
    """A family is declared wrong (raised when the app is built, before anything runs)."""


@dataclass(frozen=True, slots=True)
class GazetteSection:
    """One section a family gives the gazette: the stored item kind and where entries come from."""

    kind: str
    source: GazetteSource


MemberExport = Callable[["Session", "Member"], Mapping[str, Any]]
"""``(database session, member) -> {section: JSON-able value}``: what a family holds about them."""


@dataclass(frozen=True, slots=True)
class ErasedMember:
    """Who is being erased, as they were: the member row is already an anonymous shell (same
    id, no name, no platform identifier) when the families' ``erase`` run, so that what they
    rebuild shows the shell; these values let them find copies of the name and texts."""

    id: int
    platform: str
    user_id: str
    display_name: str
    texts: tuple[str, ...] = ()
    """What the member wrote about themselves (profile fields), to redact where it was copied."""


MemberErase = Callable[["Context", ErasedMember], Mapping[str, int]]
"""``(context, who) -> {what: rows}``: erase (or anonymise) it, in the context's transaction."""

MEMBER_DATA_SERVICE = "member_data"
"""``Host.services`` key of the families' :class:`MemberData`, by family name (set by the app)."""


UNSUBSCRIBE_SERVICE = "email.unsubscribe"
"""``Host.services`` key of the :class:`Unsubscriber` the mailing family installs when email is
on; :mod:`bot.web` answers ``/unsubscribe/{token}`` with it (and 404 without it)."""


class Unsubscriber(Protocol):
    """The one-click unsubscribe (RFC 8058), as the web server sees it: by token only."""

    def address_of(self, token: str) -> str | None:
        """The address ``token`` would unsubscribe (nothing changed); None: unknown token."""
        ...

    async def unsubscribe(self, token: str) -> str | None:
        """Forget the subscriber of ``token`` (its removal confirmed to it by email, as for the
        mailto request); the address, or None when the token is unknown or already used."""
        ...


@dataclass(frozen=True, slots=True)
class MemberData:
    """What a family stores about a member, for their rights over their data (GDPR): ``export``
    gives it as JSON-able sections (``/profil exporter``); ``erase`` erases it, or keeps only
    what must stay as anonymous counts, and says how many rows of each kind it touched
    (``/profile erase``; the record of the erasure keeps these counts). ``holds`` names, for
    ``docs/privacy.md`` and the export, what the family stores."""

    export: MemberExport
    erase: MemberErase
    holds: tuple[str, ...] = ()


ReportSource = Callable[["Session", "Translator", datetime, datetime], Any]
"""``(db, t, since, until) -> digests.report.ReportPart | None``: what a family says about a year
(a plain value the report's renderer reads; None when it has nothing to say)."""


@dataclass(frozen=True, slots=True)
class ReportSection:
    """One section a family gives the annual activity report."""

    key: str
    source: ReportSource


@dataclass(frozen=True, slots=True)
class Family:
    """A command family, as the composition root sees it.

    ``handlers`` are the modules whose tagged functions (commands, choice handlers,
    autocompleters) the registry collects; ``setup`` registers scheduled work, listeners and
    services on the :class:`Host`; ``outbox_topics`` are the first segments of the outbox keys
    the family writes (``session`` for ``session:12:announce``), each owned by one family;
    ``gazette`` the sections it offers the gazette; ``report`` those it gives the annual report;
    ``member_data`` what it stores about a member, exported and erased on their request (None:
    nothing).
    """

    name: str
    handlers: tuple[ModuleType, ...]
    setup: Callable[[Host], None] | None = None
    outbox_topics: tuple[str, ...] = ()
    gazette: tuple[GazetteSection, ...] = ()
    member_data: MemberData | None = None
    report: tuple[ReportSection, ...] = ()


class Host(Protocol):
    """What a family's ``setup`` may use of the running bot (the app implements it).

    ``sessions`` open database sessions (UTC datetimes, committed by whoever opens them);
    ``services`` keeps long-lived helpers by name (closed by the app when it stops, after the
    platforms); ``after_change`` re-arms scheduled work whose state changed and delivers outbox
    rows due now; ``edit_message`` returns False when the platform refused the edit.
    """

    settings: Settings
    clock: Clock
    sessions: sessionmaker[Session]
    translators: Translators
    scheduler: Scheduler
    services: dict[str, Any]
    templates: Environment

    def translator(self, *locales: str | None) -> Translator: ...

    def listen(self, kind: ListenerKind, listener: Listener) -> None: ...

    async def after_change(self, changed: set[str]) -> None: ...

    async def edit_message(self, ref: MessageRef, reply: Reply) -> bool: ...


def check_families(families: Iterable[Family]) -> tuple[Family, ...]:
    """The families in order, refused when two share a name, an outbox topic or a gazette kind."""
    found = tuple(families)
    names: set[str] = set()
    topics: dict[str, str] = {}
    kinds: dict[str, str] = {}
    reports: dict[str, str] = {}
    for family in found:
        if not isinstance(family, Family):
            raise FamilyError(f"{family!r} is not a Family")
        if family.name in names:
            raise FamilyError(f"two families named {family.name!r}")
        names.add(family.name)
        if not family.handlers and family.setup is None:
            raise FamilyError(f"the family {family.name!r} declares no handlers and no setup")
        for module in family.handlers:
            if not isinstance(module, ModuleType):
                raise FamilyError(f"a handler of {family.name!r} is not a module: {module!r}")
        for topic in family.outbox_topics:
            if not topic or ":" in topic:
                raise FamilyError(
                    f"the outbox topic {topic!r} of {family.name!r} is not a key segment"
                )
            if topic in topics:
                raise FamilyError(
                    f"the outbox topic {topic!r} is claimed by {topics[topic]!r} and {family.name!r}"
                )
            topics[topic] = family.name
        for section in family.gazette:
            if section.kind in kinds:
                raise FamilyError(
                    f"the gazette kind {section.kind!r} is offered by {kinds[section.kind]!r} "
                    f"and {family.name!r}"
                )
            kinds[section.kind] = family.name
        for part in family.report:
            if part.key in reports:
                raise FamilyError(
                    f"the report section {part.key!r} is given by {reports[part.key]!r} "
                    f"and {family.name!r}"
                )
            reports[part.key] = family.name
    return found


def gazette_sources(families: Iterable[Family]) -> dict[str, GazetteSource]:
    """Every gazette section the families offer, by stored item kind."""
    return {section.kind: section.source for family in families for section in family.gazette}


def member_data_of(families: Iterable[Family]) -> dict[str, MemberData]:
    """What each family stores about members, by family name (families storing nothing left out)."""
    return {family.name: family.member_data for family in families if family.member_data}


def report_sources(families: Iterable[Family]) -> dict[str, ReportSource]:
    """Every section the families give the annual report, by key, in the families' order."""
    return {part.key: part.source for family in families for part in family.report}


def outbox_topic_owners(families: Iterable[Family]) -> dict[str, str]:
    """Which family writes the outbox keys beginning with each topic."""
    return {topic: family.name for family in families for topic in family.outbox_topics}


__all__ = [
    "MEMBER_DATA_SERVICE",
    "ErasedMember",
    "Family",
    "FamilyError",
    "GazetteSection",
    "GazetteSource",
    "Host",
    "Listener",
    "ListenerKind",
    "MemberData",
    "MemberErase",
    "MemberExport",
    "ReportSection",
    "ReportSource",
    "check_families",
    "gazette_sources",
    "member_data_of",
    "outbox_topic_owners",
    "report_sources",
]
