"""What a command handler receives: who acts, where, and the services it may use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy.orm import Session

from bot.clock import Clock
from bot.commandspec import CommandCatalog, CommandSpec
from bot.config import Settings
from bot.core import (
    Actor,
    DirectTarget,
    Event,
    Place,
    Reply,
    Target,
    UserError,
)
from bot.dates import (
    DATE_EXAMPLES_EN,
    DATE_EXAMPLES_FR,
    DateParseError,
    explain,
    parse_datetime,
)
from bot.i18n import Translator, Translators
from bot.outbox import enqueue
from bot.sources import GazetteSource
from bot.storage.members import Member, PlaceRow, find_place_by_name

if TYPE_CHECKING:
    from jinja2 import Environment


class CommandIndex(CommandCatalog, Protocol):
    """What a handler may ask of the commands (:class:`bot.registry.Registry` is one): the
    catalog platforms read, plus what ``/aide`` needs."""

    def group_members(self, name: str) -> list[CommandSpec]: ...

    def visible_to(self, is_coordinator: bool) -> list[CommandSpec]: ...

    def resolve(self, words: list[str], t: Translator) -> object:
        """The command ``words`` name; raises a UserError (with a suggestion) when none does."""
        ...


@dataclass
class Context:
    """One command (or choice, or reaction) being handled. Handlers must not keep it."""

    actor: Actor
    place: Place
    event: Event
    db: Session
    """Committed by the dispatcher when the handler returns, rolled back when it raises."""
    clock: Clock
    t: Translator
    translators: Translators
    settings: Settings
    registry: CommandIndex
    member: Member
    templates: Environment | None = None
    changed: set[str] = field(default_factory=set)
    """Names of scheduled work whose state this handler changed (re-armed after commit)."""
    extras: dict[str, Any] = field(default_factory=dict)
    services: dict[str, Any] = field(default_factory=dict)
    """Long-lived helpers a command family installed in its ``setup(host)`` (``App.services``)."""
    gazette_sources: Mapping[str, GazetteSource] = field(default_factory=dict)
    """What the families offer the gazette, by stored item kind (:class:`bot.family.Family`)."""
    report_sources: Mapping[str, Any] = field(default_factory=dict)
    """What the families give the annual report, by key (``bot.family.ReportSource``)."""

    def _(self, message: str, /, **params: Any) -> str:
        return self.t.gettext(message, **params)

    def now(self) -> datetime:
        return self.clock.now()

    def send_later(self, key: str, reply: Reply, target: Target, due_at: datetime) -> bool:
        """Put a message in the outbox (idempotent on ``key``); True when it was new.

        A direct message issued from a channel keeps that channel as its fallback: if the
        member's direct messages are closed, a notice mentioning them is posted there instead
        (``DirectTarget.fallback_channel_id``, unless the caller chose one).
        """
        if (
            isinstance(target, DirectTarget)
            and target.fallback_channel_id is None
            and target.platform == self.place.platform
            and not self.place.is_direct
        ):
            target = replace(target, fallback_channel_id=self.place.channel_id)
        row = enqueue(self.db, key=key, reply=reply, target=target, due_at=due_at, now=self.now())
        self.changed.add("outbox")
        return row is not None

    def read_date(
        self,
        text: str,
        *,
        default_time: time | None = None,
        need_time: bool = False,
        past: bool = False,
    ) -> datetime:
        """A date typed by the actor, read in the network's time zone (UTC, aware).

        A text that cannot be read becomes a :class:`UserError` that quotes it and says what is
        impossible in it, or shows examples that work, in the actor's language. ``need_time``:
        a date without an hour is refused with an example (never a silent 09:00); ``past``: a
        day and month without a year is the last one (``--depuis 1 janvier``). Whether the
        moment may be in the past is the caller's business.
        """
        try:
            return parse_datetime(
                text,
                now=self.now(),
                tz=self.t.tz,
                default_time=default_time,
                need_time=need_time,
                past=past,
            )
        except DateParseError as error:
            raise self.unreadable_date(text, error) from None

    def unreadable_date(self, text: str, error: DateParseError | None = None) -> UserError:
        """The refusal of a date that cannot be read: what is impossible in it when that is
        known ("février n'a que 28 jours"), else examples of dates that work."""
        why = explain(error, self.t) if error is not None else None
        if why is not None:
            return UserError(self._("I cannot use the date “{text}”: {why}", text=text, why=why))
        examples = DATE_EXAMPLES_FR if self.t.locale == "fr" else DATE_EXAMPLES_EN
        return UserError(
            self._(
                "I cannot read the date “{text}”. Examples that work: {examples}.",
                text=text,
                examples=", ".join(self.t.quote(example) for example in examples),
            )
        )

    @property
    def public_t(self) -> Translator:
        """The network's translator: for what the channel sees (a message seen by one member,
        private or ephemeral, is in ``t``, the member's language)."""
        return self.translators.get(self.settings.network.locale)

    def translator_for(self, member: Member) -> Translator:
        return self.translators.get(member.locale, self.settings.network.locale)

    def find_channel(self, name: str) -> PlaceRow:
        """A channel of the actor's platform, by name; a clear error when the bot never saw it."""
        row = find_place_by_name(self.db, self.actor.platform, name)
        if row is None:
            raise UserError(
                self._(
                    "I do not know the channel #{name} yet. Check its name, or say something "
                    "there so that I see it, then try again.",
                    name=name.lstrip("#"),
                )
            )
        return row
