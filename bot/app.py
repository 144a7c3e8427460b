"""The running bot: settings, database, registry, scheduler, outbox and platforms.

The families it runs are given by the composition root (:mod:`bot.wiring`).
"""

from __future__ import annotations

import inspect
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, SystemClock
from bot.config import EmailSettings, Settings, read_secret
from bot.context import Context
from bot.core import (
    Actor,
    ChoiceEvent,
    CommandEvent,
    ConfigError,
    DeliveryError,
    Event,
    InvalidValue,
    MessageEvent,
    MessageRef,
    ReactionEvent,
    Reply,
    UserError,
    storable,
)
from bot.family import (
    MEMBER_DATA_SERVICE,
    Family,
    Listener,
    ListenerKind,
    ReportSource,
    check_families,
    gazette_sources,
    member_data_of,
    report_sources,
)
from bot.i18n import Translator, Translators
from bot.mail import PLATFORM as MAIL_PLATFORM
from bot.mail import MailChannel
from bot.outbox import RetryPolicy, Sender
from bot.platforms.base import Platform
from bot.registry import (
    RETYPE_PREFIX,
    Args,
    CommandSpec,
    Registry,
    ReplyLike,
    StaleChoice,
    parse_arguments,
    reserved_error,
    split_words,
    structured_arguments,
)
from bot.scheduler import Scheduler
from bot.sources import GazetteSource
from bot.storage.engine import make_engine, make_session_factory, migrate, unwritable_database
from bot.storage.members import record_place, upsert_member

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Outcome:
    """What handling one event produced (used by tests and benchmarks)."""

    replies: list[Reply]
    error_id: str | None = None


def _as_list(result: ReplyLike) -> list[Reply]:
    if result is None:
        return []
    if isinstance(result, Reply):
        return [result]
    return list(result)


class App:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        engine: Engine | None = None,
        families: Sequence[Family],
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.engine = engine or make_engine(settings.effective_database_url)
        self.sessions: sessionmaker[Session] = make_session_factory(self.engine)
        self.translators = Translators(settings.network.tz, settings.network.locale)
        self.families = check_families(families)
        self.registry = Registry.build_groups(family.handlers for family in self.families)
        self.registry.settle(settings)
        self.gazette_sources: dict[str, GazetteSource] = gazette_sources(self.families)
        self.report_sources: dict[str, ReportSource] = report_sources(self.families)
        self.templates = Environment(
            loader=PackageLoader("digests", "templates"),
            autoescape=select_autoescape(["html", "xml", "html.j2", "xml.j2"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.platforms: dict[str, Platform] = {}
        self.scheduler = Scheduler(self.clock)
        self.sender: Sender | None = None
        self.listeners: list[tuple[ListenerKind, Listener]] = []
        self._known_places: set[tuple[str, str, str]] = set()
        self.services: dict[str, Any] = {}
        self.services[MEMBER_DATA_SERVICE] = member_data_of(self.families)
        """Long-lived helpers installed by command families in ``setup(host)``, by name."""
        self.started = False
        """True between the end of :meth:`start` and :meth:`stop` (platforms connected)."""
        self.on_event: Callable[[str, str, float | None], None] | None = None
        """Told the kind, the platform and, for commands and buttons, the seconds spent on each
        event handled (the metrics of :mod:`bot.metrics`)."""

    # --- life cycle ---------------------------------------------------------------------------

    def add_platform(self, platform: Platform) -> None:
        self.platforms[platform.name] = platform

    def listen(self, kind: ListenerKind, listener: Listener) -> None:
        """Call ``listener`` for every plain message (or reaction) of a member."""
        if kind not in ("message", "reaction"):
            raise InvalidValue(f"unknown listener kind {kind!r}")
        self.listeners.append((kind, listener))

    def migrate(self) -> None:
        migrate(self.engine)

    def _build_sender(self) -> Sender:
        policy = RetryPolicy(
            grace=_minutes(self.settings.outbox.grace_minutes),
            max_attempts=self.settings.outbox.max_attempts,
            base=_seconds(self.settings.outbox.retry_base_seconds),
            cap=_seconds(self.settings.outbox.retry_cap_seconds),
            lease=_seconds(self.settings.outbox.lease_seconds),
        )
        return Sender(
            self.sessions, self.platforms, self.clock, policy, translators=self.translators
        )

    def _mail_channel(self, email: EmailSettings) -> MailChannel:
        """Email through the outbox (``[email]``; the password from the environment)."""
        from bot.mail.online import missing_password

        if missing := missing_password(email):
            raise ConfigError(missing)
        return MailChannel(
            self.settings,
            email,
            read_secret("SMTP_PASSWORD"),
            self.sessions,
            self.clock,
            self.translators,
        )

    async def start(self, *, with_scheduler: bool = True) -> None:
        """Migrate, connect every platform, derive the scheduled work and start the scheduler."""
        self.migrate()
        if self.settings.email is not None and MAIL_PLATFORM not in self.platforms:
            self.add_platform(self._mail_channel(self.settings.email))
        self.sender = self._build_sender()
        sender = self.sender
        self.scheduler.add_due_work("outbox", sender.next_due, sender.deliver_due)
        for family in self.families:
            if family.setup is not None:
                family.setup(self)
        for platform in self.platforms.values():
            await platform.start(self.handle)
        if with_scheduler:
            await self.scheduler.start()
        self.started = True

    async def stop(self) -> None:
        self.started = False
        await self.scheduler.stop()
        for platform in self.platforms.values():
            await platform.stop()
        for name, service in self.services.items():  # after the platforms: no new requests
            close = getattr(service, "close", None)
            if close is None:
                continue
            try:
                result = close()
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("could not close the service %s", name)
        self.engine.dispose()

    async def edit_message(self, ref: MessageRef, reply: Reply) -> bool:
        """Edit an earlier bot message (live results); False when the platform refused."""
        platform = self.platforms.get(ref.platform)
        if platform is None:
            return False
        try:
            await platform.edit(ref, reply)
        except DeliveryError as exc:
            log.warning("could not edit %s on %s: %s", ref.message_id, ref.platform, exc)
            return False
        return True

    async def autocomplete(
        self, command: str, option: str, partial: str, actor: Actor
    ) -> list[tuple[str, str]]:
        """Suggestions for an option that names a number of something (Discord autocomplete)."""
        t = self.translators.get(actor.locale, self.settings.network.locale)
        try:
            spec = self.registry.resolve(command.split(), t).spec
        except UserError:
            return []
        wanted = next((o for o in spec.options if option in (o.name, o.alias)), None)
        if wanted is None or wanted.autocomplete is None:
            return []
        provider = self.registry.autocompleters.get(wanted.autocomplete)
        if provider is None:
            return []
        with self.sessions() as db:
            return list(provider(db, partial, actor, t))[:25]

    def translator(self, *locales: str | None) -> Translator:
        return self.translators.get(*locales, self.settings.network.locale)

    # --- events -------------------------------------------------------------------------------

    async def handle(self, event: Event) -> None:
        """The EventHandler given to every platform: handle, then answer on the platform."""
        outcome = await self.process(event)
        platform = self.platforms.get(event.actor.platform)
        if platform is None:
            return
        for reply in outcome.replies:
            try:
                await platform.respond(event, reply)
            except Exception:
                log.exception("could not answer %s on %s", type(event).__name__, platform.name)

    async def process(self, event: Event) -> Outcome:
        """Handle one event and return the replies, without sending them."""
        if event.actor.is_bot:
            return Outcome([])
        event = storable(event)
        if self.on_event is None:
            return await self._process(event)
        started = time.perf_counter()
        outcome = await self._process(event)
        kind = _KINDS.get(type(event), "other")
        timed = kind in ("command", "choice")
        self.on_event(kind, event.actor.platform, time.perf_counter() - started if timed else None)
        return outcome

    async def _process(self, event: Event) -> Outcome:
        changed: set[str] = set()
        t = self.translators.get(event.actor.locale, self.settings.network.locale)
        with self.sessions() as db:
            try:
                now = self.clock.now()
                member = upsert_member(db, event.actor, now)
                place_key = (event.place.platform, event.place.channel_id, event.place.name)
                if place_key not in self._known_places:
                    record_place(db, event.place, now)
                t = self.translators.get(
                    member.locale, event.actor.locale, self.settings.network.locale
                )
                ctx = Context(
                    actor=event.actor,
                    place=event.place,
                    event=event,
                    db=db,
                    clock=self.clock,
                    t=t,
                    translators=self.translators,
                    settings=self.settings,
                    registry=self.registry,
                    member=member,
                    templates=self.templates,
                    changed=changed,
                    services=self.services,
                    gazette_sources=self.gazette_sources,
                    report_sources=self.report_sources,
                )
                replies = await self._route(ctx, event)
                db.commit()
                self._known_places.add(place_key)
            except UserError as exc:
                db.rollback()
                return Outcome([Reply(text=exc.message, choices=exc.choices, ephemeral=True)])
            except Exception as exc:
                db.rollback()
                return self._failure(event, exc, t)
        if changed:
            await self.after_change(changed)
        return Outcome(replies)

    def _failure(self, event: Event, exc: Exception, t: Translator) -> Outcome:
        """What a person is told when handling their event failed (nothing of it was kept).

        A database that cannot be written (read-only, full) is named as such for commands and
        buttons, and plain chat messages and reactions get no answer (the member asked nothing);
        anything else is logged with an id the apology names.
        """
        error_id = secrets.token_hex(4)
        quiet = isinstance(event, MessageEvent | ReactionEvent)
        if unwritable_database(exc):
            log.error(
                "error %s: the database cannot be written (%s) while handling %s",
                error_id,
                exc,
                _describe(event),
            )
            text = t.gettext(
                "Sorry, I cannot record anything right now: the database is read-only or full "
                "(error {error_id}). Your request was not applied; please tell a coordinator, "
                "then try again later.",
                error_id=error_id,
            )
        else:
            log.exception("error %s while handling %s", error_id, _describe(event))
            text = t.gettext(
                "Sorry, something went wrong on my side (error {error_id}). "
                "Your request was not applied; a coordinator can find the "
                "details in the logs with this id.",
                error_id=error_id,
            )
        if quiet:
            return Outcome([], error_id=error_id)
        return Outcome([Reply(text=text, ephemeral=True)], error_id=error_id)

    async def after_change(self, changed: set[str]) -> None:
        """Scheduled work whose state changed: re-arm it, and deliver outbox rows due now."""
        if self.scheduler.running:
            known = [name for name in changed if name in self.scheduler._work]
            self.scheduler.rearm(*known)
        if "outbox" in changed and self.sender is not None:
            await self.scheduler.run_one("outbox")

    async def _route(self, ctx: Context, event: Event) -> list[Reply]:
        if isinstance(event, CommandEvent):
            spec, args = self._parse_command(event, ctx.t)
            return _as_list(await _call(spec.handler, ctx, args))
        if isinstance(event, ChoiceEvent) and event.action.startswith(RETYPE_PREFIX + ":"):
            # a "did you mean" choice: the corrected line, as if the actor had typed it
            line = event.action.split(":", 1)[1]
            retyped = CommandEvent(event.actor, event.place, event.at, text=line, ref=event.ref)
            return await self._route(replace(ctx, event=retyped), retyped)
        if isinstance(event, ChoiceEvent):
            choice = self.registry.choice_handlers.get(event.action.split(":", 1)[0])
            match = choice.match(event.action) if choice is not None else None
            try:
                if choice is None or match is None:
                    raise StaleChoice(event.action)
                return _as_list(await _call(choice.handler, ctx, match))
            except StaleChoice:
                raise UserError(ctx._("This button no longer does anything.")) from None
        replies: list[Reply] = []
        kind = "reaction" if isinstance(event, ReactionEvent) else "message"
        if isinstance(event, MessageEvent | ReactionEvent):
            for listened, listener in self.listeners:
                if listened == kind:
                    replies.extend(_as_list(await _call(listener, ctx)))
        return replies

    def _parse_command(self, event: CommandEvent, t: Translator) -> tuple[CommandSpec, Args]:
        """The spec and arguments of a command; permission first: a member using a coordinator
        command is refused before anything of it is parsed (no usage, no "missing")."""
        coordinator = event.actor.is_coordinator
        if event.name is not None:
            words = event.name.split()
            resolved = self.registry.resolve(words, t, is_coordinator=coordinator)
            if resolved.words:
                raise UserError(t.gettext("Unknown command /{name}.", name=event.name))
            self._check_permission(resolved.spec, event, t)
            return resolved.spec, structured_arguments(resolved.spec, event.options or {}, t)
        words = split_words(event.text, t)
        resolved = self.registry.resolve(words, t, is_coordinator=coordinator)
        self._check_permission(resolved.spec, event, t)
        return resolved.spec, parse_arguments(resolved.spec, resolved.words, t)

    @staticmethod
    def _check_permission(spec: CommandSpec, event: CommandEvent, t: Translator) -> None:
        if spec.reserved and not event.actor.is_coordinator:
            raise reserved_error(spec.display_name(t.locale), t)


async def _call(handler: Callable[..., Any], *args: Any) -> Any:
    result = handler(*args)
    if inspect.isawaitable(result):
        return await result
    return result


def _describe(event: Event) -> str:
    base = f"{type(event).__name__} from {event.actor.platform}:{event.actor.user_id}"
    if isinstance(event, CommandEvent):
        return f"{base} {event.name or event.text!r}"
    if isinstance(event, ChoiceEvent):
        return f"{base} {event.action!r}"
    return base


_KINDS: dict[type, str] = {
    CommandEvent: "command",
    ChoiceEvent: "choice",
    MessageEvent: "message",
    ReactionEvent: "reaction",
}


def _minutes(value: int) -> timedelta:
    return timedelta(minutes=value)


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)
